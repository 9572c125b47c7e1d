// The moments the golden checks walk, built through model.h's public functions alone.
#include <string>

#include "lifecycle/golden/golden.h"

namespace corral::lifecycle::golden {
namespace {

// A running operation, started from `origin`, that a row running only `during` may replace.
std::optional<VmRecord> running_from(State origin, const ActionSet& during) {
  if (origin == State::kInit) {
    if (!during.contains(Action::kCreate)) return std::nullopt;
    return new_record();
  }
  const VmRecord rest = record_at_rest(origin);
  for (Action a : kAllActions) {
    if (is_system_action(a) || !during.contains(a)) continue;
    const Transition* t = find_idle(a, origin);
    if (t == nullptr || t->instant() || is_meta_target(t->target)) continue;
    auto started = begin(rest, {a});
    if (started && started->record.busy()) return started->record;
  }
  return std::nullopt;
}

// The rows a moment's (action, origin, during) can start by, as the model looks them up.
const Transition* lookup(Action action, State origin, bool during) {
  return during ? find_replacing(action, origin) : find_idle(action, origin);
}

}  // namespace

std::string_view outcome_name(Outcome outcome) {
  switch (outcome) {
    case Outcome::kRunning:
      return "running";
    case Outcome::kFailed:
      return "failed";
    case Outcome::kFailedIntact:
      return "failed (origin intact)";
    case Outcome::kCanceled:
      return "canceled";
    case Outcome::kSucceeded:
      return "succeeded";
    case Outcome::kAtRest:
      return "at rest";
    case Outcome::kUndoFailed:
      return "failed, and so did its undo";
  }
  return "?";
}

std::string Moment::describe() const {
  if (outcome == Outcome::kAtRest) return "at rest in " + std::string(state_name(origin));
  std::string s = std::string(action_name(action)) + " from " + std::string(state_name(origin));
  if (during) s += " (pre-empting)";
  if (phase != Phase::kNone) {
    s += ", " + std::string(phase_name(phase)) + " (step " + std::to_string(step) + ")";
  }
  s += " " + std::string(outcome_name(outcome));
  return s;
}

std::optional<VmRecord> record_of(Action action, State origin, bool during, std::uint8_t step,
                                  Outcome outcome) {
  if (outcome == Outcome::kAtRest) return record_at_rest(origin);
  const Transition* t = lookup(action, origin, during);
  if (t == nullptr || is_meta_target(t->target)) return std::nullopt;

  VmRecord r;
  if (action == Action::kCreate && origin == State::kInit && !during) {
    r = new_record();  // the only way into INIT: create has begun
  } else {
    std::optional<VmRecord> base =
        during ? running_from(origin, t->during) : std::optional<VmRecord>(record_at_rest(origin));
    if (!base) return std::nullopt;
    auto started = begin(*base, {action});
    if (!started) return std::nullopt;
    r = started->record;
  }
  if (t->instant()) {
    if (outcome != Outcome::kSucceeded || step != 0) return std::nullopt;
    return r;
  }
  if (step >= t->step_count) return std::nullopt;
  for (std::uint8_t i = 0; i < step; ++i) {
    if (!r.busy()) return std::nullopt;
    r = phase_succeeded(r).record;
  }
  if (!r.busy() || r.op->step != step) return std::nullopt;
  switch (outcome) {
    case Outcome::kRunning:
      return r;
    case Outcome::kFailed:
      return phase_failed(r, OpStatus::kFailed, Integrity::kUnknown).record;
    case Outcome::kFailedIntact:
      return phase_failed(r, OpStatus::kFailed, Integrity::kIntact).record;
    case Outcome::kCanceled:
      return phase_failed(r, OpStatus::kCanceled, Integrity::kUnknown).record;
    case Outcome::kSucceeded:
      if (step + 1 != t->step_count) return std::nullopt;
      return phase_succeeded(r).record;
    case Outcome::kUndoFailed: {
      const VmRecord undoing = phase_failed(r, OpStatus::kFailed, Integrity::kUnknown).record;
      if (!undoing.busy() || !undoing.op->undoing) return std::nullopt;
      return phase_failed(undoing, OpStatus::kFailed, Integrity::kUnknown).record;
    }
    case Outcome::kAtRest:
      break;
  }
  return std::nullopt;
}

std::vector<Moment> moments() {
  std::vector<Moment> out;
  for (State s : kAllStates) {
    Moment m;
    m.origin = s;
    m.outcome = Outcome::kAtRest;
    m.record = record_at_rest(s);
    out.push_back(m);
  }
  for (const Transition& t : transitions()) {
    if (is_meta_target(t.target)) continue;
    for (const bool during : {false, true}) {
      if (during ? t.during.empty() : !t.when_idle) continue;
      for (State origin : kAllStates) {
        if (!t.from.contains(origin) || lookup(t.action, origin, during) != &t) continue;
        auto add = [&](std::uint8_t step, Outcome outcome) {
          auto record = record_of(t.action, origin, during, step, outcome);
          if (!record) return;
          Moment m;
          m.action = t.action;
          m.origin = origin;
          m.during = during;
          m.step = step;
          m.phase = t.instant() ? Phase::kNone : t.steps[step].phase;
          m.outcome = outcome;
          m.row = &t;
          m.record = *record;
          // A failure that rolls back through undo phases: the moment is where it settles
          // once they succeeded (what the views are checked at); the outcomes table also
          // checks the undo itself, from where it began.
          if (record->busy() && record->op->undoing && outcome != Outcome::kRunning &&
              outcome != Outcome::kUndoFailed) {
            m.undo_began = *record;
            while (m.record.busy()) m.record = phase_succeeded(m.record).record;
          }
          out.push_back(m);
        };
        if (t.instant()) {
          add(0, Outcome::kSucceeded);
          continue;
        }
        for (std::uint8_t i = 0; i < t.step_count; ++i) {
          add(i, Outcome::kRunning);
          add(i, Outcome::kFailed);
          add(i, Outcome::kCanceled);
          if (t.steps[i].on_failure == FailureRule::kRollbackIfIntact) {
            add(i, Outcome::kFailedIntact);
          }
          if (t.undo_count > 0) add(i, Outcome::kUndoFailed);
        }
        add(static_cast<std::uint8_t>(t.step_count - 1), Outcome::kSucceeded);
      }
    }
  }
  return out;
}

std::vector<std::string_view> words(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') ++i;
    std::size_t j = i;
    while (j < text.size() && text[j] != ' ') ++j;
    if (j > i) out.push_back(text.substr(i, j - i));
    i = j;
  }
  return out;
}

const std::vector<NamedCheck>& all_checks() {
  static const std::vector<NamedCheck> kChecks = {
      {"outcomes", &check_outcomes},     {"allowed", &check_allowed},
      {"opennebula", &check_opennebula}, {"nova", &check_nova},
      {"azure", &check_azure},           {"stratuslab", &check_stratuslab},
      {"vocabulary", &check_vocabulary}, {"drift", &check_drift},
      {"columns", &check_columns},
  };
  return kChecks;
}

}  // namespace corral::lifecycle::golden
