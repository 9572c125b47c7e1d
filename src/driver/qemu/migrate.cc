// The pure parts of migrate.h (statuses, query-migrate, capabilities, parameters) and the
// source side.
#include "driver/qemu/migrate.h"

#include <algorithm>
#include <array>
#include <thread>
#include <utility>

namespace corral::driver::qemu {

namespace {

using SteadyClock = std::chrono::steady_clock;
using nlohmann::json;
using std::chrono::milliseconds;

// QEMU 7.2's max-bandwidth when none is set.
constexpr std::int64_t kQemuBandwidthMib = 128;

constexpr std::array<std::pair<std::string_view, MigrationStatus>, 10> kStatuses = {{
    {"none", MigrationStatus::kNone},
    {"setup", MigrationStatus::kSetup},
    {"active", MigrationStatus::kActive},
    {"postcopy-active", MigrationStatus::kPostcopyActive},
    {"pre-switchover", MigrationStatus::kPreSwitchover},
    {"device", MigrationStatus::kDevice},
    {"cancelling", MigrationStatus::kCancelling},
    {"completed", MigrationStatus::kCompleted},
    {"failed", MigrationStatus::kFailed},
    {"cancelled", MigrationStatus::kCancelled},
}};

std::int64_t int_of(const json& object, const char* key) {
  return object.contains(key) && object[key].is_number() ? object[key].get<std::int64_t>() : 0;
}

// The mirror into the target's NBD export, while there is one.
struct Mirror {
  QmpClient& qmp;
  bool node = false;
  bool job = false;

