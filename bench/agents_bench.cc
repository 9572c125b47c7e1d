// corral-bench-agents: the controller's CPU with many agents connected and heartbeating
// (issue 11: 1,000 simulated agents at the default interval, target <= 5% of one core).
//
// Method: the controller side (ClusterServer: both ports, mutual TLS, the real AgentService
// with its admission pool and ping thread) runs in a child process; the simulated agents run
// in this process, so neither side's CPU is counted in the other's. Each agent has its own
// certificate (signed by the cluster CA from its own CSR), its own channel (TCP + TLS
// connection) and one Connect stream; it sends a Hello, then answers each Ping with a
// Heartbeat, and sends one of its own (staggered over the interval) only when it has answered
// no Ping for 1.5 intervals, as `corral agent` does (the controller sweeps every stream with a
// Ping each interval, so a sweep's answers reach it together). The
// controller's registry is a counting stand-in for the engine (the engine's agent_heartbeat is
// an atomic store, not measured here). Once every agent is welcomed and a warm-up has passed,
// the child's utime + stime (/proc/PID/stat) over a wall-clock window give its CPU in % of
// one core.
//
// Sizes: CORRAL_BENCH_AGENTS_N (default 1000), CORRAL_BENCH_AGENTS_SECONDS (window, default
// 30), CORRAL_BENCH_AGENTS_INTERVAL_MS (default 2000, the default heartbeat interval).
#include <grpcpp/create_channel.h>
#include <grpcpp/grpcpp.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cluster/pki.h"
#include "cluster/test_dir.h"
#include "controller/cluster_server.h"
#include "wire/credentials.h"
#include "wire/protocol.h"

namespace {

using namespace corral;
namespace v1 = ::corral::agent::v1;
using SteadyClock = std::chrono::steady_clock;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "corral-bench-agents: %s\n", what.c_str());
  std::exit(1);
}

long env_or(const char* name, long fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtol(v, nullptr, 10) : fallback;
}

// ---- The controller (child process) ----------------------------------------------------------

class CountingRegistry final : public controller::AgentRegistry {
 public:
  Result<engine::AgentWelcome> agent_connected(engine::AgentHello) override {
    engine::AgentWelcome welcome;
    welcome.epoch = epoch_.fetch_add(1) + 1;
    welcome.heartbeat_interval_ms = interval_ms;
    welcome.lease_ms = 3 * interval_ms;
    return welcome;
  }
  void agent_heartbeat(std::string_view, std::uint64_t, const engine::HostMetrics&) override {
    heartbeats.fetch_add(1, std::memory_order_relaxed);
  }
  void agent_disconnected(std::string_view, std::uint64_t) override {}
  Millis interval_ms = 2000;
  std::atomic<std::uint64_t> heartbeats{0};

 private:
  std::atomic<std::uint64_t> epoch_{0};
};

class NullSink final : public driver::DriverSink {
 public:
  void phase_done(driver::PhaseResult) override {}
  void power_event(driver::PowerEvent) override {}
};

// Serves until `stop_fd` reads EOF; writes "PORT\n" then, at the end, "HEARTBEATS\n" to out_fd.
[[noreturn]] void run_controller(const std::filesystem::path& dir, Millis interval_ms, int out_fd,
                                 int stop_fd) {
  CountingRegistry registry;
  registry.interval_ms = interval_ms;
  NullSink sink;
  SystemClock clock;
  controller::ClusterServerOptions options;
  options.dir = dir;
  options.agent_listen = "127.0.0.1:0";
  options.join_listen = "127.0.0.1:0";
  options.agents.ping_interval_ms = interval_ms;
  Result<std::unique_ptr<controller::ClusterServer>> server =
      controller::ClusterServer::start(options, registry, sink, clock);
  if (!server) die("controller: " + server.error().message);
  const std::string port = std::to_string((*server)->agent_port()) + "\n";
  if (::write(out_fd, port.data(), port.size()) < 0) std::_Exit(1);
  char byte = 0;
  while (::read(stop_fd, &byte, 1) > 0) {
  }
  const std::string count = std::to_string(registry.heartbeats.load()) + "\n";
  if (::write(out_fd, count.data(), count.size()) < 0) std::_Exit(1);
  std::_Exit(0);  // the parent measured what it wanted; no orderly teardown of 1,000 streams
}

double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::size_t close = text.rfind(')');  // the command may hold spaces
  if (close == std::string::npos) die("cannot read /proc/" + std::to_string(pid) + "/stat");
  std::istringstream fields(text.substr(close + 2));
  std::string skip;
  for (int i = 3; i < 14; ++i) fields >> skip;  // fields 3..13
  long utime = 0;
  long stime = 0;
  fields >> utime >> stime;
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// Context switches of every thread of `pid` (voluntary and not): a wake-up costs more here
// than the message it is for, so this is the figure to watch beside the CPU.
long context_switches(pid_t pid) {
  long total = 0;
  const std::filesystem::path tasks = "/proc/" + std::to_string(pid) + "/task";
  std::error_code ec;
  for (const auto& task : std::filesystem::directory_iterator(tasks, ec)) {
    std::ifstream in(task.path() / "status");
    for (std::string line; std::getline(in, line);) {
      if (line.find("ctxt_switches:") != std::string::npos) {
        total += std::strtol(line.c_str() + line.find(':') + 1, nullptr, 10);
      }
    }
  }
  return total;
}

