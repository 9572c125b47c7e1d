#include "driver/qemu/vm_worker.h"

#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <thread>

namespace corral::driver::qemu {

namespace fs = std::filesystem;
using lifecycle::Action;
using lifecycle::Phase;
using lifecycle::Power;
using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

namespace {

constexpr milliseconds kQmpTimeout{5000};
constexpr milliseconds kLaunchTimeout{60000};
constexpr milliseconds kGoneGrace{300};
constexpr milliseconds kSaveTimeout{300000};
// How often a graceful shutdown presses the power button again: a guest still booting may
// not listen yet.
constexpr milliseconds kPowerButtonRepeat{3000};

// What QEMU last said in its log, for an error message.
std::string qemu_said(const std::string& log, std::size_t max) {
  std::string text = read_tail(log, max);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

std::string unsupported(const PhaseRequest& r) {
  return "the qemu driver cannot do " + std::string(lifecycle::action_name(r.action)) + "/" +
         std::string(lifecycle::phase_name(r.phase)) + " yet";
}

}  // namespace

VmWorker::VmWorker(store::VmId vm, const QemuConfig& config, const ImageStore& images,
                   DriverSink* sink)
    : vm_(vm),
      config_(config),
      images_(images),
      sink_(sink),
      paths_(VmPaths::of(config.data_dir, vm)),
      wake_fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  thread_ = std::thread([this] { loop(); });
}

VmWorker::~VmWorker() { stop(); }

void VmWorker::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake();
  if (thread_.joinable()) thread_.join();
}

void VmWorker::wake() {
  const std::uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = ::write(wake_fd_.get(), &one, sizeof one);
}

void VmWorker::submit(const PhaseRequest& request) {
  {
    std::lock_guard lock(mu_);
    jobs_.emplace_back(request);
  }
  wake();
}

void VmWorker::reconcile(Power stored_power) {
  {
    std::lock_guard lock(mu_);
    jobs_.emplace_back(stored_power);
  }
  wake();
}

bool VmWorker::has_newer_request() {
  std::lock_guard lock(mu_);
  if (stopping_) return true;
  for (const Job& job : jobs_) {
    if (std::holds_alternative<PhaseRequest>(job)) return true;
  }
  return false;
}

int VmWorker::attach_console(ConsoleCallback callback) {
  std::lock_guard lock(console_mu_);
  const int handle = next_console_++;
  consoles_.emplace(handle, std::move(callback));
  return handle;
}

void VmWorker::detach_console(int handle) {
  std::lock_guard lock(console_mu_);
  consoles_.erase(handle);
}

bool VmWorker::write_console(const std::string& bytes) {
  if (!has_process_) return false;
  {
    std::lock_guard lock(mu_);
    console_in_ += bytes;
  }
  wake();
  return true;
}

void VmWorker::send_event(PowerEvent event) {
  event.vm = vm_;
  sink_->power_event(std::move(event));
}

// ---- The loop ---------------------------------------------------------------------------

void VmWorker::loop() {
  for (;;) {
    std::optional<Job> job;
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      if (!jobs_.empty()) {
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
    }
    if (!job) {
      pump(std::min(config_.monitor_interval, milliseconds(1000)));
      react_when_idle();
      monitor();
      continue;
    }
    if (const auto* request = std::get_if<PhaseRequest>(&*job)) {
      in_phase_ = true;
      provisioning_.reset();
      const Outcome outcome = run(*request);
      if (outcome.power) reported_power_ = *outcome.power;
      // Events our own commands caused (STOP for a pause ...) belong to the phase.
      for (const QmpEvent& event : qmp_.take_events()) on_qmp_event(event);
      in_phase_ = false;
      if (outcome.answer) {
        PhaseResult result;
        result.vm = vm_;
        result.op = request->op;
        result.step = request->step;
        result.attempt = request->attempt;
        result.ok = outcome.ok;
        result.error = outcome.error;
        result.power_known = outcome.power.has_value();
        result.power = outcome.power.value_or(Power::kNoState);
        result.integrity = outcome.integrity;
        sink_->phase_done(std::move(result));
      }
    } else {
      do_reconcile(std::get<Power>(*job));
    }
    // A phase queued behind (one a restart re-dispatched) decides what its VM's state means.
    if (!has_newer_request()) react_when_idle();
  }
}

void VmWorker::pump(milliseconds timeout) {
  for (const QmpEvent& event : qmp_.take_events()) on_qmp_event(event);
  pollfd fds[4];
  nfds_t n = 0;
  fds[n++] = {wake_fd_.get(), POLLIN, 0};
  const int qmp_index = qmp_.connected() ? static_cast<int>(n) : -1;
  if (qmp_index >= 0) fds[n++] = {qmp_.fd(), POLLIN, 0};
  const int serial_index = serial_.valid() ? static_cast<int>(n) : -1;
  if (serial_index >= 0) fds[n++] = {serial_.get(), POLLIN, 0};
  const int pid_index = pidfd_.valid() ? static_cast<int>(n) : -1;
  if (pid_index >= 0) fds[n++] = {pidfd_.get(), POLLIN, 0};
  const int rc = ::poll(fds, n, static_cast<int>(std::max<long long>(timeout.count(), 0)));
  if (rc < 0) return;
  if ((fds[0].revents & POLLIN) != 0) {
    std::uint64_t count = 0;
    [[maybe_unused]] const ssize_t r = ::read(wake_fd_.get(), &count, sizeof count);
    std::string input;
    {
      std::lock_guard lock(mu_);
      input.swap(console_in_);
    }
    if (!input.empty() && serial_.valid()) {
      [[maybe_unused]] const ssize_t w =
          ::send(serial_.get(), input.data(), input.size(), MSG_NOSIGNAL);
    }
  }
  if (qmp_index >= 0 && fds[qmp_index].revents != 0) {
    qmp_.poll_events();
    for (const QmpEvent& event : qmp_.take_events()) on_qmp_event(event);
  }
  if (serial_index >= 0 && fds[serial_index].revents != 0) {
    char buffer[4096];
    const ssize_t got = ::recv(serial_.get(), buffer, sizeof buffer, MSG_DONTWAIT);
    if (got > 0) {
      on_serial(std::string_view(buffer, static_cast<std::size_t>(got)));
    } else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
      serial_.reset();
    }
  }
  const bool pidfd_says_gone = pid_index >= 0 && (fds[pid_index].revents & POLLIN) != 0;
  if (pidfd_says_gone || (pid_ > 0 && !pidfd_.valid() && !process_alive(pid_))) {
    on_process_gone();
  }
}

