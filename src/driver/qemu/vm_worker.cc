// The actor: the job queue, the event pump and what the worker does between phases. The
// phases themselves are in phases_power.cc, phases_memory.cc and qemu_storage.cc; reconcile
// after a restart in reconcile.cc.
#include "driver/qemu/vm_worker.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "driver/qemu/guest_data.h"

namespace corral::driver::qemu {

using lifecycle::Power;
using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

namespace {

// How long a QEMU that closed its QMP socket has to be seen gone before it counts as
// unresponsive.
constexpr milliseconds kGoneGrace{300};

}  // namespace

VmWorker::VmWorker(store::VmId vm, const QemuConfig& config, const ImageStore& images,
                   DriverSink* sink)
    : vm_(vm),
      config_(config),
      images_(images),
      sink_(sink),
      paths_(VmPaths::of(config.data_dir, vm, config.shared_dir)),
      wake_fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
      process_(vm, paths_, config) {
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
    // The migration it aborts may be running in this worker's thread now: cancel it there.
    if (request.phase == lifecycle::Phase::kAbortMigrate) migrate_cancel_ = true;
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
  if (!process_.running()) return false;
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
      if (outcome.power) guest_.reported_power = *outcome.power;
      // Events our own commands caused (STOP for a pause ...) belong to the phase.
      for (const QmpEvent& event : qmp().take_events()) on_qmp_event(event);
      in_phase_ = false;
      if (outcome.answer) sink_->phase_done(outcome.result_for(vm_, *request));
    } else {
      do_reconcile(std::get<Power>(*job));
    }
    // A phase queued behind (one a restart re-dispatched) decides what its VM's state means.
    if (!has_newer_request()) react_when_idle();
  }
}

void VmWorker::pump(milliseconds timeout) {
  for (const QmpEvent& event : qmp().take_events()) on_qmp_event(event);
  pollfd fds[4];
  nfds_t n = 0;
  fds[n++] = {wake_fd_.get(), POLLIN, 0};
  const int qmp_index = qmp().connected() ? static_cast<int>(n) : -1;
  if (qmp_index >= 0) fds[n++] = {qmp().fd(), POLLIN, 0};
  const int serial_index = process_.serial_fd() >= 0 ? static_cast<int>(n) : -1;
  if (serial_index >= 0) fds[n++] = {process_.serial_fd(), POLLIN, 0};
  const int pid_index = process_.pidfd() >= 0 ? static_cast<int>(n) : -1;
  if (pid_index >= 0) fds[n++] = {process_.pidfd(), POLLIN, 0};
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
    process_.write_serial(input);
  }
  if (qmp_index >= 0 && fds[qmp_index].revents != 0) {
    qmp().poll_events();
    for (const QmpEvent& event : qmp().take_events()) on_qmp_event(event);
  }
  if (serial_index >= 0 && fds[serial_index].revents != 0) {
    const std::string got = process_.read_serial(false);
    if (!got.empty()) on_serial(got);
  }
  const bool pidfd_says_gone = pid_index >= 0 && (fds[pid_index].revents & POLLIN) != 0;
  if (pidfd_says_gone ||
      (process_.pid() > 0 && process_.pidfd() < 0 && !process_alive(process_.pid()))) {
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
  if (resume_in_postcopy_ && migration_role_ == MigrationRole::kTarget &&
      event.name == "MIGRATION" && event.data.value("status", "") == "postcopy-active") {
    // Post-copy began: the source stopped for good, and the guest must run here (fetching its
    // pages on demand) rather than wait, paused on both hosts, for finish_migrate.
    resume_in_postcopy_ = false;
    (void)qmp().execute("cont");
  }
  // Mid-migration a STOP or RESUME is the migration's doing, not someone else's.
  guest_watch::on_qmp_event(guest_, event, in_phase_ || migration_role_ != MigrationRole::kNone);
}

