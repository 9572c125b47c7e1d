// Live migration between two hosts, as the phases of a live_migrate operation run it (the
// building blocks are migrate.h's):
//
//   prepare_migrate (target)  an incoming QEMU, listening; answers the endpoint
//   migrate         (source)  sends the guest there (the disk too without shared storage)
//   finish_migrate  (target)  waits for the stream, runs the guest, checks it is healthy
//   cleanup         (source)  the source's QEMU and files go (a shared disk stays: it is
//                             the target's now)
// and when one of the first three fails with the source intact, the undo:
//   cleanup         (target)  the target's QEMU and own files go (a shared disk stays: it is
//                             the source's)
//   abort_migrate   (source)  cancels a migration still under way and runs the guest again
//                             if it ran before (a paused origin stays paused)
//
// Every phase may be sent again (a new attempt after a crash) and then does what is left:
// see each phase.
#include <filesystem>
#include <nlohmann/json.hpp>

#include "driver/qemu/migrate.h"
#include "driver/qemu/migrate_health.h"
#include "driver/qemu/vm_worker.h"

namespace corral::driver::qemu {

namespace fs = std::filesystem;
using lifecycle::Power;
using lifecycle::RunsOn;
using lifecycle::State;
using std::chrono::milliseconds;

namespace {

// How long the target waits for a stream the source already reported complete, and how long
// the migrated guest has to answer on its console.
constexpr milliseconds kIncomingTimeout{60000};
constexpr milliseconds kHealthTimeout{30000};
// How long an abort waits for a cancelled migration to end.
constexpr milliseconds kCancelTimeout{30000};

std::string describe(const MigrationProgress& p) {
  return "the live migration " + std::string(migration_status_name(p.status)) +
         (p.error.empty() ? std::string() : ": " + p.error);
}

Result<MigrationProgress> query_migration(QmpClient& qmp) {
  Result<nlohmann::json> answer = qmp.execute("query-migrate");
  if (!answer) return fail(std::move(answer.error()));
  return parse_query_migrate(*answer);
}

}  // namespace

// Target. Sent again (the engine never recorded an endpoint, so no source was told to send
// here): whatever the last attempt left is stopped and the incoming QEMU started afresh.
VmWorker::Outcome VmWorker::prepare_migrate(const PhaseRequest& r) {
  const auto refuse = [](std::string why) { return Outcome::failed(std::move(why)).intact(); };
  const MigrateOptions options = options_from(r.migration);
  if (!r.migration.copy_storage && config_.shared_dir.empty()) {
    return refuse(
        "a live migration without copy_storage needs shared storage: this host has no "
        "--shared-dir");
  }
  if (r.migration.copy_storage && !config_.shared_dir.empty()) {
    // The target's disk would be the source's own file, mirrored onto itself.
    return refuse("copy_storage to a host whose disks are in a shared dir (" + config_.shared_dir +
                  "): migrate without copy_storage");
  }
  Result<Image> image = images_.find(r.model.image);
  if (!image) return refuse(image.error().message);
  if (process_.pid() > 0) hard_stop();
  (void)process_.take_exit();
  std::error_code ec;
  if (r.migration.copy_storage) {
    fs::remove(paths_.disk, ec);  // launch() makes it anew on this host's copy of the image
  } else if (!fs::exists(paths_.disk, ec)) {
    return refuse("no disk at " + paths_.disk + ": the source host does not share " +
                  config_.shared_dir + " with this one");
  }
  fs::remove(paths_.memory_state, ec);
  migration_role_ = MigrationRole::kTarget;
  resume_in_postcopy_ = r.origin == State::kRunning;
  Result<IncomingEndpoint> endpoint = [&]() -> Result<IncomingEndpoint> {
    if (Status launched = launch(r, *image, true); !launched) return fail(launched.error());
    return prepare_incoming(qmp(), options, config_.migration_address);
  }();
  if (!endpoint) {
    hard_stop();
    (void)process_.take_exit();
    return refuse("cannot prepare the incoming migration: " + endpoint.error().message);
  }
  Outcome out = Outcome::ok();
  out.endpoint = to_store(*endpoint);
  return out;
}

// Source. Sent again: a migration QEMU still runs is followed to its end (never started a
// second time); one that completed (QEMU in postmigrate) is reported ok; one that failed or
// was cancelled left the guest here, so a new migration starts (failing at once, intact,
// when the target's QEMU has gone with its stream).
VmWorker::Outcome VmWorker::live_migrate(const PhaseRequest& r) {
  if (!r.endpoint) {
    return Outcome::failed("no endpoint: the target's prepare_migrate answered none").intact();
  }
  if (!alive()) return Outcome::failed("the VM has no QEMU process", Power::kShutdown);
  if (migrate_cancel_) return Outcome::failed("aborted before it started").intact();
  Result<MigrationProgress> before = query_migration(qmp());
  if (!before) return Outcome::failed(before.error().message);
  Result<std::string> runstate = process_.run_status();
  if (!runstate) return Outcome::failed(runstate.error().message);

  // query-migrate's figures go to the engine as the phase's progress (the migration record).
  const auto report = [this, &r](const MigrationProgress& p) {
    PhaseProgress out = progress_of(r);
    out.memory_total = p.total;
    out.memory_processed = p.transferred;
    out.memory_remaining = p.remaining;
    out.expected_downtime_ms = p.expected_downtime_ms;
    out.downtime_ms = p.downtime_ms;
    sink_->phase_progress(out);
  };
  Result<MigrationProgress> done = fail(Error::internal("not run"));
  if (before->status == MigrationStatus::kCompleted && *runstate == "postmigrate") {
    done = *before;
  } else if (before->status != MigrationStatus::kNone && !migration_finished(before->status)) {
    done = follow_migration(qmp(), &migrate_cancel_);
    // migrate() resumes a guest its own pause stopped; a followed one is resumed here.
    if (done && done->status != MigrationStatus::kCompleted && !done->postcopy &&
        r.origin == State::kRunning) {
      Result<std::string> now = process_.run_status();
      if (now && *now != "running") (void)qmp().execute("cont");
    }
  } else {
    done = migrate(qmp(), from_store(*r.endpoint), options_from(r.migration), &migrate_cancel_,
                   report);
  }
  if (!done) return Outcome::failed("the live migration: " + done.error().message);
  if (done->status == MigrationStatus::kCompleted) {
    report(*done);  // the totals and the downtime, before the phase's result
    migration_role_ = MigrationRole::kSource;  // postmigrate until cleanup or abort
    return Outcome::ok();
  }
  migration_role_ = MigrationRole::kNone;
  Outcome out = Outcome::failed(describe(*done));
  // Before post-copy the source runs (or stays paused) as it did: migrate() saw to it.
  if (!done->postcopy) out.intact();
  return out;
}

// Target. Sent again: a guest already running here answers the health check again.
VmWorker::Outcome VmWorker::finish_migrate(const PhaseRequest& r) {
  const bool resume = r.origin == State::kRunning;
  if (!alive()) {
    // Its stream broke (or it was killed): whether post-copy had begun only the source knows.
    return Outcome::failed("the target's QEMU process ended before the migration arrived");
  }
  Result<MigrationProgress> arrived = await_incoming(qmp(), kIncomingTimeout, resume);
  if (!arrived) return Outcome::failed("the incoming migration: " + arrived.error().message);
  const auto failed = [&](std::string why) {
    Outcome out = Outcome::failed(std::move(why));
    // After a pre-copy the source still holds the whole guest, paused: the undo resumes it.
    if (!arrived->postcopy) out.intact();
    return out;
  };
  if (arrived->status != MigrationStatus::kCompleted) return failed(describe(*arrived));
  if (Status finished = finish_incoming(qmp(), resume); !finished) {
    return failed("cannot run the migrated guest: " + finished.error().message);
  }
  if (resume) {
    // `completed` does not say the guest survived (migrate_health.h): ask it. The serial log
    // of an incoming QEMU starts at the switch.
    const GuestProbe probe =
        console_probe("op" + std::to_string(r.op) + "-" + std::to_string(r.attempt));
    const HealthReport health = check_guest_health(
        paths_.serial_log, 0, [this](const std::string& text) { process_.write_serial(text); },
        probe, kHealthTimeout);
    if (!health.healthy) return failed("the migrated guest is unhealthy: " + health.reason);
  }
  migration_role_ = MigrationRole::kNone;
  resume_in_postcopy_ = false;
  return Outcome::ok(resume ? Power::kRunning : Power::kPaused);
}

// Source after a completed migration, or target in the undo: this host's QEMU and its own
// files go; a disk in the shared dir stays (the other host runs the VM on it). Sent again:
// nothing is left, ok.
VmWorker::Outcome VmWorker::migration_cleanup(const PhaseRequest& r) {
  if (r.runs_on == RunsOn::kSource && alive()) {
    // The last copy of a guest is never deleted: a source still running without a completed
    // migration keeps it (the engine should not have come here).
    Result<std::string> runstate = process_.run_status();
    Result<MigrationProgress> migration = query_migration(qmp());
    if (runstate && *runstate == "running" && migration &&
        migration->status != MigrationStatus::kCompleted) {
      return Outcome::failed(
          "the guest still runs on the source and its migration did not "
          "complete: not ending it");
    }
  }
  hard_stop();  // QMP quit first: the source's confirm_source()
  (void)process_.take_exit();
  remove_files(false);
  migration_role_ = MigrationRole::kNone;
  resume_in_postcopy_ = false;
  finished_ = true;  // this host no longer has the VM: the driver may drop this worker
  return Outcome::ok();
}

// Source in the undo. Sent again: the migration already ended and the guest already runs,
// ok again.
VmWorker::Outcome VmWorker::abort_migrate(const PhaseRequest& r) {
  const auto done = [this] {
    migrate_cancel_ = false;
    migration_role_ = MigrationRole::kNone;
  };
  if (!alive()) {
    done();
    return Outcome::failed("the VM has no QEMU process on the source", Power::kShutdown);
  }
  Result<MigrationProgress> ended = cancel_migration(qmp(), kCancelTimeout);
  done();
  if (!ended) return Outcome::failed("cannot cancel the migration: " + ended.error().message);
  if (ended->postcopy) {
    return Outcome::failed(
        "the migration went post-copy: the source no longer has the whole "
        "guest");
  }
  if (r.origin != State::kRunning) return Outcome::ok(Power::kPaused);
  Result<std::string> runstate = process_.run_status();
  if (!runstate) return Outcome::failed(runstate.error().message);
  if (*runstate != "running") {
    if (Status resumed = resume_source(qmp()); !resumed) {
      return Outcome::failed("cannot resume the guest on the source: " + resumed.error().message);
    }
  }
  return Outcome::ok(Power::kRunning);
}

}  // namespace corral::driver::qemu
