// The power phases: the dispatch of every phase to what does it, and boot, shutdown, reboot,
// reset, pause and resume over QMP.
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "driver/qemu/vm_worker.h"

namespace corral::driver::qemu {

namespace fs = std::filesystem;
using lifecycle::Action;
using lifecycle::Phase;
using lifecycle::Power;
using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

namespace {

// How often a graceful shutdown presses the power button again: a guest still booting may
// not listen yet.
constexpr milliseconds kPowerButtonRepeat{3000};

std::string unsupported(const PhaseRequest& r) {
  return "the qemu driver cannot do " + std::string(lifecycle::action_name(r.action)) + "/" +
         std::string(lifecycle::phase_name(r.phase)) + " yet";
}

}  // namespace

VmWorker::Outcome VmWorker::run(const PhaseRequest& r) {
  const auto failed = [](std::string error, std::optional<Power> power = std::nullopt) {
    return Outcome::failed(std::move(error), power);
  };
  Outcome ok_off = Outcome::ok(Power::kShutdown);
  switch (r.phase) {
    case Phase::kNone:
    case Phase::kSchedule:
    case Phase::kUpload:
      return Outcome::ok();
    case Phase::kConfirm:
      // A resize that moved: confirm runs on the host it left and removes that copy (the
      // engine's intent, from the table's removes_copy); in place, there is nothing to drop.
      if (r.delete_files) {
        hard_stop();
        remove_files(/*shared_disk=*/false);  // a shared disk is the one the target runs
        finished_ = r.ends_vm;
        return Outcome::ok(Power::kNoState);
      }
      return Outcome::ok();
    case Phase::kProlog:
      // The target of a move (a cold migration, a resize to another host) gets the files.
      if (r.runs_on == lifecycle::RunsOn::kTarget) return receive_files(r);
      [[fallthrough]];
    case Phase::kInit:
    case Phase::kClone: {
      if (Status disk = ensure_disk(r); !disk) return failed(disk.error().message);
      return Outcome::ok();
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
      if (guest_.ready) {
        guest_.ready_reported = true;
        return Outcome::ok(Power::kRunning);
      }
      provisioning_ = r;  // answered by the readiness line (a guest_ready event)
      return Outcome::no_answer();
    case Phase::kOsProvisioned:
      return Outcome::ok(Power::kRunning);
    case Phase::kShutdown:
    case Phase::kShelve:
      return shutdown(r);
    case Phase::kPowerOff:
    case Phase::kSoftDelete:
      hard_stop();
      return ok_off;
    case Phase::kAbortMigrate:
      if (r.action == Action::kLiveMigrate) return abort_migrate(r);
      // A resize that moved, undone: the source's guest, stopped by its resize phase, runs
      // again with the old model (the request's, in an undo) if it ran before.
      if (r.action == Action::kResizeMigrate && r.origin == lifecycle::State::kRunning) {
        if (alive()) return Outcome::ok(Power::kRunning);
        return boot(r, false);
      }
      return Outcome::ok();  // nothing to abort
    case Phase::kPrepareMigrate:
      return prepare_migrate(r);
    case Phase::kFinishMigrate:
      return finish_migrate(r);
    case Phase::kSave:
      return save(r);
    case Phase::kRestore:
      return restore(r);
    case Phase::kCleanup:
      if (r.action == Action::kLiveMigrate && r.runs_on != lifecycle::RunsOn::kHost) {
        return migration_cleanup(r);
      }
      // A move's side with no copy of its own to remove (a resize that stayed on its host:
      // both sides are this one) leaves the VM alone.
      if (r.runs_on != lifecycle::RunsOn::kHost && !r.delete_files) return Outcome::ok();
      [[fallthrough]];
    case Phase::kEpilog:
      hard_stop();
      if (r.delete_files) {  // an intent of the engine's (the table), not decided here
        // One side of a move removes its own copy only: a shared disk is the other side's too.
        remove_files(/*shared_disk=*/r.runs_on == lifecycle::RunsOn::kHost);
        finished_ = r.ends_vm;
        return Outcome::ok(Power::kNoState);
      }
      return Outcome::ok();
    case Phase::kReboot:
      return acpi_reboot();
    case Phase::kReset: {
      if (!alive()) return failed("the VM is not running", Power::kShutdown);
      if (Result<nlohmann::json> reset = qmp().execute("system_reset"); !reset) {
        return failed(reset.error().message);
      }
      Result<std::string> status = process_.run_status();
      if (status && *status != "running") {
        if (Result<nlohmann::json> cont = qmp().execute("cont"); !cont) {
          return failed(cont.error().message);
        }
      }
      guest_.rebooted();
      return Outcome::ok(Power::kRunning);
    }
    case Phase::kPause:
      return qmp_step("stop", Power::kPaused);
    case Phase::kUnpause:
      return qmp_step("cont", Power::kRunning);
    case Phase::kResize:
      if (r.action == Action::kDiskResize) return disk_resize(r);
      // A revert of a resize that moved: the source's stopped copy starts again with the old
      // size if the VM was powered on (the row ends by power).
      if (r.action == Action::kRevertResize && r.runs_on == lifecycle::RunsOn::kSource) {
        hard_stop();
        if (r.power_after == Power::kRunning) return boot(r, false);
        return ok_off;
      }
      if (!alive()) return Outcome::ok();  // the new size applies at the next boot
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
      if (r.action == Action::kLiveMigrate) return live_migrate(r);
      return failed(unsupported(r)).intact();
    case Phase::kHotplug:
      return hotplug(r);
    case Phase::kSetPassword:
      // Nothing was tried, so nothing changed: the VM is as the operation found it.
      return failed(unsupported(r)).intact();
  }
  return failed(unsupported(r));
}

VmWorker::Outcome VmWorker::hotplug(const PhaseRequest& r) {
  // Powered off (OpenNebula's HOTPLUG_NIC_POWEROFF, HOTPLUG_PROLOG_POWEROFF): the devices are
  // the next boot's, nothing to do here.
  if (!alive()) return Outcome::ok(Power::kShutdown);
  Result<std::string> status = process_.run_status();
  const Power power = status && *status == "paused" ? Power::kPaused : Power::kRunning;
  // An attach that would plug nothing did nothing: it fails rather than succeed. Each plug
  // cleans up after itself and an unplug the guest refused leaves the device: either way the
  // VM has the devices it had, as OpenNebula's failed hotplug goes back.
  const bool attach = r.action == Action::kNicAttach || r.action == Action::kDiskAttach;
  if (Result<DevicePlan> synced = sync_devices(r, attach); !synced) {
    // QEMU may have ended under the hotplug (its QMP closed): then the VM is off, and the
    // engine hands it to the drift policy rather than keep it RUNNING.
    if (!process_alive(process_.pid())) {
      return Outcome::failed(synced.error().message, Power::kShutdown);
    }
    return Outcome::failed(synced.error().message, power).intact();
  }
  return Outcome::ok(power);
}

VmWorker::Outcome VmWorker::qmp_step(std::string_view command, Power power) {
  if (!alive()) return Outcome::failed("the VM has no QEMU process", Power::kShutdown);
  if (Result<nlohmann::json> done = qmp().execute(command); !done) {
    return Outcome::failed(done.error().message);
  }
  return Outcome::ok(power);
}

VmWorker::Outcome VmWorker::boot(const PhaseRequest& r, bool rescue) {
  if (alive()) {
    Result<std::string> status = process_.run_status();
    if (status && !rescue && *status == "running") return Outcome::ok(Power::kRunning);
    if (status && !rescue && (*status == "prelaunch" || *status == "paused")) {
      // Half-started (a restart caught it before `cont`): finish the start.
      return qmp_step("cont", Power::kRunning);
    }
    hard_stop();
  }
  Result<Image> image = images_.find(rescue ? config_.rescue_image : r.model.image);
  if (!image) return Outcome::failed(image.error().message, Power::kShutdown);
  std::error_code ec;
  fs::remove(paths_.memory_state, ec);  // a fresh boot discards saved memory
  if (Status launched = launch(r, *image, false); !launched) {
    hard_stop();
    return Outcome::failed(launched.error().message, Power::kShutdown);
  }
  return qmp_step("cont", Power::kRunning);
}

VmWorker::Outcome VmWorker::shutdown(const PhaseRequest& r) {
  if (!alive()) return Outcome::ok(Power::kShutdown);
  auto off = [this] { return guest_.shutdown_seen || !alive(); };
  auto last_press = SteadyClock::now();
  (void)qmp().execute("system_powerdown");
  const auto until = SteadyClock::now() + config_.shutdown_timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<milliseconds>(until - SteadyClock::now());
    const Wait wait = wait_for(off, std::min(left, kPowerButtonRepeat));
    if (wait == Wait::kPreempted) return Outcome::no_answer();
    if (wait == Wait::kMet) break;
    if (SteadyClock::now() >= until) {
      if (config_.shutdown_fallback == ShutdownFallback::kFail) {
        return Outcome::failed("the guest did not power off within " +
                                   std::to_string(config_.shutdown_timeout.count() / 1000) +
                                   " s of the ACPI power button",
                               Power::kRunning);
      }
      break;  // pull the plug
    }
    if (SteadyClock::now() - last_press >= kPowerButtonRepeat) {
      (void)qmp().execute("system_powerdown");
      last_press = SteadyClock::now();
    }
  }
  (void)r;
  hard_stop();
  guest_.shutdown_handled();
  return Outcome::ok(Power::kShutdown);
}

VmWorker::Outcome VmWorker::acpi_reboot() {
  if (!alive()) return Outcome::failed("the VM is not running", Power::kShutdown);
  // As libvirt does: press the power button, and when the guest has shut down, reset and
  // run it again instead of ending the process (-no-shutdown keeps it). A guest found already
  // down (a restart came between its shutdown and the reset) is reset at once.
  Result<std::string> status = process_.run_status();
  if (!guest_.shutdown_seen && !(status && *status == "shutdown")) {
    if (Result<nlohmann::json> pressed = qmp().execute("system_powerdown"); !pressed) {
      return Outcome::failed(pressed.error().message);
    }
    const Wait wait =
        wait_for([this] { return guest_.shutdown_seen || !alive(); }, config_.shutdown_timeout);
    if (wait == Wait::kPreempted) return Outcome::no_answer();
    if (wait == Wait::kTimedOut) {
      Outcome out =
          Outcome::failed("the guest did not shut down for the reboot within " +
                              std::to_string(config_.shutdown_timeout.count() / 1000) + " s",
                          Power::kRunning);
      // Nova's rule for a failed reboot (reference nova.md:37): a guest still running is as
      // the reboot found it; otherwise the VM is in error.
      if (Result<std::string> now = process_.run_status();
          now && *now == "running" && !guest_.shutdown_seen) {
        out.intact();
      }
      return out;
    }
  }
  if (!alive())
    return Outcome::failed("the QEMU process ended during the reboot", Power::kShutdown);
  guest_.shutdown_handled();
  if (Result<nlohmann::json> reset = qmp().execute("system_reset"); !reset) {
    return Outcome::failed(reset.error().message);
  }
  guest_.rebooted();
  return qmp_step("cont", Power::kRunning);
}

}  // namespace corral::driver::qemu