// ---- The agents (this process) ---------------------------------------------------------------

class SimAgent final : public grpc::ClientBidiReactor<v1::AgentMessage, v1::ControllerMessage> {
 public:
  SimAgent(const std::string& target, const wire::AgentIdentity& id, std::atomic<int>& welcomed)
      : host_(id.host), welcomed_(welcomed) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // a connection of its own, as agents have
    // As the controller: no bandwidth-delay probes (HTTP/2 PINGs) on a stream of small messages.
    args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
    channel_ = grpc::CreateCustomChannel(target, wire::agent_channel_credentials(id), args);
    stub_ = v1::AgentService::NewStub(channel_);
    stub_->async()->Connect(&context_, this);
    v1::AgentMessage hello;
    v1::Hello* h = hello.mutable_hello();
    h->set_protocol_version(wire::kProtocolVersion);
    h->set_agent_version("bench");
    h->set_host(host_);
    h->set_driver("sim");
    h->mutable_capacity()->set_vcpus(64);
    h->mutable_capacity()->set_memory_mib(262144);
    send(std::move(hello));
    StartRead(&in_);
    StartCall();
  }

  // As `corral agent`: its own heartbeat only when no Ping came for 1.5 intervals.
  void periodic_beat(Millis interval_ms) {
    const auto now = SteadyClock::now().time_since_epoch() / std::chrono::milliseconds(1);
    if (now - last_beat_ms_.load() < interval_ms + interval_ms / 2) return;
    beat(0);
  }

  void beat(std::uint64_t ping_seq) {
    last_beat_ms_.store(SteadyClock::now().time_since_epoch() / std::chrono::milliseconds(1));
    v1::AgentMessage m;
    v1::Heartbeat* b = m.mutable_heartbeat();
    b->set_seq(++seq_);
    b->set_sent_at_ms(1'700'000'000'000);
    b->set_ping_seq(ping_seq);
    v1::HostMetrics* metrics = b->mutable_metrics();
    metrics->set_used_vcpus(12);
    metrics->set_used_memory_mib(24576);
    metrics->set_running_vms(6);
    metrics->set_free_cpu_percent(71.5);
    metrics->set_load1(1.25);
    send(std::move(m));
    sent.fetch_add(1, std::memory_order_relaxed);
  }

  void cancel() { context_.TryCancel(); }
  void wait_done() {
    std::unique_lock lock(mu_);
    done_cv_.wait(lock, [this] { return done_; });
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;
    if (in_.has_welcome()) welcomed_.fetch_add(1);
    if (in_.has_refuse()) die("refused: " + in_.refuse().message());
    const std::uint64_t ping = in_.has_ping() ? in_.ping().seq() : 0;
    StartRead(&in_);
    if (ping != 0) beat(ping);
  }
  void OnWriteDone(bool ok) override {
    std::lock_guard lock(mu_);
    writing_ = false;
    if (!ok) {
      queue_.clear();
      return;
    }
    next_locked();
  }
  void OnDone(const grpc::Status&) override {
    std::lock_guard lock(mu_);
    done_ = true;
    done_cv_.notify_all();
  }

  static inline std::atomic<std::uint64_t> sent{0};

 private:
  void send(v1::AgentMessage m) {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(m));
    next_locked();
  }
  void next_locked() {
    if (writing_ || queue_.empty()) return;
    out_ = std::move(queue_.front());
    queue_.erase(queue_.begin());
    writing_ = true;
    StartWrite(&out_);
  }

  std::string host_;
  std::atomic<int>& welcomed_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::AgentService::Stub> stub_;
  grpc::ClientContext context_;
  v1::ControllerMessage in_;
  v1::AgentMessage out_;
  std::uint64_t seq_ = 0;
  std::atomic<std::int64_t> last_beat_ms_{0};
  std::mutex mu_;
  std::vector<v1::AgentMessage> queue_;
  bool writing_ = false;
  std::condition_variable done_cv_;
  bool done_ = false;
};

}  // namespace