void VmWorker::on_serial(std::string_view bytes) {
  {
    std::lock_guard lock(console_mu_);
    for (auto& [handle, callback] : consoles_) callback(bytes);
  }
  guest_watch::on_serial(guest_, bytes, config_.readiness_line);
}

void VmWorker::on_process_gone() {
  // What the guest wrote last.
  if (const std::string last = process_.read_serial(true); !last.empty()) on_serial(last);
  if (qmp().connected()) qmp().poll_events();
  for (const QmpEvent& event : qmp().take_events()) on_qmp_event(event);
  {
    std::lock_guard lock(console_mu_);
    for (auto& [handle, callback] : consoles_) callback({});  // the console closed
  }
  process_.gone();
}

void VmWorker::react_when_idle() {
  if (in_phase_) return;
  if (std::optional<PowerEvent> ready = guest_watch::take_readiness(guest_)) {
    send_event(std::move(*ready));
  }
  if (std::optional<PowerEvent> outside = guest_watch::take_outside_power(guest_, alive())) {
    send_event(std::move(*outside));
  }
  if (std::optional<PowerEvent> off = guest_watch::powered_off(guest_, alive())) {
    // -no-shutdown left the stopped guest's process for us to end.
    provisioning_.reset();
    hard_stop();
    (void)process_.take_exit();
    guest_.shutdown_handled();
    send_event(std::move(*off));
    return;
  }
  if (process_.exited() && migration_role_ == MigrationRole::kTarget) {
    // An incoming QEMU ends by itself when its stream broke: the migration's next phase
    // (finish, or the undo's cleanup) deals with it; the VM itself runs on the source.
    (void)process_.take_exit();
    return;
  }
  if (process_.exited()) {
    const bool expected = process_.take_exit();
    if (expected) return;
    if (provisioning_) {
      Outcome ended =
          Outcome::failed("the QEMU process ended before the guest was ready", Power::kShutdown);
      const PhaseRequest request = *provisioning_;
      provisioning_.reset();
      sink_->phase_done(ended.result_for(vm_, request));
    }
    send_event(guest_watch::process_ended(guest_, qemu_said(paths_.qemu_log, 300)));
  }
}

// Between phases, every monitor_interval: is QEMU still answering, and in what state? A
// process that stopped answering (SIGSTOPped, wedged) is reported unresponsive (the drift
// policy decides what that does); when it answers again, what it says is reported.
void VmWorker::monitor() {
  // Mid-migration QEMU says inmigrate or postmigrate: no news about the VM's power.
  if (!alive() || !qmp().connected() || in_phase_ || migration_role_ != MigrationRole::kNone) {
    return;
  }
  const auto now = SteadyClock::now();
  if (now - last_monitor_ < config_.monitor_interval) return;
  last_monitor_ = now;
  Result<nlohmann::json> status =
      qmp().execute("query-status", nlohmann::json::object(), config_.monitor_timeout);
  if (!status) {
    // A killed QEMU closes its QMP socket a moment before the process is gone: that is a
    // vanished VM (reported when the pidfd says so), not an unresponsive one. A closed socket
    // means the process is ending, however slowly a loaded host lets it.
    const milliseconds grace = qmp().connected() ? kGoneGrace : kQmpTimeout;
    if (wait_for([this] { return !alive(); }, grace, false) == Wait::kMet) return;
    if (!alive()) return;
    if (std::optional<PowerEvent> silent =
            guest_watch::on_silence(guest_, config_.monitor_timeout)) {
      send_event(std::move(*silent));
    }
    return;
  }
  if (std::optional<PowerEvent> changed =
          guest_watch::on_status(guest_, status->value("status", std::string()))) {
    send_event(std::move(*changed));
  }
}

// ---- The process ------------------------------------------------------------------------