VmWorker::Wait VmWorker::wait_for(const std::function<bool()>& done, milliseconds timeout,
                                  bool preemptible) {
  const auto until = SteadyClock::now() + timeout;
  for (;;) {
    if (done()) return Wait::kMet;
    if (preemptible && has_newer_request()) return Wait::kPreempted;
    const auto left = std::chrono::duration_cast<milliseconds>(until - SteadyClock::now());
    if (left.count() <= 0) return Wait::kTimedOut;
    pump(std::min(left, milliseconds(200)));
  }
}

void VmWorker::on_qmp_event(const QmpEvent& event) {
  if (event.name == "SHUTDOWN") {
    shutdown_seen_ = true;
    shutdown_guest_ = event.data.value("guest", false);
    shutdown_reason_ = event.data.value("reason", std::string("unknown"));
  } else if ((event.name == "STOP" || event.name == "RESUME") && !in_phase_) {
    // Not ours (our own stop/cont run inside phases): someone paused or resumed the VM on
    // the host; the engine notes the power.
    outside_power_ = event.name == "STOP" ? Power::kPaused : Power::kRunning;
  } else if (event.name == "RESET") {
    // The guest reboots: it will say it is ready again.
    ready_ = false;
    ready_reported_ = false;
  }
}

void VmWorker::on_serial(std::string_view bytes) {
  {
    std::lock_guard lock(console_mu_);
    for (auto& [handle, callback] : consoles_) callback(bytes);
  }
  serial_line_.append(bytes);
  std::size_t start = 0;
  for (std::size_t nl = serial_line_.find('\n'); nl != std::string::npos;
       nl = serial_line_.find('\n', start)) {
    if (std::string_view(serial_line_).substr(start, nl - start).find(config_.readiness_line) !=
        std::string_view::npos) {
      ready_ = true;
    }
    start = nl + 1;
  }
  serial_line_.erase(0, start);
  if (serial_line_.size() > 4096) serial_line_.erase(0, serial_line_.size() - 4096);
}

void VmWorker::on_process_gone() {
  if (serial_.valid()) {  // what the guest wrote last
    char buffer[4096];
    for (;;) {
      const ssize_t got = ::recv(serial_.get(), buffer, sizeof buffer, MSG_DONTWAIT);
      if (got <= 0) break;
      on_serial(std::string_view(buffer, static_cast<std::size_t>(got)));
    }
  }
  if (qmp_.connected()) qmp_.poll_events();
  for (const QmpEvent& event : qmp_.take_events()) on_qmp_event(event);
  {
    std::lock_guard lock(console_mu_);
    for (auto& [handle, callback] : consoles_) callback({});  // the console closed
  }
  pid_ = 0;
  exited_ = true;
  has_process_ = false;
  pidfd_.reset();
  qmp_.close();
  serial_.reset();
}

void VmWorker::react_when_idle() {
  if (in_phase_) return;
  if (ready_ && !ready_reported_) {
    ready_reported_ = true;
    PowerEvent event;
    event.kind = PowerEventKind::kGuestReady;
    event.power = Power::kRunning;
    event.cause = "the guest printed its readiness line";
    send_event(std::move(event));
  }
  if (outside_power_ && alive() && !shutdown_seen_) {
    PowerEvent event;
    event.power = *outside_power_;
    event.cause = *outside_power_ == Power::kPaused ? "paused outside Corral (QMP STOP)"
                                                    : "resumed outside Corral (QMP RESUME)";
    outside_power_.reset();
    send_event(std::move(event));
  }
  outside_power_.reset();
  if (alive() && shutdown_seen_) {
    // -no-shutdown left the stopped guest's process for us to end.
    const bool guest = shutdown_guest_;
    const std::string reason = shutdown_reason_;
    provisioning_.reset();
    hard_stop();
    exited_ = false;
    expect_exit_ = false;
    shutdown_seen_ = false;
    PowerEvent event;
    event.kind = guest ? PowerEventKind::kGuestPoweroff : PowerEventKind::kPowerChanged;
    event.power = Power::kShutdown;
    event.cause = guest ? "the guest powered itself off (QMP SHUTDOWN, reason " + reason + ")"
                        : "QEMU shut the VM down (QMP SHUTDOWN, reason " + reason + ")";
    send_event(std::move(event));
    return;
  }
  if (exited_) {
    exited_ = false;
    const bool expected = expect_exit_;
    expect_exit_ = false;
    if (expected) return;
    if (provisioning_) {
      PhaseResult result;
      result.vm = vm_;
      result.op = provisioning_->op;
      result.step = provisioning_->step;
      result.attempt = provisioning_->attempt;
      result.ok = false;
      result.error = "the QEMU process ended before the guest was ready";
      result.power_known = true;
      result.power = Power::kShutdown;
      provisioning_.reset();
      sink_->phase_done(std::move(result));
    }
    PowerEvent event;
    if (shutdown_seen_) {
      event.kind = shutdown_guest_ ? PowerEventKind::kGuestPoweroff : PowerEventKind::kPowerChanged;
      event.power = Power::kShutdown;
      event.cause = "the QEMU process ended after a shutdown (reason " + shutdown_reason_ + ")";
    } else {
      event.kind = PowerEventKind::kVanished;
      event.cause =
          "the QEMU process ended without a shutdown event: " + qemu_said(paths_.qemu_log, 300);
    }
    shutdown_seen_ = false;
    send_event(std::move(event));
  }
}

