#include "lifecycle/mutate/data_mutants.h"

#include <optional>
#include <set>
#include <utility>

#include "lifecycle/drift.h"
#include "lifecycle/model.h"
#include "lifecycle/table.h"
#include "lifecycle/vocabulary.h"

namespace corral::mutate {
namespace {

namespace lc = corral::lifecycle;
using lc::Action;
using lc::State;

constexpr lc::FailureRule kRules[] = {lc::FailureRule::kRollback, lc::FailureRule::kFailStop,
                                      lc::FailureRule::kKeepTarget,
                                      lc::FailureRule::kRollbackIfIntact};
constexpr lc::Target kTargets[] = {
    lc::Target::kState,     lc::Target::kOrigin,     lc::Target::kByPower,  lc::Target::kFailPhase,
    lc::Target::kNextPhase, lc::Target::kRetryPhase, lc::Target::kParameter};
constexpr lc::RunsOn kSides[] = {lc::RunsOn::kHost, lc::RunsOn::kSource, lc::RunsOn::kTarget};
constexpr lc::Power kPowers[] = {lc::Power::kNoState,  lc::Power::kRunning, lc::Power::kPaused,
                                 lc::Power::kShutdown, lc::Power::kCrashed, lc::Power::kSuspended};
constexpr lc::DriftPolicy kPolicies[] = {lc::DriftPolicy::kOpenNebula, lc::DriftPolicy::kNova};
constexpr lc::Observation kObservations[] = {
    lc::Observation::kGuestPoweroff, lc::Observation::kVanished, lc::Observation::kUnresponsive,
    lc::Observation::kRunning, lc::Observation::kPaused};
constexpr lc::Reaction kReactions[] = {lc::Reaction::kNotePower, lc::Reaction::kPoweroff,
                                       lc::Reaction::kLost,      lc::Reaction::kMissingState,
                                       lc::Reaction::kRunning,   lc::Reaction::kForceStop};

// A mutated copy of a table, and the hook that makes the model read it.
template <typename Row, typename Guard>
struct Installed {
  std::vector<Row> rows;
  std::optional<Guard> guard;
};

template <typename Row, typename Guard>
std::function<std::shared_ptr<void>()> installer(const std::vector<Row>& original, std::size_t i,
                                                 std::function<void(Row&)> change) {
  return [&original, i, change = std::move(change)]() -> std::shared_ptr<void> {
    auto installed = std::make_shared<Installed<Row, Guard>>();
    installed->rows = original;
    change(installed->rows[i]);
    installed->guard.emplace(installed->rows);
    return installed;
  };
}

std::string states_text(lc::StateSet set) {
  std::string out;
  for (State s : lc::kAllStates) {
    if (set.contains(s)) out += (out.empty() ? "" : ",") + std::string(lc::state_name(s));
  }
  return out.empty() ? "-" : out;
}

// ---- Transition table ----------------------------------------------------------------------

// The built-in rows, copied before any mutant is installed.
const std::vector<lc::Transition>& original_rows() {
  static const std::vector<lc::Transition> kRows(lc::transitions().begin(),
                                                 lc::transitions().end());
  return kRows;
}

// What a lookup found, as what it does to a VM that starts from `origin`: the phases, where
// each runs and where each one's failure ends, where success ends, with what power, and the
// row's effects. Two rows that differ only where it cannot matter (a roll-back to FAILED is a
// fail-stop; a target that is the origin; a named power that is the end state's own) agree.
std::string row_effect(const lc::Transition* t, State origin) {
  if (t == nullptr) return "-";
  std::string columns = " fx" + std::to_string(t->effects.bits());
  if (!lc::is_meta_target(t->target)) {
    // The power the golden checks see: from the origin at rest (a by-power row ends by it).
    const lc::Power prior = lc::record_at_rest(origin).power;
    State end = origin;
    if (t->target == lc::Target::kState) end = t->to;
    if (t->target == lc::Target::kByPower) {
      end = prior == lc::Power::kRunning ? State::kRunning : State::kPoweroff;
    }
    columns += " power " + std::string(lc::power_name(lc::power_at_end(*t, end, prior)));
  } else if (t->power_after) {
    columns += " named " + std::string(lc::power_name(*t->power_after));
  }
  auto end_of = [origin](lc::FailureRule rule) -> std::string {
    switch (rule) {
      case lc::FailureRule::kRollback:
        return std::string(lc::state_name(origin));
      case lc::FailureRule::kFailStop:
        return "FAILED";
      case lc::FailureRule::kKeepTarget:
        return "target";
      case lc::FailureRule::kRollbackIfIntact:
        return origin == State::kFailed ? "FAILED"
                                        : "intact?" + std::string(lc::state_name(origin));
    }
    return "?";
  };
  std::string k;
  for (const lc::PhaseStep& step : t->phases()) {
    k += std::string(lc::phase_name(step.phase)) + "@" +
         std::string(lc::runs_on_name(step.runs_on)) + (step.removes_copy ? "+removes" : "") + ":" +
         end_of(step.on_failure) + " ";
  }
  for (const lc::PhaseStep& step : t->undo()) {
    k += "undo " + std::string(lc::phase_name(step.phase)) + "@" +
         std::string(lc::runs_on_name(step.runs_on)) + (step.removes_copy ? "+removes" : "") + " ";
  }
  k += columns + " ";
  switch (t->target) {
    case lc::Target::kState:
      return k + "-> " + std::string(lc::state_name(t->to));
    case lc::Target::kOrigin:
      return k + "-> " + std::string(lc::state_name(origin));
    case lc::Target::kByPower:
    case lc::Target::kFailPhase:
    case lc::Target::kNextPhase:
    case lc::Target::kRetryPhase:
    case lc::Target::kParameter:
      break;
  }
  return k + "-> target " + std::to_string(static_cast<int>(t->target));
}

bool runs_phases(const lc::Transition* t) {
  return t != nullptr && !t->instant() && !lc::is_meta_target(t->target);
}

// Every lookup the model can make of the table, by what it does: idle rows in every state;
// rows during an operation only where that operation can be running (an action with phases,
// from an origin it starts from).
std::string lookup_signature() {
  std::string sig;
  // (running action, its origin), for operations started on an idle VM and for operations
  // that pre-empted a running one: the model finds their rows with find_idle and
  // find_replacing respectively (model.cc row_of).
  std::set<std::pair<Action, State>> idle_runs;
  std::set<std::pair<Action, State>> replacing_runs;
  for (Action a : lc::kAllActions) {
    for (State s : lc::kAllStates) {
      sig += row_effect(lc::find_idle(a, s), s) + "|";
      if (runs_phases(lc::find_idle(a, s))) idle_runs.emplace(a, s);
    }
  }
  for (bool grew = true; grew;) {
    grew = false;
    std::set<std::pair<Action, State>> runs = idle_runs;
    runs.insert(replacing_runs.begin(), replacing_runs.end());
    for (const auto& [running, origin] : runs) {
      for (Action a : lc::kAllActions) {
        const lc::Transition* t = lc::find_during(a, origin, running);
        if (runs_phases(t) && replacing_runs.emplace(a, origin).second) grew = true;
      }
    }
  }
  std::set<std::pair<Action, State>> runs = idle_runs;
  runs.insert(replacing_runs.begin(), replacing_runs.end());
  for (const auto& [running, origin] : runs) {
    for (Action a : lc::kAllActions) {
      const lc::Transition* t = lc::find_during(a, origin, running);
      sig += row_effect(t, origin) + (t != nullptr && lc::is_meta_target(t->target) ? "m;" : ";");
    }
  }
  for (const auto& [action, origin] : replacing_runs) {
    sig += row_effect(lc::find_replacing(action, origin), origin) + "/";
  }
  return sig;
}

std::string row_label(std::size_t i) {
  const lc::Transition& t = original_rows()[i];
  return "transitions row " + std::to_string(i) + " (" + std::string(lc::action_name(t.action)) +
         " from " + states_text(t.from) + (t.when_idle ? "" : ", pre-empting") + ")";
}

void add_transition_mutant(std::vector<Mutant>& out, std::size_t i, std::string edit,
                           std::function<void(lc::Transition&)> change) {
  Mutant m;
  m.table = Table::kTransitions;
  m.what = row_label(i) + ": " + std::move(edit);
  m.install = installer<lc::Transition, lc::testing::ScopedTransitions>(original_rows(), i,
                                                                        std::move(change));
  m.equivalent = [install = m.install]() {
    static const std::string kOriginal = lookup_signature();
    const std::shared_ptr<void> mutated = install();
    return lookup_signature() == kOriginal;
  };
  out.push_back(std::move(m));
}

void transition_mutants(std::vector<Mutant>& out) {
  std::set<lc::Phase> used_phases;
  for (const lc::Transition& t : original_rows()) {
    for (const lc::PhaseStep& step : t.phases()) used_phases.insert(step.phase);
    for (const lc::PhaseStep& step : t.undo()) used_phases.insert(step.phase);
  }
  for (std::size_t i = 0; i < original_rows().size(); ++i) {
    const lc::Transition& t = original_rows()[i];
    for (std::uint8_t j = 0; j < t.step_count; ++j) {
      const std::string phase(lc::phase_name(t.steps[j].phase));
      for (lc::FailureRule rule : kRules) {
        if (rule == t.steps[j].on_failure) continue;
        add_transition_mutant(out, i,
                              phase + " fails " +
                                  std::string(lc::failure_rule_name(t.steps[j].on_failure)) +
                                  " -> " + std::string(lc::failure_rule_name(rule)),
                              [j, rule](lc::Transition& r) { r.steps[j].on_failure = rule; });
      }
      for (lc::Phase p : used_phases) {
        if (p == t.steps[j].phase) continue;
        add_transition_mutant(out, i, "phase " + phase + " -> " + std::string(lc::phase_name(p)),
                              [j, p](lc::Transition& r) { r.steps[j].phase = p; });
      }
      add_transition_mutant(out, i, "phase " + phase + " dropped", [j](lc::Transition& r) {
        for (std::uint8_t k = j; k + 1 < r.step_count; ++k) r.steps[k] = r.steps[k + 1];
        --r.step_count;
      });
    }
    for (State s : lc::kAllStates) {
      const std::string name(lc::state_name(s));
      if (t.from.contains(s)) {
        add_transition_mutant(out, i, "origin " + name + " dropped",
                              [s](lc::Transition& r) { r.from = r.from.without(s); });
      } else {
        add_transition_mutant(out, i, "origin " + name + " added",
                              [s](lc::Transition& r) { r.from = r.from.with(s); });
      }
    }
    for (lc::Target target : kTargets) {
      if (target == lc::Target::kState) {
        for (State s : lc::kAllStates) {
          if (t.target == lc::Target::kState && s == t.to) continue;
          add_transition_mutant(out, i, "target -> " + std::string(lc::state_name(s)),
                                [s](lc::Transition& r) {
                                  r.target = lc::Target::kState;
                                  r.to = s;
                                });
        }
      } else if (target != t.target) {
        add_transition_mutant(out, i,
                              "target kind " + std::to_string(static_cast<int>(t.target)) + " -> " +
                                  std::to_string(static_cast<int>(target)),
                              [target](lc::Transition& r) { r.target = target; });
      }
    }
    // The intents' columns (table.h): each phase's side, the row's named power, its effects.
    for (std::uint8_t j = 0; j < t.step_count; ++j) {
      for (lc::RunsOn side : kSides) {
        if (side == t.steps[j].runs_on) continue;
        add_transition_mutant(out, i,
                              std::string(lc::phase_name(t.steps[j].phase)) + " runs on " +
                                  std::string(lc::runs_on_name(side)),
                              [j, side](lc::Transition& r) { r.steps[j].runs_on = side; });
      }
      // The removes_copy column: a copy removed where the row keeps it, or kept where it goes.
      add_transition_mutant(
          out, i,
          std::string(lc::phase_name(t.steps[j].phase)) +
              (t.steps[j].removes_copy ? " keeps" : " removes") + " its copy",
          [j](lc::Transition& r) { r.steps[j].removes_copy = !r.steps[j].removes_copy; });
    }
    // The undo column: each undo phase replaced, moved to the other side, dropped; the order
    // swapped; an undo added to a move that has none.
    for (std::uint8_t j = 0; j < t.undo_count; ++j) {
      const std::string phase(lc::phase_name(t.undo_steps[j].phase));
      for (lc::Phase p : used_phases) {
        if (p == t.undo_steps[j].phase) continue;
        add_transition_mutant(out, i, "undo " + phase + " -> " + std::string(lc::phase_name(p)),
                              [j, p](lc::Transition& r) { r.undo_steps[j].phase = p; });
      }
      for (lc::RunsOn side : kSides) {
        if (side == t.undo_steps[j].runs_on) continue;
        add_transition_mutant(out, i,
                              "undo " + phase + " runs on " + std::string(lc::runs_on_name(side)),
                              [j, side](lc::Transition& r) { r.undo_steps[j].runs_on = side; });
      }
      add_transition_mutant(
          out, i,
          "undo " + phase + (t.undo_steps[j].removes_copy ? " keeps" : " removes") + " its copy",
          [j](lc::Transition& r) { r.undo_steps[j].removes_copy = !r.undo_steps[j].removes_copy; });
      add_transition_mutant(out, i, "undo " + phase + " dropped", [j](lc::Transition& r) {
        for (std::uint8_t k = j; k + 1 < r.undo_count; ++k) r.undo_steps[k] = r.undo_steps[k + 1];
        --r.undo_count;
      });
    }
    if (t.undo_count == 2) {
      add_transition_mutant(out, i, "undo order swapped",
                            [](lc::Transition& r) { std::swap(r.undo_steps[0], r.undo_steps[1]); });
    }
    if (t.undo_count == 0 && t.has(lc::Effect::kMovesVm) && !t.instant()) {
      add_transition_mutant(out, i, "undo added", [](lc::Transition& r) {
        r.undo_steps[0] = {lc::Phase::kCleanup, lc::FailureRule::kFailStop, lc::RunsOn::kTarget};
        r.undo_count = 1;
      });
    }
    if (t.power_after) {
      add_transition_mutant(out, i, "no power_after",
                            [](lc::Transition& r) { r.power_after.reset(); });
    }
    for (lc::Power power : kPowers) {
      if (t.power_after == power) continue;
      add_transition_mutant(out, i, "power_after -> " + std::string(lc::power_name(power)),
                            [power](lc::Transition& r) { r.power_after = power; });
    }
    for (lc::Effect fx : lc::kAllEffects) {
      const bool has = t.effects.has(fx);
      add_transition_mutant(
          out, i, std::string(has ? "without " : "with ") + std::string(lc::effect_name(fx)),
          [fx, has](lc::Transition& r) {
            r.effects = has ? r.effects.without(fx) : r.effects.with(fx);
          });
    }
    add_transition_mutant(out, i, t.when_idle ? "not when idle" : "also when idle",
                          [](lc::Transition& r) { r.when_idle = !r.when_idle; });
    if (!t.during.empty()) {
      for (Action a : lc::kAllActions) {
        const std::string name(lc::action_name(a));
        if (t.during.contains(a)) {
          add_transition_mutant(out, i, "not during " + name,
                                [a](lc::Transition& r) { r.during = r.during.without(a); });
        } else {
          add_transition_mutant(out, i, "also during " + name, [a](lc::Transition& r) {
            lc::ActionSet during = lc::ActionSet::all();
            for (Action b : lc::kAllActions) {
              if (b != a && !r.during.contains(b)) during = during.without(b);
            }
            r.during = during;
          });
        }
      }
    }
  }
}

// ---- Verb rules ----------------------------------------------------------------------------

const std::vector<lc::VerbRule>& original_verbs() {
  static const std::vector<lc::VerbRule> kBuiltIn(lc::all_verb_rules().begin(),
                                                  lc::all_verb_rules().end());
  return kBuiltIn;
}

void add_verb_mutant(std::vector<Mutant>& out, std::size_t i, std::string edit,
                     std::function<void(lc::VerbRule&)> change) {
  const lc::VerbRule& r = original_verbs()[i];
  Mutant m;
  m.table = Table::kVerbRules;
  m.what = "verb rule " + std::to_string(i) + " (" +
           std::string(lc::vocabulary_name(r.vocabulary)) + " " + std::string(r.verb) +
           (r.variant.empty() ? "" : " " + std::string(r.variant)) + " -> " +
           std::string(lc::action_name(r.action)) + "): " + std::move(edit);
  m.install =
      installer<lc::VerbRule, lc::testing::ScopedVerbRules>(original_verbs(), i, std::move(change));
  m.equivalent = [] { return false; };
  out.push_back(std::move(m));
}

void verb_mutants(std::vector<Mutant>& out) {
  for (std::size_t i = 0; i < original_verbs().size(); ++i) {
    const lc::VerbRule& r = original_verbs()[i];
    for (State s : lc::kAllStates) {
      const std::string name(lc::state_name(s));
      if (r.from.contains(s)) {
        add_verb_mutant(out, i, "state " + name + " dropped",
                        [s](lc::VerbRule& v) { v.from = v.from.without(s); });
      } else {
        add_verb_mutant(out, i, "state " + name + " added",
                        [s](lc::VerbRule& v) { v.from = v.from.with(s); });
      }
    }
    for (Action a : lc::kAllActions) {
      if (a == r.action || lc::is_system_action(a)) continue;
      add_verb_mutant(out, i, "action -> " + std::string(lc::action_name(a)),
                      [a](lc::VerbRule& v) { v.action = a; });
    }
    if (!r.during.empty()) {
      add_verb_mutant(out, i, "not during anything",
                      [](lc::VerbRule& v) { v.during = lc::ActionSet(); });
    } else {
      add_verb_mutant(out, i, "also during any operation",
                      [](lc::VerbRule& v) { v.during = lc::ActionSet::all(); });
    }
  }
}

// ---- Drift rules ---------------------------------------------------------------------------

const std::vector<lc::DriftRule>& original_drift() {
  static const std::vector<lc::DriftRule> kBuiltIn(lc::drift_rules().begin(),
                                                   lc::drift_rules().end());
  return kBuiltIn;
}

void add_drift_mutant(std::vector<Mutant>& out, std::size_t i, std::string edit,
                      std::function<void(lc::DriftRule&)> change) {
  const lc::DriftRule& r = original_drift()[i];
  Mutant m;
  m.table = Table::kDriftRules;
  m.what = "drift rule " + std::to_string(i) + " (" + std::string(lc::drift_policy_name(r.policy)) +
           " " + std::string(lc::observation_name(r.seen)) + " from " + states_text(r.from) +
           "): " + std::move(edit);
  m.install = installer<lc::DriftRule, lc::testing::ScopedDriftRules>(original_drift(), i,
                                                                      std::move(change));
  m.equivalent = [] { return false; };
  out.push_back(std::move(m));
}

void drift_mutants(std::vector<Mutant>& out) {
  for (std::size_t i = 0; i < original_drift().size(); ++i) {
    const lc::DriftRule& r = original_drift()[i];
    for (State s : lc::kAllStates) {
      const std::string name(lc::state_name(s));
      if (r.from.contains(s)) {
        add_drift_mutant(out, i, "state " + name + " dropped",
                         [s](lc::DriftRule& d) { d.from = d.from.without(s); });
      } else {
        add_drift_mutant(out, i, "state " + name + " added",
                         [s](lc::DriftRule& d) { d.from = d.from.with(s); });
      }
    }
    for (lc::Reaction reaction : kReactions) {
      if (reaction == r.reaction) continue;
      add_drift_mutant(out, i, "reaction -> " + std::to_string(static_cast<int>(reaction)),
                       [reaction](lc::DriftRule& d) { d.reaction = reaction; });
    }
    for (lc::Observation seen : kObservations) {
      if (seen == r.seen) continue;
      add_drift_mutant(out, i, "observation -> " + std::string(lc::observation_name(seen)),
                       [seen](lc::DriftRule& d) { d.seen = seen; });
    }
    for (lc::DriftPolicy policy : kPolicies) {
      if (policy == r.policy) continue;
      add_drift_mutant(out, i, "policy -> " + std::string(lc::drift_policy_name(policy)),
                       [policy](lc::DriftRule& d) { d.policy = policy; });
    }
  }
}

}  // namespace

std::string_view table_name(Table table) {
  switch (table) {
    case Table::kTransitions:
      return "transition table";
    case Table::kVerbRules:
      return "verb rules";
    case Table::kDriftRules:
      return "drift rules";
  }
  return "?";
}

std::vector<Mutant> data_mutants() {
  std::vector<Mutant> out;
  transition_mutants(out);
  verb_mutants(out);
  drift_mutants(out);
  return out;
}

}  // namespace corral::mutate
