// The canonical VM record and the pure functions that move it through the table.
//
// Contract: a VmRecord is (state, operation, power). `state` is the last stable state the
// VM reached; while an operation runs it keeps the state the operation started from (or
// FAILED while a failed operation is retried). The operation's (action, origin, step) pick
// the table row and the phase; every view is a function of the record alone.
//
// begin() validates and starts an action; phase_succeeded() / phase_failed() advance the
// operation when the driver answers (or its deadline passes). None of them reads a clock,
// allocates on the success path, or does I/O: the engine adds ids, times and persistence.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "common/result.h"
#include "lifecycle/table.h"
#include "lifecycle/types.h"

namespace corral::lifecycle {

struct Operation {
  Action action = Action::kCreate;
  State origin = State::kInit;  // the state the operation started from
  std::uint8_t step = 0;        // index of the current (or failed) phase in the row
  OpStatus status = OpStatus::kRunning;
  bool during = false;  // started while another operation ran (pre-emption)
  // Set when the operation rolls back through its row's undo phases: the status it ends with
  // once they are done (kFailed or kCanceled). `step` then indexes the row's undo phases. Kept
  // on the finished operation, so its phase stays the one it ended in.
  std::optional<OpStatus> undoing;

  bool running() const { return status == OpStatus::kRunning; }
  friend bool operator==(const Operation&, const Operation&) = default;
};

struct VmRecord {
  State state = State::kInit;
  std::optional<Operation> op;  // the running operation, or the last one (kept for views)
  Power power = Power::kNoState;
  bool resched = false;  // OpenNebula's RESCHED flag

  bool busy() const { return op.has_value() && op->running(); }
  friend bool operator==(const VmRecord&, const VmRecord&) = default;
};

// A record as it is right after POST /v1/vms is accepted: create has begun, phase init.
VmRecord new_record();

// A representative record of a VM at rest in `state` (for docs, exports and tests): its last
// operation succeeded; a FAILED record's deploy failed in boot; a RESIZED one is powered on;
// INIT is new_record() (creation in progress), the only way a VM is ever in INIT.
VmRecord record_at_rest(State state);

struct Request {
  Action action = Action::kCreate;
  State reset_to = State::kRunning;  // only for reset_state
};

// What one step of the model did (the engine persists it as a history entry).
struct Step {
  VmRecord record;                 // the record after the step
  State from = State::kInit;       // stable state before
  State to = State::kInit;         // stable state after (== from while an operation runs)
  Phase phase = Phase::kNone;      // the phase now running, kNone if none
  std::optional<Action> replaced;  // a running operation this step cut short
};

// The row the record's operation runs by (nullptr if the record has no operation, or the
// operation is instant or acts on another operation).
const Transition* row_of(const Operation& op);

// The phase step the operation is in (or failed in): of its row's phases, or of its undo
// phases while undoing; nullptr for instant operations.
const PhaseStep* current_step(const Operation& op);
// The phase the operation is in (or failed in); kNone for instant operations.
Phase current_phase(const Operation& op);
// Where that phase runs (kHost for instant operations).
RunsOn current_runs_on(const Operation& op);
// Whether that phase removes the VM's copy on the host it runs on (PhaseStep::removes_copy).
bool current_removes_copy(const Operation& op);
// Whether that phase is its row's last forward phase (its success ends the operation with the
// row's effects); never while undoing.
bool in_last_phase(const Operation& op);
// Whether the operation got its VM where its row goes: it succeeded, or failed in a
// kKeepTarget phase (a move's source cleanup: the VM runs on the target all the same).
bool reached_target(const Operation& op);

// The row the operation was started by, instant and meta rows included (nullptr: none).
const Transition* started_row(const Operation& op);
// What the operation's row does besides state and power (empty when there is no row).
Effects effects(const Operation& op);
inline bool has_effect(const Operation& op, Effect effect) { return effects(op).has(effect); }

// The power a VM has when row `t` ends in `end`: the row's named power, else the end
// state's nominal power.
Power power_at_end(const Transition& t, State end, Power prior);
// The power a VM has after `phase` succeeds, when it is not its row's last: what the phase
// does to the guest (the row's power_after decides the last phase).
Power phase_power(Phase phase, Power before);
// The power the running operation's current phase leaves when it succeeds (the last
// phase: power_at_end of the row's target).
Power power_after_phase(const VmRecord& record);

// The row that allows `action` on this record now, or nullptr.
const Transition* allowed_row(const VmRecord& record, Action action);
inline bool allowed(const VmRecord& record, Action action) {
  return allowed_row(record, action) != nullptr;
}
// Every canonical user action allowed now, in number order.
std::vector<Action> allowed_actions(const VmRecord& record);

// Validate and start. Errors: kInvalidState (with the canonical state and the allowed
// actions), kInvalidArgument (a bad reset_state target).
[[nodiscard]] Result<Step> begin(const VmRecord& record, const Request& request);

// The driver finished the current phase.
[[nodiscard]] Step phase_succeeded(const VmRecord& record);
// The current phase failed (or ran past its deadline, or was canceled): its failure rule.
// `origin` is what the driver reported of the VM's origin; only kRollbackIfIntact reads it.
// A rollback of a row with undo phases runs them first (the operation keeps running, its
// `undoing` set); the last one's success ends it at its origin with status `why`. An undo
// phase that fails stops in FAILED.
[[nodiscard]] Step phase_failed(const VmRecord& record, OpStatus why = OpStatus::kFailed,
                                Integrity origin = Integrity::kUnknown);
// A phase with FailureRule::kKeepTarget that failed has now succeeded late (Azure: "the
// platform will automatically transition to success from failure").
[[nodiscard]] std::optional<Step> late_success(const VmRecord& record);

// The power state a VM has at rest in `state`; `prior` for states that keep it.
Power nominal_power(State state, Power prior);

// Whether a VM at rest in `state` keeps resources on its host (POWEROFF does, as OpenNebula
// and Azure's "Stopped" say; DEALLOCATED and HIBERNATED have released them).
bool holds_host(State state);

}  // namespace corral::lifecycle