// Between phases, every monitor_interval: is QEMU still answering, and in what state? A
// process that stopped answering (SIGSTOPped, wedged) is reported unresponsive (the drift
// policy decides what that does); when it answers again, what it says is reported.
void VmWorker::monitor() {
  if (!alive() || !qmp_.connected() || in_phase_) return;
  const auto now = SteadyClock::now();
  if (now - last_monitor_ < config_.monitor_interval) return;
  last_monitor_ = now;
  Result<nlohmann::json> status =
      qmp_.execute("query-status", nlohmann::json::object(), config_.monitor_timeout);
  if (!status) {
    // A killed QEMU closes its QMP socket a moment before the process is gone: that is a
    // vanished VM (reported when the pidfd says so), not an unresponsive one. A closed socket
    // means the process is ending, however slowly a loaded host lets it.
    const milliseconds grace = qmp_.connected() ? kGoneGrace : kQmpTimeout;
    if (wait_for([this] { return !alive(); }, grace, false) == Wait::kMet) return;
    if (!unresponsive_ && alive()) {
      unresponsive_ = true;
      PowerEvent event;
      event.kind = PowerEventKind::kUnresponsive;
      event.cause = "QEMU does not answer QMP within " +
                    std::to_string(config_.monitor_timeout.count()) + " ms (stopped or wedged)";
      send_event(std::move(event));
    }
    return;
  }
  const std::string state = status->value("status", std::string());
  Power power = Power::kRunning;
  if (state == "paused" || state == "suspended" || state == "io-error" || state == "prelaunch" ||
      state == "postmigrate") {
    power = Power::kPaused;
  } else if (state == "internal-error" || state == "guest-panicked") {
    power = Power::kCrashed;
  } else if (state == "shutdown") {
    return;  // the SHUTDOWN event ends it (react_when_idle)
  }
  if (unresponsive_ || power != reported_power_) {
    unresponsive_ = false;
    reported_power_ = power;
    PowerEvent event;
    event.power = power;
    event.cause = "monitor: QEMU says " + state;
    send_event(std::move(event));
  }
}

// ---- The process ------------------------------------------------------------------------

Status VmWorker::ensure_disk(const PhaseRequest& request) {
  std::error_code ec;
  fs::create_directories(paths_.dir, ec);
  if (ec) return fail(Error::internal("cannot create " + paths_.dir + ": " + ec.message()));
  if (fs::exists(paths_.disk, ec)) return {};
  Result<Image> image = images_.find(request.model.image);
  if (!image) return fail(std::move(image.error()));
  const std::string tmp = paths_.disk + ".tmp";
  std::vector<std::string> argv = {config_.qemu_img, "create", "-q", "-f", "qcow2"};
  if (!image->disk.empty() || image->kind == Image::Kind::kDisk) {
    const std::string base = image->kind == Image::Kind::kDisk
                                 ? image->disk
                                 : (fs::path(image->kernel).parent_path() / "disk.qcow2").string();
    argv.insert(argv.end(), {"-F", image->kind == Image::Kind::kDisk ? image->disk_format : "qcow2",
                             "-b", base, tmp});
  } else {
    argv.insert(argv.end(), {tmp, std::to_string(config_.blank_disk_mib) + "M"});
  }
  Result<CommandResult> made = run_command(argv, milliseconds(30000));
  if (!made) return fail(std::move(made.error()));
  if (made->exit_code != 0) {
    return fail(Error::internal("qemu-img create failed: " + made->output));
  }
  fs::rename(tmp, paths_.disk, ec);
  if (ec) return fail(Error::internal("cannot rename " + tmp + ": " + ec.message()));
  return {};
}

