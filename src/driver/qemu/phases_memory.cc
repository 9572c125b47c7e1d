// Memory save and restore: a suspended VM's memory goes to memory.state through QEMU's
// migration stream (exec:cat), and comes back the same way into a process started with
// -incoming. Live migration between hosts will join them here.
#include <filesystem>
#include <nlohmann/json.hpp>

#include "driver/qemu/vm_worker.h"

namespace corral::driver::qemu {

namespace fs = std::filesystem;
using lifecycle::Power;

VmWorker::Wait VmWorker::wait_migration(std::string_view what, bool preemptible,
                                        std::string& error) {
  return wait_for(
      [&] {
        Result<nlohmann::json> info = qmp().execute("query-migrate");
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

namespace {
// A saved VM has no process: its power is a convention the engine sends (from the table).
Power saved_power(const PhaseRequest& r) { return r.power_after.value_or(Power::kShutdown); }
}  // namespace

VmWorker::Outcome VmWorker::save(const PhaseRequest& r) {
  std::error_code ec;
  if (!alive()) {
    // Saved memory and no process: the power the engine names (the table's: shut off, as
    // libvirt's managedSave reports, nova.md:13).
    if (fs::exists(paths_.memory_state, ec)) return Outcome::ok(saved_power(r));
    return Outcome::failed("the VM has no QEMU process to save", Power::kShutdown);
  }
  const std::string tmp = paths_.memory_state + ".tmp";
  if (Result<nlohmann::json> stopped = qmp().execute("stop"); !stopped) {
    return Outcome::failed(stopped.error().message);
  }
  (void)qmp().execute("migrate-set-parameters", {{"max-bandwidth", std::int64_t{1} << 40}});
  if (Result<nlohmann::json> started =
          qmp().execute("migrate", {{"uri", "exec:cat > " + shell_quote(tmp)}});
      !started) {
    return save_failed(r, started.error().message);
  }
  std::string error;
  const Wait wait = wait_migration("saving memory", true, error);
  if (wait == Wait::kPreempted) {
    (void)qmp().execute("migrate_cancel");
    return Outcome::no_answer();
  }
  if (wait == Wait::kTimedOut) {
    (void)qmp().execute("migrate_cancel");
    error = "saving memory did not finish in time";
  }
  if (!error.empty()) {
    fs::remove(tmp, ec);
    return save_failed(r, error);
  }
  fs::rename(tmp, paths_.memory_state, ec);
  if (ec) return Outcome::failed("cannot keep the saved memory: " + ec.message());
  hard_stop();
  return Outcome::ok(saved_power(r));
}

VmWorker::Outcome VmWorker::save_failed(const PhaseRequest& r, std::string error) {
  // As before the save: a paused VM stays paused, a running one runs again.
  const bool paused = r.origin == lifecycle::State::kPaused;
  Outcome out = Outcome::failed(std::move(error), paused ? Power::kPaused : Power::kRunning);
  if (!paused) (void)qmp().execute("cont");
  // Intact only if QEMU says so: no migration still going, the guest in its old run state.
  Result<nlohmann::json> migration = qmp().execute("query-migrate");
  const std::string migrating = migration ? migration->value("status", std::string()) : "?";
  const bool over = migrating.empty() || migrating == "none" || migrating == "failed" ||
                    migrating == "cancelled" || migrating == "completed";
  Result<std::string> status = process_.run_status();
  if (alive() && over && status && *status == (paused ? "paused" : "running")) {
    out.intact();
  }
  return out;
}

VmWorker::Outcome VmWorker::restore(const PhaseRequest& r) {
  std::error_code ec;
  if (alive()) {
    Result<std::string> status = process_.run_status();
    if (status && *status == "running") return Outcome::ok(Power::kRunning);
    hard_stop();  // a restore a restart interrupted: begin again
  }
  if (!fs::exists(paths_.memory_state, ec)) {
    return Outcome::failed("no saved memory to restore (" + paths_.memory_state + ")",
                           Power::kShutdown);
  }
  // A restore that failed before the guest ran: no process is left and the saved memory is
  // untouched (it is only read), so a VM resumed from SUSPENDED is as it was.
  const auto failed = [&](std::string error) {
    hard_stop();
    Outcome out = Outcome::failed(std::move(error), Power::kShutdown);
    if (r.origin == lifecycle::State::kSuspended && !alive() &&
        fs::exists(paths_.memory_state, ec)) {
      out.intact();
    }
    return out;
  };
  Result<Image> image = images_.find(r.model.image);
  if (!image) return failed(image.error().message);
  if (Status launched = launch(r, *image, true); !launched) {
    return failed(launched.error().message);
  }
  if (Result<nlohmann::json> incoming = qmp().execute(
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
  if (resumed.succeeded) {
    fs::remove(paths_.memory_state, ec);
    guest_.ready = true;  // it was ready when it was saved
    guest_.ready_reported = true;
  }
  return resumed;
}

}  // namespace corral::driver::qemu
