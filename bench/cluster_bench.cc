// corral-bench-cluster: Corral with agents, beside its floor and its peers, in one run.
//
// 1. Failover (sim driver, real processes): a controller with --host-failure-policy evacuate
//    and the default host timings (heartbeat 2 s, down-timeout 10 s, lease 6 s + 2 s margin),
//    two `corral agent`s, CORRAL_BENCH_VMS (default 8) VMs on the first; SIGKILL it and time
//    until every one of its VMs is RUNNING on the other (polled every 50 ms). Peers
//    (../shared/reference/hosts-migration.md): OpenNebula notices after 180 s and fences after
//    2 x 180 s more (~9 min); Nova counts a service down after 60 s and evacuates only when an
//    administrator says so.
// 2. Pause + unpause through an agent (qemu driver, TCG, image tiny, 128 MiB): two API actions,
//    each until the VM is idle in its new state, on a VM of an agent's host and on a VM of the
//    controller's own host (no agent), medians of CORRAL_BENCH_RUNS (default 15) round trips.
//    Its floor, measured in the same run: 4 durable commits (4 x (4 KiB write + fdatasync) in
//    the controller's data dir) + 2 QMP round trips (stop and cont to a running TCG guest
//    started for it: the commands pause and unpause send) +
//    2 agent round trips (a 48-byte TCP echo over loopback: the transport without TLS or gRPC,
//    so the floor is the physical one). Target: <= 1.5x the floor.
// Printed, never asserted.
#include <fcntl.h>
#include <fmt/core.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "bench_figures.h"
#include "driver/qemu/qmp_client.h"
#include "support/cluster.h"
#include "support/qemu_support.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using corral::testing::AgentProcess;
using corral::testing::Cluster;
using corral::testing::ClusterOptions;
using corral::testing::eventually;
using nlohmann::json;
using namespace std::chrono_literals;
using corral::bench::median;
using corral::bench::ms_since;

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::max(1, std::atoi(v)) : fallback;
}

void failover() {
  const int vms = env_int("CORRAL_BENCH_VMS", 8);
  Cluster cluster({.server_args = {"--host-failure-policy", "evacuate", "--rank-policy", "packing"},
                   .heartbeat_interval = "2",
                   .down_timeout = "10",
                   .lease = "6"});
  if (!cluster.start()) return;
  auto h1 = cluster.join("h1");
  std::vector<std::int64_t> ids;
  for (int i = 0; i < vms; ++i) {
    ids.push_back(cluster.create("f" + std::to_string(i)));
    if (!cluster.wait_vm(ids.back(), "RUNNING")) return;
  }
  auto h2 = cluster.join("h2");
  // Recreated without an operator only once h1's agent has reported them held by its fence
  // guard (its next heartbeat after the guard's renewal).
  (void)eventually(
      [&] {
        const auto guarded = cluster.host("h1")["metrics"].value("guarded_vms", json::array());
        return std::all_of(ids.begin(), ids.end(), [&](std::int64_t id) {
          return std::find(guarded.begin(), guarded.end(), id) != guarded.end();
        });
      },
      10s);
  const auto t0 = Clock::now();
  h1->kill();
  double down_ms = 0;
  const bool ok = eventually(
      [&] {
        if (down_ms == 0 && cluster.host("h1").value("state", "") == "ERROR")
          down_ms = ms_since(t0);
        return std::all_of(ids.begin(), ids.end(), [&](std::int64_t id) {
          const auto v = cluster.vm(id);
          return v.value("host", json()).is_string() && v["host"] == "h2" &&
                 v.value("state", "") == "RUNNING";
        });
      },
      120s);
  const double total = ms_since(t0);
  fmt::print("\n== Failover: agent SIGKILL -> its {} VMs RUNNING on another host (sim agents)\n",
             vms);
  fmt::print("host ERROR after       {:8.1f} s   (down-timeout 10 s)\n", down_ms / 1000);
  if (ok) {
    fmt::print("VMs running elsewhere  {:8.1f} s   (down + lease 6 s + margin 2 s = 18 s)\n",
               total / 1000);
  } else {
    fmt::print("VMs running elsewhere: NOT within 120 s\n");
  }
  fmt::print("OpenNebula             ~540     s   (180 s + 2 x 180 s, then a fencing script)\n");
  fmt::print("Nova                   >= 60    s   + an administrator's evacuate\n");
}