Status VmWorker::launch(const PhaseRequest& request, const Image& image, bool incoming) {
  kill_leftovers();
  if (Status disk = ensure_disk(request); !disk) return disk;
  std::error_code ec;
  for (const std::string& stale : {paths_.qmp, paths_.serial, paths_.pidfile}) {
    fs::remove(stale, ec);
  }
  if (paths_.qmp.size() > kMaxSocketPath || paths_.serial.size() > kMaxSocketPath) {
    return fail(Error::invalid_argument("the data dir path is too long for unix sockets (" +
                                        paths_.qmp + "); use a shorter --data-dir"));
  }
  LaunchSpec spec;
  spec.vm = vm_;
  spec.paths = paths_;
  spec.vcpus = std::max(1, request.model.vcpus);
  spec.memory_mib = std::max(16, request.model.memory_mib);
  spec.image = image;
  spec.accel = config_.accel;
  spec.incoming = incoming;
  spec.qemu_binary = config_.qemu_binary;
  {
    std::ofstream log(paths_.qemu_log, std::ios::app);
    log << "---- launch (" << lifecycle::action_name(request.action) << "/"
        << lifecycle::phase_name(request.phase) << ")\n";
  }
  Result<int> rc = run_logged(qemu_argv(spec), paths_.qemu_log, kLaunchTimeout);
  if (!rc) return fail(std::move(rc.error()));
  if (*rc != 0) {
    return fail(Error::internal("QEMU did not start (exit " + std::to_string(*rc) +
                                "): " + qemu_said(paths_.qemu_log, 400)));
  }
  const std::optional<pid_t> pid = read_pidfile(paths_.pidfile);
  if (!pid) return fail(Error::internal("QEMU started but wrote no pidfile " + paths_.pidfile));
  shutdown_seen_ = false;
  exited_ = false;
  expect_exit_ = false;
  ready_ = false;
  ready_reported_ = false;
  serial_line_.clear();
  return attach(*pid);
}

Status VmWorker::attach(pid_t pid) {
  pid_ = pid;
  pidfd_ = open_pidfd(pid);
  has_process_ = true;
  Result<QmpClient> qmp = QmpClient::connect(paths_.qmp, kQmpTimeout);
  if (!qmp) return fail(std::move(qmp.error()));
  qmp_ = std::move(*qmp);
  connect_serial();
  return {};
}

void VmWorker::connect_serial() {
  if (paths_.serial.size() > kMaxSocketPath) return;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, paths_.serial.c_str(), paths_.serial.size() + 1);
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API
  if (fd.valid() &&
      ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) {
    serial_ = std::move(fd);
  }
}

void VmWorker::hard_stop() {
  if (!alive()) return;
  expect_exit_ = true;
  auto gone = [this] { return !alive(); };
  if (qmp_.connected()) (void)qmp_.execute("quit", nlohmann::json::object(), milliseconds(1000));
  if (wait_for(gone, milliseconds(2000), false) == Wait::kMet) return;
  for (const int sig : {SIGTERM, SIGKILL}) {
    if (pidfd_.valid()) {
      ::syscall(SYS_pidfd_send_signal, pidfd_.get(), sig, nullptr, 0);
    } else if (pid_ > 0) {
      ::kill(pid_, sig);
    }
    if (wait_for(gone, milliseconds(3000), false) == Wait::kMet) return;
  }
}

void VmWorker::kill_leftovers() {
  // A QEMU of this VM creates its sockets first: without them none was ever started here.
  std::error_code ec;
  if (!fs::exists(paths_.pidfile, ec) && !fs::exists(paths_.qmp, ec) &&
      !fs::exists(paths_.serial, ec)) {
    return;
  }
  for (const pid_t pid : pids_mentioning(comm_of(config_.qemu_binary), paths_.pidfile)) {
    if (has_process_ && pid == pid_ && alive()) continue;
    if (config_.warn) {
      config_.warn("vm " + std::to_string(vm_) + ": killing leftover QEMU process " +
                   std::to_string(pid) + " before launching another");
    }
    UniqueFd pidfd = open_pidfd(pid);
    ::kill(pid, SIGKILL);
    if (pidfd.valid()) (void)wait_readable(pidfd.get(), milliseconds(3000));
  }
}

void VmWorker::await_interrupted_launch() {
  const auto until = SteadyClock::now() + kLaunchTimeout;
  while (SteadyClock::now() < until) {
    const std::optional<pid_t> pid = read_pidfile(paths_.pidfile);
    if (pid && process_alive(*pid)) return;
    if (pids_mentioning(comm_of(config_.qemu_binary), paths_.pidfile).empty()) return;
    std::this_thread::sleep_for(milliseconds(50));
  }
}

Result<std::string> VmWorker::run_status() {
  Result<nlohmann::json> status =
      qmp_.execute("query-status", nlohmann::json::object(), kQmpTimeout);
  if (!status) return fail(std::move(status.error()));
  return status->value("status", std::string("unknown"));
}

void VmWorker::remove_files() {
  std::error_code ec;
  fs::remove_all(paths_.dir, ec);
}

// ---- Phases -----------------------------------------------------------------------------

