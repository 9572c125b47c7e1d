// corral-bench-network: networks and volumes through Corral beside the same steps by hand
// (issue 13), on the same guest, in one run.
//
// Method (TCG, the image `tiny`: Debian's cloud kernel + the busybox initramfs with udhcpc,
// dropbear and nic-watch; 1 vCPU, 128 MiB, `-machine pc`; one guest at a time, the two peers
// alternating which goes first in each run):
//  (1) boot to ssh.
//      Corral: `corral run tiny` (the CLI, on a server started with --default-network; the
//      user's key in $HOME/.ssh) until `ssh root@IP true` succeeds from Corral's namespace.
//      By hand: in a namespace of this program's own, a bridge with the gateway address and
//      dnsmasq (static mode, the guest's MAC in its hosts file) made beforehand, as Corral's
//      network is; timed: `ip tuntap add` + master + up, then `ip netns exec NS
//      qemu-system-x86_64 -daemonize` with the same kernel, initrd (the image's plus the same
//      per-VM archive: hostname and key, built beforehand) and -append, a virtio NIC on the
//      tap; until `ssh root@IP true` succeeds.
//      Both: a fresh TCP connection to IP:22 every 50 ms until one is accepted (until_tcp:
//      TCP's own SYN retries would add 1-3 s steps), then ssh retried every 100 ms.
//  (2) NIC hotplug to the new address answering.
//      Corral: nic_attach on a second network (made beforehand) until the NIC's address (read
//      from the API) answers on port 22 (accepted or refused: the address is up) from
//      Corral's namespace. By hand: append MAC,IP to a second dnsmasq's hosts file + SIGHUP,
//      `ip tuntap add` on a second bridge, QMP netdev_add tap + device_add virtio-net-pci; the
//      same probe. The guest's nic-watch sees the NIC (polls every 0.2 s) and runs udhcpc.
//  (3) disk attach to usable.
//      An ssh session is opened first and runs a loop in the guest (every 50 ms: the
//      /sys/block/vd* whose serial is the volume's, its /dev node, a 512-byte read of it) that
//      prints "usable"; the clock starts once the loop runs, so no ssh handshake is timed.
//      Corral: disk_attach of a 16 MiB volume (made beforehand). By hand: QMP blockdev-add
//      (raw file, 16 MiB) + device_add virtio-blk-pci serial=...
//  CORRAL_BENCH_RAW_DISK=1 gives the guest by hand a blank 1 GiB qcow2 as vda (made before its
//  clock starts), as Corral's VMs have their own disk. CORRAL_BENCH_RAW_LIKE_CORRAL=1 starts
//  the QEMU by hand as Corral's driver does: paused (-S) then `cont` over QMP (timed), the
//  serial port on a unix-socket chardev with a logfile, -no-shutdown.
//  Medians (min-max) of N runs (CORRAL_BENCH_RUNS, default 3). Target for (1): Corral <= 1.10x
//  by hand. Printed, never asserted.
//
// Everything networked stays inside namespaces: Corral's own (removed with the server, by
// the names its CA gives them) and this program's corral-t<pid>-nbench (removed by that
// name). The QEMU and dnsmasq processes started by hand are ended by their recorded PIDs,
// the taps by their names. Needs root, qemu-system-x86_64, dnsmasq, ssh and busybox: without
// them it says so and exits 0 (make bench runs on).
#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/core.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "driver/qemu/guest_data.h"
#include "driver/qemu/images.h"
#include "driver/qemu/posix.h"
#include "driver/qemu/qmp_client.h"
#include "net/netns.h"
#include "support/guest_net.h"
#include "support/netns.h"
#include "support/qemu_support.h"
#include "support/recipes.h"

extern char** environ;  // NOLINT(readability-redundant-declaration)

