#include "driver/qemu/qemu_driver.h"

#include <signal.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <thread>

namespace corral::driver::qemu {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

namespace {

HostInfo this_host(const QemuConfig& config) {
  HostInfo host;
  host.name = config.host_name;
  host.vcpus = static_cast<int>(std::max(1U, std::thread::hardware_concurrency()) *
                                config.cpu_allocation_ratio);
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  long kib = 0;
  while (meminfo >> key >> kib) {
    if (key == "MemTotal:") break;
    meminfo.ignore(1 << 10, '\n');
  }
  host.memory_mib = static_cast<int>(kib / 1024);
  return host;
}

}  // namespace

QemuDriver::QemuDriver(QemuConfig config)
    : config_(std::move(config)), images_(config_.data_dir + "/images"), host_(this_host(config_)) {
  std::error_code ec;
  fs::create_directories(vms_dir(config_.data_dir), ec);
  fs::create_directories(images_.dir(), ec);
}

QemuDriver::~QemuDriver() { stop(); }

void QemuDriver::adopt(store::VmId vm, const std::string& host, lifecycle::Power power) {
  if (host != host_.name) return;
  std::lock_guard lock(mu_);
  adopted_[vm] = power;
}

void QemuDriver::start(DriverSink* sink) {
  {
    std::lock_guard lock(mu_);
    sink_ = sink;
    for (const auto& [vm, power] : adopted_) worker(vm).reconcile(power);
  }
  stop_orphans();
}

void QemuDriver::stop() {
  std::map<store::VmId, std::unique_ptr<VmWorker>> workers;
  {
    std::lock_guard lock(mu_);
    workers.swap(workers_);
  }
  for (auto& [vm, w] : workers) w->stop();
}

VmWorker& QemuDriver::worker(store::VmId vm) {
  // Drop the workers of terminated VMs as we go.
  for (auto it = workers_.begin(); it != workers_.end();) {
    if (it->first != vm && it->second->finished()) {
      it = workers_.erase(it);
    } else {
      ++it;
    }
  }
  std::unique_ptr<VmWorker>& slot = workers_[vm];
  if (!slot || slot->finished()) slot = std::make_unique<VmWorker>(vm, config_, images_, sink_);
  return *slot;
}

void QemuDriver::run_phase(const PhaseRequest& request) {
  std::lock_guard lock(mu_);
  worker(request.vm).submit(request);
}

std::map<store::VmId, pid_t> QemuDriver::processes() const {
  std::map<store::VmId, pid_t> out;
  const std::string marker = vms_dir(config_.data_dir) + "/";
  for (const pid_t pid : pids_mentioning(comm_of(config_.qemu_binary), marker)) {
    const std::string cmdline = process_cmdline(pid);
    if (cmdline.find("-pidfile") == std::string::npos) continue;
    const std::size_t at = cmdline.find(marker);
    if (at == std::string::npos) continue;
    const std::size_t digits = at + marker.size();
    const std::size_t end = cmdline.find('/', digits);
    if (end == std::string::npos) continue;
    const std::string id = cmdline.substr(digits, end - digits);
    if (id.empty() || id.find_first_not_of("0123456789") != std::string::npos) continue;
    out[std::stoll(id)] = pid;
  }
  return out;
}

void QemuDriver::stop_orphans() {
  std::set<store::VmId> known;
  {
    std::lock_guard lock(mu_);
    for (const auto& [vm, power] : adopted_) known.insert(vm);
  }
  for (const auto& [vm, pid] : processes()) {
    if (known.contains(vm)) continue;
    if (config_.warn) {
      config_.warn("stopping QEMU process " + std::to_string(pid) + " of VM " + std::to_string(vm) +
                   ": the store does not place that VM on this host");
    }
    UniqueFd pidfd = open_pidfd(pid);
    ::kill(pid, SIGTERM);
    if (!pidfd.valid() || !wait_readable(pidfd.get(), milliseconds(3000))) ::kill(pid, SIGKILL);
  }
}

std::vector<VmUsage> QemuDriver::usage() {
  std::vector<VmUsage> out;
  std::set<pid_t> alive;
  for (const auto& [vm, pid] : processes()) {
    alive.insert(pid);
    if (const std::optional<double> percent = cpu_.percent(pid)) out.push_back({vm, *percent});
  }
  cpu_.keep_only(alive);
  return out;
}

std::vector<FoundVm> QemuDriver::found() const {
  std::map<store::VmId, FoundVm> out;
  // A VM's directory without a process: powered off (its disk), or saved to a file.
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::directory_iterator(vms_dir(config_.data_dir), ec)) {
    const std::string id = entry.path().filename().string();
    if (id.empty() || id.size() > 18 || id.find_first_not_of("0123456789") != std::string::npos ||
        !entry.is_directory(ec)) {
      continue;
    }
    const store::VmId vm = std::stoll(id);
    // Saved memory or not, no process is left: shut off, as the table's suspend row says
    // (libvirt reports a managed-saved domain shut off, reference nova.md:13). kSuspended
    // here would flip a SUSPENDED VM's power at every reconnect (host_monitor.cc).
    out[vm] = {vm, lifecycle::Power::kShutdown, 0};
  }
  for (const auto& [vm, pid] : processes()) out[vm] = {vm, lifecycle::Power::kRunning, pid};
  std::vector<FoundVm> list;
  for (const auto& [vm, found] : out) list.push_back(found);
  return list;
}