VmWorker::Outcome VmWorker::run(const PhaseRequest& r) {
  const auto failed = [](std::string error, std::optional<Power> power = std::nullopt) {
    return Outcome{true, false, std::move(error), power};
  };
  Outcome ok_off{true, true, {}, Power::kShutdown};
  switch (r.phase) {
    case Phase::kNone:
    case Phase::kSchedule:
    case Phase::kConfirm:
    case Phase::kUpload:
      return Outcome{};
    case Phase::kInit:
    case Phase::kClone:
    case Phase::kProlog: {
      if (Status disk = ensure_disk(r); !disk) return failed(disk.error().message);
      return Outcome{};
    }
    case Phase::kBoot:
      return boot(r, false);
    case Phase::kRescue:
      return boot(r, true);
    case Phase::kUnrescue:
      hard_stop();
      return boot(r, false);
    case Phase::kOsProvisioning:
      if (!alive()) return failed("the VM is not running", Power::kShutdown);
      if (ready_) {
        ready_reported_ = true;
        return Outcome{true, true, {}, Power::kRunning};
      }
      provisioning_ = r;  // answered by the readiness line (a guest_ready event)
      return Outcome{false, true, {}, {}};
    case Phase::kOsProvisioned:
      return Outcome{true, true, {}, Power::kRunning};
    case Phase::kShutdown:
    case Phase::kShelve:
      return shutdown(r);
    case Phase::kPowerOff:
    case Phase::kSoftDelete:
      hard_stop();
      return ok_off;
    case Phase::kSave:
      return save(r);
    case Phase::kRestore:
      return restore(r);
    case Phase::kEpilog:
    case Phase::kCleanup:
      hard_stop();
      if (r.delete_files) {
        remove_files();
        finished_ = r.ends_vm;
        return Outcome{true, true, {}, Power::kNoState};
      }
      return Outcome{};
    case Phase::kReboot:
      return acpi_reboot();
    case Phase::kReset: {
      if (!alive()) return failed("the VM is not running", Power::kShutdown);
      if (Result<nlohmann::json> reset = qmp_.execute("system_reset"); !reset) {
        return failed(reset.error().message);
      }
      Result<std::string> status = run_status();
      if (status && *status != "running") {
        if (Result<nlohmann::json> cont = qmp_.execute("cont"); !cont) {
          return failed(cont.error().message);
        }
      }
      ready_ = false;
      ready_reported_ = false;
      return Outcome{true, true, {}, Power::kRunning};
    }
    case Phase::kPause:
      return qmp_step("stop", Power::kPaused);
    case Phase::kUnpause:
      return qmp_step("cont", Power::kRunning);
    case Phase::kResize:
      if (r.action == Action::kDiskResize) return disk_resize(r);
      if (!alive()) return Outcome{};  // the new size applies at the next boot
      if (r.action == Action::kRevertResize) {
        hard_stop();
        return boot(r, false);  // back with the old size
      }
      if (r.action == Action::kResizeMigrate) {
        hard_stop();  // the boot phase that follows starts it with the new size
        return ok_off;
      }
      return failed("the qemu driver cannot resize a running VM; power it off first");
    case Phase::kRebuild: {
      hard_stop();
      std::error_code ec;
      fs::remove(paths_.disk, ec);
      if (Status disk = ensure_disk(r); !disk) return failed(disk.error().message);
      return ok_off;
    }
    case Phase::kSnapshot:
    case Phase::kBackup:
      if (r.action == Action::kSnapshot || r.action == Action::kBackup) return snapshot(r);
      return internal_snapshot(r);
    case Phase::kMigrate:
    case Phase::kSetPassword:
    case Phase::kHotplug: {
      // Nothing was tried, so nothing changed: the VM is as the operation found it.
      Outcome out = failed(unsupported(r));
      out.integrity = lifecycle::Integrity::kIntact;
      return out;
    }
  }
  return failed(unsupported(r));
}

VmWorker::Outcome VmWorker::qmp_step(std::string_view command, Power power) {
  if (!alive()) return Outcome{true, false, "the VM has no QEMU process", Power::kShutdown};
  if (Result<nlohmann::json> done = qmp_.execute(command); !done) {
    return Outcome{true, false, done.error().message, {}};
  }
  return Outcome{true, true, {}, power};
}

VmWorker::Outcome VmWorker::boot(const PhaseRequest& r, bool rescue) {
  if (alive()) {
    Result<std::string> status = run_status();
    if (status && !rescue && *status == "running") return Outcome{true, true, {}, Power::kRunning};
    if (status && !rescue && (*status == "prelaunch" || *status == "paused")) {
      // Half-started (a restart caught it before `cont`): finish the start.
      return qmp_step("cont", Power::kRunning);
    }
    hard_stop();
  }
  Result<Image> image = images_.find(rescue ? config_.rescue_image : r.model.image);
  if (!image) return Outcome{true, false, image.error().message, Power::kShutdown};
  std::error_code ec;
  fs::remove(paths_.memory_state, ec);  // a fresh boot discards saved memory
  if (Status launched = launch(r, *image, false); !launched) {
    hard_stop();
    return Outcome{true, false, launched.error().message, Power::kShutdown};
  }
  return qmp_step("cont", Power::kRunning);
}

VmWorker::Outcome VmWorker::shutdown(const PhaseRequest& r) {
  if (!alive()) return Outcome{true, true, {}, Power::kShutdown};
  auto off = [this] { return shutdown_seen_ || !alive(); };
  auto last_press = SteadyClock::now();
  (void)qmp_.execute("system_powerdown");
  const auto until = SteadyClock::now() + config_.shutdown_timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<milliseconds>(until - SteadyClock::now());
    const Wait wait = wait_for(off, std::min(left, kPowerButtonRepeat));
    if (wait == Wait::kPreempted) return Outcome{false, true, {}, {}};
    if (wait == Wait::kMet) break;
    if (SteadyClock::now() >= until) {
      if (config_.shutdown_fallback == ShutdownFallback::kFail) {
        return Outcome{true, false,
                       "the guest did not power off within " +
                           std::to_string(config_.shutdown_timeout.count() / 1000) +
                           " s of the ACPI power button",
                       Power::kRunning};
      }
      break;  // pull the plug
    }
    if (SteadyClock::now() - last_press >= kPowerButtonRepeat) {
      (void)qmp_.execute("system_powerdown");
      last_press = SteadyClock::now();
    }
  }
  (void)r;
  hard_stop();
  shutdown_seen_ = false;
  return Outcome{true, true, {}, Power::kShutdown};
}

