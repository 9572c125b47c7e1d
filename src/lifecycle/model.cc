#include "lifecycle/model.h"

#include <string>

namespace corral::lifecycle {
namespace {

State resolve_target(const Transition& t, const Operation& op, Power power) {
  switch (t.target) {
    case Target::kState:
      return t.to;
    case Target::kOrigin:
      return op.origin;
    case Target::kByPower:
      return power == Power::kRunning ? State::kRunning : State::kPoweroff;
    case Target::kFailPhase:
    case Target::kNextPhase:
    case Target::kRetryPhase:
    case Target::kParameter:
      break;  // meta rows never own an operation's phases
  }
  return op.origin;
}

Step finish(const VmRecord& before, const Transition& t, Operation op) {
  Step step;
  step.from = before.state;
  step.record = before;
  const State target = resolve_target(t, op, before.power);
  op.status = OpStatus::kSucceeded;
  step.record.state = target;
  step.record.power = power_at_end(t, target, before.power);
  step.record.op = op;
  if (op.action == Action::kResched) step.record.resched = true;
  if (op.action == Action::kUnresched) step.record.resched = false;
  step.to = target;
  return step;
}

Error invalid_state(const VmRecord& record, Action action) {
  Error error;
  error.code = ErrorCode::kInvalidState;
  error.state = std::string(state_name(record.state));
  std::string message =
      "cannot " + std::string(action_name(action)) + " a VM in state " + error.state;
  if (record.busy()) {
    message += " while " + std::string(action_name(record.op->action)) + " is running (phase " +
               std::string(phase_name(current_phase(*record.op))) + ")";
  }
  error.message = std::move(message);
  for (Action a : allowed_actions(record)) error.allowed_actions.emplace_back(action_name(a));
  return error;
}

}  // namespace

VmRecord new_record() {
  VmRecord record;
  record.state = State::kInit;
  record.op = Operation{Action::kCreate, State::kInit, 0, OpStatus::kRunning, false};
  return record;
}

VmRecord record_at_rest(State state) {
  if (state == State::kInit) return new_record();  // INIT only exists while creating
  VmRecord record;
  record.state = state;
  // A resized VM keeps its power; Nova resizes running VMs unless they were stopped.
  record.power = nominal_power(state, Power::kRunning);
  if (state == State::kFailed) {
    record.power = Power::kShutdown;  // the boot that failed left nothing running
    record.op = Operation{Action::kDeploy, State::kPending, 1, OpStatus::kFailed, false};
  } else if (state != State::kInit) {
    record.op = Operation{Action::kCreate, State::kInit, 1, OpStatus::kSucceeded, false};
  }
  return record;
}

const Transition* row_of(const Operation& op) {
  const Transition* t =
      op.during ? find_replacing(op.action, op.origin) : find_idle(op.action, op.origin);
  if (t == nullptr || t->instant() || is_meta_target(t->target)) return nullptr;
  return t;
}

const PhaseStep* current_step(const Operation& op) {
  const Transition* t = row_of(op);
  if (t == nullptr) return nullptr;
  if (op.undoing) return op.step < t->undo_count ? &t->undo_steps[op.step] : nullptr;
  return op.step < t->step_count ? &t->steps[op.step] : nullptr;
}

Phase current_phase(const Operation& op) {
  const PhaseStep* s = current_step(op);
  return s == nullptr ? Phase::kNone : s->phase;
}

RunsOn current_runs_on(const Operation& op) {
  const PhaseStep* s = current_step(op);
  return s == nullptr ? RunsOn::kHost : s->runs_on;
}

bool current_removes_copy(const Operation& op) {
  const PhaseStep* s = current_step(op);
  return s != nullptr && s->removes_copy;
}

bool in_last_phase(const Operation& op) {
  const Transition* t = row_of(op);
  return t != nullptr && !op.undoing && op.step + 1 == t->step_count;
}

bool reached_target(const Operation& op) {
  if (op.status == OpStatus::kSucceeded) return true;
  if (op.status != OpStatus::kFailed || op.undoing) return false;
  const PhaseStep* s = current_step(op);
  return s != nullptr && s->on_failure == FailureRule::kKeepTarget;
}

const Transition* started_row(const Operation& op) {
  return op.during ? find_replacing(op.action, op.origin) : find_idle(op.action, op.origin);
}

Effects effects(const Operation& op) {
  const Transition* t = started_row(op);
  return t == nullptr ? Effects{} : t->effects;
}

Power power_at_end(const Transition& t, State end, Power prior) {
  return t.power_after.value_or(nominal_power(end, prior));
}

Power power_after_phase(const VmRecord& record) {
  if (!record.op.has_value()) return record.power;
  const Transition* t = row_of(*record.op);
  if (t != nullptr && record.op->undoing) {  // the last undo phase leaves the origin's power
    if (record.op->step >= t->undo_count) return record.power;
    if (record.op->step + 1 < t->undo_count) {
      return phase_power(t->undo_steps[record.op->step].phase, record.power);
    }
    return nominal_power(record.op->origin, record.power);
  }
  if (t == nullptr || record.op->step >= t->step_count) return record.power;
  if (record.op->step + 1 < t->step_count) {
    // Removing a copy on the other side (revert's target) leaves the VM's power alone.
    if (t->steps[record.op->step].removes_copy) return record.power;
    return phase_power(t->steps[record.op->step].phase, record.power);
  }
  return power_at_end(*t, resolve_target(*t, *record.op, record.power), record.power);
}

const Transition* allowed_row(const VmRecord& record, Action action) {
  if (record.busy()) {
    const Transition* t = find_during(action, record.op->origin, record.op->action);
    // An undo is not canceled or recovered half-way: only what replaces the operation.
    if (t != nullptr && record.op->undoing && is_meta_target(t->target)) return nullptr;
    return t;
  }
  const Transition* t = find_idle(action, record.state);
  if (t == nullptr) return nullptr;
  if (t->target == Target::kFailPhase || t->target == Target::kNextPhase ||
      t->target == Target::kRetryPhase) {
    // Recover acts on the failed operation's phases: there must be one.
    if (!record.op.has_value() || row_of(*record.op) == nullptr) return nullptr;
  }
  return t;
}

std::vector<Action> allowed_actions(const VmRecord& record) {
  std::vector<Action> out;
  for (Action a : kAllActions) {
    if (!is_system_action(a) && allowed(record, a)) out.push_back(a);
  }
  return out;
}

Result<Step> begin(const VmRecord& record, const Request& request) {
  const Transition* t = allowed_row(record, request.action);
  if (t == nullptr) return fail(invalid_state(record, request.action));
  const bool busy = record.busy();
  const State origin = busy ? record.op->origin : record.state;

  switch (t->target) {
    case Target::kState:
    case Target::kOrigin:
    case Target::kByPower: {
      const Operation op{request.action, origin, 0, OpStatus::kRunning, busy};
      Step step;
      if (t->instant()) {
        step = finish(record, *t, op);
      } else {
        step.record = record;
        step.record.op = op;
        step.from = step.to = record.state;
        step.phase = t->steps[0].phase;
      }
      if (busy) step.replaced = record.op->action;
      return step;
    }
    case Target::kFailPhase: {
      const OpStatus why =
          request.action == Action::kCancel ? OpStatus::kCanceled : OpStatus::kFailed;
      if (busy) return phase_failed(record, why);
      // Declared failed from FAILED: the VM goes back to where the operation started.
      Step step;
      step.from = record.state;
      step.record = record;
      step.record.state = record.op->origin;
      step.record.power = nominal_power(record.op->origin, record.power);
      step.to = step.record.state;
      return step;
    }
    case Target::kNextPhase: {
      if (busy) return phase_succeeded(record);
      VmRecord resumed = record;
      resumed.op->status = OpStatus::kRunning;
      Step step = phase_succeeded(resumed);
      step.from = record.state;
      return step;
    }
    case Target::kRetryPhase: {
      Step step;
      step.from = step.to = record.state;
      step.record = record;
      step.record.op->status = OpStatus::kRunning;
      step.phase = current_phase(*step.record.op);
      return step;
    }
    case Target::kParameter: {
      const State to = request.reset_to;
      if (!StateSet::all_live().contains(to)) {
        return fail(
            Error::invalid_argument("reset_state cannot set state " + std::string(state_name(to))));
      }
      Step step;
      step.from = record.state;
      step.record = record;
      step.record.state = to;
      step.record.op =
          Operation{Action::kResetState, origin, 0,
                    to == State::kFailed ? OpStatus::kFailed : OpStatus::kSucceeded, false};
      step.to = to;
      if (busy) step.replaced = record.op->action;
      return step;
    }
  }
  return fail(Error::internal("unhandled target"));
}

Step phase_succeeded(const VmRecord& record) {
  Step step;
  step.from = step.to = record.state;
  step.record = record;
  if (!record.busy()) return step;
  const Transition* t = row_of(*record.op);
  if (t == nullptr) return step;
  const Operation& op = *record.op;
  if (op.undoing) {
    if (op.step + 1 < t->undo_count) {
      step.record.op->step = static_cast<std::uint8_t>(op.step + 1);
      step.phase = t->undo_steps[step.record.op->step].phase;
      return step;
    }
    // Put back: the VM is where the operation started, the operation failed (or canceled).
    step.record.op->status = *op.undoing;
    step.record.state = op.origin;
    step.record.power = nominal_power(op.origin, record.power);
    step.to = op.origin;
    return step;
  }
  if (op.step + 1 < t->step_count) {
    step.record.op->step = static_cast<std::uint8_t>(op.step + 1);
    step.phase = t->steps[step.record.op->step].phase;
    return step;
  }
  return finish(record, *t, op);
}

Step phase_failed(const VmRecord& record, OpStatus why, Integrity origin) {
  Step step;
  step.from = step.to = record.state;
  step.record = record;
  if (!record.busy()) return step;
  const Transition* t = row_of(*record.op);
  if (t == nullptr) return step;
  const Operation& op = *record.op;
  step.record.op->status = why;
  const PhaseStep* current = current_step(op);
  if (current == nullptr) return step;
  FailureRule rule = op.undoing ? FailureRule::kFailStop : current->on_failure;
  if (rule == FailureRule::kRollbackIfIntact) {
    rule = origin == Integrity::kIntact ? FailureRule::kRollback : FailureRule::kFailStop;
  }
  if (rule == FailureRule::kRollback && t->undo_count > 0) {
    step.record.op->status = OpStatus::kRunning;
    step.record.op->undoing = why;
    step.record.op->step = 0;
    step.phase = t->undo_steps[0].phase;
    return step;
  }
  switch (rule) {
    case FailureRule::kRollback:
      step.record.state = op.origin;
      step.record.power = nominal_power(op.origin, record.power);
      break;
    case FailureRule::kFailStop:
    case FailureRule::kRollbackIfIntact:  // resolved above
      step.record.state = State::kFailed;
      break;
    case FailureRule::kKeepTarget: {
      const State target = resolve_target(*t, op, record.power);
      step.record.state = target;
      step.record.power = power_at_end(*t, target, record.power);
      break;
    }
  }
  step.to = step.record.state;
  return step;
}

std::optional<Step> late_success(const VmRecord& record) {
  if (!record.op.has_value() || record.op->status != OpStatus::kFailed) return std::nullopt;
  const PhaseStep* failed = current_step(*record.op);
  if (record.op->undoing || failed == nullptr || failed->on_failure != FailureRule::kKeepTarget) {
    return std::nullopt;
  }
  Step step;
  step.from = step.to = record.state;
  step.record = record;
  step.record.op->status = OpStatus::kSucceeded;
  return step;
}

Power nominal_power(State state, Power prior) {
  switch (state) {
    case State::kInit:
    case State::kPending:
    case State::kHold:
    case State::kUnknown:
    case State::kDone:
      return Power::kNoState;
    case State::kRunning:
    case State::kRescued:
      return Power::kRunning;
    case State::kPaused:
      return Power::kPaused;
    case State::kSuspended:
    case State::kPoweroff:
    case State::kHibernated:
    case State::kDeallocated:
    case State::kShelved:
    case State::kSoftDeleted:
      return Power::kShutdown;
    case State::kResized:
    case State::kFailed:
      return prior;
  }
  return prior;
}

Power phase_power(Phase phase, Power before) {
  switch (phase) {
    // The guest runs at the end of these.
    case Phase::kBoot:
    case Phase::kOsProvisioning:
    case Phase::kOsProvisioned:
    case Phase::kRestore:
    case Phase::kUnpause:
    case Phase::kReboot:
    case Phase::kReset:
    case Phase::kRescue:
    case Phase::kUnrescue:
      return Power::kRunning;
    // No process is left (save: the memory is in a file, libvirt reports "shut off":
    // nova.md:13).
    case Phase::kShutdown:
    case Phase::kPowerOff:
    case Phase::kSave:
    case Phase::kEpilog:
    case Phase::kCleanup:
    case Phase::kShelve:
    case Phase::kSoftDelete:
    // Re-imaging replaces the disk under a stopped guest; a boot phase follows where the VM
    // runs again (Nova: rebuilding, then rebuild_spawning, reference nova.md:46).
    case Phase::kRebuild:
      return Power::kShutdown;
    case Phase::kPause:
      return Power::kPaused;
    // Bookkeeping, files, or changes that leave the guest as it was.
    case Phase::kNone:
    case Phase::kInit:
    case Phase::kClone:
    case Phase::kSchedule:
    case Phase::kProlog:
    case Phase::kMigrate:
    // A live migration's guest runs (or stays paused) throughout, on one side or the other.
    case Phase::kPrepareMigrate:
    case Phase::kFinishMigrate:
    case Phase::kAbortMigrate:
    case Phase::kResize:
    case Phase::kSetPassword:
    case Phase::kSnapshot:
    case Phase::kUpload:
    case Phase::kBackup:
    case Phase::kHotplug:
    case Phase::kConfirm:
      return before;
  }
  return before;
}

bool holds_host(State state) {
  switch (state) {
    case State::kInit:
    case State::kPending:
    case State::kHold:
    case State::kHibernated:
    case State::kDeallocated:
    case State::kDone:
      return false;
    case State::kRunning:
    case State::kPaused:
    case State::kSuspended:
    case State::kPoweroff:
    case State::kShelved:
    case State::kRescued:
    case State::kResized:
    case State::kSoftDeleted:
    case State::kUnknown:
    case State::kFailed:
      return true;
  }
  return true;
}

}  // namespace corral::lifecycle