  // Cancelling a job that is not ready abandons the copy; the source keeps its own disk.
  void abandon() {
    if (job) {
      (void)qmp.execute("block-job-cancel", {{"device", kMirrorJob}, {"force", true}});
      wait_gone(milliseconds(10000));
      job = false;
    }
    if (node) {
      (void)qmp.execute("blockdev-del", {{"node-name", kMirrorTarget}});
      node = false;
    }
  }
  // Whether the job is gone before `timeout`.
  bool wait_gone(milliseconds timeout) {
    const auto until = SteadyClock::now() + timeout;
    while (SteadyClock::now() < until) {
      Result<json> jobs = qmp.execute("query-block-jobs");
      if (!jobs) return false;
      bool found = false;
      for (const json& j : *jobs) found = found || j.value("device", "") == kMirrorJob;
      if (!found) return true;
      std::this_thread::sleep_for(milliseconds(20));
    }
    return false;
  }
};

Result<MigrationProgress> query(QmpClient& qmp) {
  Result<json> answer = qmp.execute("query-migrate");
  if (!answer) return fail(std::move(answer.error()));
  return parse_query_migrate(*answer);
}

// Waits until the mirror reports ready (its first full copy is done); an error when the job
// failed or vanished, or the migration was cancelled meanwhile.
Status await_mirror_ready(QmpClient& qmp, const MigrateOptions& options,
                          const std::atomic<bool>* cancel) {
  const auto start = SteadyClock::now();
  for (;;) {
    if (cancel != nullptr && cancel->load()) return fail(Error::internal("cancelled"));
    if (options.deadline.count() > 0 && SteadyClock::now() - start > options.deadline) {
      return fail(Error::internal("the disk copy did not finish within the deadline"));
    }
    Result<json> jobs = qmp.execute("query-block-jobs");
    if (!jobs) return fail(std::move(jobs.error()));
    const json* mine = nullptr;
    for (const json& j : *jobs) {
      if (j.value("device", "") == kMirrorJob) mine = &j;
    }
    if (mine == nullptr) return fail(Error::internal("the disk copy ended before it was ready"));
    if (mine->value("io-status", "ok") != "ok" || mine->contains("error")) {
      return fail(Error::internal("the disk copy failed: " + mine->value("error", "I/O error")));
    }
    if (mine->value("ready", false)) return {};
    std::this_thread::sleep_for(milliseconds(50));
  }
}

}  // namespace

MigrateOptions migrate_defaults() {
  MigrateOptions options;
  options.postcopy_after = milliseconds(200);
  options.max_downtime = milliseconds(300);
  return options;
}

std::string_view migration_status_name(MigrationStatus status) {
  for (const auto& [name, value] : kStatuses) {
    if (value == status) return name;
  }
  return "other";
}

MigrationStatus parse_migration_status(std::string_view qemu_status) {
  for (const auto& [name, value] : kStatuses) {
    if (name == qemu_status) return value;
  }
  return MigrationStatus::kOther;
}

bool migration_finished(MigrationStatus status) {
  switch (status) {
    case MigrationStatus::kCompleted:
    case MigrationStatus::kFailed:
    case MigrationStatus::kCancelled:
      return true;
    case MigrationStatus::kNone:
    case MigrationStatus::kSetup:
    case MigrationStatus::kActive:
    case MigrationStatus::kPostcopyActive:
    case MigrationStatus::kPreSwitchover:
    case MigrationStatus::kDevice:
    case MigrationStatus::kCancelling:
    case MigrationStatus::kOther:
      return false;
  }
  return false;
}

MigrationProgress parse_query_migrate(const json& answer) {
  MigrationProgress p;
  if (!answer.is_object()) return p;
  p.qemu_status = answer.value("status", "none");
  p.status = parse_migration_status(p.qemu_status);
  p.expected_downtime_ms = int_of(answer, "expected-downtime");
  p.downtime_ms = int_of(answer, "downtime");
  p.setup_time_ms = int_of(answer, "setup-time");
  p.total_time_ms = int_of(answer, "total-time");
  p.error = answer.value("error-desc", "");
  if (answer.contains("ram") && answer["ram"].is_object()) {
    const json& ram = answer["ram"];
    p.transferred = static_cast<std::uint64_t>(int_of(ram, "transferred"));
    p.remaining = static_cast<std::uint64_t>(int_of(ram, "remaining"));
    p.total = static_cast<std::uint64_t>(int_of(ram, "total"));
  }
  // A post-copy phase shorter than a poll shows only in its bytes.
  p.postcopy = p.status == MigrationStatus::kPostcopyActive ||
               (answer.contains("ram") && int_of(answer["ram"], "postcopy-bytes") > 0);
  return p;
}

json migration_capabilities(const MigrateOptions& options, bool source) {
  json caps = json::array();
  const auto add = [&caps](const char* name, bool state) {
    caps.push_back({{"capability", name}, {"state", state}});
  };
  add("events", true);
  // Post-copy must be enabled on both sides before the migration starts.
  add("postcopy-ram", options.postcopy_after.count() > 0);
  if (source) {
    add("auto-converge", options.auto_converge);
    add("pause-before-switchover", !options.shared_storage);
  }
  return caps;
}

json migration_parameters(const MigrateOptions& options) {
  // Every parameter is set each time: QEMU keeps them from one migration to the next.
  json params = json::object();
  params["downtime-limit"] = options.max_downtime.count();
  const std::int64_t mib =
      options.bandwidth_mib_s > 0 ? options.bandwidth_mib_s : kQemuBandwidthMib;
  params["max-bandwidth"] = mib * 1024 * 1024;
  // Post-copy has its own limit (0: unlimited); a limit asked for holds for both.
  params["max-postcopy-bandwidth"] = options.bandwidth_mib_s > 0 ? mib * 1024 * 1024 : 0;
  return params;
}

std::string ConvergenceWatch::observe(const MigrationProgress& p,
                                      std::chrono::steady_clock::time_point now) {
  // Cancelling during post-copy would lose the guest: the target has its only live copy.
  if (p.postcopy || p.status == MigrationStatus::kPostcopyActive) return {};
  if (deadline_.count() > 0 && now - start_ > deadline_) {
    return "not done within " + std::to_string(deadline_.count()) + " ms";
  }
  if (p.status != MigrationStatus::kActive) return {};
  if (p.remaining < lowest_) {
    lowest_ = p.remaining;
    last_drop_ = now;
  } else if (stall_.count() > 0 && now - last_drop_ > stall_) {
    return "no progress for " + std::to_string(stall_.count()) +
           " ms (the guest dirties memory faster than it moves)";
  }
  return {};
}

Result<MigrationProgress> migrate(QmpClient& source, const IncomingEndpoint& target,
                                  const MigrateOptions& options, const std::atomic<bool>* cancel,
                                  const ProgressFn& progress, milliseconds poll) {
  Result<json> before = source.execute("query-status");
  if (!before) return fail(std::move(before.error()));
  const bool was_running = before->value("running", false);
  if (Result<json> r = source.execute("migrate-set-capabilities",
                                      {{"capabilities", migration_capabilities(options, true)}});
      !r) {
    return fail(std::move(r.error()));
  }
  if (Result<json> r = source.execute("migrate-set-parameters", migration_parameters(options));
      !r) {
    return fail(std::move(r.error()));
  }

  MigrationProgress last;
  std::string reason;  // why Corral ended it, when it did
  Mirror mirror{source};
  // The end of every path that did not complete: the source keeps its disk and runs on.
  const auto give_up = [&](MigrationStatus status, std::string why) -> Result<MigrationProgress> {
    mirror.abandon();
    last.status = status;
    last.qemu_status = std::string(migration_status_name(status));
    if (!why.empty()) last.error = std::move(why);
    if (was_running && !last.postcopy) {
      Result<json> now = source.execute("query-status");
      if (now && !now->value("running", false)) (void)source.execute("cont");
    }
    if (progress) progress(last);
    return last;
  };

  if (!options.shared_storage) {
    if (target.nbd_port == 0) {
      return fail(Error::invalid_argument("the target exports no disk (shared storage?)"));
    }
    Result<json> added = source.execute(
        "blockdev-add",
        {{"driver", "nbd"},
         {"node-name", kMirrorTarget},
         {"server",
          {{"type", "inet"}, {"host", target.nbd_host}, {"port", std::to_string(target.nbd_port)}}},
         {"export", target.nbd_export}});
    if (!added) return give_up(MigrationStatus::kFailed, added.error().message);
    mirror.node = true;
    // sync "top": only the VM's own overlay moves; the target's overlay has its own backing.
    Result<json> started = source.execute("blockdev-mirror", {{"job-id", kMirrorJob},
                                                              {"device", kDiskNode},
                                                              {"target", kMirrorTarget},
                                                              {"sync", "top"}});
    if (!started) return give_up(MigrationStatus::kFailed, started.error().message);
    mirror.job = true;
    if (Status ready = await_mirror_ready(source, options, cancel); !ready) {
      const bool cancelled = cancel != nullptr && cancel->load();
      return give_up(cancelled ? MigrationStatus::kCancelled : MigrationStatus::kFailed,
                     ready.error().message);
    }
  }

  if (Result<json> r = source.execute("migrate", {{"uri", target.migration_uri}}); !r) {
    return give_up(MigrationStatus::kFailed, r.error().message);
  }
  const auto start = SteadyClock::now();
  ConvergenceWatch watch(options.stall_timeout, options.deadline, start);
  bool postcopy_asked = false;
  bool cancel_sent = false;
  bool postcopy_seen = false;
  const auto cancel_with = [&](std::string why) {
    if (cancel_sent) return;
    reason = std::move(why);
    (void)source.execute("migrate_cancel");
    cancel_sent = true;
  };
  for (;;) {
    Result<MigrationProgress> now = query(source);
    if (!now) return fail(std::move(now.error()));
    if (now->total == 0) {
      // A cancelled or failed migration's answer has no figures: keep the last ones.
      now->transferred = last.transferred;
      now->remaining = last.remaining;
      now->total = last.total;
      if (now->total_time_ms == 0) now->total_time_ms = last.total_time_ms;
      if (now->setup_time_ms == 0) now->setup_time_ms = last.setup_time_ms;
    }
    last = std::move(*now);
    postcopy_seen = postcopy_seen || last.postcopy;
    last.postcopy = postcopy_seen;
    if (last.status == MigrationStatus::kPreSwitchover) {
      // The vCPUs are stopped: completing the mirror now leaves both disks equal at the switch.
      if (mirror.job) {
        Result<json> done = source.execute("block-job-cancel", {{"device", kMirrorJob}});
        if (!done || !mirror.wait_gone(milliseconds(30000))) {
          cancel_with("the disk copy did not complete at the switchover");
        } else {
          mirror.job = false;
        }
      }
      if (!cancel_sent) (void)source.execute("migrate-continue", {{"state", "pre-switchover"}});
    }
    if (last.qemu_status == "postcopy-paused") {
      // The link broke during post-copy: QEMU waits for a migrate-recover that this code does
      // not attempt. The guest's memory is split between the hosts; no side can run it.
      last.status = MigrationStatus::kFailed;
      last.error =
          "post-copy broke off (postcopy-paused): the guest's memory is split between "
          "the hosts" +
          (last.error.empty() ? std::string() : ": " + last.error);
      reason = last.error;
      break;
    }
    if (migration_finished(last.status)) break;
    if (!reason.empty()) last.error = reason;
    if (progress) progress(last);

    const auto now_at = SteadyClock::now();
    // Once post-copy started a cancel would lose the guest: the target has the only live copy.
    if (cancel != nullptr && cancel->load() && !postcopy_seen) cancel_with("cancelled");
    if (last.status == MigrationStatus::kActive && !postcopy_asked &&
        options.postcopy_after.count() > 0 && now_at - start >= options.postcopy_after) {
      postcopy_asked = true;
      (void)source.execute("migrate-start-postcopy");
    }
    if (std::string why = watch.observe(last, now_at); !why.empty()) cancel_with(std::move(why));
    // A MIGRATION event (capability "events") ends the wait early: the pre-switchover pause
    // is downtime until this loop answers it. The events stay queued for the VM's worker.
    // Until post-copy is asked for, wake no later than its time: a poll that overshoots it
    // leaves the migration in (bandwidth-capped) pre-copy that much longer.
    milliseconds wait = poll;
    if (!postcopy_asked && options.postcopy_after.count() > 0) {
      const auto due = start + options.postcopy_after;
      const auto left = std::chrono::duration_cast<milliseconds>(due - SteadyClock::now());
      wait = std::clamp(left, milliseconds(1), poll);
    }
    if (wait_readable(source.fd(), wait)) source.poll_events();
  }
  if (last.status != MigrationStatus::kCompleted) {
    const MigrationStatus status = last.status;
    std::string why = reason.empty() ? last.error : reason;
    // QEMU 7.2 can end a migration "failed" without an error-desc (seen when the target dies
    // at the post-copy switch); the caller's record still needs a reason.
    if (why.empty()) {
      why = "QEMU ended the migration " + std::string(migration_status_name(status)) +
            " without giving a reason";
    }
    return give_up(status, std::move(why));
  }
  if (mirror.node) {
    (void)source.execute("blockdev-del", {{"node-name", kMirrorTarget}});
    mirror.node = false;
  }
  // A completed post-copy was seen answered with total-time 0 on a loaded machine: the time
  // measured here from `migrate` on (a little longer than QEMU's) stands in.
  if (last.total_time_ms <= 0) {
    last.total_time_ms =
        std::chrono::duration_cast<milliseconds>(SteadyClock::now() - start).count();
  }
  if (progress) progress(last);
  return last;
}

Status confirm_source(QmpClient& source) {
  Result<json> r = source.execute("quit");
  // QEMU may close the socket before it answers: that is the quit working.
  if (!r && source.connected()) return fail(std::move(r.error()));
  return {};
}

Status resume_source(QmpClient& source) {
  Result<json> migration = source.execute("query-migrate");
  if (!migration) return fail(std::move(migration.error()));
  if (parse_query_migrate(*migration).postcopy) {
    return fail(Error::invalid_argument(
        "the migration went post-copy: the source no longer has the whole guest"));
  }
  Result<json> r = source.execute("cont");
  if (!r) return fail(std::move(r.error()));
  Result<json> status = source.execute("query-status");
  if (!status) return fail(std::move(status.error()));
  if (!status->value("running", false)) {
    return fail(Error::internal("the source did not resume: " + status->value("status", "")));
  }
  return {};
}

}  // namespace corral::driver::qemu
