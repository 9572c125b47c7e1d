// Move records (store/records.h): Nova's migration record per operation that moves a VM, and
// OpenNebula's host stays. Engine thread only.
//
// Contract:
// - Which operations get a migration record: those whose transition-table row has
//   Effect::kMovesVm (migrate, live_migrate; resize_migrate once its rows move the VM), and
//   recover_recreate of a VM on a host (an evacuation, as Nova's: it cleans up and the VM
//   waits for a host; the deploy that places it again drives the same record: dest_compute,
//   then done or failed). The kind follows the action. Follow-ups (that deploy, and
//   confirm_resize / revert_resize after a resize) drive the record of the operation before
//   them; any other operation that starts while a record is open cuts it short.
// - The status is a pure function of (kind, action, phase, operation status, VM state):
//   migration_status(), driven by three tables in records.cc. A new phase is one line there;
//   a phase it does not list is mid-move (live: running; cold: migrating).
// - A host stay opens when vm.host becomes a host and closes when vm.host changes or empties.
//   MoveRecords::observe() compares vm.host with the open stay, so it is idempotent and is
//   called once at the end of every change of a VM (Engine::Impl::apply).
// - Rows go into the batch of the transition that changed them (take()); committed() and
//   rolled_back() follow the batch, so memory never runs ahead of the store.
// - Progress (driver::PhaseProgress, a live migration's query-migrate) updates the running
//   operation's own record only, and is throttled: a record is rewritten for progress at most
//   once per kProgressInterval (the first report at once), the reports between are held in
//   memory and land with the next row written for the record — the one the phase's end
//   writes, so the last values (the downtime) always land. Progress is advisory: a held report
//   lost to a crash is not missed. The expected downtime has no column and is not kept.
// - A VM placed before migration 4 has no stay; its first one opens at its first change after
//   the upgrade (nothing is invented about the time it arrived).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/engine_state.h"
#include "lifecycle/model.h"
#include "store/store.h"

namespace corral::engine {

// The kind of record an operation gets; nullopt: it does not move the VM.
std::optional<store::MigrationKind> migration_kind(const lifecycle::Operation& op);

// Nova's status of a migration of `kind`, given the operation that drives it now: its action
// (the move itself, or confirm_resize/revert_resize after a resize), its current or failed
// phase, its status, and the VM's state after the step (FAILED: the move stopped half-way).
store::MigrationStatus migration_status(store::MigrationKind kind, lifecycle::Action action,
                                        lifecycle::Phase phase, lifecycle::OpStatus status,
                                        lifecycle::State state);

// Whether no operation drives the record any more (a finished resize still awaits confirm or
// revert, which are operations of their own).
bool migration_over(store::MigrationStatus status);

// Whether an operation of `action`, not the record's own, drives the record on (a follow-up).
bool follows(const store::MigrationRow& record, lifecycle::Action action);

// Why a stay ended, from the action that ended it and who started that action.
store::StayReason stay_reason(lifecycle::Action action, std::string_view actor);

namespace internal {

// How often a migration record may be rewritten for progress alone (a driver may report every
// 100 ms: SQLite is not written 10 times a second per VM).
inline constexpr Millis kProgressInterval = 1000;

class MoveRecords {
 public:
  // The newest records of each VM, as the store last committed them.
  void load(const store::Loaded& loaded);
  // Brings the VM's migration record and host stay up to date with `vm` (after a change).
  void observe(const store::Vm& vm, Millis now);
  // A running phase's progress, already checked to echo `vm`'s running phase: written into
  // the VM's open record of that operation now, or held (see the contract).
  void progress(const store::Vm& vm, const driver::PhaseProgress& report, Millis now);
  // Whether the batch being built has rows (a progress write may be all a batch holds).
  bool pending() const { return !migration_rows_.empty() || !stay_rows_.empty(); }
  // Moves the rows of the batch being built into `batch`.
  void take(store::Batch& batch);
  void committed();
  void rolled_back();

 private:
  // One per VM that has a record. The migration row is shared and never changed in place (a
  // write makes a new one), so the copy kept for a rollback costs a pointer, and a VM that
  // never moved pays 16 bytes for it.
  struct Cursor {
    std::shared_ptr<const store::MigrationRow> migration;  // the newest; null: none
    std::optional<store::HostStayRow> open_stay;
    std::int64_t next_seq = 0;
    // Progress reported and not yet written (throttled), and when progress last was written
    // (nullopt: never, for this record).
    std::optional<driver::PhaseProgress> held;
    std::optional<Millis> progress_at;
  };
  Cursor& touch(store::VmId id);
  void observe_migration(Cursor& c, const store::Vm& vm, Millis now);
  void observe_stay(Cursor& c, const store::Vm& vm, Millis now);
  void write(Cursor& c, store::MigrationRow row, Millis now);
  // Copies the held progress into `row` and forgets it.
  static void apply_held(Cursor& c, store::MigrationRow& row);

  std::unordered_map<store::VmId, Cursor> cursors_;
  std::int64_t max_migration_id_ = 0;
  // The batch being built: its rows, and the cursors as committed (nullopt: had none).
  std::vector<store::MigrationRow> migration_rows_;
  std::vector<store::HostStayRow> stay_rows_;
  std::unordered_map<store::VmId, std::optional<Cursor>> before_batch_;
  std::int64_t committed_max_migration_id_ = 0;
};

}  // namespace internal
}  // namespace corral::engine