int main() {
  const long n = env_or("CORRAL_BENCH_AGENTS_N", 1000);
  const long window_s = env_or("CORRAL_BENCH_AGENTS_SECONDS", 30);
  const Millis interval_ms = env_or("CORRAL_BENCH_AGENTS_INTERVAL_MS", 2000);
  if (n < 1 || window_s < 1 || interval_ms < 10) die("bad CORRAL_BENCH_AGENTS_* value");
  rlimit files{};
  ::getrlimit(RLIMIT_NOFILE, &files);
  files.rlim_cur = files.rlim_max;  // two sockets per agent, on each side
  ::setrlimit(RLIMIT_NOFILE, &files);

  // Certificates first, with OpenSSL alone: gRPC must not start before fork().
  cluster::testing::TempDir tmp;
  const std::filesystem::path dir = tmp.path() / "cluster";
  SystemClock clock;
  Result<cluster::CertificateAuthority> ca =
      cluster::CertificateAuthority::load_or_create(dir, clock);
  if (!ca) die(ca.error().message);
  std::vector<wire::AgentIdentity> ids;
  ids.reserve(static_cast<std::size_t>(n));
  for (long i = 1; i <= n; ++i) {
    const std::string host = "agent-" + std::to_string(i);
    Result<std::string> key = cluster::generate_private_key();
    if (!key) die(key.error().message);
    Result<std::string> csr = cluster::make_csr(*key, host);
    if (!csr) die(csr.error().message);
    Result<std::string> cert = ca->sign_agent_csr(*csr, host);
    if (!cert) die(cert.error().message);
    ids.push_back({host, *cert, *key, ca->cert_pem()});
  }

  int to_parent[2];
  int to_child[2];
  if (::pipe(to_parent) != 0 || ::pipe(to_child) != 0) die("pipe");
  const pid_t child = ::fork();
  if (child < 0) die("fork");
  if (child == 0) {
    ::close(to_parent[0]);
    ::close(to_child[1]);
    run_controller(dir, interval_ms, to_parent[1], to_child[0]);
  }
  ::close(to_parent[1]);
  ::close(to_child[0]);
  FILE* from_child = ::fdopen(to_parent[0], "r");
  long port = 0;
  if (std::fscanf(from_child, "%ld", &port) != 1) die("the controller did not start");

  std::printf(
      "corral-bench-agents: %ld agents, heartbeat every %lld ms (each the answer to the "
      "controller's Ping sweep), controller pid %d\n",
      n, static_cast<long long>(interval_ms), child);
  std::fflush(stdout);
  std::atomic<int> welcomed{0};
  const std::string target = "127.0.0.1:" + std::to_string(port);
  const auto connect_start = SteadyClock::now();
  std::vector<std::unique_ptr<SimAgent>> agents;
  agents.reserve(ids.size());
  for (const wire::AgentIdentity& id : ids) {
    agents.push_back(std::make_unique<SimAgent>(target, id, welcomed));
  }
  while (welcomed.load() < n) {
    if (SteadyClock::now() - connect_start > std::chrono::seconds(120)) {
      die("only " + std::to_string(welcomed.load()) + " agents welcomed after 120 s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const double connect_s =
      std::chrono::duration<double>(SteadyClock::now() - connect_start).count();

  // Heartbeats, each agent at its own offset within the interval.
  std::atomic<bool> stop{false};
  std::thread beater([&] {
    const auto start = SteadyClock::now();
    for (std::uint64_t round = 0; !stop.load(); ++round) {
      for (long i = 0; i < n && !stop.load(); ++i) {
        std::this_thread::sleep_until(
            start + std::chrono::milliseconds(round * interval_ms + i * interval_ms / n));
        agents[static_cast<std::size_t>(i)]->periodic_beat(interval_ms);
      }
    }
  });

  std::this_thread::sleep_for(std::chrono::milliseconds(2 * interval_ms));  // warm-up
  const std::uint64_t sent0 = SimAgent::sent.load();
  rusage self0{};
  ::getrusage(RUSAGE_SELF, &self0);
  const long switches0 = context_switches(child);
  const double cpu0 = cpu_seconds(child);
  const auto t0 = SteadyClock::now();
  std::this_thread::sleep_for(std::chrono::seconds(window_s));
  const double cpu1 = cpu_seconds(child);
  const long switches1 = context_switches(child);
  const double wall = std::chrono::duration<double>(SteadyClock::now() - t0).count();
  rusage self1{};
  ::getrusage(RUSAGE_SELF, &self1);
  const std::uint64_t sent = SimAgent::sent.load() - sent0;

  stop.store(true);
  beater.join();
  ::close(to_child[1]);  // the controller reports its count and exits
  unsigned long long received = 0;
  if (std::fscanf(from_child, "%llu", &received) != 1) received = 0;
  int status = 0;
  ::waitpid(child, &status, 0);

  auto seconds = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
  };
  const double agents_cpu = seconds(self1.ru_utime) + seconds(self1.ru_stime) -
                            seconds(self0.ru_utime) - seconds(self0.ru_stime);
  const double controller_pct = 100.0 * (cpu1 - cpu0) / wall;
  std::printf("all %ld agents welcomed in %.2f s\n", n, connect_s);
  std::printf(
      "window %.1f s: %llu heartbeats sent (%.0f/s; ping answers + periodic), "
      "controller counted %llu in all\n",
      wall, static_cast<unsigned long long>(sent), static_cast<double>(sent) / wall, received);
  std::printf(
      "controller CPU (child process utime+stime) %.2f%% of one core   target <= 5%%   %s\n",
      controller_pct, controller_pct <= 5.0 ? "ok" : "MISSED");
  std::printf("controller context switches (all its threads) %.0f/s\n",
              static_cast<double>(switches1 - switches0) / wall);
  std::printf("simulated agents' CPU (this process)         %.2f%% of one core (not counted)\n",
              100.0 * agents_cpu / wall);
  for (auto& agent : agents) agent->cancel();
  for (auto& agent : agents) agent->wait_done();
  return 0;
}