VmWorker::Outcome VmWorker::acpi_reboot() {
  if (!alive()) return Outcome{true, false, "the VM is not running", Power::kShutdown};
  // As libvirt does: press the power button, and when the guest has shut down, reset and
  // run it again instead of ending the process (-no-shutdown keeps it). A guest found already
  // down (a restart came between its shutdown and the reset) is reset at once.
  Result<std::string> status = run_status();
  if (!shutdown_seen_ && !(status && *status == "shutdown")) {
    if (Result<nlohmann::json> pressed = qmp_.execute("system_powerdown"); !pressed) {
      return Outcome{true, false, pressed.error().message, {}};
    }
    const Wait wait =
        wait_for([this] { return shutdown_seen_ || !alive(); }, config_.shutdown_timeout);
    if (wait == Wait::kPreempted) return Outcome{false, true, {}, {}};
    if (wait == Wait::kTimedOut) {
      Outcome out{true, false,
                  "the guest did not shut down for the reboot within " +
                      std::to_string(config_.shutdown_timeout.count() / 1000) + " s",
                  Power::kRunning};
      // Nova's rule for a failed reboot (reference nova.md:37): a guest still running is as
      // the reboot found it; otherwise the VM is in error.
      if (Result<std::string> now = run_status(); now && *now == "running" && !shutdown_seen_) {
        out.integrity = lifecycle::Integrity::kIntact;
      }
      return out;
    }
  }
  if (!alive())
    return Outcome{true, false, "the QEMU process ended during the reboot", Power::kShutdown};
  shutdown_seen_ = false;
  if (Result<nlohmann::json> reset = qmp_.execute("system_reset"); !reset) {
    return Outcome{true, false, reset.error().message, {}};
  }
  ready_ = false;
  ready_reported_ = false;
  return qmp_step("cont", Power::kRunning);
}

VmWorker::Wait VmWorker::wait_migration(std::string_view what, bool preemptible,
                                        std::string& error) {
  return wait_for(
      [&] {
        Result<nlohmann::json> info = qmp_.execute("query-migrate");
        if (!info) {
          error = info.error().message;
          return true;
        }
        const std::string status = info->value("status", std::string());
        if (status == "failed" || status == "cancelled") {
          error = std::string(what) + " failed: " + info->value("error-desc", status);
        }
        return status == "completed" || !error.empty();
      },
      kSaveTimeout, preemptible);
}

VmWorker::Outcome VmWorker::save(const PhaseRequest& r) {
  std::error_code ec;
  if (!alive()) {
    // Saved memory and no process: shut off, as libvirt's managedSave (nova.md power_state).
    if (fs::exists(paths_.memory_state, ec)) return Outcome{true, true, {}, Power::kShutdown};
    return Outcome{true, false, "the VM has no QEMU process to save", Power::kShutdown};
  }
  const std::string tmp = paths_.memory_state + ".tmp";
  if (Result<nlohmann::json> stopped = qmp_.execute("stop"); !stopped) {
    return Outcome{true, false, stopped.error().message, {}};
  }
  (void)qmp_.execute("migrate-set-parameters", {{"max-bandwidth", std::int64_t{1} << 40}});
  if (Result<nlohmann::json> started =
          qmp_.execute("migrate", {{"uri", "exec:cat > " + shell_quote(tmp)}});
      !started) {
    return save_failed(r, started.error().message);
  }
  std::string error;
  const Wait wait = wait_migration("saving memory", true, error);
  if (wait == Wait::kPreempted) {
    (void)qmp_.execute("migrate_cancel");
    return Outcome{false, true, {}, {}};
  }
  if (wait == Wait::kTimedOut) {
    (void)qmp_.execute("migrate_cancel");
    error = "saving memory did not finish in time";
  }
  if (!error.empty()) {
    fs::remove(tmp, ec);
    return save_failed(r, error);
  }
  fs::rename(tmp, paths_.memory_state, ec);
  if (ec) return Outcome{true, false, "cannot keep the saved memory: " + ec.message(), {}};
  hard_stop();
  return Outcome{true, true, {}, Power::kShutdown};
}

VmWorker::Outcome VmWorker::save_failed(const PhaseRequest& r, std::string error) {
  // As before the save: a paused VM stays paused, a running one runs again.
  const bool paused = r.origin == lifecycle::State::kPaused;
  Outcome out{true, false, std::move(error), paused ? Power::kPaused : Power::kRunning};
  if (!paused) (void)qmp_.execute("cont");
  // Intact only if QEMU says so: no migration still going, the guest in its old run state.
  Result<nlohmann::json> migration = qmp_.execute("query-migrate");
  const std::string migrating = migration ? migration->value("status", std::string()) : "?";
  const bool over = migrating.empty() || migrating == "none" || migrating == "failed" ||
                    migrating == "cancelled" || migrating == "completed";
  Result<std::string> status = run_status();
  if (alive() && over && status && *status == (paused ? "paused" : "running")) {
    out.integrity = lifecycle::Integrity::kIntact;
  }
  return out;
}

