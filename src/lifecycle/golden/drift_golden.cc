// Golden table: the drift policies — for each policy, what the hypervisor was seen doing and
// the state the idle VM is in, the reaction: the system action recorded, the operation the
// monitor starts next, the power afterwards, and what the history's reason names.
//
// Sources: OpenNebula's monitoring (reference opennebula.md:53-58: host ERROR, MISSING_STATE,
// probe reports) and Nova's _sync_instance_power_state (reference nova.md:76-88).
//
// check_drift() asks react() for every policy, both missing_state options, every observation,
// every canonical state at rest (INIT is create running) with a power that differs from the
// one seen and with the same power, and a guest power-off both shut down and crashed; each
// answer must be what the first golden row for (policy, observation, state) says. Every row
// must decide at least one case. The rules themselves are held to the rows too (a state a rule
// names but react() never reaches through it is still caught), and so are the transition
// table's observed_* rows: allowed from exactly the states some reaction asks them in.
#include <algorithm>
#include <optional>
#include <string>

#include "lifecycle/drift.h"
#include "lifecycle/golden/golden.h"

namespace corral::lifecycle::golden {
namespace {

using S = State;
using O = Observation;
using A = Action;
constexpr DriftPolicy kOne = DriftPolicy::kOpenNebula;
constexpr DriftPolicy kNova = DriftPolicy::kNova;
// Every state a VM can be idle in but DONE (INIT is create running: never idle).
constexpr StateSet kEvery = StateSet::all_live().with(S::kInit);

// The reaction a row calls for.
enum class Then : std::uint8_t {
  kPower,     // the state stays; a changed power is recorded (observed_power), else nothing
  kPoweroff,  // observed_poweroff: POWEROFF
  kLost,      // observed_lost: UNKNOWN
  kMissing,   // the configured missing state: observed_lost (nothing if already UNKNOWN) or
              // observed_poweroff
  kRunning,   // observed_running: RUNNING
  kRunningThenPowerOff,  // observed_running, then the monitor powers it off hard (force_stop)
};

struct Row {
  DriftPolicy policy;
  Observation seen;
  StateSet states;
  Then then;
  std::string_view why_has;  // what the history's reason says
  std::string_view cite;
};

// clang-format off
constexpr Row kRows[] = {
  // ---- OpenNebula: the monitor's report becomes the state ----
  {kOne, O::kGuestPoweroff, {S::kRunning, S::kUnknown}, Then::kPoweroff, "reports off",
   "reference opennebula.md:56 (RUNNING/UNKNOWN -> POWEROFF once the VM is off); seed 002:139-148 (a guest's own shutdown leaves it stopped with its resources)"},
  {kOne, O::kGuestPoweroff, {S::kPaused, S::kRescued, S::kResized}, Then::kPoweroff, "reports off",
   "Corral's choice: the other states with a process on the host go off as RUNNING does"},
  {kOne, O::kGuestPoweroff, kEvery, Then::kPower, "as the host reports",
   "Corral's choice: nothing was expected to run; the state stays, the power is recorded"},

  {kOne, O::kVanished, {S::kRunning, S::kUnknown}, Then::kMissing, "missing state",
   "reference opennebula.md:56 (a VM missing from the host's reports: MISSING_STATE, RUNNING/UNKNOWN -> POWEROFF by default); UNKNOWN as Corral's default: opennebula.md:104 (#3853, #5564)"},
  {kOne, O::kVanished, {S::kRescued, S::kResized}, Then::kMissing, "missing state",
   "reference opennebula.md:56; Corral's choice: RESCUED and RESIZED show as ACTIVE/RUNNING (seed 001 RUNNING)"},
  {kOne, O::kVanished, kEvery, Then::kPower, "as the host reports",
   "reference opennebula.md:56 (MISSING_STATE moves RUNNING/UNKNOWN VMs only); opennebula.md:54 (only RUNNING VMs become UNKNOWN): a PAUSED VM keeps its state"},

  {kOne, O::kUnresponsive, {S::kRunning}, Then::kLost, "cannot report",
   "reference opennebula.md:54 (host ERROR: only RUNNING VMs become UNKNOWN, LCS:1159)"},
  {kOne, O::kUnresponsive, {S::kRescued, S::kResized}, Then::kLost, "cannot report",
   "reference opennebula.md:54; Corral's choice: RESCUED and RESIZED show as ACTIVE/RUNNING"},
  {kOne, O::kUnresponsive, kEvery, Then::kPower, "as the host reports",
   "reference opennebula.md:54 (only RUNNING VMs become UNKNOWN: PAUSED and the rest keep their state)"},

  {kOne, O::kRunning, {S::kPoweroff, S::kSuspended, S::kUnknown}, Then::kRunning, "reports running",
   "reference opennebula.md:57 (a probe reporting RUNNING moves POWEROFF/SUSPENDED/UNKNOWN VMs to RUNNING)"},
  {kOne, O::kRunning, {S::kPaused}, Then::kRunning, "reports running",
   "reference opennebula.md:57; Corral's choice: PAUSED shows as SUSPENDED"},
  {kOne, O::kRunning, kEvery, Then::kPower, "as the host reports",
   "Corral's choice: the reference moves no other state; the power is recorded"},

  {kOne, O::kPaused, kEvery, Then::kPower, "as the host reports",
   "Corral's choice: the reference names no reaction to a paused report; the power is recorded"},

  // ---- Nova: _sync_instance_power_state, the database's vm_state wins ----
  {kNova, O::kGuestPoweroff, {S::kRunning, S::kUnknown}, Then::kPoweroff, "calling the stop API",
   "reference nova.md:81 (active and SHUTDOWN/CRASHED: stop()); UNKNOWN is active with power NOSTATE (nova.md:84)"},
  {kNova, O::kGuestPoweroff, {S::kPaused}, Then::kPoweroff, "force_stop",
   "reference nova.md:86 (paused and SHUTDOWN/CRASHED: force_stop())"},
  {kNova, O::kGuestPoweroff, kEvery, Then::kPower, "copied",
   "reference nova.md:79 (the power is always copied), :88 (rescued, resized, suspended, error: ignored)"},

  {kNova, O::kVanished, {S::kRunning}, Then::kPower, "not found",
   "reference nova.md:84 (active and NOSTATE, not found: only a warning)"},
  {kNova, O::kVanished, {S::kPaused, S::kRescued, S::kResized}, Then::kPower, "not found",
   "reference nova.md:88 (ignored); Corral's choice: the warning names what was not found"},
  {kNova, O::kVanished, kEvery, Then::kPower, "copied", "reference nova.md:79"},

  {kNova, O::kUnresponsive, {S::kRunning, S::kPaused, S::kRescued, S::kResized}, Then::kPower, "cannot report",
   "Corral's choice: the reference names no reaction; the sync copies the power (nova.md:79) and acts on none"},
  {kNova, O::kUnresponsive, kEvery, Then::kPower, "copied", "reference nova.md:79"},

  {kNova, O::kRunning, {S::kUnknown}, Then::kRunning, "runs again",
   "reference nova.md:79 (the power is copied: active with power RUNNING is RUNNING again)"},
  {kNova, O::kRunning, {S::kPoweroff}, Then::kRunningThenPowerOff, "force_stop",
   "reference nova.md:85 (stopped and running: force_stop())"},
  {kNova, O::kRunning, kEvery, Then::kPower, "copied",
   "reference nova.md:79, :87 (soft-deleted and running: a warning only), :88"},

  {kNova, O::kPaused, {S::kPoweroff}, Then::kRunningThenPowerOff, "force_stop",
   "reference nova.md:85 (stopped and paused: force_stop())"},
  {kNova, O::kPaused, {S::kRunning}, Then::kPower, "bug 1097806",
   "reference nova.md:83 (active and PAUSED: ignored, bug 1097806)"},
  {kNova, O::kPaused, kEvery, Then::kPower, "copied", "reference nova.md:79, :88"},
};
// clang-format on

// The power a VM has once `seen` is recorded (what the hypervisor reported).
Power power_seen(Observation seen, Power off_power) {
  switch (seen) {
    case O::kGuestPoweroff:  // nova.md:13: SHUTDOWN/SHUTOFF -> 4, CRASHED -> 6
      return off_power;
    case O::kVanished:      // nova.md:84: not found is NOSTATE
    case O::kUnresponsive:  // nothing reported: NOSTATE (nova.md:12)
      return Power::kNoState;
    case O::kRunning:
      return Power::kRunning;
    case O::kPaused:
      return Power::kPaused;
  }
  return Power::kNoState;
}

constexpr Observation kObservations[] = {O::kGuestPoweroff, O::kVanished, O::kUnresponsive,
                                         O::kRunning, O::kPaused};

const Row* golden_row(DriftPolicy policy, Observation seen, State state) {
  for (const Row& r : kRows) {
    if (r.policy == policy && r.seen == seen && r.states.contains(state)) return &r;
  }
  return nullptr;
}

struct Want {
  std::optional<DriftStep> step;  // nullopt: nothing to record
  const Row* row = nullptr;
  std::string_view cite;
};

// What the golden table says of (options, record, seen).
Want want(const DriftOptions& options, const VmRecord& record, Observation seen, Power off_power) {
  if (record.busy()) {
    return {std::nullopt, nullptr,
            "reference nova.md:78 (the sync skips a VM with a task running), opennebula.md:56 (a "
            "VM in SHUTDOWN* completes its shutdown)"};
  }
  if (record.state == S::kDone) {
    return {std::nullopt, nullptr,
            "reference opennebula.md:41 (DONE: its resources freed), nova.md:87 (a deleted VM "
            "found running is reaped, not reconciled)"};
  }
  const Row* row = golden_row(options.policy, seen, record.state);
  if (row == nullptr) return {std::nullopt, nullptr, "no golden row"};
  DriftStep step;
  step.power = power_seen(seen, off_power);
  step.why = row->why_has;
  switch (row->then) {
    case Then::kPower:
      if (record.power == step.power) return {std::nullopt, row, row->cite};
      step.observed = A::kObservedPower;
      break;
    case Then::kPoweroff:
      step.observed = A::kObservedPoweroff;
      break;
    case Then::kLost:
      step.observed = A::kObservedLost;
      break;
    case Then::kMissing:
      if (options.missing_state == S::kPoweroff) {
        step.observed = A::kObservedPoweroff;
      } else {
        if (record.state == S::kUnknown) return {std::nullopt, row, row->cite};
        step.observed = A::kObservedLost;
      }
      break;
    case Then::kRunning:
      step.observed = A::kObservedRunning;
      break;
    case Then::kRunningThenPowerOff:
      step.observed = A::kObservedRunning;
      step.then = A::kShutdownHard;
      break;
  }
  return {step, row, row->cite};
}

std::string describe(const std::optional<DriftStep>& step) {
  if (!step) return "nothing recorded";
  std::string s = std::string(action_name(step->observed));
  if (step->then) s += " then " + std::string(action_name(*step->then));
  s += ", power " + std::string(power_name(step->power));
  s += ", reason \"" + std::string(step->why) + "\"";
  return s;
}

bool agree(const std::optional<DriftStep>& want, const std::optional<DriftStep>& got) {
  if (want.has_value() != got.has_value()) return false;
  if (!want) return true;
  return want->observed == got->observed && want->then == got->then && want->power == got->power &&
         got->why.find(want->why) != std::string_view::npos;
}

// The golden reaction a rule's Reaction stands for.
Then then_of(Reaction reaction) {
  switch (reaction) {
    case Reaction::kNotePower:
      return Then::kPower;
    case Reaction::kPoweroff:
      return Then::kPoweroff;
    case Reaction::kLost:
      return Then::kLost;
    case Reaction::kMissingState:
      return Then::kMissing;
    case Reaction::kRunning:
      return Then::kRunning;
    case Reaction::kForceStop:
      return Then::kRunningThenPowerOff;
  }
  return Then::kPower;
}

// The rules themselves: every state a rule names is one where the golden table calls for that
// reaction and reason, and no earlier rule of (policy, observation) names it. This catches a
// rule that claims a state react() never meets idle (INIT) or an earlier rule already decides.
void compare_rules(Mismatches& out) {
  const std::span<const DriftRule> rules = drift_rules();
  for (std::size_t i = 0; i < rules.size() && !out.full(); ++i) {
    const DriftRule& rule = rules[i];
    for (State s : kAllStates) {
      if (!rule.from.contains(s) || out.full()) continue;
      const std::string cell = std::string(drift_policy_name(rule.policy)) + " rule " +
                               std::string(observation_name(rule.seen)) + " in " +
                               std::string(state_name(s)) + " (\"" + std::string(rule.why) + "\")";
      const Row* row = golden_row(rule.policy, rule.seen, s);
      if (row == nullptr) {
        out.add(cell + ": no golden row");
      } else if (row->then != then_of(rule.reaction) ||
                 rule.why.find(row->why_has) == std::string_view::npos) {
        out.add(cell + ": the golden row (" + std::string(row->cite) + ") says otherwise");
      }
      for (std::size_t j = 0; j < i && !out.full(); ++j) {
        if (rules[j].policy == rule.policy && rules[j].seen == rule.seen &&
            rules[j].from.contains(s)) {
          out.add(cell + ": an earlier rule decides the state");
        }
      }
    }
  }
}

// Where each system action leaves the VM (the transition table's observed_* rows, as the
// reactions above mean them).
struct Moves {
  A observed;
  std::optional<State> to;  // nullopt: the state stays
};
constexpr Moves kMoves[] = {
    {A::kObservedLost, S::kUnknown},
    {A::kObservedPoweroff, S::kPoweroff},
    {A::kObservedRunning, S::kRunning},
    {A::kObservedPower, std::nullopt},
};

State state_after(A observed, State from) {
  for (const Moves& move : kMoves) {
    if (move.observed == observed) return move.to.value_or(from);
  }
  return from;
}

// The table's observed_* rows against what the golden reactions ask: each is allowed from
// exactly the states some policy asks it in, ends where kMoves says, and the operation the
// monitor starts next is allowed there.
void compare_table(const std::vector<StateSet>& asked, const std::vector<std::pair<State, A>>& then,
                   Mismatches& out) {
  for (const Moves& move : kMoves) {
    const StateSet want = asked[static_cast<std::size_t>(move.observed)];
    for (State s : kAllStates) {
      if (out.full()) return;
      const VmRecord rest = record_at_rest(s);
      if (rest.busy()) continue;
      const std::string cell =
          std::string(action_name(move.observed)) + " in " + std::string(state_name(s));
      const Result<Step> step = begin(rest, {move.observed});
      if (want.contains(s) != step.has_value()) {
        out.add(cell + ": a golden drift reaction " +
                (want.contains(s) ? "asks for it, the table refuses it"
                                  : "never asks for it, the table allows it"));
        continue;
      }
      if (!step) continue;
      const State to = move.to.value_or(s);
      if (step->record.busy() || step->record.state != to) {
        out.add(cell + ": the table ends in " + std::string(state_name(step->record.state)) +
                ", the reaction means " + std::string(state_name(to)));
      }
    }
  }
  // The rows themselves name no other state (INIT, where a VM is never idle, included).
  for (const Transition& t : transitions()) {
    if (!is_system_action(t.action) || out.full()) continue;
    const StateSet want = asked[static_cast<std::size_t>(t.action)];
    for (State s : kAllStates) {
      if (t.from.contains(s) && !want.contains(s)) {
        out.add("the table's " + std::string(action_name(t.action)) + " row names " +
                std::string(state_name(s)) + ", where no golden drift reaction asks for it");
        break;
      }
    }
  }
  for (const auto& [state, action] : then) {
    if (out.full()) return;
    if (!allowed(record_at_rest(state), action)) {
      out.add("the monitor's " + std::string(action_name(action)) + " after a reaction ending in " +
              std::string(state_name(state)) + ": the table refuses it");
    }
  }
}

}  // namespace

Mismatches check_drift(std::size_t limit) {
  Mismatches out(limit);
  compare_rules(out);
  std::vector<bool> used(std::size(kRows), false);
  std::vector<StateSet> asked(kActionCount);  // by observed action: the states asked in
  std::vector<std::pair<State, A>> then;      // (state after, operation started next)
  // The records: every state at rest (INIT is create running), and one more busy record.
  std::vector<VmRecord> records;
  for (State s : kAllStates) records.push_back(record_at_rest(s));
  if (auto busy = begin(record_at_rest(S::kRunning), {A::kShutdown}); busy) {
    records.push_back(busy->record);
  }
  for (DriftPolicy policy : {kOne, kNova}) {
    for (State missing : {S::kUnknown, S::kPoweroff}) {
      const DriftOptions options{policy, missing};
      for (Observation seen : kObservations) {
        for (const VmRecord& base : records) {
          for (Power off : {Power::kShutdown, Power::kCrashed}) {
            if (off == Power::kCrashed && seen != O::kGuestPoweroff) continue;
            // A power the observation never reports, and the power it reports.
            for (Power prior : {Power::kSuspended, power_seen(seen, off)}) {
              if (out.full()) return out;
              VmRecord record = base;
              record.power = prior;
              const Want w = want(options, record, seen, off);
              if (w.row != nullptr) used[static_cast<std::size_t>(w.row - kRows)] = true;
              if (w.step) {
                StateSet& states = asked[static_cast<std::size_t>(w.step->observed)];
                states = states.with(record.state);
                if (w.step->then) {
                  const std::pair<State, A> next{state_after(w.step->observed, record.state),
                                                 *w.step->then};
                  if (std::find(then.begin(), then.end(), next) == then.end()) then.push_back(next);
                }
              }
              const std::optional<DriftStep> got = react(options, record, seen, off);
              if (agree(w.step, got)) continue;
              std::string where = std::string(drift_policy_name(policy)) + " (missing_state " +
                                  std::string(state_name(missing)) +
                                  "): " + std::string(observation_name(seen));
              if (seen == O::kGuestPoweroff) where += " (" + std::string(power_name(off)) + ")";
              where +=
                  " seen on a VM " +
                  (record.busy() ? std::string("with ") +
                                       std::string(action_name(record.op->action)) + " running in "
                                 : std::string("at rest in ")) +
                  std::string(state_name(record.state)) + ", power " +
                  std::string(power_name(prior));
              out.add(where + ": golden says " + describe(w.step) + " (" + std::string(w.cite) +
                      "), the model says " + describe(got));
            }
          }
        }
      }
    }
  }
  for (std::size_t i = 0; i < std::size(kRows) && !out.full(); ++i) {
    if (!used[i]) {
      out.add("golden drift row " + std::string(drift_policy_name(kRows[i].policy)) + " " +
              std::string(observation_name(kRows[i].seen)) + " (" + std::string(kRows[i].cite) +
              ") decides no case: an earlier row covers all its states");
    }
  }
  if (!out.full()) compare_table(asked, then, out);
  return out;
}

}  // namespace corral::lifecycle::golden
