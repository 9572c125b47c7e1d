// corral-bench-qemu: Corral driving real QEMU, beside its peers, on the same guest in one run.
//
// Method (everything on this machine, one after the other, TCG, the image `tiny`, 256 MiB):
//  (a) raw QEMU: exec qemu-system-x86_64 (-kernel/-initrd, serial on a pipe) until the
//      guest's readiness line; then the process is killed.
//  (b) Corral: POST /v1/vms until the VM is RUNNING with its deploy succeeded — which happens
//      when the driver sees the same readiness line; polled every 2 ms.
//  (c) libvirt: `virsh start` of the same kernel/initrd (serial to a file, polled every
//      2 ms) until the readiness line; libvirtd and virtlogd are started by this program if
//      none runs, and stopped after.
//  Then on a running guest: pause+unpause round trip (Corral: two API actions, each until
//  the VM is idle in its new state; libvirt: virsh suspend + virsh resume), hard power-off
//  (Corral shutdown_hard until POWEROFF; libvirt virsh destroy), suspend+resume (Corral
//  suspend + resume; libvirt virsh managedsave + virsh start).
//  Medians of N runs (CORRAL_BENCH_RUNS, default 3; 3N pause round trips, 2N power-offs).
// Targets: Corral <= 1.10x raw QEMU to readiness; pause+unpause <= 5 ms; hard power-off
// <= 50 ms; faster than libvirt on every line. Printed, never asserted.
#include <fcntl.h>
#include <fmt/core.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "driver/qemu/posix.h"
#include "support/qemu_support.h"
#include "support/recipes.h"

extern char** environ;  // NOLINT(readability-redundant-declaration)