Status VmWorker::launch(const PhaseRequest& request, const Image& image, bool incoming) {
  process_.kill_leftovers();
  if (Status disk = ensure_disk(request); !disk) return disk;
  LaunchSpec spec;
  spec.vm = vm_;
  spec.paths = paths_;
  spec.vcpus = std::max(1, request.model.vcpus);
  spec.memory_mib = std::max(16, request.model.memory_mib);
  spec.image = image;
  if (!request.ssh_keys.empty()) {
    Result<Image> own = with_guest_data(
        image, GuestData{"vm-" + std::to_string(vm_), request.ssh_keys, ""}, paths_.dir);
    if (!own) return fail(std::move(own.error()));
    spec.image = *own;
  }
  spec.accel = config_.accel;
  spec.incoming = incoming;
  spec.qemu_binary = config_.qemu_binary;
  const std::string label = std::string(lifecycle::action_name(request.action)) + "/" +
                            std::string(lifecycle::phase_name(request.phase));
  // The NICs' taps are opened while QEMU starts (~150 ms of waiting for it to daemonize; a
  // tap's bridge, firewall and open are ~20 ms a NIC): a fresh QEMU has none of the VM's
  // NICs, so sync_devices plugs every one of them.
  std::map<int, Result<UniqueFd>> taps;  // by NIC index; closed unless QEMU gets them
  std::thread opener;
  if (config_.open_tap && !request.nics.empty()) {
    opener = std::thread([&] {
      for (const NicSpec& nic : request.nics) {
        Result<int> tap = config_.open_tap(vm_, nic);
        taps.emplace(nic.index, tap ? Result<UniqueFd>(UniqueFd(*tap)) : fail(tap.error()));
      }
    });
  }
  Result<pid_t> pid = process_.start(spec, label);
  if (opener.joinable()) opener.join();
  if (!pid) return fail(std::move(pid.error()));
  guest_.reset();
  if (Status attached = process_.attach(*pid); !attached) return attached;
  if (Result<DevicePlan> synced = sync_devices(request, false, std::move(taps)); !synced) {
    return fail(synced.error());
  }
  return {};
}

Result<DevicePlan> VmWorker::sync_devices(const PhaseRequest& request, bool plugging_only,
                                          std::map<int, Result<UniqueFd>> taps) {
  if (!alive()) return DevicePlan{};
  Result<std::vector<std::string>> present = present_devices(qmp());
  if (!present) return fail(std::move(present.error()));
  DevicePlan plan = plan_devices(request.nics, request.volumes, *present);
  if (plugging_only && plan.empty()) {
    return fail(Error::invalid_argument(std::string(lifecycle::action_name(request.action)) +
                                        ": the request names no device the VM lacks"));
  }
  std::deque<QmpEvent> others;
  Status done = [&]() -> Status {
    for (const std::string& id : plan.unplug) {
      if (Status gone = unplug(qmp(), id, config_.unplug_timeout, others); !gone) return gone;
    }
    for (const NicSpec& nic : plan.plug_nics) {
      if (!config_.open_tap) {
        return fail(Error::invalid_argument("this host has no networks (NIC " +
                                            std::to_string(nic.index) + ")"));
      }
      UniqueFd ours;  // QEMU keeps its own copy
      if (auto opened = taps.find(nic.index); opened != taps.end()) {
        if (!opened->second) return fail(std::move(opened->second.error()));
        ours = std::move(*opened->second);
      } else {
        Result<int> tap = config_.open_tap(vm_, nic);
        if (!tap) return fail(std::move(tap.error()));
        ours = UniqueFd(*tap);
      }
      if (Status plugged = plug_nic(qmp(), nic, ours.get()); !plugged) return plugged;
    }
    for (const VolumeSpec& volume : plan.plug_volumes) {
      if (Status plugged = plug_volume(qmp(), volume); !plugged) return plugged;
    }
    return {};
  }();
  for (const QmpEvent& event : others) on_qmp_event(event);
  if (!done) return fail(done.error());
  return plan;
}

void VmWorker::hard_stop() {
  process_.hard_stop([this](milliseconds timeout) {
    return wait_for([this] { return !alive(); }, timeout, false) == Wait::kMet;
  });
}

}  // namespace corral::driver::qemu
