// What the driver's phases add to migrate.h: the options an operation asked for, the
// endpoint as the engine carries it, and the source's view of a migration it did not start
// in this call (a re-dispatched phase, an abort).
#include <thread>

#include "driver/qemu/migrate.h"

namespace corral::driver::qemu {

namespace {

using SteadyClock = std::chrono::steady_clock;
using nlohmann::json;
using std::chrono::milliseconds;

constexpr milliseconds kPoll{100};

bool mirror_job_exists(QmpClient& qmp) {
  Result<json> jobs = qmp.execute("query-block-jobs");
  if (!jobs) return false;
  for (const json& j : *jobs) {
    if (j.value("device", "") == kMirrorJob) return true;
  }
  return false;
}

bool wait_mirror_gone(QmpClient& qmp, milliseconds timeout) {
  const auto until = SteadyClock::now() + timeout;
  while (SteadyClock::now() < until) {
    if (!mirror_job_exists(qmp)) return true;
    std::this_thread::sleep_for(milliseconds(20));
  }
  return false;
}

// After a migration that did not complete: the source keeps its own disk.
void drop_mirror(QmpClient& qmp, bool completed) {
  if (!completed && mirror_job_exists(qmp)) {
    (void)qmp.execute("block-job-cancel", {{"device", kMirrorJob}, {"force", true}});
    (void)wait_mirror_gone(qmp, milliseconds(10000));
  }
  // Fails when there is no such node: nothing to remove then.
  (void)qmp.execute("blockdev-del", {{"node-name", kMirrorTarget}});
}

}  // namespace

MigrateOptions options_from(const store::MigrationParams& params) {
  MigrateOptions options = migrate_defaults();
  options.shared_storage = !params.copy_storage;
  options.auto_converge = params.auto_converge;
  if (params.postcopy_after_ms >= 0)
    options.postcopy_after = milliseconds(params.postcopy_after_ms);
  if (params.max_downtime_ms > 0) options.max_downtime = milliseconds(params.max_downtime_ms);
  if (params.bandwidth_mib_s > 0) options.bandwidth_mib_s = params.bandwidth_mib_s;
  return options;
}

store::MigrationEndpoint to_store(const IncomingEndpoint& endpoint) {
  return {endpoint.migration_uri, endpoint.nbd_host, endpoint.nbd_port, endpoint.nbd_export};
}

IncomingEndpoint from_store(const store::MigrationEndpoint& endpoint) {
  return {endpoint.migration_uri, endpoint.nbd_host, endpoint.nbd_port, endpoint.nbd_export};
}

Result<MigrationProgress> follow_migration(QmpClient& source, const std::atomic<bool>* cancel,
                                           milliseconds timeout) {
  const auto start = SteadyClock::now();
  MigrationProgress last;
  bool postcopy = false;
  bool cancel_sent = false;
  for (;;) {
    Result<json> answer = source.execute("query-migrate");
    if (!answer) return fail(std::move(answer.error()));
    last = parse_query_migrate(*answer);
    postcopy = postcopy || last.postcopy;
    last.postcopy = postcopy;
    const bool cancelling = cancel != nullptr && cancel->load() && !postcopy;
    if (last.status == MigrationStatus::kPreSwitchover) {
      // The vCPUs are stopped: complete the mirror (if any), then let the switch happen.
      bool mirrored = true;
      if (!cancelling && mirror_job_exists(source)) {
        mirrored = source.execute("block-job-cancel", {{"device", kMirrorJob}}).has_value() &&
                   wait_mirror_gone(source, milliseconds(30000));
      }
      if (cancelling || !mirrored) {
        if (!cancel_sent) (void)source.execute("migrate_cancel");
        cancel_sent = true;
      } else {
        (void)source.execute("migrate-continue", {{"state", "pre-switchover"}});
      }
    }
    if (last.qemu_status == "postcopy-paused") {
      last.status = MigrationStatus::kFailed;
      last.error =
          "post-copy broke off (postcopy-paused): the guest's memory is split between "
          "the hosts";
      return last;  // the mirror (if any) completed before post-copy
    }
    if (last.status == MigrationStatus::kNone || migration_finished(last.status)) break;
    if (cancelling && !cancel_sent) {
      (void)source.execute("migrate_cancel");
      cancel_sent = true;
    }
    if (timeout.count() > 0 && SteadyClock::now() - start > timeout) {
      return fail(Error::internal("the migration did not end within " +
                                  std::to_string(timeout.count()) + " ms (" + last.qemu_status +
                                  ")"));
    }
    if (wait_readable(source.fd(), kPoll)) source.poll_events();
  }
  if (last.status != MigrationStatus::kNone) {
    drop_mirror(source, last.status == MigrationStatus::kCompleted);
  }
  if (cancel_sent && last.error.empty()) last.error = "cancelled";
  return last;
}

Result<MigrationProgress> cancel_migration(QmpClient& source, milliseconds timeout) {
  const std::atomic<bool> cancel = true;
  return follow_migration(source, &cancel, timeout);
}

}  // namespace corral::driver::qemu
