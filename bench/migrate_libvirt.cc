#include "migrate_libvirt.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <regex>
#include <thread>
#include <vector>

#include "driver/qemu/migrate_disk.h"
#include "driver/qemu/migrate_health.h"
#include "driver/qemu/posix.h"
#include "migrate_hosts.h"

extern char** environ;  // NOLINT(readability-redundant-declaration)

namespace corral::bench {

namespace fs = std::filesystem;
namespace qemu = driver::qemu;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

constexpr uid_t kNobody = 65534;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::optional<qemu::CommandResult> run(const std::vector<std::string>& argv,
                                       std::chrono::milliseconds timeout = 60s) {
  Result<qemu::CommandResult> r = qemu::run_command(argv, timeout);
  if (!r) return std::nullopt;
  return *r;
}

// The first line of a command's output (for one-line reasons).
std::string first_line(const std::string& text) {
  std::string line = text.substr(0, text.find('\n'));
  return line.empty() ? "(no output)" : line;
}

bool log_has(const std::string& log, std::size_t from, const std::string& text,
             std::chrono::milliseconds timeout) {
  const auto until = Clock::now() + timeout;
  while (Clock::now() < until) {
    if (slurp(log).find(text, from) != std::string::npos) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

std::size_t size_of(const std::string& path) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  return ec ? 0 : static_cast<std::size_t>(size);
}

void stop_process(pid_t pid, bool child) {
  if (pid <= 0 || !qemu::process_alive(pid)) return;
  ::kill(pid, SIGTERM);
  for (int i = 0; i < 100 && qemu::process_alive(pid); ++i) {
    if (child && ::waitpid(pid, nullptr, WNOHANG) == pid) return;
    std::this_thread::sleep_for(50ms);
  }
  if (qemu::process_alive(pid)) ::kill(pid, SIGKILL);
  if (child) ::waitpid(pid, nullptr, 0);
}

}  // namespace

std::string LibvirtPeer::uri(int daemon) const {
  return "qemu+unix:///session?socket=" + dir_ + "/d" + std::to_string(daemon) +
         "/run/libvirt/libvirt-sock";
}

// Each daemon's QEMU binds its own serial socket: the source's libvirt removes its socket
// file when its QEMU ends, which would take the target's away if they shared the path.
std::string LibvirtPeer::serial_socket(int daemon) const {
  return dir_ + "/img/serial" + std::to_string(daemon) + ".sock";
}

std::string LibvirtPeer::up(const std::string& guest_dir, int memory_mib) {
  if (!run({"virsh", "--version"}) || !run({"libvirtd", "--version"})) {
    return "libvirt is not installed (scripts/install-deps --with-libvirt)";
  }
  const bool root = ::geteuid() == 0;
  if (root && !run({"setpriv", "--version"})) return "setpriv (util-linux) is missing";
  std::string templ = (fs::temp_directory_path() / "corral-bench-libvirt-XXXXXX").string();
  if (::mkdtemp(templ.data()) == nullptr) return "cannot make a directory";
  dir_ = templ;
  const std::string img = dir_ + "/img";
  fs::create_directories(img);
  fs::copy_file(guest_dir + "/vmlinuz", img + "/vmlinuz");
  fs::copy_file(guest_dir + "/initrd.img", img + "/initrd.img");
  if (!qemu::create_target_disk("qemu-img", img + "/disk.qcow2", 64ULL << 20, "", "")) {
    return "cannot create the disk";
  }
  for (int d = 0; d < 2; ++d) {
    const std::string home = dir_ + "/d" + std::to_string(d);
    for (const char* sub : {"/home", "/cfg/libvirt", "/run", "/cache"}) {
      fs::create_directories(home + sub);
    }
    // Its own host UUID: libvirt refuses to migrate to a host with its own.
    std::ofstream(home + "/cfg/libvirt/libvirtd.conf")
        << fmt::format("host_uuid = \"7f3c0a52-1d6e-4c1b-9a44-00000000000{}\"\n", d + 1);
    std::ofstream(home + "/cfg/libvirt/qemu.conf") << "clear_emulator_capabilities = 0\n";
  }
  std::ofstream(dir_ + "/domain.xml") << fmt::format(
      R"(<domain type='qemu'><name>{0}</name><memory unit='MiB'>{1}</memory><vcpu>1</vcpu>
<os><type arch='x86_64' machine='pc'>hvm</type><kernel>{2}/vmlinuz</kernel>
<initrd>{2}/initrd.img</initrd><cmdline>console=ttyS0 quiet panic=-1</cmdline></os>
<devices><disk type='file' device='disk'><driver name='qemu' type='qcow2'/>
<source file='{2}/disk.qcow2'/><target dev='vda' bus='virtio'/></disk>
<serial type='unix'><source mode='bind' path='{2}/serial0.sock'/><log file='{2}/serial.log' append='on'/>
<target port='0'/></serial></devices></domain>)",
      domain_, memory_mib, img);
  if (root) {
    ::chmod(dir_.c_str(), 0755);  // NOLINT: nobody must reach the files
    for (const auto& e : fs::recursive_directory_iterator(dir_)) {
      (void)::lchown(e.path().c_str(), kNobody, kNobody);
    }
    (void)::lchown(dir_.c_str(), kNobody, kNobody);
  }