// ---- The floor --------------------------------------------------------------------------

double durable_commit_ms(const std::string& dir) {
  const std::string path = dir + "/bench-fsync";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return 0;
  std::vector<double> samples;
  const std::string block(4096, 'x');
  for (int i = 0; i < 40; ++i) {
    const auto t0 = Clock::now();
    if (::pwrite(fd, block.data(), block.size(), static_cast<off_t>(i) * 4096) < 0) break;
    ::fdatasync(fd);
    samples.push_back(ms_since(t0));
  }
  ::close(fd);
  ::unlink(path.c_str());
  return median(samples);
}

// QMP round trips of the commands pause and unpause send (`stop`, then `cont`) to a running
// TCG guest like the bench's (tiny, 128 MiB), started by hand for it: stopping vCPUs costs
// more than answering query-status, and it is the physical part of the action. Returns the
// median of one stop + one cont; `status_ms` gets query-status's, for comparison.
double qmp_stop_cont_ms(const std::string& dir, double& status_ms) {
  const std::string sock = dir + "/bench-qmp.sock";
  const std::string kernel = std::string(CORRAL_GUEST_DIR) + "/vmlinuz";
  const std::string initrd = std::string(CORRAL_GUEST_DIR) + "/initrd.img";
  const pid_t pid = ::fork();
  if (pid == 0) {
    const std::string qmp = "unix:" + sock + ",server=on,wait=off";
    ::execlp("qemu-system-x86_64", "qemu-system-x86_64", "-machine", "pc,accel=tcg", "-m", "128",
             "-nodefaults", "-no-user-config", "-display", "none", "-serial", "null", "-kernel",
             kernel.c_str(), "-initrd", initrd.c_str(), "-append", "console=ttyS0 quiet panic=-1",
             "-qmp", qmp.c_str(), nullptr);
    ::_exit(127);
  }
  double result = 0;
  for (int i = 0; i < 100 && !fs::exists(sock); ++i) std::this_thread::sleep_for(20ms);
  if (auto qmp = corral::driver::qemu::QmpClient::connect(sock, 2s)) {
    std::this_thread::sleep_for(4s);  // booted, as the bench's VM is
    std::vector<double> status;
    std::vector<double> samples;
    for (int i = 0; i < 100; ++i) {
      auto t0 = Clock::now();
      if (!qmp->execute("query-status")) break;
      status.push_back(ms_since(t0));
      t0 = Clock::now();
      if (!qmp->execute("stop") || !qmp->execute("cont")) break;
      samples.push_back(ms_since(t0));
    }
    status_ms = median(status);
    result = median(samples);
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  return result;
}

double tcp_echo_ms() {
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listener, 1) != 0 ||
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(listener);
    return 0;
  }
  std::thread server([listener] {
    const int fd = ::accept(listener, nullptr, nullptr);
    char buf[48];
    for (;;) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_WAITALL);
      if (n <= 0 || ::send(fd, buf, static_cast<std::size_t>(n), 0) != n) break;
    }
    ::close(fd);
  });
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  std::vector<double> samples;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    char buf[48] = {};
    for (int i = 0; i < 2000; ++i) {
      const auto t0 = Clock::now();
      if (::send(fd, buf, sizeof buf, 0) != 48 || ::recv(fd, buf, sizeof buf, MSG_WAITALL) != 48)
        break;
      samples.push_back(ms_since(t0));
    }
  }
  ::close(fd);
  server.join();
  ::close(listener);
  return median(samples);
}

// ---- Pause + unpause --------------------------------------------------------------------

// Polls without sleeping (as corral-bench-qemu does): Cluster::wait_vm's 50 ms poll would be
// most of what it measures.
bool idle_in(Cluster& cluster, std::int64_t id, const std::string& state) {
  const auto t0 = Clock::now();
  while (Clock::now() - t0 < 10s) {
    const auto v = cluster.api().get("/v1/vms/" + std::to_string(id) + "?views=none").body;
    const json op = v.value("operation", json());
    if (v.value("state", std::string()) == state &&
        (op.is_null() || op.value("status", std::string()) != "running")) {
      return true;
    }
  }
  return false;
}

