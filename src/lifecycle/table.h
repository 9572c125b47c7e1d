// The transition table: the single source of truth of the lifecycle.
//
// Each row says: this action, from these states (when no operation runs, and/or pre-empting
// these running actions), passes through these phases, each with its failure rule, and ends
// here. Validation, the engine, every view, `corral states` and docs/ are driven by it.
//
// Each phase also says where it runs (the VM's host, or the source or target of a move, as
// libvirt splits Begin/Perform/Confirm on the source from Prepare/Finish on the target); each
// row says what power the VM has when it ends (power_after) and what else its success does to
// the VM record beyond state and power (effects). The engine turns these into driver intents
// (driver::PhaseRequest); no one else picks side effects by action name.
//
// Invariants (checked by table_test.cc): for an (action, key state) pair there is at most
// one idle row and at most one pre-empting row; every user action has at least one row;
// every non-terminal state has a way out; a row has kEndsVm exactly when it ends in DONE;
// kDeletesFiles only on rows with phases; source/target phases only on rows that move the VM
// or end a resize across hosts (from RESIZED: `source` the host the resize left, `target` the
// VM's host);
// undo phases only on rows that move the VM, each on one side, failing by kFailStop; a step
// removes a copy (PhaseStep::removes_copy) only on one side of a move.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string_view>

#include "lifecycle/types.h"

namespace corral::lifecycle {

struct PhaseStep {
  constexpr PhaseStep() = default;
  constexpr PhaseStep(Phase p, FailureRule rule, RunsOn on = RunsOn::kHost, bool removes = false)
      : phase(p), on_failure(rule), runs_on(on), removes_copy(removes) {}

  Phase phase = Phase::kNone;
  FailureRule on_failure = FailureRule::kRollback;
  RunsOn runs_on = RunsOn::kHost;
  // The step removes the VM's copy on the host it runs on: its files go and that host's
  // driver forgets the VM (a move's source once the target runs it, the target's in an
  // undo). Only on a move's side (kSource/kTarget); the VM's own host loses its files by the
  // row's kDeletesFiles/kEndsVm instead.
  bool removes_copy = false;
};

// What a row's success does to the VM besides its state and power (a bit set).
enum class Effect : std::uint8_t {
  kAppliesModel = 1 << 0,   // the requested model (vm.desired) becomes the VM's model
  kRestoresModel = 1 << 1,  // the requested model is the one the last resize started from,
                            // on the host it started from when it moved
  kPlacesVm = 1 << 2,       // the scheduler picks a host; the VM is on it from the first phase
  kMovesVm = 1 << 3,        // the scheduler picks another host; the VM is on it once done
  kDeletesFiles = 1 << 4,   // the row's last phase removes the VM's files from its host
  kEndsVm = 1 << 5,         // after the row the VM is gone (DONE): drivers forget it
};

class Effects {
 public:
  constexpr Effects() = default;
  constexpr Effects(std::initializer_list<Effect> list) {
    for (Effect e : list) bits_ |= static_cast<std::uint8_t>(e);
  }
  constexpr bool has(Effect e) const { return (bits_ & static_cast<std::uint8_t>(e)) != 0; }
  constexpr Effects with(Effect e) const { return from_bits(bits_ | static_cast<std::uint8_t>(e)); }
  constexpr Effects without(Effect e) const {
    return from_bits(bits_ & ~static_cast<std::uint8_t>(e));
  }
  constexpr bool empty() const { return bits_ == 0; }
  constexpr std::uint8_t bits() const { return bits_; }
  friend constexpr bool operator==(Effects, Effects) = default;