VmWorker::Outcome VmWorker::restore(const PhaseRequest& r) {
  std::error_code ec;
  if (alive()) {
    Result<std::string> status = run_status();
    if (status && *status == "running") return Outcome{true, true, {}, Power::kRunning};
    hard_stop();  // a restore a restart interrupted: begin again
  }
  if (!fs::exists(paths_.memory_state, ec)) {
    return Outcome{true, false, "no saved memory to restore (" + paths_.memory_state + ")",
                   Power::kShutdown};
  }
  // A restore that failed before the guest ran: no process is left and the saved memory is
  // untouched (it is only read), so a VM resumed from SUSPENDED is as it was.
  const auto failed = [&](std::string error) {
    hard_stop();
    Outcome out{true, false, std::move(error), Power::kShutdown};
    if (r.origin == lifecycle::State::kSuspended && !alive() &&
        fs::exists(paths_.memory_state, ec)) {
      out.integrity = lifecycle::Integrity::kIntact;
    }
    return out;
  };
  Result<Image> image = images_.find(r.model.image);
  if (!image) return failed(image.error().message);
  if (Status launched = launch(r, *image, true); !launched) {
    return failed(launched.error().message);
  }
  if (Result<nlohmann::json> incoming = qmp_.execute(
          "migrate-incoming", {{"uri", "exec:cat " + shell_quote(paths_.memory_state)}});
      !incoming) {
    return failed(incoming.error().message);
  }
  std::string error;
  const Wait wait = wait_migration("restoring memory", false, error);
  if (wait != Wait::kMet || !error.empty()) {
    return failed(error.empty() ? "restoring memory did not finish" : error);
  }
  Outcome resumed = qmp_step("cont", Power::kRunning);
  if (resumed.ok) {
    fs::remove(paths_.memory_state, ec);
    ready_ = true;  // it was ready when it was saved
    ready_reported_ = true;
  }
  return resumed;
}

VmWorker::Outcome VmWorker::snapshot(const PhaseRequest& r) {
  std::string name = r.name.value_or(std::string());
  if (name.empty()) {
    name = "vm" + std::to_string(vm_) + (r.action == Action::kBackup ? "-backup-" : "-snapshot-") +
           std::to_string(r.op);
  }
  if (!valid_image_name(name)) {
    return Outcome{
        true, false, "an image name is 1 to 64 characters of a-z, 0-9, '.', '_', '-'", {}};
  }
  const fs::path target = fs::path(images_.dir()) / name;
  const fs::path tmp = fs::path(images_.dir()) / (".tmp-" + name);
  std::error_code ec;
  if (fs::exists(target, ec)) return Outcome{true, false, "an image named " + name + " exists", {}};
  fs::remove_all(tmp, ec);
  fs::create_directories(tmp, ec);
  Result<Image> source = images_.find(r.model.image);
  if (source && source->kind == Image::Kind::kKernel) {
    // A kernel VM's image is its kernel and initramfs with its disk beside them.
    fs::copy_file(source->kernel, tmp / "vmlinuz", ec);
    fs::copy_file(source->initrd, tmp / "initrd.img", ec);
    std::ofstream(tmp / "cmdline") << source->cmdline << "\n";
  }
  const std::string disk = (tmp / "disk.qcow2").string();
  std::string error;
  if (alive()) {
    Result<nlohmann::json> started = qmp_.execute("drive-backup", {{"job-id", "snapshot"},
                                                                   {"device", "disk0"},
                                                                   {"sync", "full"},
                                                                   {"target", disk},
                                                                   {"format", "qcow2"},
                                                                   {"auto-dismiss", true}});
    if (!started) {
      error = started.error().message;
    } else {
      wait_for(
          [&] {
            Result<nlohmann::json> jobs = qmp_.execute("query-jobs");
            if (!jobs) return true;
            for (const nlohmann::json& job : *jobs) {
              if (job.value("id", std::string()) == "snapshot") return false;
            }
            return true;
          },
          kSaveTimeout, false);
    }
  } else {
    Result<CommandResult> copied =
        run_command({config_.qemu_img, "convert", "-O", "qcow2", paths_.disk, disk}, kSaveTimeout);
    if (!copied) {
      error = copied.error().message;
    } else if (copied->exit_code != 0) {
      error = "qemu-img convert failed: " + copied->output;
    }
  }
  if (error.empty() && !fs::exists(disk, ec)) error = "the disk copy was not written";
  if (!error.empty()) {
    fs::remove_all(tmp, ec);
    return Outcome{true, false, error, {}};
  }
  fs::rename(tmp, target, ec);
  if (ec) return Outcome{true, false, "cannot register image " + name + ": " + ec.message(), {}};
  return Outcome{};
}

namespace {

// The snapshot name a request gives, or `fallback`; "" if invalid.
std::string snapshot_name(const PhaseRequest& r, const std::string& fallback) {
  const std::string name = r.name.value_or(fallback);
  return valid_image_name(name) ? name : std::string();
}

}  // namespace