namespace {

namespace fs = std::filesystem;
namespace qemu = corral::driver::qemu;
using Clock = std::chrono::steady_clock;
using corral::Result;
using corral::testing::Api;
using corral::testing::ApiResult;
using corral::testing::QemuServer;
using nlohmann::json;
using namespace std::chrono_literals;

constexpr int kMemoryMib = 128;  // what `corral run` asks for
constexpr int kVolumeMib = 16;
constexpr auto kSshPoll = 100ms;

// Corral's networks and the ones made by hand: different subnets, different namespaces.
constexpr const char* kCorralCidr = "10.97.0.0/24";
constexpr const char* kCorralSecondCidr = "10.98.0.0/24";
constexpr const char* kRawGateway0 = "10.77.0.1";
constexpr const char* kRawGateway1 = "10.78.0.1";
constexpr const char* kRawIp0 = "10.77.0.10";
constexpr const char* kRawIp1 = "10.78.0.10";
constexpr const char* kRawMac0 = "02:00:0a:4d:00:0a";  // 02:00 + the IPv4 bytes, as Corral's
constexpr const char* kRawMac1 = "02:00:0a:4e:00:0a";
constexpr const char* kRawSerial = "rawvol";

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

long env_or(const char* name, long fallback) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::strtol(v, nullptr, 10) : fallback;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

bool run_ok(const std::vector<std::string>& argv) {
  Result<qemu::CommandResult> r = qemu::run_command(argv, 60s);
  if (!r || r->exit_code != 0) {
    std::string line;
    for (const std::string& a : argv) line += a + " ";
    fmt::print(stderr, "bench: {}failed: {}\n", line, r ? r->output : r.error().message);
    return false;
  }
  return true;
}

bool on_path(const char* program) {
  Result<qemu::CommandResult> r = qemu::run_command({"sh", "-c", "command -v \"$0\"", program}, 5s);
  return r && r->exit_code == 0;
}

std::string after(const std::string& text, const std::string& marker) {
  const std::size_t at = text.find(marker);
  if (at == std::string::npos) return {};
  const std::size_t from = at + marker.size();
  return text.substr(from, text.find_first_of("\r\n ", from) - from);
}

// Until `ip`:22 answers from inside `netns`: a fresh TCP connection is opened every 50 ms
// (non-blocking, each kept for 1 s), so the probe does not wait on TCP's own SYN
// retransmission (1 s, then 2 s, 4 s: a SYN sent before the guest has its address is lost,
// since dnsmasq teaches the host the guest's MAC with its DHCP offer). With `refused_ok`, a
// reset counts too (the address is up, whether or not dropbear listens). The time since t0.
std::optional<double> until_tcp(const std::string& netns, const std::string& ip, bool refused_ok,
                                Clock::time_point t0, std::chrono::milliseconds timeout = 60s) {
  Result<double> r = corral::net::in_netns(netns, [&]() -> Result<double> {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(22);
    if (::inet_pton(AF_INET, ip.c_str(), &to.sin_addr) != 1) {
      return corral::fail(corral::Error::invalid_argument("bad address " + ip));
    }
    struct Try {
      int fd;
      Clock::time_point at;
    };
    std::vector<Try> tries;
    std::optional<double> answered;
    auto last = Clock::time_point{};
    const auto deadline = Clock::now() + timeout;
    while (!answered && Clock::now() < deadline) {
      if (Clock::now() - last >= 50ms) {
        last = Clock::now();
        const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd >= 0) {
          (void)::connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to);
          tries.push_back({fd, last});
        }
      }
      std::vector<pollfd> fds;
      for (const Try& t : tries) fds.push_back({t.fd, POLLOUT, 0});
      (void)::poll(fds.data(), fds.size(), 5);
      for (std::size_t i = 0; i < fds.size(); ++i) {
        if (fds[i].revents == 0) continue;
        int err = 0;
        socklen_t len = sizeof err;
        (void)::getsockopt(fds[i].fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err == 0 || (refused_ok && err == ECONNREFUSED)) answered = ms_since(t0);
        ::close(tries[i].fd);
        tries[i].fd = -1;
      }
      for (Try& t : tries) {
        if (t.fd >= 0 && Clock::now() - t.at > 1s) {
          ::close(t.fd);
          t.fd = -1;
        }
      }
      std::erase_if(tries, [](const Try& t) { return t.fd < 0; });
    }
    for (const Try& t : tries) ::close(t.fd);
    if (!answered) return corral::fail(corral::Error::internal(ip + ":22 did not answer"));
    return *answered;
  });
  if (!r) {
    fmt::print(stderr, "bench: {}\n", r.error().message);
    return std::nullopt;
  }
  return *r;
}

