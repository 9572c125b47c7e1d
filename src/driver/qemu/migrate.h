// Live migration between two hosts, at the QEMU level: the building blocks the driver's
// phases call on each side (libvirt's protocol v3 shape: Prepare on the target, Perform on
// the source, Finish on the target, Confirm on the source).
//
//   target: launch with LaunchSpec::incoming (-incoming defer), prepare_incoming()
//   source: migrate()                      -> completed / failed / cancelled
//   target: await_incoming(), finish_incoming(), check_guest_health()
//   source: confirm_source() on success, resume_source() when the target turned out unhealthy
//           (pre-copy only: after post-copy started the source has no complete guest left)
//   target: on any failure the caller ends the target's QEMU (its files are only its own).
//
// Contract:
// - Every function takes the QMP connection of one side and blocks its (worker) thread; none
//   starts or ends a process. Errors are Results; a migration that failed or was cancelled is
//   a MigrationProgress with that status, not an error.
// - Without shared storage the target exports its own overlay (same virtual size, backing on
//   the target's own image) over NBD and the source mirrors its top overlay into it (sync
//   "top", like libvirt --copy-storage-inc): base images exist on both hosts and never move.
//   The mirror is completed in the migration's pre-switchover pause (capability
//   pause-before-switchover), when the source's vCPUs are stopped, so the two disks are
//   identical at the switch; on failure the mirror is cancelled and the source keeps its disk.
// - After migrate() returns other than completed, the source runs as before (it is resumed if
//   the migration's own pause left it paused), unless post-copy had started.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "driver/qemu/qmp_client.h"
#include "store/op_params.h"

namespace corral::driver::qemu {

struct MigrateOptions {
  bool auto_converge = false;
  // 0: pre-copy only; else switch to post-copy this long after the migration started (the
  // busy-guest default, see kBusyGuestDefaults).
  std::chrono::milliseconds postcopy_after{0};
  std::chrono::milliseconds max_downtime{300};  // QEMU's downtime-limit (its default: 300)
  int bandwidth_mib_s = 0;                      // 0: QEMU 7.2's default, 128 MiB/s
  bool shared_storage = true;                   // both hosts open the same disk file
  // Abort (migrate_cancel) when `remaining` has not dropped to a new low for this long
  // (a guest dirtying memory faster than the link), or when the whole migration took longer
  // than `deadline`. 0: never.
  std::chrono::milliseconds stall_timeout{30000};
  std::chrono::milliseconds deadline{0};
};

// The defaults Corral migrates with: post-copy 200 ms after the start, shared storage.
// Why (QEMU 7.2, TCG, 128 MiB guest, loopback; tests/qemu_migrate_test.cc): a guest running
// a dd loop into its RAM migrated with pre-copy reported `completed` (0.5-0.8 s, downtime
// 4-56 ms) and its kernel then Oopsed on the target in 5 of 8 runs (BUG: NULL pointer
// dereference, invalid opcode), the TCG missed-dirty-page problem of hosts-migration.md §3.
// With post-copy after 200 ms it was healthy in 8 of 8 (0.34-0.57 s, downtime 2-7 ms with
// shared storage; 31-147 ms with the mirror, whose completion falls in the downtime, on a
// machine with load 8 on 2 cores). Idle guests with these defaults: 0.39-0.67 s, 29-45 ms.
// Post-copy must start early: QEMU completes in pre-copy, whatever was asked, as soon as what
// is left fits the downtime limit, and a busy 128 MiB guest got there in about 0.5 s, so
// "after 1 s" never switched. The price: a link failure during post-copy loses the guest (the
// source no longer has it), and the guest runs slower on the target until its pages arrived.
MigrateOptions migrate_defaults();

enum class MigrationStatus : std::uint8_t {
  kNone,
  kSetup,
  kActive,
  kPostcopyActive,
  kPreSwitchover,
  kDevice,
  kCancelling,
  kCompleted,
  kFailed,
  kCancelled,
  kOther,  // a status this code does not act on (colo, wait-unplug, postcopy-paused ...)
};

std::string_view migration_status_name(MigrationStatus status);
MigrationStatus parse_migration_status(std::string_view qemu_status);
// completed, failed or cancelled.
bool migration_finished(MigrationStatus status);

struct MigrationProgress {
  MigrationStatus status = MigrationStatus::kNone;
  std::string qemu_status;  // QEMU's word for it
  std::uint64_t transferred = 0;
  std::uint64_t remaining = 0;
  std::uint64_t total = 0;
  std::int64_t expected_downtime_ms = 0;
  std::int64_t downtime_ms = 0;  // only once completed
  std::int64_t setup_time_ms = 0;
  std::int64_t total_time_ms = 0;
  bool postcopy = false;  // post-copy started: the source can no longer resume the guest
  std::string error;      // QEMU's error-desc, or why Corral cancelled
};

// query-migrate's answer as a MigrationProgress (pure).
MigrationProgress parse_query_migrate(const nlohmann::json& answer);
// migrate-set-capabilities arguments for one side (pure). The source also gets
// pause-before-switchover when it mirrors its disk.
nlohmann::json migration_capabilities(const MigrateOptions& options, bool source);
// migrate-set-parameters arguments for the source (pure).
nlohmann::json migration_parameters(const MigrateOptions& options);

// When Corral gives up a pre-copy migration (pure: the caller passes the clock): `remaining`
// has not reached a new low for `stall` while active, or the migration is older than
// `deadline` (0: never, for either). Never once post-copy started.
class ConvergenceWatch {
 public:
  ConvergenceWatch(std::chrono::milliseconds stall, std::chrono::milliseconds deadline,
                   std::chrono::steady_clock::time_point start)
      : stall_(stall), deadline_(deadline), start_(start), last_drop_(start) {}
  // The reason to cancel now, or "".
  std::string observe(const MigrationProgress& p, std::chrono::steady_clock::time_point now);