// Internal qcow2 snapshots of the VM's disk: qemu-img while no process has the disk open,
// QMP while it runs; checkpoints (disk and memory) with snapshot-save/load/delete jobs.
VmWorker::Outcome VmWorker::internal_snapshot(const PhaseRequest& r) {
  const bool creates = r.action == Action::kDiskSnapshot || r.action == Action::kCheckpoint;
  const std::string name = snapshot_name(r, creates ? "snap-" + std::to_string(r.op) : "");
  if (name.empty()) {
    return Outcome{true,
                   false,
                   std::string(lifecycle::action_name(r.action)) +
                       " needs 'name': 1 to 64 characters of a-z, 0-9, '.', '_', '-'",
                   {}};
  }
  const bool checkpoint = r.action == Action::kCheckpoint ||
                          r.action == Action::kCheckpointRevert ||
                          r.action == Action::kCheckpointDelete;
  if (checkpoint || alive()) {
    if (!alive()) return Outcome{true, false, "the VM is not running", {}};
    nlohmann::json args;
    std::string command;
    if (checkpoint) {
      command = r.action == Action::kCheckpoint         ? "snapshot-save"
                : r.action == Action::kCheckpointRevert ? "snapshot-load"
                                                        : "snapshot-delete";
      args = {{"job-id", "checkpoint"}, {"tag", name}, {"devices", {"disk0"}}};
      if (r.action != Action::kCheckpointDelete) args["vmstate"] = "disk0";
    } else if (r.action == Action::kDiskSnapshot) {
      command = "blockdev-snapshot-internal-sync";
      args = {{"device", "disk0"}, {"name", name}};
    } else if (r.action == Action::kDiskSnapshotDelete) {
      command = "blockdev-snapshot-delete-internal-sync";
      args = {{"device", "disk0"}, {"name", name}};
    } else {
      return Outcome{true, false, "a disk snapshot is reverted while the VM is off", {}};
    }
    if (Result<nlohmann::json> done = qmp_.execute(command, args, kSaveTimeout); !done) {
      return Outcome{true, false, done.error().message, {}};
    }
    if (!checkpoint) return Outcome{};
    // A job: wait until it concludes, keep its error, dismiss it.
    std::string error;
    wait_for(
        [&] {
          Result<nlohmann::json> jobs = qmp_.execute("query-jobs");
          if (!jobs) {
            error = jobs.error().message;
            return true;
          }
          for (const nlohmann::json& job : *jobs) {
            if (job.value("id", std::string()) != "checkpoint") continue;
            if (job.value("status", std::string()) != "concluded") return false;
            error = job.value("error", std::string());
          }
          return true;
        },
        kSaveTimeout, false);
    (void)qmp_.execute("job-dismiss", {{"id", "checkpoint"}});
    if (!error.empty()) return Outcome{true, false, error, {}};
    return Outcome{};
  }
  const char* flag = r.action == Action::kDiskSnapshot         ? "-c"
                     : r.action == Action::kDiskSnapshotRevert ? "-a"
                                                               : "-d";
  Result<CommandResult> ran =
      run_command({config_.qemu_img, "snapshot", flag, name, paths_.disk}, kSaveTimeout);
  if (!ran) return Outcome{true, false, ran.error().message, {}};
  if (ran->exit_code != 0) return Outcome{true, false, "qemu-img snapshot: " + ran->output, {}};
  return Outcome{};
}

VmWorker::Outcome VmWorker::disk_resize(const PhaseRequest& r) {
  const std::int64_t mib = r.size_mib;
  if (mib <= 0) return Outcome{true, false, "disk_resize needs 'size_mib'", {}};
  if (alive()) {
    Result<nlohmann::json> grown = qmp_.execute(
        "block_resize", {{"node-name", "disk0"}, {"size", mib * 1024 * 1024}}, kQmpTimeout);
    if (!grown) return Outcome{true, false, grown.error().message, {}};
    return Outcome{};
  }
  Result<CommandResult> ran = run_command(
      {config_.qemu_img, "resize", "-q", paths_.disk, std::to_string(mib) + "M"}, kSaveTimeout);
  if (!ran) return Outcome{true, false, ran.error().message, {}};
  if (ran->exit_code != 0) return Outcome{true, false, "qemu-img resize: " + ran->output, {}};
  return Outcome{};
}

// ---- Reconcile after a restart ----------------------------------------------------------

void VmWorker::do_reconcile(Power stored) {
  await_interrupted_launch();
  const std::optional<pid_t> pid = read_pidfile(paths_.pidfile);
  if (pid && process_alive(*pid) &&
      process_cmdline(*pid).find(paths_.pidfile) != std::string::npos) {
    if (Status attached = attach(*pid); !attached) {
      if (config_.warn) {
        config_.warn("vm " + std::to_string(vm_) + ": cannot re-attach to QEMU pid " +
                     std::to_string(*pid) + ": " + attached.error().message);
      }
      return;
    }
    // Whatever the guest said before we came back.
    ready_ =
        read_tail(paths_.serial_log, 1 << 20).find(config_.readiness_line) != std::string::npos;
    ready_reported_ = false;
    Result<std::string> status = run_status();
    PowerEvent event;
    event.cause = "re-attached after a restart";
    if (!status) return;
    if (*status == "running") {
      event.power = Power::kRunning;
    } else if (*status == "shutdown") {
      shutdown_seen_ = true;  // react_when_idle completes it
      shutdown_guest_ = true;
      shutdown_reason_ = "guest-shutdown, while the server was down";
      return;
    } else {
      event.power = Power::kPaused;
    }
    send_event(std::move(event));
    return;
  }
  if (stored != Power::kRunning && stored != Power::kPaused) return;
  PowerEvent event;
  // The kernel says "reboot: Power down" as its last words when the guest powered off.
  if (read_tail(paths_.serial_log, 2000).find("Power down") != std::string::npos) {
    event.kind = PowerEventKind::kGuestPoweroff;
    event.power = Power::kShutdown;
    event.cause =
        "found powered off after a restart: the guest shut down while the server was down";
  } else {
    event.kind = PowerEventKind::kVanished;
    event.cause = "found no QEMU process after a restart";
  }
  send_event(std::move(event));
}

}  // namespace corral::driver::qemu