double pause_round_trips(Cluster& cluster, std::int64_t id, int runs) {
  auto& api = cluster.api();
  std::vector<double> samples;
  for (int i = 0; i < runs; ++i) {
    const auto t0 = Clock::now();
    if (api.post("/v1/vms/" + std::to_string(id) + "/actions", {{"action", "pause"}}).status /
                100 !=
            2 ||
        !idle_in(cluster, id, "PAUSED") ||
        api.post("/v1/vms/" + std::to_string(id) + "/actions", {{"action", "unpause"}}).status /
                100 !=
            2 ||
        !idle_in(cluster, id, "RUNNING")) {
      fmt::print("pause round trip {} failed: {}\n", i, cluster.vm(id).dump());
      break;
    }
    samples.push_back(ms_since(t0));
  }
  return median(samples);
}

void pause_through_agent() {
  const int runs = env_int("CORRAL_BENCH_RUNS", 15);
  Cluster cluster({.driver = "qemu", .server_args = {"--rank-policy", "striping"}});
  if (!cluster.start()) return;
  auto h1 = cluster.join("h1");
  const auto remote = cluster.create("via-agent");
  if (!cluster.wait_vm(remote, "RUNNING", 90s)) {
    fmt::print("the agent's VM did not run: {}\n", cluster.vm(remote).dump());
    return;
  }
  double local = 0;
  // The controller's own host, enabled again, takes the next VM (h1 disabled meanwhile).
  const json hosts = cluster.api().get("/v1/hosts").body;  // kept: the loop reads into it
  for (const auto& host : hosts["hosts"]) {
    if (host.value("local", false)) {
      const auto r = cluster.api().post("/v1/hosts/" + host["name"].get<std::string>() + "/action",
                                        {{"action", "enable"}});
      if (r.status != 200) fmt::print("enable the local host: {}\n", r.body.dump());
    }
  }
  (void)cluster.api().post("/v1/hosts/h1/action", {{"action", "disable"}});
  const auto here = cluster.create("local");
  const bool local_ok = cluster.wait_vm(here, "RUNNING", 90s) && cluster.host_of(here) != "h1";
  (void)cluster.api().post("/v1/hosts/h1/action", {{"action", "enable"}});
  if (!local_ok) {
    fmt::print("the controller's own host did not run a VM: {}\nhosts: {}\n",
               cluster.vm(here).dump(), cluster.api().get("/v1/hosts").body.dump());
  }
  const double through_agent = pause_round_trips(cluster, remote, runs);
  if (local_ok) local = pause_round_trips(cluster, here, runs);
  const double commit = durable_commit_ms(cluster.server().data_dir());
  double qmp_status = 0;
  const double stop_cont = qmp_stop_cont_ms(cluster.server().data_dir(), qmp_status);
  const double echo = tcp_echo_ms();
  const double floor = 4 * commit + stop_cont + 2 * echo;
  fmt::print("\n== Pause + unpause (API until idle, medians of {} round trips, TCG guests)\n",
             runs);
  fmt::print("durable commit (4 KiB + fdatasync)   {:7.3f} ms\n", commit);
  fmt::print("QMP stop + cont, running TCG guest   {:7.3f} ms   (query-status alone {:.3f})\n",
             stop_cont, qmp_status);
  fmt::print("TCP echo round trip, 48 B            {:7.3f} ms\n", echo);
  fmt::print("floor = 4 commits + stop + cont + 2 echoes {:7.3f} ms\n", floor);
  fmt::print("through an agent                     {:7.3f} ms   {:.2f}x floor (target <= 1.5x)\n",
             through_agent, floor > 0 ? through_agent / floor : 0);
  if (local_ok) {
    fmt::print("on the controller's own host         {:7.3f} ms   {:.2f}x floor\n", local,
               floor > 0 ? local / floor : 0);
  }
  h1->stop();
  corral::testing::kill_qemu_processes(h1->data_dir());
  corral::testing::kill_qemu_processes(cluster.server().data_dir());
}

}  // namespace

int main() {
  if (std::getenv("CORRAL_BENCH_SKIP_FAILOVER") == nullptr) failover();
  pause_through_agent();
  return 0;
}
