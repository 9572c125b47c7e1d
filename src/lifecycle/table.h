// The transition table: the single source of truth of the lifecycle.
//
// Each row says: this action, from these states (when no operation runs, and/or pre-empting
// these running actions), passes through these phases, each with its failure rule, and ends
// here. Validation, the engine, every view, `corral states` and docs/ are driven by it.
//
// Invariants (checked by table_test.cc): for an (action, key state) pair there is at most
// one idle row and at most one pre-empting row; every user action has at least one row;
// every non-terminal state has a way out.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>

#include "lifecycle/types.h"

namespace corral::lifecycle {

struct PhaseStep {
  Phase phase = Phase::kNone;
  FailureRule on_failure = FailureRule::kRollback;
};

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

  std::span<const PhaseStep> phases() const { return {steps.data(), step_count}; }
  bool instant() const { return step_count == 0; }
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