  for (int d = 0; d < 2; ++d) {
    const std::string home = dir_ + "/d" + std::to_string(d);
    std::vector<std::string> argv;
    if (root) {
      // Post-copy needs userfaultfd, which an unprivileged process may open only with
      // CAP_SYS_PTRACE here (vm.unprivileged_userfaultfd = 0): kept through to QEMU.
      argv = {"setpriv",        "--reuid=65534",          "--regid=65534",
              "--clear-groups", "--inh-caps=+sys_ptrace", "--ambient-caps=+sys_ptrace"};
    }
    argv.insert(argv.end(),
                {"env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + home + "/home",
                 "XDG_CONFIG_HOME=" + home + "/cfg", "XDG_RUNTIME_DIR=" + home + "/run",
                 "XDG_CACHE_HOME=" + home + "/cache", "libvirtd"});
    std::vector<char*> args;
    for (std::string& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    const std::string log = dir_ + "/libvirtd" + std::to_string(d) + ".log";
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    const int rc = ::posix_spawnp(&daemons_[d], args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) return "cannot start libvirtd";
  }
  for (int d = 0; d < 2; ++d) {
    bool answered = false;
    for (int i = 0; i < 100 && !answered; ++i) {
      std::optional<qemu::CommandResult> r = run({"virsh", "-c", uri(d), "version"}, 5s);
      answered = r && r->exit_code == 0;
      if (!answered) std::this_thread::sleep_for(100ms);
    }
    if (!answered) {
      return "libvirtd (session) did not answer: " +
             first_line(slurp(dir_ + "/libvirtd" + std::to_string(d) + ".log"));
    }
  }
  return {};
}

// One connection per QEMU, kept: QEMU drops typed input its UART has not taken yet when the
// client goes, so a connect-send-close loses all but a FIFO's worth.
bool LibvirtPeer::type(const std::string& text) {
  if (serial_at_ != at_) {
    serial_.reset(connect_unix(serial_socket(at_)));
    serial_at_ = at_;
  }
  char buffer[4096];
  while (serial_.valid() && ::recv(serial_.get(), buffer, sizeof buffer, MSG_DONTWAIT) > 0) {
  }
  return serial_.valid() && ::send(serial_.get(), text.data(), text.size(), MSG_NOSIGNAL) ==
                                static_cast<ssize_t>(text.size());
}

bool LibvirtPeer::start_guest(bool busy, std::string& why) {
  stop_guest();
  serial_.reset();
  serial_at_ = -1;
  at_ = 0;
  const std::string log = dir_ + "/img/serial.log";
  const std::size_t from = size_of(log);
  std::optional<qemu::CommandResult> r =
      run({"virsh", "-c", uri(0), "create", dir_ + "/domain.xml"});
  if (!r || r->exit_code != 0) {
    why = "virsh create: " + (r ? first_line(r->output) : "did not run");
    return false;
  }
  guest_ = true;
  if (!log_has(log, from, "corral-guest: ready", 90s) || !type("\n") ||
      !log_has(log, from, "/ # ", 30s)) {
    why = "the guest did not boot under libvirt";
    return false;
  }
  if (busy) {
    (void)type(kDirtyLoop);
    std::this_thread::sleep_for(2s);
  }
  return true;
}

std::optional<LibvirtRun> LibvirtPeer::migrate_once(std::string& why) {
  const int to = 1 - at_;
  const std::string log = dir_ + "/img/serial.log";
  const std::size_t from = size_of(log);
  // The target's domain XML: the same, but for its serial socket.
  std::optional<qemu::CommandResult> xml =
      run({"virsh", "-c", uri(at_), "dumpxml", "--migratable", domain_});
  if (!xml || xml->exit_code != 0) {
    why = "virsh dumpxml: " + (xml ? first_line(xml->output) : "did not run");
    return std::nullopt;
  }
  std::string target_xml = xml->output;
  const std::string from_socket = serial_socket(at_);
  if (const std::size_t at = target_xml.find(from_socket); at != std::string::npos) {
    target_xml.replace(at, from_socket.size(), serial_socket(to));
  }
  std::ofstream(dir_ + "/target.xml") << target_xml;
  // The downtime: libvirt's job-completed event on the target (its domjobinfo --completed
  // has nothing after a post-copy migration). Listening before the clock starts.
  const auto listen = [this](int daemon) {
    return std::async(std::launch::async, [this, daemon] {
      return run(
          {"virsh", "-c", uri(daemon), "event", "--event", "job-completed", "--timeout", "30"},
          40s);
    });
  };
  auto event = listen(at_);  // the source's: the target's sends none
  std::this_thread::sleep_for(300ms);

  const auto t0 = Clock::now();
  auto migrated = std::async(std::launch::async, [&] {
    return run(
        {"virsh", "-c", uri(at_), "migrate", "--live", "--postcopy", "--unsafe", "--bandwidth",
         "128", "--xml", dir_ + "/target.xml", domain_, uri(to), "tcp://127.0.0.1"},
        120s);
  });
  // Post-copy from 200 ms on, as migrate_defaults(); libvirt refuses it until its job runs.
  std::this_thread::sleep_until(t0 + 200ms);
  while (migrated.wait_for(0s) != std::future_status::ready) {
    std::optional<qemu::CommandResult> r =
        run({"virsh", "-c", uri(at_), "migrate-postcopy", domain_}, 10s);
    if (r && r->exit_code == 0) {
      fmt::print(stderr, "bench: libvirt post-copy at {:.0f} ms\n",
                 std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      break;
    }
    std::this_thread::sleep_for(50ms);
  }
  std::optional<qemu::CommandResult> done = migrated.get();
  const auto end = Clock::now();
  if (!done || done->exit_code != 0) {
    why = "virsh migrate: " + (done ? first_line(done->output) : "did not run");
    return std::nullopt;
  }
  at_ = to;
  LibvirtRun out;
  out.total_ms = std::chrono::duration<double, std::milli>(end - t0).count();
  std::optional<qemu::CommandResult> info = event.get();
  std::smatch m;
  if (info && std::regex_search(info->output, m, std::regex(R"(downtime:\s+(\d+))"))) {
    out.downtime_ms = std::stod(m[1].str());
  } else {
    fmt::print(stderr, "bench: libvirt reported no downtime: {}\n", info ? info->output : "");
  }
  const qemu::HealthReport health = qemu::check_guest_health(
      log, from, [this](const std::string& text) { (void)type(text); },
      qemu::console_probe("libvirt"), 20s, 2s);
  out.healthy = health.healthy;
  if (!health.healthy) {
    fmt::print(stderr, "bench: libvirt's guest unhealthy: {}\n", health.reason);
  }
  return out;
}

void LibvirtPeer::stop_guest() {
  if (!guest_) return;
  for (int d = 0; d < 2; ++d) (void)run({"virsh", "-c", uri(d), "destroy", domain_}, 30s);
  guest_ = false;
}

void LibvirtPeer::down() {
  if (dir_.empty()) return;
  stop_guest();
  for (int d = 0; d < 2; ++d) {
    // Each session daemon started its own virtlogd; its pidfile says which.
    const std::optional<pid_t> logd =
        qemu::read_pidfile(dir_ + "/d" + std::to_string(d) + "/run/libvirt/virtlogd.pid");
    stop_process(daemons_[d], true);
    daemons_[d] = 0;
    if (logd && qemu::process_cmdline(*logd).find("virtlogd") != std::string::npos) {
      stop_process(*logd, false);
    }
  }
  std::error_code ec;
  fs::remove_all(dir_, ec);
  dir_.clear();
}

}  // namespace corral::bench