 private:
  static constexpr Effects from_bits(unsigned bits) {
    Effects e;
    e.bits_ = static_cast<std::uint8_t>(bits);
    return e;
  }
  std::uint8_t bits_ = 0;
};

inline constexpr Effect kAllEffects[] = {Effect::kAppliesModel, Effect::kRestoresModel,
                                         Effect::kPlacesVm,     Effect::kMovesVm,
                                         Effect::kDeletesFiles, Effect::kEndsVm};
std::string_view effect_name(Effect effect);
std::string_view runs_on_name(RunsOn runs_on);

// Where a row ends.
enum class Target : std::uint8_t {
  kState = 1,       // `to`
  kOrigin = 2,      // back where it started (hotplug, snapshots, migration)
  kByPower = 3,     // RUNNING if powered on, else POWEROFF (Nova confirm/revert resize)
  kFailPhase = 4,   // the current phase fails by its rule (cancel, recover failure)
  kNextPhase = 5,   // the current or failed phase is declared done (recover success)
  kRetryPhase = 6,  // the current or failed phase runs again (recover retry)
  kParameter = 7,   // the state named in the request (reset_state)
};

inline constexpr int kMaxSteps = 4;
inline constexpr int kMaxUndoSteps = 2;

struct Transition {
  Action action = Action::kCreate;
  StateSet from;
  bool when_idle = true;  // allowed when no operation runs on the VM
  // Running actions during which the row applies (then `from` holds the running operation's
  // origin). A row with a state target replaces the running operation (pre-emption); a row
  // with a meta target acts on it (cancel, recover). Empty: only when idle.
  ActionSet during;
  std::array<PhaseStep, kMaxSteps> steps{};
  std::uint8_t step_count = 0;
  Target target = Target::kState;
  State to = State::kInit;
  std::string_view note;
  // The power the VM reports when the row ends; nullopt: the end state's nominal power
  // (model.h nominal_power). Named only where the sources give a power of their own.
  std::optional<Power> power_after;
  Effects effects;
  // Phases that put things back before the row rolls back (a phase failed by a kRollback
  // rule, or kRollbackIfIntact with the origin intact): what the forward phases may have
  // left on another host, removed in this order (libvirt's Finish(cancelled) on the target,
  // then Confirm(cancelled) on the source). Each must succeed whatever the forward phases
  // got to; a failed one stops in FAILED. Empty: a rollback only sets the state back.
  std::array<PhaseStep, kMaxUndoSteps> undo_steps{};
  std::uint8_t undo_count = 0;

  std::span<const PhaseStep> phases() const { return {steps.data(), step_count}; }
  std::span<const PhaseStep> undo() const { return {undo_steps.data(), undo_count}; }
  bool instant() const { return step_count == 0; }
  bool has(Effect e) const { return effects.has(e); }
};

// All rows, in a stable order (grouped by action number).
std::span<const Transition> transitions();

// The idle row for (action, state), or nullptr.
const Transition* find_idle(Action action, State state);
// The row for `action` while `running` (an operation started from `origin`) is in flight.
const Transition* find_during(Action action, State origin, Action running);

// The pre-empting row (state target, not idle-only) that an operation with `during` set was
// started by.
const Transition* find_replacing(Action action, State origin);

// One-line description of each action (for help, docs and the JSON export).
std::string_view action_summary(Action action);

// A row a request starts on an idle VM whose phases a driver runs: what the fault tests
// (a failure, a hang, a server crash in each phase) are generated from.
inline bool request_runs_phases(const Transition& t) {
  return t.when_idle && !t.instant() && !is_system_action(t.action) && t.action != Action::kCreate;
}

// The first state (in number order, INIT and DONE aside) the row can start from: where the
// fault tests bring a VM to start the row.
inline std::optional<State> first_origin(const Transition& t) {
  for (State s : kAllStates) {
    if (s != State::kInit && s != State::kDone && t.from.contains(s)) return s;
  }
  return std::nullopt;
}

// Actions that act on the operation rather than the VM: their row's target is not a state.
constexpr bool is_meta_target(Target t) {
  return t == Target::kFailPhase || t == Target::kNextPhase || t == Target::kRetryPhase ||
         t == Target::kParameter;
}

namespace testing {

struct Index;

// The mutation tool's hook: until destroyed, every lookup above (transitions(), find_*, and
// so the model, the views and the vocabularies) reads `rows` instead of the built-in table.
// Not thread-safe: for single-threaded tools and tests only. `rows` must outlive it.
class ScopedTransitions {
 public:
  explicit ScopedTransitions(std::span<const Transition> rows);
  ~ScopedTransitions();
  ScopedTransitions(const ScopedTransitions&) = delete;
  ScopedTransitions& operator=(const ScopedTransitions&) = delete;

 private:
  const Index* previous_;
  std::unique_ptr<Index> index_;
};

}  // namespace testing
}  // namespace corral::lifecycle
