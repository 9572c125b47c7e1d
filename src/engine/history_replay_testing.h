// Test helper: replays a VM's history through the lifecycle model, entry by entry, and says
// whether every entry is a step the model takes — not only a continuous path of states.
//
// Contract:
// - The first entry must be the creation (INIT -> INIT, create, phase init, running), which
//   the model starts as new_record().
// - Each later entry must be what one model step gives from a record the earlier entries lead
//   to: lifecycle::begin(record, {entry.action, entry.to}) (a request, the scheduler, a drift
//   reaction, a pre-emption, cancel, recover, reset_state), phase_succeeded, phase_failed
//   (failed, the origin unknown or intact: the history does not say which the driver reported,
//   the entry's end state does), or late_success — on the entry's from, to, phase (the phase
//   of the record after the step, as the engine writes it) and status. The one entry that is
//   no model step is the engine's re-dispatch after a restart (actor "recovery"): it changes
//   nothing, so it must name the running operation's current phase.
// - The power is the driver's to report and the history does not record it: where no step
//   from the records the model keeps matches an entry, every other power is tried (the power
//   decides confirm/revert resize's end and what a rollback keeps).
// - Header-only on purpose: the engine's unit tests and the integration tests (which read the
//   history over HTTP) both use it, with only the lifecycle library linked.
#pragma once

#include <string>
#include <vector>

#include "lifecycle/model.h"
#include "store/types.h"

namespace corral::engine::testing {

struct Replay {
  std::string error;                      // empty if every entry is a model step
  std::vector<lifecycle::VmRecord> ends;  // the records the model may be in after the last
  std::size_t steps = 0;                  // entries replayed
  bool ok() const { return error.empty(); }
};

inline std::string describe_entry(const store::TransitionRow& e) {
  return std::string(lifecycle::state_name(e.from)) + " -> " +
         std::string(lifecycle::state_name(e.to)) + ", " +
         std::string(lifecycle::action_name(e.action)) + ", phase " +
         std::string(lifecycle::phase_name(e.phase)) + ", " +
         std::string(lifecycle::op_status_name(e.status)) + " (actor " + e.actor + ", reason \"" +
         e.reason + "\")";
}

inline std::string describe_record(const lifecycle::VmRecord& r) {
  std::string s = std::string(lifecycle::state_name(r.state));
  if (r.op) {
    s += " [" + std::string(lifecycle::action_name(r.op->action)) + " from " +
         std::string(lifecycle::state_name(r.op->origin)) + ", phase " +
         std::string(lifecycle::phase_name(lifecycle::current_phase(*r.op))) + ", " +
         std::string(lifecycle::op_status_name(r.op->status)) + "]";
  }
  return s;
}

// Whether the entry is what the step gives (the engine writes the phase and status of the
// record after the step).
inline bool entry_is(const store::TransitionRow& e, const lifecycle::Step& step) {
  const lifecycle::VmRecord& r = step.record;
  const lifecycle::Phase phase = r.op ? lifecycle::current_phase(*r.op) : lifecycle::Phase::kNone;
  const lifecycle::OpStatus status = r.op ? r.op->status : lifecycle::OpStatus::kSucceeded;
  return e.from == step.from && e.to == step.to && e.phase == phase && e.status == status;
}

inline Replay replay_history(const std::vector<store::TransitionRow>& history) {
  namespace lc = corral::lifecycle;
  Replay out;
  if (history.empty()) {
    out.error = "empty history";
    return out;
  }
  const store::TransitionRow& first = history.front();
  const lc::VmRecord created = lc::new_record();
  if (first.action != lc::Action::kCreate ||
      !entry_is(first, lc::Step{created, lc::State::kInit, lc::State::kInit, lc::Phase::kInit,
                                std::nullopt})) {
    out.error = "entry 0 is not the creation: " + describe_entry(first);
    return out;
  }
  std::vector<lc::VmRecord> frontier = {created};
  out.steps = 1;
  constexpr lc::Power kPowers[] = {lc::Power::kNoState, lc::Power::kRunning,
                                   lc::Power::kPaused,  lc::Power::kShutdown,
                                   lc::Power::kCrashed, lc::Power::kSuspended};
  for (std::size_t i = 1; i < history.size(); ++i) {
    const store::TransitionRow& e = history[i];
    std::vector<lc::VmRecord> next;
    const auto keep = [&](const lc::Step& step) {
      if (!entry_is(e, step)) return;
      for (const lc::VmRecord& seen : next) {
        if (seen == step.record) return;
      }
      next.push_back(step.record);
    };
    const auto try_steps = [&](const lc::VmRecord& r) {
      if (r.busy() && e.action == r.op->action) {
        keep(lc::phase_succeeded(r));
        keep(lc::phase_failed(r, lc::OpStatus::kFailed, lc::Integrity::kUnknown));
        keep(lc::phase_failed(r, lc::OpStatus::kFailed, lc::Integrity::kIntact));
      }
      if (r.op && !r.busy() && e.action == r.op->action) {
        if (std::optional<lc::Step> late = lc::late_success(r)) keep(*late);
      }
      if (lc::allowed(r, e.action)) {
        if (Result<lc::Step> begun = lc::begin(r, {e.action, e.to})) keep(*begun);
      }
    };
    for (const lc::VmRecord& at : frontier) {
      if (e.actor == "recovery") {  // re-dispatched after a restart: nothing changes
        if (at.busy() && e.action == at.op->action) {
          keep(lc::Step{at, at.state, at.state, lc::current_phase(*at.op), std::nullopt});
        }
        continue;
      }
      try_steps(at);
    }
    // The power the model keeps may not be the one the driver reported: try every other one.
    if (next.empty() && e.actor != "recovery") {
      for (const lc::VmRecord& at : frontier) {
        for (lc::Power power : kPowers) {
          if (at.power == power) continue;
          lc::VmRecord r = at;
          r.power = power;
          try_steps(r);
        }
      }
    }
    if (next.empty()) {
      out.error = "entry " + std::to_string(i) + " (" + describe_entry(e) +
                  ") is no step the model takes from";
      for (const lc::VmRecord& r : frontier) out.error += " " + describe_record(r) + ";";
      return out;
    }
    frontier = std::move(next);
    ++out.steps;
  }
  out.ends = std::move(frontier);
  return out;
}

// Whether `actual` (a VM's record now) is one the replay may end in; the power aside.
inline bool replay_ends_at(const Replay& replay, const lifecycle::VmRecord& actual) {
  for (lifecycle::VmRecord end : replay.ends) {
    end.power = actual.power;
    if (end == actual) return true;
  }
  return false;
}

}  // namespace corral::engine::testing
