// Move records: the status tables, the stays, and the reads the API serves (engine.h).
#include "engine/records.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "engine/engine_impl.h"
#include "lifecycle/table.h"

namespace corral::engine {

namespace lc = corral::lifecycle;
using lc::Action;
using lc::OpStatus;
using lc::Phase;
using store::MigrationKind;
using store::MigrationStatus;
using MS = store::MigrationStatus;

namespace {

// While the move runs: what its phase means in Nova's words, live and cold (a resize moves as
// a cold migration does). One line per phase; a phase not listed is mid-move.
struct RunningStatus {
  Phase phase;
  MigrationStatus live;
  MigrationStatus cold;
};
constexpr RunningStatus kRunning[] = {
    {Phase::kNone, MS::kAccepted, MS::kPreMigrating},             // not started yet
    {Phase::kSchedule, MS::kQueued, MS::kPreMigrating},           // waiting for a target
    {Phase::kProlog, MS::kPreparing, MS::kMigrating},             // files to the target
    {Phase::kPrepareMigrate, MS::kPreparing, MS::kPreMigrating},  // the target waits
    {Phase::kSave, MS::kRunning, MS::kMigrating},                 // the source stops the guest
    {Phase::kMigrate, MS::kRunning, MS::kMigrating},              // memory (and disks) move
    {Phase::kResize, MS::kRunning, MS::kMigrating},               //
    {Phase::kRestore, MS::kRunning, MS::kPostMigrating},          // the target starts the guest
    {Phase::kFinishMigrate, MS::kRunning, MS::kPostMigrating},    // the target's guest checked
    {Phase::kAbortMigrate, MS::kRunning, MS::kMigrating},         // undo: the source resumes
    {Phase::kBoot, MS::kRunning, MS::kPostMigrating},             //
    {Phase::kEpilog, MS::kRunning, MS::kPostMigrating},           // the source is cleaned up
    {Phase::kCleanup, MS::kRunning, MS::kPostMigrating},          //
};
constexpr MigrationStatus kMidMoveLive = MS::kRunning;
constexpr MigrationStatus kMidMoveCold = MS::kMigrating;

// When the move's operation has ended. `stuck`: it failed and left the VM FAILED (half-way);
// otherwise a failure rolled the VM back to its source. Cold moves know only "error" (Nova).
struct EndStatus {
  MigrationKind kind;
  MigrationStatus succeeded;
  MigrationStatus rolled_back;
  MigrationStatus stuck;
  MigrationStatus canceled;
};
constexpr EndStatus kEnd[] = {
    {MigrationKind::kLiveMigration, MS::kCompleted, MS::kFailed, MS::kError, MS::kCancelled},
    {MigrationKind::kMigration, MS::kFinished, MS::kError, MS::kError, MS::kError},
    {MigrationKind::kResize, MS::kFinished, MS::kError, MS::kError, MS::kError},
    {MigrationKind::kEvacuation, MS::kDone, MS::kFailed, MS::kFailed, MS::kFailed},
};

// Records some operations drive by action rather than by phase: an evacuation's own
// recover_recreate (which only cleans up: the VM then waits for a host) and the deploy that
// places it again, and a resize's confirm_resize and revert_resize. All but recover_recreate
// are follow-ups: they drive the record of an earlier operation (follows()).
struct ByAction {
  MigrationKind kind;
  Action action;
  MigrationStatus running;
  MigrationStatus succeeded;
  MigrationStatus failed;  // or canceled
  bool follow_up;
};
constexpr ByAction kByAction[] = {
    {MigrationKind::kEvacuation, Action::kRecoverRecreate, MS::kAccepted, MS::kPreMigrating,
     MS::kFailed, false},
    {MigrationKind::kEvacuation, Action::kDeploy, MS::kPreMigrating, MS::kDone, MS::kFailed, true},
    {MigrationKind::kResize, Action::kConfirmResize, MS::kConfirming, MS::kConfirmed, MS::kError,
     true},
    {MigrationKind::kResize, Action::kRevertResize, MS::kReverting, MS::kReverted, MS::kError,
     true},
};

}  // namespace

std::optional<MigrationKind> migration_kind(const lc::Operation& op) {
  // Recreated elsewhere: it leaves its host now and a later deploy places it (no kMovesVm).
  if (op.action == Action::kRecoverRecreate) return MigrationKind::kEvacuation;
  if (!lc::has_effect(op, lc::Effect::kMovesVm)) return std::nullopt;
  if (op.action == Action::kLiveMigrate) return MigrationKind::kLiveMigration;
  if (op.action == Action::kResizeMigrate) return MigrationKind::kResize;
  return MigrationKind::kMigration;  // any other moving row: migrate, a host flush's migrate
}

bool follows(const store::MigrationRow& record, Action action) {
  // A finished resize awaits its confirm or revert; any other follow-up continues a record
  // that is not over.
  if (migration_over(record.status) && record.status != MS::kFinished) return false;
  return std::ranges::any_of(kByAction, [&](const ByAction& b) {
    return b.follow_up && b.kind == record.kind && b.action == action;
  });
}

MigrationStatus migration_status(MigrationKind kind, Action action, Phase phase, OpStatus status,
                                 lc::State state) {
  for (const ByAction& b : kByAction) {
    if (kind != b.kind || action != b.action) continue;
    if (status == OpStatus::kRunning) return b.running;
    return status == OpStatus::kSucceeded ? b.succeeded : b.failed;
  }
  if (status == OpStatus::kRunning) {
    const bool live = kind == MigrationKind::kLiveMigration;
    const auto* row = std::ranges::find(kRunning, phase, &RunningStatus::phase);
    if (row == std::end(kRunning)) return live ? kMidMoveLive : kMidMoveCold;
    return live ? row->live : row->cold;
  }
  const auto* end = std::ranges::find(kEnd, kind, &EndStatus::kind);
  if (end == std::end(kEnd)) return MS::kError;
  switch (status) {
    case OpStatus::kSucceeded:
      return end->succeeded;
    case OpStatus::kCanceled:
      return end->canceled;
    case OpStatus::kFailed:
    case OpStatus::kRunning:
      break;
  }
  return state == lc::State::kFailed ? end->stuck : end->rolled_back;
}

bool migration_over(MigrationStatus status) {
  switch (status) {
    case MS::kAccepted:
    case MS::kQueued:
    case MS::kPreparing:
    case MS::kRunning:
    case MS::kPreMigrating:
    case MS::kMigrating:
    case MS::kPostMigrating:
    case MS::kConfirming:
    case MS::kReverting:
      return false;
    case MS::kCompleted:
    case MS::kFailed:
    case MS::kCancelled:
    case MS::kError:
    case MS::kFinished:
    case MS::kConfirmed:
    case MS::kReverted:
    case MS::kDone:
      return true;
  }
  return true;
}

store::StayReason stay_reason(Action action, std::string_view actor) {
  // The host failed: the monitor's own recovery, or an operator's recovery of what it left.
  if (action == Action::kRecoverRecreate || action == Action::kRecoverDelete ||
      actor == "monitor") {
    return store::StayReason::kError;
  }
  if (actor == "api" || actor == "flush") return store::StayReason::kUser;
  return store::StayReason::kNone;  // the controller on its own (scheduler, recovery)
}

namespace internal {

void MoveRecords::load(const store::Loaded& loaded) {
  cursors_.clear();
  for (const store::MigrationRow& m : loaded.last_migrations) {
    cursors_[m.vm_id].migration = std::make_shared<const store::MigrationRow>(m);
  }
  for (const store::HostStayRow& s : loaded.last_stays) {
    Cursor& c = cursors_[s.vm_id];
    c.next_seq = s.seq + 1;
    if (s.end == 0) c.open_stay = s;
  }
  max_migration_id_ = committed_max_migration_id_ = loaded.max_migration_id;
  before_batch_.clear();
  migration_rows_.clear();
  stay_rows_.clear();
}

MoveRecords::Cursor& MoveRecords::touch(store::VmId id) {
  auto it = cursors_.find(id);
  if (!before_batch_.contains(id)) {
    before_batch_.emplace(id, it == cursors_.end() ? std::nullopt : std::optional(it->second));
  }
  return it != cursors_.end() ? it->second : cursors_[id];
}

void MoveRecords::observe(const store::Vm& vm, Millis now) {
  const auto it = cursors_.find(vm.id);
  const bool moving = vm.record.op && migration_kind(*vm.record.op).has_value();
  const bool follow_up = vm.record.op && it != cursors_.end() && it->second.migration &&
                         follows(*it->second.migration, vm.record.op->action);
  const bool has_open_migration =
      it != cursors_.end() && it->second.migration && !migration_over(it->second.migration->status);
  // Both branches string_views: `cond ? a_string : ""` would make a temporary std::string
  // the view outlives (ASan: stack-use-after-scope).
  const std::string_view open_host = it != cursors_.end() && it->second.open_stay
                                         ? std::string_view(it->second.open_stay->host)
                                         : std::string_view();
  // The common case (most changes of most VMs) touches nothing.
  if (!moving && !follow_up && !has_open_migration && vm.host == open_host) return;
  Cursor& c = touch(vm.id);
  observe_migration(c, vm, now);
  observe_stay(c, vm, now);
}

void MoveRecords::write(Cursor& c, store::MigrationRow row, Millis now) {
  if (c.migration && *c.migration == row) return;
  row.updated_at = now;
  migration_rows_.push_back(row);
  c.migration = std::make_shared<const store::MigrationRow>(std::move(row));
}

namespace {

std::int64_t bytes(std::uint64_t n) {
  return static_cast<std::int64_t>(
      std::min<std::uint64_t>(n, std::numeric_limits<std::int64_t>::max()));
}

}  // namespace

void MoveRecords::apply_held(Cursor& c, store::MigrationRow& row) {
  if (!c.held) return;
  const driver::PhaseProgress& p = *c.held;
  row.memory_total_bytes = bytes(p.memory_total);
  row.memory_processed_bytes = bytes(p.memory_processed);
  row.memory_remaining_bytes = bytes(p.memory_remaining);
  row.disk_total_bytes = bytes(p.disk_total);
  row.disk_processed_bytes = bytes(p.disk_processed);
  row.disk_remaining_bytes = bytes(p.disk_remaining);
  // A downtime once known stays: a later report without one does not erase it.
  if (p.downtime_ms > 0) row.downtime_ms = p.downtime_ms;
  c.held.reset();
}

void MoveRecords::progress(const store::Vm& vm, const driver::PhaseProgress& report, Millis now) {
  const auto it = cursors_.find(vm.id);
  if (it == cursors_.end() || !it->second.migration) return;
  const store::MigrationRow& open = *it->second.migration;
  if (open.op_id != vm.op.id || migration_over(open.status)) return;  // not this move's
  Cursor& c = touch(vm.id);
  c.held = report;
  if (c.progress_at && now - *c.progress_at < kProgressInterval) return;  // held for later
  store::MigrationRow row = *c.migration;
  apply_held(c, row);
  c.progress_at = now;
  write(c, std::move(row), now);
}

void MoveRecords::observe_migration(Cursor& c, const store::Vm& vm, Millis now) {
  if (!vm.record.op) return;
  const lc::Operation& op = *vm.record.op;
  const Phase phase = lc::current_phase(op);
  const bool own = c.migration && c.migration->op_id == vm.op.id;
  std::optional<MigrationKind> kind = migration_kind(op);
  // Only a VM that has a host can be evacuated from it.
  if (kind == MigrationKind::kEvacuation && !own && vm.host.empty()) kind.reset();
  const bool follow_up = c.migration && !own && !kind && follows(*c.migration, op.action);
  // A record whose operation was cut short by another (a pre-emption records it canceled).
  if (c.migration && !own && !follow_up && !migration_over(c.migration->status)) {
    store::MigrationRow cut = *c.migration;
    cut.status = migration_status(cut.kind, Action::kCancel, Phase::kNone, OpStatus::kCanceled,
                                  vm.record.state);
    cut.error = "cut short by " + std::string(lc::action_name(op.action));
    write(c, std::move(cut), now);
  }
  if (kind) {
    store::MigrationRow row;
    if (own) {
      row = *c.migration;
      apply_held(c, row);  // the progress held back lands with this step (the final downtime)
    } else {
      c.held.reset();
      c.progress_at.reset();
      row.id = ++max_migration_id_;
      row.vm_id = vm.id;
      row.op_id = vm.op.id;
      row.kind = *kind;
      // The host it leaves: vm.host moves to the target only when the operation succeeds.
      row.source_host = vm.host;
      row.created_at = vm.op.started_at != 0 ? vm.op.started_at : now;
    }
    // Named at the request today; a row that schedules its target names it later. An
    // evacuation learns it from the deploy that follows.
    if (*kind != MigrationKind::kEvacuation) row.dest_host = vm.op.params.target_host;
    row.status = migration_status(*kind, op.action, phase, op.status, vm.record.state);
    row.error = op.status == OpStatus::kSucceeded ? std::string() : vm.op.error;
    write(c, std::move(row), now);
    return;
  }
  // A deploy after an evacuation, confirm_resize / revert_resize after a resize.
  if (follow_up) {
    store::MigrationRow row = *c.migration;
    if (row.kind == MigrationKind::kEvacuation && !vm.host.empty()) row.dest_host = vm.host;
    row.status = migration_status(row.kind, op.action, phase, op.status, vm.record.state);
    row.error = op.status == OpStatus::kSucceeded ? std::string() : vm.op.error;
    write(c, std::move(row), now);
  }
}

void MoveRecords::observe_stay(Cursor& c, const store::Vm& vm, Millis now) {
  const std::string_view open_host = c.open_stay ? std::string_view(c.open_stay->host) : "";
  if (vm.host == open_host) return;
  const Action action = vm.record.op ? vm.record.op->action : Action::kResetState;
  if (c.open_stay) {
    store::HostStayRow closed = std::move(*c.open_stay);
    c.open_stay.reset();
    closed.end = now;
    closed.end_action = action;
    closed.reason = stay_reason(action, vm.op.actor);
    stay_rows_.push_back(std::move(closed));
  }
  if (vm.host.empty()) return;
  store::HostStayRow opened;
  opened.vm_id = vm.id;
  opened.seq = c.next_seq++;
  opened.host = vm.host;
  opened.start = now;
  opened.op_id = vm.op.id;
  stay_rows_.push_back(opened);
  c.open_stay = std::move(opened);
}

void MoveRecords::take(store::Batch& batch) {
  batch.migrations = std::move(migration_rows_);
  batch.stays = std::move(stay_rows_);
  migration_rows_.clear();
  stay_rows_.clear();
}

void MoveRecords::committed() {
  before_batch_.clear();
  committed_max_migration_id_ = max_migration_id_;
}

void MoveRecords::rolled_back() {
  for (auto& [id, before] : before_batch_) {
    if (before) {
      cursors_[id] = std::move(*before);
    } else {
      cursors_.erase(id);
    }
  }
  before_batch_.clear();
  migration_rows_.clear();
  stay_rows_.clear();
  max_migration_id_ = committed_max_migration_id_;
}

}  // namespace internal

// ---- Progress (engine.h phase_progress) --------------------------------------------------

void Engine::Impl::handle_progress(const driver::PhaseProgress& progress) {
  if (!exists(progress.vm)) return;
  const store::Vm& vm = current(progress.vm);
  if (!vm.record.busy() || vm.op.id != progress.op || vm.record.op->step != progress.step ||
      vm.op.attempt != progress.attempt) {
    return;  // a report of a phase that already ended
  }
  records.progress(vm, progress, clock.now_ms());
}

// ---- Reads (engine.h): from the store, which holds what was committed -----------------------

Result<std::vector<store::MigrationRow>> Engine::migrations(VmId vm) const {
  return impl_->store.migrations(vm);
}

Result<std::vector<store::MigrationRow>> Engine::recent_migrations(std::int64_t before_id,
                                                                   int limit) const {
  return impl_->store.recent_migrations(before_id, limit);
}

Result<std::vector<store::HostStayRow>> Engine::host_stays(VmId vm) const {
  return impl_->store.stays(vm);
}

}  // namespace corral::engine
