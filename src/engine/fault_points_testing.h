// Test helper: where the generated fault and crash tests strike, computed from the transition
// table alone — every (row, origin, phase) of every row whose phases a request starts.
//
// Contract: header-only (the engine's fault test and the integration crash tests both use
// it, with only the lifecycle library linked); reads lifecycle::transitions() afresh on every
// call, so a new row or origin is covered without new test code.
#pragma once

#include <compare>
#include <cstdint>
#include <set>
#include <string>

#include "lifecycle/table.h"

namespace corral::engine::testing {

// A row whose phases a driver (or, for schedule, the engine) runs because a request started
// it: every row with phases — create and the pre-empting rows included — but the system
// actions' and those that act on an operation (cancel, recover).
inline bool request_starts_phases(const lifecycle::Transition& t) {
  return !t.instant() && !lifecycle::is_system_action(t.action) &&
         !lifecycle::is_meta_target(t.target);
}

// One phase of one row, started from one origin.
struct FaultPoint {
  std::size_t row = 0;  // index in lifecycle::transitions()
  lifecycle::State origin = lifecycle::State::kInit;
  std::uint8_t step = 0;  // index of the phase in the row
  friend auto operator<=>(const FaultPoint&, const FaultPoint&) = default;

  const lifecycle::Transition& transition() const { return lifecycle::transitions()[row]; }
  lifecycle::Phase phase() const { return transition().steps[step].phase; }
  std::string describe() const {
    const lifecycle::Transition& t = transition();
    return std::string(lifecycle::action_name(t.action)) + (t.when_idle ? "" : " (pre-empting)") +
           " from " + std::string(lifecycle::state_name(origin)) + ", phase " +
           std::string(lifecycle::phase_name(phase()));
  }
};

// The first state (in number order, INIT included) the row starts from.
inline lifecycle::State first_origin_of(const lifecycle::Transition& t) {
  for (lifecycle::State s : lifecycle::kAllStates) {
    if (t.from.contains(s)) return s;
  }
  return lifecycle::State::kDone;
}

// Every (row, origin, phase) of the rows request_starts_phases(); with `every_origin` false,
// only each row's first origin.
inline std::set<FaultPoint> fault_points_from_table(bool every_origin = true) {
  std::set<FaultPoint> out;
  const std::span<const lifecycle::Transition> rows = lifecycle::transitions();
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const lifecycle::Transition& t = rows[r];
    if (!request_starts_phases(t)) continue;
    for (lifecycle::State origin : lifecycle::kAllStates) {
      if (!t.from.contains(origin)) continue;
      if (!every_origin && origin != first_origin_of(t)) continue;
      for (std::uint8_t s = 0; s < t.step_count; ++s) out.insert({r, origin, s});
    }
  }
  return out;
}

// For a pre-empting row `t` from `origin` (not INIT, where the running operation is the
// create): the operation a test starts from there and hangs in its first phase, for `t` to
// cut short — the first row (in table order) that runs from `origin`, that `t` may pre-empt
// and whose first phase a driver runs. nullptr if there is none.
inline const lifecycle::Transition* operation_to_preempt(const lifecycle::Transition& t,
                                                         lifecycle::State origin) {
  for (const lifecycle::Transition& c : lifecycle::transitions()) {
    if (c.when_idle && c.from.contains(origin) && t.during.contains(c.action) &&
        c.action != lifecycle::Action::kCreate && request_starts_phases(c) &&
        c.steps[0].phase != lifecycle::Phase::kSchedule) {
      return &c;
    }
  }
  return nullptr;
}

}  // namespace corral::engine::testing