 private:
  std::chrono::milliseconds stall_;
  std::chrono::milliseconds deadline_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_drop_;
  std::uint64_t lowest_ = UINT64_MAX;
};

// Where the source sends to: the migration stream, and the disk export when storage is not
// shared (nbd_port 0 then).
struct IncomingEndpoint {
  std::string migration_uri;  // "tcp:HOST:PORT"
  std::string nbd_host;
  int nbd_port = 0;
  std::string nbd_export;
};

// The node name launch.h gives the VM's disk; the target exports it under this name.
inline constexpr std::string_view kDiskNode = "disk0";
// The source's mirror job into the target's export, and the export's NBD node.
inline constexpr std::string_view kMirrorJob = "corral-migrate";
inline constexpr std::string_view kMirrorTarget = "corral-migrate-target";

// Target: the QEMU is in `inmigrate` (launched with -incoming defer). Sets the capabilities,
// listens for the stream on `listen_host` (a port QEMU picks; query-migrate tells it) and,
// without shared storage, starts an NBD server on `listen_host`:`nbd_port` (0: a free port
// chosen here) exporting the VM's disk writable. `listen_host` is the IPv4 address or name the
// source reaches this host at; it goes into the URIs as it is (not 0.0.0.0, no IPv6 literal).
[[nodiscard]] Result<IncomingEndpoint> prepare_incoming(QmpClient& target,
                                                        const MigrateOptions& options,
                                                        const std::string& listen_host,
                                                        int nbd_port = 0);

// Source: migrates to `target`, reporting progress about every `poll` (sooner on a MIGRATION
// event) until the migration completed, failed or was cancelled (`cancel` set by another
// thread, a stall or the deadline). Once post-copy started nothing cancels it (that would
// lose the guest), and a post-copy whose link broke (QEMU's postcopy-paused) is reported
// failed with postcopy set: the guest is then stopped on both hosts. Returns the last
// progress; an error only when QMP itself failed.
using ProgressFn = std::function<void(const MigrationProgress&)>;
[[nodiscard]] Result<MigrationProgress> migrate(
    QmpClient& source, const IncomingEndpoint& target, const MigrateOptions& options,
    const std::atomic<bool>* cancel = nullptr, const ProgressFn& progress = {},
    std::chrono::milliseconds poll = std::chrono::milliseconds(100));

// Source after `completed` (runstate postmigrate): ends QEMU (QMP quit).
[[nodiscard]] Status confirm_source(QmpClient& source);
// Source after a completed pre-copy migration whose target is not to be kept: `cont`, and the
// guest runs on here again (its disk is reactivated by QEMU). Refused after post-copy.
[[nodiscard]] Status resume_source(QmpClient& source);

// Target: waits until the incoming migration ended; its progress (completed or failed). A
// cancelled or broken stream makes QEMU end the target process: that is an error here (QMP
// closed), and the caller cleans up the target's files.
// `resume_in_postcopy` (the source was running): once post-copy starts the guest runs here
// at once (`cont`), as it must for post-copy to fetch pages on demand; an incoming QEMU
// (launched -S) otherwise stays paused until finish_incoming().
[[nodiscard]] Result<MigrationProgress> await_incoming(QmpClient& target,
                                                       std::chrono::milliseconds timeout,
                                                       bool resume_in_postcopy);
// Target after completed: stops the NBD server (if any) and, with `resume` (the source was
// running), starts the guest's vCPUs. QEMU keeps an incoming guest paused until then.
[[nodiscard]] Status finish_incoming(QmpClient& target, bool resume);

// ---- For the driver's phases (migrate_follow.cc) ----------------------------------------

// The options an operation asked for (store::MigrationParams) over migrate_defaults() (pure):
// postcopy_after_ms -1 keeps the default, 0 means pre-copy only; max_downtime_ms and
// bandwidth_mib_s 0 keep the defaults; copy_storage means no shared storage.
MigrateOptions options_from(const store::MigrationParams& params);
// The endpoint as the engine carries it, and back (pure).
store::MigrationEndpoint to_store(const IncomingEndpoint& endpoint);
IncomingEndpoint from_store(const store::MigrationEndpoint& endpoint);

// Source: follows a migration already under way (one an earlier attempt started, e.g. before
// the agent restarted) to its end, as migrate() would: completes a mirror at the
// pre-switchover pause, reports postcopy-paused as failed, cancels on `cancel` unless
// post-copy started. Leaves no mirror job or NBD node behind. It does not resume the guest:
// the caller knows whether it ran before. An error when QMP failed or `timeout` passed
// (0: none).
[[nodiscard]] Result<MigrationProgress> follow_migration(
    QmpClient& source, const std::atomic<bool>* cancel,
    std::chrono::milliseconds timeout = std::chrono::milliseconds(0));
// Source: cancels the migration if one is under way and before post-copy, and waits until it
// ended (at most `timeout`); the last progress (status none when there never was one).
[[nodiscard]] Result<MigrationProgress> cancel_migration(QmpClient& source,
                                                         std::chrono::milliseconds timeout);

}  // namespace corral::driver::qemu