// Boot to ssh: until ip:22 accepts (that time goes to `port`), then until `ssh root@IP true`
// (retried every 100 ms) succeeds.
std::optional<double> until_ssh(const std::string& netns, const std::string& key,
                                const std::string& ip, Clock::time_point t0,
                                std::vector<double>& port) {
  const std::optional<double> accepted = until_tcp(netns, ip, /*refused_ok=*/false, t0);
  if (!accepted) return std::nullopt;
  port.push_back(*accepted);
  if (!corral::testing::wait_ssh(netns, key, ip, 30s, kSshPoll)) return std::nullopt;
  return ms_since(t0);
}

// "2026-12-05T18:53:41.123Z" (format_time) as milliseconds since the epoch; 0 if not that.
long epoch_ms(const std::string& text) {
  std::tm tm{};
  int msec = 0;
  if (std::sscanf(text.c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &msec) != 7) {
    return 0;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<long>(::timegm(&tm)) * 1000 + msec;
}

long wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// An ssh session running a loop in the guest that prints "waiting" once, then "usable" when
// the block device with virtio serial `serial` exists and its first 512 bytes read.
class DiskWatch {
 public:
  DiskWatch(const std::string& netns, const std::string& key, const std::string& ip,
            const std::string& serial) {
    const std::string loop =
        // sysfs' serial has no newline: read sets $s but fails at the end of the file.
        "echo waiting; i=0; while [ $i -lt 600 ]; do for b in /sys/block/vd*; do s=; "
        "{ read s <$b/serial; } 2>/dev/null; [ \"$s\" = " +
        serial +
        " ] && d=/dev/${b##*/}; done; [ -n \"$d\" ] && [ -b \"$d\" ] && "
        "dd if=$d of=/dev/null bs=512 count=1 2>/dev/null && { echo usable; exit 0; }; "
        "sleep 0.05; i=$((i+1)); done; echo timeout";
    std::vector<std::string> argv = {"ip",         "netns",
                                     "exec",       netns,
                                     "ssh",        "-n",
                                     "-i",         key,
                                     "-o",         "StrictHostKeyChecking=no",
                                     "-o",         "UserKnownHostsFile=/dev/null",
                                     "-o",         "LogLevel=ERROR",
                                     "-o",         "BatchMode=yes",
                                     "-o",         "ConnectTimeout=5",
                                     "root@" + ip, loop};
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    std::vector<char*> args;
    for (std::string& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    if (::posix_spawnp(&pid_, args[0], &actions, nullptr, args.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    fd_ = fds[0];
  }
  ~DiskWatch() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (fd_ >= 0) ::close(fd_);
  }
  DiskWatch(const DiskWatch&) = delete;
  DiskWatch& operator=(const DiskWatch&) = delete;

  // Reads until `word` has been printed (true) or `timeout` passes or the session ends.
  bool until(const std::string& word, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (seen_.find(word) == std::string::npos) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (fd_ < 0 || left.count() <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char buf[512];
      const ssize_t n = ::read(fd_, buf, sizeof buf);
      if (n <= 0) return false;
      seen_.append(buf, static_cast<std::size_t>(n));
    }
    return true;
  }
  const std::string& seen() const { return seen_; }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  std::string seen_;
};

struct Figures {
  std::vector<double> boot, nic, disk;
  // Where a boot's time goes: the guest's CPU starts (Corral: its deploy's os_provisioning
  // step, after `cont`; by hand: qemu -daemonize returned), the guest's init prints its ready
  // line and its first address on the serial port (SerialMarks), port 22 accepts.
  std::vector<double> started, ready, bound, port;
};

// The times since t0 at which the guest's serial log first shows its ready line and its
// first DHCP address ("corral-guest: eth0 …", printed by the udhcpc script once the address
// is set), polled every 5 ms on a thread of its own while the boot is timed.
class SerialMarks {
 public:
  SerialMarks(std::string path, Clock::time_point t0)
      : path_(std::move(path)), t0_(t0), thread_([this] { poll(); }) {}
  ~SerialMarks() { finish(); }
  SerialMarks(const SerialMarks&) = delete;
  SerialMarks& operator=(const SerialMarks&) = delete;

  // Stops polling (waiting up to 2 s for a line not yet seen) and adds what was seen.
  void add_to(Figures& f) {
    for (int i = 0; i < 400 && (!ready_ || !bound_); ++i) std::this_thread::sleep_for(5ms);
    finish();
    if (ready_) f.ready.push_back(*ready_);
    if (bound_) f.bound.push_back(*bound_);
  }

 private:
  void finish() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  void poll() {
    while (!stop_ && (!ready_ || !bound_)) {
      const std::string text = slurp(path_);
      if (!ready_ && text.find("corral-guest: ready") != std::string::npos) ready_ = ms_since(t0_);
      if (!bound_ && text.find("corral-guest: eth0 ") != std::string::npos) bound_ = ms_since(t0_);
      std::this_thread::sleep_for(5ms);
    }
  }

  std::string path_;
  Clock::time_point t0_;
  std::atomic<bool> stop_{false};
  std::optional<double> ready_, bound_;  // written by the thread, read after it joined
  std::thread thread_;
};

// ---- Corral ------------------------------------------------------------------------------

struct CorralPeer {
  QemuServer& server;
  Api& api;
  std::string netns;
  std::string key;
  std::string volume = "bench";
  std::string serial;

  bool until_idle(std::int64_t id, const std::string& state, std::chrono::seconds timeout = 60s) {
    for (const auto until = Clock::now() + timeout; Clock::now() < until;) {
      const ApiResult r = api.get("/v1/vms/" + std::to_string(id));
      if (r.status == 200) {
        const json& op = r.body["operation"];
        if ((op.is_null() || op["status"] != "running") && r.body["state"] == state) return true;
      }
      std::this_thread::sleep_for(20ms);
    }
    fmt::print(stderr, "bench: VM {} not idle in {}\n", id, state);
    return false;
  }

  bool volume_is(const std::string& status) {
    for (const auto until = Clock::now() + 60s; Clock::now() < until;) {
      const json v = api.get("/v1/volumes/" + volume).body["volume"];
      if (v.is_object() && v["status"] == status) return true;
      std::this_thread::sleep_for(50ms);
    }
    fmt::print(stderr, "bench: volume {} not {}\n", volume, status);
    return false;
  }

  int act(std::int64_t id, const std::string& action, json body = json::object()) {
    body["action"] = action;
    const ApiResult r = api.post("/v1/vms/" + std::to_string(id) + "/actions", body);
    if (r.status != 202) fmt::print(stderr, "bench: {} refused: {}\n", action, r.body.dump());
    return r.status;
  }

  void run(Figures& f) {
    const auto t0 = Clock::now();
    const long wall0 = wall_ms();
    const corral::testing::CliResult run =
        corral::testing::run_cli({"run", "tiny"}, server.process().url());
    const std::string id_text = after(run.out, "vm ID: ");
    const std::string ip = after(run.out, "Public ip: ");
    if (run.exit_code != 0 || id_text.empty() || ip.empty()) {
      fmt::print(stderr, "bench: corral run tiny: {}\n", run.out);
      return;
    }
    const std::int64_t id = std::stoll(id_text);
    SerialMarks marks(server.data_dir() + "/var/vms/" + std::to_string(id) + "/serial.log", t0);
    if (std::optional<double> ms = until_ssh(netns, key, ip, t0, f.port)) f.boot.push_back(*ms);
    marks.add_to(f);
    const json history =
        api.get("/v1/vms/" + std::to_string(id) + "/history?limit=100").body["transitions"];
    for (const json& h : history) {
      if (h["phase"] == "os_provisioning") {
        f.started.push_back(static_cast<double>(epoch_ms(h["at"].get<std::string>()) - wall0));
        break;
      }
    }

    // (2) NIC hotplug: the new NIC's address (from the API) until it answers.
    if (until_idle(id, "RUNNING")) {
      const auto t1 = Clock::now();
      if (act(id, "nic_attach", {{"network", "second"}}) == 202) {
        std::string ip2;
        for (const auto until = Clock::now() + 30s; ip2.empty() && Clock::now() < until;) {
          const json vm = api.get("/v1/vms/" + std::to_string(id)).body;
          if (vm["nics"].is_array() && vm["nics"].size() == 2 && vm["nics"][1]["ip"].is_string()) {
            ip2 = vm["nics"][1]["ip"].get<std::string>();
          } else {
            std::this_thread::sleep_for(2ms);
          }
        }
        if (std::optional<double> ms =
                ip2.empty() ? std::nullopt : until_tcp(netns, ip2, true, t1)) {
          f.nic.push_back(*ms);
        }
      }
    }

    // (3) disk attach: the session's loop runs before the clock starts.
    if (until_idle(id, "RUNNING")) {
      DiskWatch watch(netns, key, ip, serial);
      if (watch.until("waiting", 30s)) {
        const auto t2 = Clock::now();
        if (act(id, "disk_attach", {{"volume", volume}}) == 202 && watch.until("usable", 30s)) {
          f.disk.push_back(ms_since(t2));
        } else {
          fmt::print(stderr, "bench: corral disk not usable: {}\n", watch.seen());
        }
      }
    }

    (void)until_idle(id, "RUNNING");
    if (act(id, "terminate_hard") == 202) (void)until_idle(id, "DONE");
    (void)volume_is("available");
  }
};

// ---- By hand -----------------------------------------------------------------------------

struct RawPeer {
  std::string dir;  // this program's scratch dir
  std::string kernel, initrd, key;
  std::unique_ptr<corral::testing::Netns> ns;
  std::vector<pid_t> dnsmasq;  // one per bridge, by their pidfiles
  pid_t qemu_pid = -1;

  std::vector<std::string> in_ns(std::vector<std::string> argv,
                                 const std::vector<std::string>& more = {}) const {
    std::vector<std::string> full = ns->exec_prefix();
    full.insert(full.end(), argv.begin(), argv.end());
    full.insert(full.end(), more.begin(), more.end());
    return full;
  }

  bool ip(std::vector<std::string> args) {
    args.insert(args.begin(), {"ip", "-n", ns->name()});
    return run_ok(args);
  }

  std::string hosts(int bridge) const { return dir + "/hosts" + std::to_string(bridge); }

  // The network, made before any clock starts (as Corral's exists before `corral run`).
  bool up() {
    ns = corral::testing::Netns::create("nbench");
    if (!ns) return false;
    int b = 0;
    for (const char* gateway : {kRawGateway0, kRawGateway1}) {
      const std::string br = "br" + std::to_string(b);
      if (!ip({"link", "add", br, "type", "bridge"}) ||
          !ip({"addr", "add", std::string(gateway) + "/24", "dev", br}) ||
          !ip({"link", "set", br, "up"})) {
        return false;
      }
      std::ofstream(hosts(b)) << (b == 0 ? std::string(kRawMac0) + "," + kRawIp0 + "\n" : "");
      const std::string network = std::string(gateway).substr(0, std::string(gateway).size() - 1);
      const std::string pidfile = dir + "/dnsmasq" + std::to_string(b) + ".pid";
      // The flags measured to work here (reference network-volumes.md §2); dnsmasq
      // daemonizes once it listens.
      Result<int> rc = qemu::run_logged(
          in_ns({"dnsmasq", "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--port=0",
                 "--user=root", "--interface=" + br, "--bind-interfaces", "--except-interface=lo",
                 "--dhcp-range=" + network + "0,static,255.255.255.0,86400s",
                 "--dhcp-hostsfile=" + hosts(b),
                 "--dhcp-leasefile=" + dir + "/leases" + std::to_string(b), "--pid-file=" + pidfile,
                 "--dhcp-authoritative", std::string("--dhcp-option=option:router,") + gateway,
                 "--log-dhcp", "--log-facility=" + dir + "/dnsmasq" + std::to_string(b) + ".log"}),
          dir + "/dnsmasq-start.log", 30s);
      std::optional<pid_t> pid;
      for (int i = 0; i < 100 && !pid; ++i) {
        pid = qemu::read_pidfile(pidfile);
        if (!pid) std::this_thread::sleep_for(20ms);
      }
      if (!rc || *rc != 0 || !pid) {
        fmt::print(stderr, "bench: dnsmasq on {} did not start: {}\n", br,
                   slurp(dir + "/dnsmasq-start.log"));
        return false;
      }
      dnsmasq.push_back(*pid);
      ++b;
    }
    return run_ok({"qemu-img", "create", "-q", "-f", "raw", dir + "/vol.raw",
                   std::to_string(kVolumeMib) + "M"});
  }

  void stop_qemu() {
    if (qemu_pid > 0) {
      ::kill(qemu_pid, SIGKILL);
      for (int i = 0; i < 250 && qemu::process_alive(qemu_pid); ++i)
        std::this_thread::sleep_for(20ms);
      qemu_pid = -1;
    }
    std::error_code ec;
    fs::remove(dir + "/qemu.pid", ec);
    fs::remove(dir + "/qmp.sock", ec);
    fs::remove(dir + "/serial.log", ec);  // the next boot's SerialMarks must not see this one's
  }

  void down() {
    stop_qemu();
    for (pid_t pid : dnsmasq) {
      ::kill(pid, SIGTERM);
      for (int i = 0; i < 250 && qemu::process_alive(pid); ++i) std::this_thread::sleep_for(20ms);
    }
    dnsmasq.clear();
    ns.reset();  // removes the namespace by its name, and the bridges and taps in it
  }

  bool with_disk = false;  // CORRAL_BENCH_RAW_DISK=1: a blank qcow2 as vda, as Corral's VMs have
  // CORRAL_BENCH_RAW_LIKE_CORRAL=1: QEMU's own options as Corral's driver gives them: started
  // paused (-S) and continued over QMP, the serial port on a socket chardev with a logfile.
  bool like_corral = false;

  void run(Figures& f) {
    std::vector<std::string> disk;
    if (with_disk) {
      std::error_code ec;
      fs::remove(dir + "/disk.qcow2", ec);
      if (!run_ok({"qemu-img", "create", "-q", "-f", "qcow2", dir + "/disk.qcow2", "1024M"}))
        return;
      disk = {"-blockdev", "driver=file,filename=" + dir + "/disk.qcow2,node-name=file0",
              "-blockdev", "driver=qcow2,file=file0,node-name=disk0",
              "-device",   "virtio-blk-pci,drive=disk0,id=vda"};
    }
    std::vector<std::string> more = disk;
    if (like_corral) {
      more.insert(more.end(),
                  {"-chardev",
                   "socket,id=serial0,path=" + dir + "/serial.sock" +
                       ",server=on,wait=off,logfile=" + dir + "/serial.log,logappend=off",
                   "-no-shutdown", "-S"});
    }
    // (1) tap + qemu until ssh answers.
    const auto t0 = Clock::now();
    if (!ip({"tuntap", "add", "tap0", "mode", "tap"}) ||
        !ip({"link", "set", "tap0", "master", "br0"}) || !ip({"link", "set", "tap0", "up"})) {
      return;
    }
    Result<int> rc =
        qemu::run_logged(in_ns({"qemu-system-x86_64",
                                "-name",
                                "corral-bench-raw",
                                "-machine",
                                "pc,accel=tcg",
                                "-smp",
                                "1",
                                "-m",
                                std::to_string(kMemoryMib),
                                "-nodefaults",
                                "-no-user-config",
                                "-display",
                                "none",
                                "-serial",
                                like_corral ? "chardev:serial0" : "file:" + dir + "/serial.log",
                                "-qmp",
                                "unix:" + dir + "/qmp.sock,server=on,wait=off",
                                "-pidfile",
                                dir + "/qemu.pid",
                                "-daemonize",
                                "-kernel",
                                kernel,
                                "-initrd",
                                initrd,
                                "-append",
                                std::string(qemu::kDefaultKernelCmdline),
                                "-netdev",
                                "tap,id=n0,ifname=tap0,script=no,downscript=no",
                                "-device",
                                std::string("virtio-net-pci,id=nic0,netdev=n0,mac=") + kRawMac0},
                               more),
                         dir + "/qemu.log", 60s);
    if (std::optional<pid_t> pid = qemu::read_pidfile(dir + "/qemu.pid")) qemu_pid = *pid;
    if (!rc || *rc != 0 || qemu_pid <= 0) {
      fmt::print(stderr, "bench: qemu by hand did not start: {}\n", slurp(dir + "/qemu.log"));
      (void)ip({"link", "del", "tap0"});
      return;
    }
    if (like_corral) {
      Result<qemu::QmpClient> monitor = qemu::QmpClient::connect(dir + "/qmp.sock", 10s);
      if (!monitor || !monitor->execute("cont")) {
        fmt::print(stderr, "bench: cont by hand failed\n");
        stop_qemu();
        (void)ip({"link", "del", "tap0"});
        return;
      }
    }
    f.started.push_back(ms_since(t0));
    SerialMarks marks(dir + "/serial.log", t0);
    const std::optional<double> booted = until_ssh(ns->name(), key, kRawIp0, t0, f.port);
    if (booted) f.boot.push_back(*booted);
    marks.add_to(f);
    Result<qemu::QmpClient> qmp = qemu::QmpClient::connect(dir + "/qmp.sock", 10s);
    if (!booted || !qmp) {
      fmt::print(stderr, "bench: the guest by hand did not answer: {}\n",
                 slurp(dir + "/serial.log"));
    } else {
      // (2) hosts line + SIGHUP, tap, netdev_add + device_add, until the address answers.
      const auto t1 = Clock::now();
      std::ofstream(hosts(1)) << kRawMac1 << "," << kRawIp1 << "\n";
      ::kill(dnsmasq[1], SIGHUP);
      if (ip({"tuntap", "add", "tap1", "mode", "tap"}) &&
          ip({"link", "set", "tap1", "master", "br1"}) && ip({"link", "set", "tap1", "up"}) &&
          qmp->execute("netdev_add", {{"type", "tap"},
                                      {"id", "n1"},
                                      {"ifname", "tap1"},
                                      {"script", "no"},
                                      {"downscript", "no"}}) &&
          qmp->execute("device_add", {{"driver", "virtio-net-pci"},
                                      {"id", "nic1"},
                                      {"netdev", "n1"},
                                      {"mac", kRawMac1}})) {
        if (std::optional<double> ms = until_tcp(ns->name(), kRawIp1, true, t1)) {
          f.nic.push_back(*ms);
        }
      }

      // (3) blockdev-add + device_add until the guest reads the device.
      DiskWatch watch(ns->name(), key, kRawIp0, kRawSerial);
      if (watch.until("waiting", 30s)) {
        const auto t2 = Clock::now();
        Result<json> added = qmp->execute(
            "blockdev-add", {{"driver", "raw"},
                             {"node-name", "vol1"},
                             {"file", {{"driver", "file"}, {"filename", dir + "/vol.raw"}}}});
        if (added &&
            qmp->execute("device_add", {{"driver", "virtio-blk-pci"},
                                        {"id", "disk1"},
                                        {"drive", "vol1"},
                                        {"serial", kRawSerial}}) &&
            watch.until("usable", 30s)) {
          f.disk.push_back(ms_since(t2));
        } else {
          fmt::print(stderr, "bench: disk by hand not usable: {}\n", watch.seen());
        }
      }
    }
    stop_qemu();
    (void)ip({"link", "del", "tap0"});
    (void)ip({"link", "del", "tap1"});
    std::ofstream(hosts(1)).flush();  // the next run adds the line again
    ::kill(dnsmasq[1], SIGHUP);
  }
};

// ---- Output ------------------------------------------------------------------------------

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 == 1 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

std::string cell(const std::vector<double>& v) {
  if (v.empty()) return "-";
  const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  return fmt::format("{:.0f} ({:.0f}-{:.0f})", median(v), *lo, *hi);
}

std::string ratio(const std::vector<double>& corral, const std::vector<double>& raw) {
  return corral.empty() || raw.empty() ? "-" : fmt::format("{:.2f}x", median(corral) / median(raw));
}

}  // namespace

int main() {
  const int runs = static_cast<int>(std::max(1L, env_or("CORRAL_BENCH_RUNS", 3)));
  if (::geteuid() != 0) {
    fmt::print("corral-bench-network: skipped (needs root: network namespaces, bridges, taps)\n");
    return 0;
  }
  for (const char* tool : {"qemu-system-x86_64", "dnsmasq", "ssh", "ssh-keygen", "busybox", "ip"}) {
    if (!on_path(tool)) {
      fmt::print("corral-bench-network: skipped ({} not found)\n", tool);
      return 0;
    }
  }

  // Scratch: the files made by hand, and a $HOME whose key `corral run` gives its VMs (the
  // CLI takes ~/.ssh/id_ed25519 when there is one) and the guest by hand gets the same.
  std::string templ = (fs::temp_directory_path() / "corral-bench-net-XXXXXX").string();
  if (::mkdtemp(templ.data()) == nullptr) return 1;
  const std::string dir = templ;
  const std::string home = dir + "/home";
  fs::create_directories(home + "/.ssh");
  ::setenv("HOME", home.c_str(), 1);
  ::unsetenv("XDG_CONFIG_HOME");
  const std::string key = home + "/.ssh/id_ed25519";
  if (!run_ok({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "corral-bench", "-f", key})) {
    return 1;
  }
  std::string pub = slurp(key + ".pub");
  while (!pub.empty() && (pub.back() == '\n' || pub.back() == '\r')) pub.pop_back();

  int status = 0;
  Figures corral_f, raw_f;
  {
    QemuServer server({"--default-network", kCorralCidr});
    if (!server.process().start()) {
      fmt::print(stderr, "bench: the server did not start:\n{}\n", server.process().log());
      return 1;
    }
    Api api(server.process());
    const std::string images = server.data_dir() + "/var/images/tiny";

    // Corral's second network and its volume, made before any clock starts.
    const auto networks_ready = [&] {
      const json nets = api.get("/v1/networks").body["networks"];
      return nets.is_array() && nets.size() == 2 &&
             std::all_of(nets.begin(), nets.end(),
                         [](const json& n) { return n["state"] == "READY"; });
    };
    bool ready =
        api.post("/v1/networks", {{"name", "second"}, {"cidr", kCorralSecondCidr}}).status == 201;
    for (const auto until = Clock::now() + 60s; ready && !networks_ready();) {
      if (Clock::now() > until) ready = false;
      std::this_thread::sleep_for(50ms);
    }
    const ApiResult vol = api.post("/v1/volumes", {{"name", "bench"}, {"size_mib", kVolumeMib}});
    const json nets = api.get("/v1/networks").body["networks"];
    CorralPeer corral{server, api, "", key, "bench", ""};
    if (!nets.empty()) corral.netns = nets[0]["namespace"].get<std::string>();
    if (vol.status / 100 == 2) {
      corral.serial = "vol" + std::to_string(vol.body["volume"]["id"].get<std::int64_t>());
    }
    ready =
        ready && !corral.netns.empty() && !corral.serial.empty() && corral.volume_is("available");

    RawPeer raw;
    raw.dir = dir;
    raw.kernel = images + "/vmlinuz";
    raw.initrd = dir + "/initrd.img";
    raw.key = key;
    raw.with_disk = env_or("CORRAL_BENCH_RAW_DISK", 0) != 0;
    raw.like_corral = env_or("CORRAL_BENCH_RAW_LIKE_CORRAL", 0) != 0;
    const corral::Status initrd = qemu::write_vm_initrd(
        images + "/initrd.img", qemu::GuestData{"raw-bench", {pub}, ""}, raw.initrd);
    if (!initrd) fmt::print(stderr, "bench: per-VM initrd: {}\n", initrd.error().message);
    ready = ready && initrd && raw.up();

    if (!ready) {
      fmt::print(stderr, "bench: setup failed\n");
      status = 1;
    } else {
      for (int r = 0; r < runs; ++r) {
        if (r % 2 == 0) {
          corral.run(corral_f);
          raw.run(raw_f);
        } else {
          raw.run(raw_f);
          corral.run(corral_f);
        }
        const auto last = [](const std::vector<double>& v) {
          return v.empty() ? std::string("-") : fmt::format("{:.0f}", v.back());
        };
        fmt::print(stderr, "bench: run {}/{}: corral {} / {} / {} ms, by hand {} / {} / {} ms\n",
                   r + 1, runs, last(corral_f.boot), last(corral_f.nic), last(corral_f.disk),
                   last(raw_f.boot), last(raw_f.nic), last(raw_f.disk));
      }
    }
    raw.down();
    (void)server.process().stop();
  }  // ~QemuServer: Corral's QEMU processes, namespaces and dnsmasq go
  std::error_code ec;
  fs::remove_all(dir, ec);

  fmt::print(
      "corral-bench-network: TCG, image tiny, {} MiB, -machine pc; medians (min-max) of {} "
      "runs, ms\n",
      kMemoryMib, runs);
  fmt::print("{:<34} {:>22} {:>22} {:>11}  {}\n", "line", "corral", "by hand", "corral/hand",
             "target");
  const auto line = [](const char* name, const std::vector<double>& c, const std::vector<double>& h,
                       const char* target) {
    fmt::print("{:<34} {:>22} {:>22} {:>11}  {}\n", name, cell(c), cell(h), ratio(c, h), target);
  };
  line("boot to ssh answering", corral_f.boot, raw_f.boot, "<= 1.10x");
  line("  of which: guest CPU started", corral_f.started, raw_f.started, "");
  line("  of which: guest's ready line", corral_f.ready, raw_f.ready, "");
  line("  of which: guest's address set", corral_f.bound, raw_f.bound, "");
  line("  of which: port 22 accepts", corral_f.port, raw_f.port, "");
  line("NIC hotplug to address answering", corral_f.nic, raw_f.nic, "-");
  line("disk attach to usable", corral_f.disk, raw_f.disk, "-");
  return status;
}