namespace {

namespace fs = std::filesystem;
namespace qemu = corral::driver::qemu;
using Clock = std::chrono::steady_clock;
using corral::Result;
using corral::testing::Api;
using corral::testing::QemuServer;
using nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kReady = "corral-guest: ready";
constexpr int kMemoryMib = 256;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

double median(std::vector<double> v) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

long env_or(const char* name, long fallback) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::strtol(v, nullptr, 10) : fallback;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

bool run_ok(const std::vector<std::string>& argv) {
  Result<qemu::CommandResult> r = qemu::run_command(argv, 120s);
  if (!r || r->exit_code != 0) {
    fmt::print(stderr, "bench: {} failed: {}\n", argv[0] + " " + (argv.size() > 1 ? argv[1] : ""),
               r ? r->output : r.error().message);
    return false;
  }
  return true;
}

// (a) exec to readiness line, serial on a pipe.
std::optional<double> raw_boot(const std::string& kernel, const std::string& initrd) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return std::nullopt;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  std::vector<std::string> argv = {"qemu-system-x86_64",
                                   "-machine",
                                   "pc,accel=tcg",
                                   "-m",
                                   std::to_string(kMemoryMib),
                                   "-nodefaults",
                                   "-no-user-config",
                                   "-display",
                                   "none",
                                   "-serial",
                                   "stdio",
                                   "-kernel",
                                   kernel,
                                   "-initrd",
                                   initrd,
                                   "-append",
                                   "console=ttyS0 quiet panic=-1"};
  std::vector<char*> args;
  for (std::string& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  pid_t pid = 0;
  const auto t0 = Clock::now();
  const int rc = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  std::optional<double> ready;
  if (rc == 0) {
    std::string seen;
    char buf[4096];
    while (ms_since(t0) < 60000) {
      pollfd p{fds[0], POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      const ssize_t n = ::read(fds[0], buf, sizeof buf);
      if (n <= 0) break;
      seen.append(buf, static_cast<std::size_t>(n));
      if (seen.find(kReady) != std::string::npos) {
        ready = ms_since(t0);
        break;
      }
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
  ::close(fds[0]);
  return ready;
}

json get_vm(Api& api, std::int64_t id) { return api.get("/v1/vms/" + std::to_string(id)).body; }

// Until the VM is idle in `state`, polling as fast as the API answers (or every `poll`).
bool until_state(Api& api, std::int64_t id, const std::string& state,
                 std::chrono::microseconds poll = 0us, std::chrono::seconds timeout = 60s) {
  const auto t0 = Clock::now();
  while (Clock::now() - t0 < timeout) {
    const json vm = get_vm(api, id);
    const bool idle = vm["operation"].is_null() || vm["operation"]["status"] != "running";
    if (idle && vm["state"] == state) return true;
    if (poll.count() > 0) std::this_thread::sleep_for(poll);
  }
  return false;
}

std::optional<double> corral_action(Api& api, std::int64_t id, const std::string& action,
                                    const std::string& state) {
  const auto t0 = Clock::now();
  if (api.post("/v1/vms/" + std::to_string(id) + "/actions", {{"action", action}}).status != 202) {
    return std::nullopt;
  }
  if (!until_state(api, id, state)) return std::nullopt;
  return ms_since(t0);
}

// ---- libvirt ----------------------------------------------------------------------------

struct Libvirt {
  bool started_daemons = false;
  std::string dir;
  std::string domain = "corral-bench-tiny";

  static std::vector<std::string> virsh(std::vector<std::string> args) {
    args.insert(args.begin(), {"virsh", "-q", "-c", "qemu:///system"});
    return args;
  }

  bool up() {
    if (run_ok(virsh({"version"}))) return true;
    if (!run_ok({"virtlogd", "-d"}) || !run_ok({"libvirtd", "-d"})) return false;
    started_daemons = true;
    for (int i = 0; i < 100; ++i) {
      Result<qemu::CommandResult> r = qemu::run_command(virsh({"version"}), 5s);
      if (r && r->exit_code == 0) return true;
      std::this_thread::sleep_for(100ms);
    }
    return false;
  }

  bool define(const std::string& kernel, const std::string& initrd) {
    // libvirt runs QEMU as its own user: the files go where it may read them.
    dir = (fs::temp_directory_path() / ("corral-bench-libvirt-" + std::to_string(::getpid())))
              .string();
    fs::create_directories(dir);
    fs::permissions(dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                             fs::perms::others_read | fs::perms::others_exec);
    fs::copy_file(kernel, dir + "/vmlinuz", fs::copy_options::overwrite_existing);
    fs::copy_file(initrd, dir + "/initrd.img", fs::copy_options::overwrite_existing);
    std::ofstream(dir + "/domain.xml") << fmt::format(
        R"(<domain type='qemu'><name>{}</name><memory unit='MiB'>{}</memory><vcpu>1</vcpu>
<os><type arch='x86_64' machine='pc'>hvm</type><kernel>{}/vmlinuz</kernel>
<initrd>{}/initrd.img</initrd><cmdline>console=ttyS0 quiet panic=-1</cmdline></os>
<features><acpi/></features><devices><serial type='file'><source path='{}/serial.log'/>
<target port='0'/></serial></devices></domain>)",
        domain, kMemoryMib, dir, dir, dir);
    (void)qemu::run_command(virsh({"destroy", domain}), 30s);
    (void)qemu::run_command(virsh({"undefine", "--managed-save", domain}), 30s);
    return run_ok(virsh({"define", dir + "/domain.xml"}));
  }

  std::optional<double> boot() {
    std::error_code ec;
    fs::remove(dir + "/serial.log", ec);
    const auto t0 = Clock::now();
    if (!run_ok(virsh({"start", domain}))) return std::nullopt;
    while (ms_since(t0) < 60000) {
      if (read_all(dir + "/serial.log").find(kReady) != std::string::npos) return ms_since(t0);
      std::this_thread::sleep_for(2ms);
    }
    return std::nullopt;
  }

  std::optional<double> timed(const std::vector<std::vector<std::string>>& commands) {
    const auto t0 = Clock::now();
    for (const auto& c : commands) {
      if (!run_ok(virsh(c))) return std::nullopt;
    }
    return ms_since(t0);
  }

  void down() {
    (void)qemu::run_command(virsh({"destroy", domain}), 30s);
    (void)qemu::run_command(virsh({"undefine", "--managed-save", domain}), 30s);
    if (started_daemons) {
      for (const char* pidfile : {"/run/libvirtd.pid", "/run/virtlogd.pid"}) {
        if (std::optional<pid_t> pid = qemu::read_pidfile(pidfile)) ::kill(*pid, SIGTERM);
      }
    }
    std::error_code ec;
    if (!dir.empty()) fs::remove_all(dir, ec);
  }
};

struct Line {
  std::string name;
  std::vector<double> raw, corral, libvirt;
  std::string target;
};

std::string cell(const std::vector<double>& v) {
  return v.empty() ? "-" : fmt::format("{:.1f}", median(v));
}

std::string ratio(const std::vector<double>& a, const std::vector<double>& b) {
  return a.empty() || b.empty() ? "-" : fmt::format("{:.2f}x", median(a) / median(b));
}

void add(std::vector<double>& v, std::optional<double> x) {
  if (x) v.push_back(*x);
}

}  // namespace

int main() {
  const int runs = static_cast<int>(env_or("CORRAL_BENCH_RUNS", 3));
  const bool with_libvirt = env_or("CORRAL_BENCH_LIBVIRT", 1) != 0;
  QemuServer server;
  if (!server.process().start()) {
    fmt::print(stderr, "bench: the server did not start:\n{}\n", server.process().log());
    return 1;
  }
  Api api(server.process());
  const std::string images = server.data_dir() + "/var/images/tiny";
  const std::string kernel = images + "/vmlinuz";
  const std::string initrd = images + "/initrd.img";

  Line boot{"boot to readiness line", {}, {}, {}, "corral <= 1.10x raw"};
  Line pause{"pause + unpause", {}, {}, {}, "<= 5 ms"};
  Line off{"hard power-off", {}, {}, {}, "<= 50 ms"};
  Line save{"suspend + resume (256 MiB)", {}, {}, {}, "< libvirt"};

  // Interleaved, so drift in the machine's load hits all three alike.
  Libvirt libvirt;
  const bool libvirt_ok = with_libvirt && libvirt.up() && libvirt.define(kernel, initrd);
  if (with_libvirt && !libvirt_ok)
    fmt::print(stderr, "bench: libvirt unavailable; its column is empty\n");
  std::vector<std::int64_t> vms;
  for (int r = 0; r < runs; ++r) {
    add(boot.raw, raw_boot(kernel, initrd));
    const auto t0 = Clock::now();
    const corral::testing::ApiResult created =
        api.post("/v1/vms",
                 {{"name", "bench"}, {"image", "tiny"}, {"vcpus", 1}, {"memory_mib", kMemoryMib}});
    if (created.status == 202) {
      const std::int64_t id = created.body["vm"]["id"].get<std::int64_t>();
      if (until_state(api, id, "RUNNING", 2ms)) boot.corral.push_back(ms_since(t0));
      vms.push_back(id);
    }
    if (libvirt_ok) {
      add(boot.libvirt, libvirt.boot());
      if (r + 1 < runs) (void)libvirt.timed({{"destroy", libvirt.domain}});
    }
  }
  if (vms.empty()) return 1;
  const std::int64_t id = vms.back();
  for (std::size_t i = 0; i + 1 < vms.size(); ++i) {
    (void)api.post("/v1/vms/" + std::to_string(vms[i]) + "/actions",
                   {{"action", "terminate_hard"}});
  }
  for (int r = 0; r < runs * 3; ++r) {
    const auto t0 = Clock::now();
    if (corral_action(api, id, "pause", "PAUSED") && corral_action(api, id, "unpause", "RUNNING")) {
      pause.corral.push_back(ms_since(t0));
    }
    if (libvirt_ok) {
      add(pause.libvirt, libvirt.timed({{"suspend", libvirt.domain}, {"resume", libvirt.domain}}));
    }
  }
  for (int r = 0; r < runs; ++r) {
    const auto t0 = Clock::now();
    if (corral_action(api, id, "suspend", "SUSPENDED") &&
        corral_action(api, id, "resume", "RUNNING")) {
      save.corral.push_back(ms_since(t0));
    }
    if (libvirt_ok) {
      add(save.libvirt,
          libvirt.timed({{"managedsave", libvirt.domain}, {"start", libvirt.domain}}));
    }
  }
  // Power-off of an idle guest: each start waits for the readiness line first.
  for (int r = 0; r < runs * 2; ++r) {
    add(off.corral, corral_action(api, id, "shutdown_hard", "POWEROFF"));
    if (corral_action(api, id, "start", "RUNNING")) {
      (void)corral::testing::wait_console(api, id, kReady);
    }
    if (libvirt_ok) {
      add(off.libvirt, libvirt.timed({{"destroy", libvirt.domain}}));
      (void)libvirt.boot();
    }
  }
  if (libvirt_ok) libvirt.down();

  fmt::print(
      "corral-bench-qemu: TCG, image tiny, {} MiB; medians (ms) of {} boots, {} pause "
      "round trips, {} suspend+resume, {} power-offs\n",
      kMemoryMib, runs, runs * 3, runs, runs * 2);
  fmt::print("{:<28} {:>9} {:>9} {:>9} {:>13} {:>15}  {}\n", "line", "raw qemu", "corral",
             "libvirt", "corral/raw", "corral/libvirt", "target");
  for (const Line* l : {&boot, &pause, &off, &save}) {
    fmt::print("{:<28} {:>9} {:>9} {:>9} {:>13} {:>15}  {}\n", l->name, cell(l->raw),
               cell(l->corral), cell(l->libvirt), ratio(l->corral, l->raw),
               ratio(l->corral, l->libvirt), l->target);
  }
  return 0;
}