void QemuDriver::kill_process(store::VmId vm, int term_wait_ms) {
  const std::map<store::VmId, pid_t> running = processes();
  const auto it = running.find(vm);
  if (it == running.end()) return;
  const pid_t pid = it->second;
  UniqueFd pidfd = open_pidfd(pid);
  if (term_wait_ms > 0) {
    ::kill(pid, SIGTERM);
    if (pidfd.valid() && wait_readable(pidfd.get(), milliseconds(term_wait_ms))) return;
  }
  ::kill(pid, SIGKILL);
  if (pidfd.valid()) wait_readable(pidfd.get(), milliseconds(3000));
}

void QemuDriver::fence(store::VmId vm) {
  // Hard, at once: the lease is over and another host may be starting this VM's disk.
  kill_process(vm, 0);
  if (config_.warn) config_.warn("fenced VM " + std::to_string(vm) + ": its lease ran out");
}

void QemuDriver::discard(store::VmId vm) {
  std::unique_ptr<VmWorker> worker;
  {
    std::lock_guard lock(mu_);
    if (auto it = workers_.find(vm); it != workers_.end()) {
      worker = std::move(it->second);
      workers_.erase(it);
    }
    adopted_.erase(vm);
  }
  if (worker) worker->stop();
  kill_process(vm, 3000);
  std::error_code ec;
  fs::remove_all(VmPaths::of(config_.data_dir, vm).dir, ec);
  if (config_.warn) {
    config_.warn("discarded VM " + std::to_string(vm) +
                 ": the controller does not place it on this host");
  }
}

std::vector<ImageInfo> QemuDriver::images() const {
  std::vector<ImageInfo> out;
  for (const Image& image : images_.list()) {
    out.push_back(
        {image.name, std::string(image_kind_name(image.kind)), images_.dir() + "/" + image.name});
  }
  return out;
}

Result<std::string> QemuDriver::console_log(store::VmId vm, std::size_t max_bytes) const {
  const VmPaths paths = VmPaths::of(config_.data_dir, vm);
  std::error_code ec;
  if (!fs::exists(paths.serial_log, ec)) {
    return fail(
        Error::not_found("VM " + std::to_string(vm) +
                         " has no console log (it never booted here, or it was terminated)"));
  }
  return read_tail(paths.serial_log, max_bytes);
}

Result<int> QemuDriver::attach_console(store::VmId vm, ConsoleOutput output) {
  std::lock_guard lock(mu_);
  auto it = workers_.find(vm);
  if (it == workers_.end() || !it->second->running()) {
    return fail(
        Error{ErrorCode::kConflict,
              "VM " + std::to_string(vm) + " has no running QEMU process: no console to attach to",
              {},
              {}});
  }
  return it->second->attach_console(std::move(output));
}

void QemuDriver::detach_console(store::VmId vm, int handle) {
  std::lock_guard lock(mu_);
  if (auto it = workers_.find(vm); it != workers_.end()) it->second->detach_console(handle);
}

Status QemuDriver::write_console(store::VmId vm, std::string bytes) {
  std::lock_guard lock(mu_);
  auto it = workers_.find(vm);
  if (it == workers_.end() || !it->second->write_console(bytes)) {
    return fail(Error{
        ErrorCode::kConflict, "VM " + std::to_string(vm) + " has no running QEMU process", {}, {}});
  }
  return {};
}

std::string probe_accelerator(const QemuConfig& config, const Image& probe_image,
                              const std::string& cache_file, milliseconds timeout,
                              const std::string& kvm_device) {
  if (::access(kvm_device.c_str(), R_OK | W_OK) != 0) return "tcg";
  utsname uts{};
  ::uname(&uts);
  const std::string key = config.qemu_binary + "|" + probe_image.kernel + "|" + uts.release;
  {
    std::ifstream in(cache_file);
    const nlohmann::json cached = nlohmann::json::parse(in, nullptr, false);
    if (cached.is_object() && cached.value("key", std::string()) == key) {
      return cached.value("accel", std::string("tcg"));
    }
  }
  // Boot the probe guest under KVM and wait for its readiness line on stdout.
  const std::string dir = fs::path(cache_file).parent_path().string();
  const std::string log = dir + "/accel-probe.log";
  std::error_code ec;
  fs::remove(log, ec);
  // run_command SIGKILLs QEMU itself if the guest hangs past the timeout.
  Result<CommandResult> ran =
      run_command({config.qemu_binary, "-machine", "pc,accel=kvm", "-m", "128", "-nodefaults",
                   "-no-user-config", "-display", "none", "-serial", "file:" + log, "-kernel",
                   probe_image.kernel, "-initrd", probe_image.initrd, "-append",
                   probe_image.cmdline + " corral.probe=1", "-no-reboot"},
                  timeout);
  (void)ran;
  const std::string printed = read_tail(log, 1 << 20);
  std::string accel = printed.find(config.readiness_line) != std::string::npos ? "kvm" : "tcg";
  std::ofstream(cache_file) << nlohmann::json{{"key", key}, {"accel", accel}}.dump() << "\n";
  return accel;
}

}  // namespace corral::driver::qemu
