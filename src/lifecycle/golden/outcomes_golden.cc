// Golden table: outcomes — the check. The rows (outcome_rows.h, written from the sources) give
// for every row of the transition table and every origin it allows the phases in order, where
// a failure, a failure with the origin intact and a cancel of each phase end, and where success
// ends. check_outcomes holds every moment of the model (golden.h) against them both ways, runs
// each idle row again with the VM's power flipped (only a by-power row may end elsewhere), and
// checks what cancel, recover and reset_state do at every running or failed moment.
//
// The observed_* rows are the drift table's (src/lifecycle/drift.h): check_drift pins them.
#include <algorithm>
#include <array>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "lifecycle/golden/golden.h"
#include "lifecycle/golden/outcome_rows.h"

namespace corral::lifecycle::golden {
namespace {

using outcome_rows::kRows;
using outcome_rows::Row;

enum class FailEnd : std::uint8_t { kOrigin, kFailed, kTarget, kIfIntact, kUndo };
enum class SuccessEnd : std::uint8_t { kState, kOrigin, kByPower };

struct PhaseEnd {
  Phase phase = Phase::kNone;
  FailEnd end = FailEnd::kOrigin;
};

// An undo phase of a golden row: "<phase>@<side>", `+removes` when it removes the VM's copy
// on that side (table.h PhaseStep::removes_copy).
struct UndoStep {
  Phase phase = Phase::kNone;
  RunsOn side = RunsOn::kHost;
  bool removes = false;
};

// A row of kRows, parsed.
struct Entry {
  const Row* row = nullptr;
  Action action = Action::kCreate;
  StateSet origins;
  std::vector<PhaseEnd> steps;
  std::vector<UndoStep> undo;  // the undo phases, in order
  SuccessEnd success = SuccessEnd::kState;
  State to = State::kInit;

  std::string describe() const {
    return "golden " + std::string(row->action) + (row->preempting ? " (pre-empting)" : "") +
           " from " + std::string(row->origins) + ": " + std::string(row->path) + " [" +
           std::string(row->source) + "]";
  }
};

std::optional<Phase> parse_phase(std::string_view name) {
  for (Phase p : kAllPhases) {
    if (phase_name(p) == name) return p;
  }
  return std::nullopt;
}

std::optional<Entry> parse(const Row& row, std::string& error) {
  Entry e;
  e.row = &row;
  const auto action = parse_action(row.action);
  if (!action) return error = "unknown action " + std::string(row.action), std::nullopt;
  e.action = *action;
  for (std::string_view w : words(row.origins)) {
    const auto s = parse_state(w);
    if (!s) return error = "unknown state " + std::string(w), std::nullopt;
    e.origins = e.origins.with(*s);
  }
  const std::vector<std::string_view> tokens = words(row.path);
  if (tokens.size() < 2 || tokens[tokens.size() - 2] != "->") {
    return error = "path must end in '-> <end>'", std::nullopt;
  }
  for (std::size_t i = 0; i + 2 < tokens.size(); ++i) {
    const std::size_t colon = tokens[i].find(':');
    const auto phase = parse_phase(tokens[i].substr(0, colon));
    if (colon == std::string_view::npos || !phase) {
      return error = "bad phase " + std::string(tokens[i]), std::nullopt;
    }
    const std::string_view end = tokens[i].substr(colon + 1);
    PhaseEnd step{*phase, FailEnd::kOrigin};
    if (end == "FAILED") {
      step.end = FailEnd::kFailed;
    } else if (end == "target") {
      step.end = FailEnd::kTarget;
    } else if (end == "if-intact") {
      step.end = FailEnd::kIfIntact;
    } else if (end == "undo") {
      step.end = FailEnd::kUndo;
    } else if (end != "origin") {
      return error = "bad failure end " + std::string(end), std::nullopt;
    }
    e.steps.push_back(step);
  }
  for (std::string_view w : words(row.undo)) {
    const std::size_t at = w.find('@');
    const auto phase = parse_phase(w.substr(0, at));
    std::string_view side = at == std::string_view::npos ? "" : w.substr(at + 1);
    constexpr std::string_view kRemoves = "+removes";
    const bool removes = side.ends_with(kRemoves);
    if (removes) side.remove_suffix(kRemoves.size());
    if (!phase || (side != "source" && side != "target")) {
      return error = "bad undo phase " + std::string(w), std::nullopt;
    }
    e.undo.push_back({*phase, side == "source" ? RunsOn::kSource : RunsOn::kTarget, removes});
  }
  const bool marks_undo = std::any_of(e.steps.begin(), e.steps.end(),
                                      [](const PhaseEnd& p) { return p.end == FailEnd::kUndo; });
  if (marks_undo != !e.undo.empty()) {
    return error = "a failure marked undo needs undo phases, and undo phases a failure",
           std::nullopt;
  }
  const std::string_view last = tokens.back();
  if (last == "origin") {
    e.success = SuccessEnd::kOrigin;
  } else if (last == "by-power") {
    e.success = SuccessEnd::kByPower;
  } else if (const auto s = parse_state(last)) {
    e.to = *s;
  } else {
    return error = "bad success end " + std::string(last), std::nullopt;
  }
  return e;
}

// The golden rows parsed once (they are this file's own data, not the model's), with an index
// by (action, origin, pre-empting).
struct Golden {
  std::vector<Entry> entries;
  std::vector<std::string> errors;  // malformed or overlapping rows
  std::array<std::array<std::array<int, 2>, kStateCount>, kActionCount> index{};

  Golden() {
    for (auto& per_action : index) {
      for (auto& per_state : per_action) per_state = {-1, -1};
    }
    for (const Row& row : kRows) {
      std::string error;
      std::optional<Entry> e = parse(row, error);
      if (!e) {
        errors.push_back("golden row " + std::string(row.action) + " from " +
                         std::string(row.origins) + " is malformed: " + error);
        continue;
      }
      const int i = static_cast<int>(entries.size());
      for (State s : kAllStates) {
        if (!e->origins.contains(s)) continue;
        int& cell = index[static_cast<std::size_t>(e->action)][static_cast<std::size_t>(s)]
                         [row.preempting ? 1 : 0];
        if (cell >= 0)
          errors.push_back("two golden rows for " + std::string(row.action) + " from " +
                           std::string(state_name(s)));
        cell = i;
      }
      entries.push_back(std::move(*e));
    }
  }

  const Entry* find(Action a, State origin, bool preempting) const {
    const int i =
        index[static_cast<std::size_t>(a)][static_cast<std::size_t>(origin)][preempting ? 1 : 0];
    return i < 0 ? nullptr : &entries[static_cast<std::size_t>(i)];
  }
};

const Golden& golden() {
  static const Golden kGolden;
  return kGolden;
}

State success_end(const Entry& e, State origin, Power power) {
  switch (e.success) {
    case SuccessEnd::kState:
      return e.to;
    case SuccessEnd::kOrigin:
      return origin;
    case SuccessEnd::kByPower:
      return power == Power::kRunning ? State::kRunning : State::kPoweroff;
  }
  return e.to;
}

State failure_end(const Entry& e, std::size_t step, State origin, Power power, bool intact) {
  switch (e.steps[step].end) {
    case FailEnd::kOrigin:
      return origin;
    case FailEnd::kFailed:
      return State::kFailed;
    case FailEnd::kTarget:
      return success_end(e, origin, power);
    case FailEnd::kIfIntact:
      return intact ? origin : State::kFailed;
    case FailEnd::kUndo:
      return origin;  // once the undo phases ran (check_undo)
  }
  return State::kFailed;
}

// A failure marked `undo`: the record runs the undo phases in order, from the first; their
// success ends at the origin with the status the failure had, a failed one stops in FAILED.
void check_undo(const Entry& e, const VmRecord& failed, State origin, OpStatus why,
                const std::function<void(std::string_view)>& fail) {
  VmRecord r = failed;
  for (std::size_t k = 0; k < e.undo.size(); ++k) {
    if (!r.busy() || !r.op->undoing || *r.op->undoing != why || r.op->step != k ||
        current_phase(*r.op) != e.undo[k].phase || current_runs_on(*r.op) != e.undo[k].side ||
        current_removes_copy(*r.op) != e.undo[k].removes || r.state != failed.state) {
      return fail("expected undo phase " + std::string(phase_name(e.undo[k].phase)) + " on the " +
                  std::string(runs_on_name(e.undo[k].side)) +
                  (e.undo[k].removes ? " removing its copy" : "") + " running");
    }
    const VmRecord stuck = phase_failed(r, OpStatus::kFailed).record;
    if (stuck.busy() || stuck.state != State::kFailed) {
      return fail("expected a failed undo phase to stop in FAILED");
    }
    r = phase_succeeded(r).record;
  }
  if (r.busy() || r.state != origin || !r.op || r.op->status != why) {
    fail("expected " + std::string(state_name(origin)) + ", " + std::string(op_status_name(why)) +
         " once undone");
  }
}

std::string said(const VmRecord& r) {
  std::string s = "model: " + std::string(state_name(r.state));
  if (r.op) {
    s += ", " + std::string(action_name(r.op->action)) + " " +
         std::string(op_status_name(r.op->status)) + " at step " + std::to_string(r.op->step);
    if (r.busy()) s += " (" + std::string(phase_name(current_phase(*r.op))) + ")";
  }
  return s;
}

// Outcomes seen per (entry, origin): bit step * 8 + outcome.
using Seen = std::vector<std::array<std::uint64_t, kStateCount>>;
std::uint64_t bit(std::uint8_t step, Outcome outcome) {
  return std::uint64_t{1} << (step * 8U + static_cast<unsigned>(outcome));
}

// One moment against its golden entry.
void check_moment(const Moment& m, const Entry& e, Mismatches& out) {
  const VmRecord& r = m.record;
  const auto fail = [&](std::string_view what) {
    out.add(m.describe() + ": " + std::string(what) + "; " + e.describe() + "; " + said(r));
  };
  // The row's undo column is the golden's, phase for phase and side for side (a row with no
  // failure marked undo has none, whether or not a rollback would run it).
  if (m.row != nullptr) {
    const std::span<const PhaseStep> undo = m.row->undo();
    bool same = undo.size() == e.undo.size();
    for (std::size_t k = 0; same && k < undo.size(); ++k) {
      same = undo[k].phase == e.undo[k].phase && undo[k].runs_on == e.undo[k].side &&
             undo[k].removes_copy == e.undo[k].removes;
    }
    if (!same) return fail("the row's undo phases are not the golden's");
  }
  // The power a by-power row reads: the record the operation started from.
  const Power power = record_at_rest(m.origin).power;
  if (e.steps.empty()) {
    if (m.phase != Phase::kNone) return fail("the model runs phases");
    const State want = success_end(e, m.origin, power);
    if (r.busy() || r.state != want || !r.op || r.op->status != OpStatus::kSucceeded) {
      fail("expected " + std::string(state_name(want)) + ", succeeded");
    }
    return;
  }
  if (m.phase == Phase::kNone) return fail("the model runs no phase");
  if (m.step >= e.steps.size()) return fail("the model has more phases");
  const PhaseEnd& step = e.steps[m.step];
  if (m.phase != step.phase) {
    return fail("expected phase " + std::string(phase_name(step.phase)) + " at step " +
                std::to_string(m.step));
  }
  State want = m.origin;
  bool busy = false;
  OpStatus status = OpStatus::kFailed;
  switch (m.outcome) {
    case Outcome::kRunning:
      busy = true;
      status = OpStatus::kRunning;
      break;
    case Outcome::kFailed:
      want = failure_end(e, m.step, m.origin, power, false);
      break;
    case Outcome::kFailedIntact:
      if (step.end != FailEnd::kIfIntact)
        return fail("the model asks whether the origin is intact");
      want = failure_end(e, m.step, m.origin, power, true);
      break;
    case Outcome::kCanceled:
      want = failure_end(e, m.step, m.origin, power, false);
      status = OpStatus::kCanceled;
      break;
    case Outcome::kSucceeded:
      if (m.step + 1U != e.steps.size()) return fail("the model ends before the last phase");
      want = success_end(e, m.origin, power);
      status = OpStatus::kSucceeded;
      break;
    case Outcome::kUndoFailed:
      if (step.end != FailEnd::kUndo) return fail("the model undoes where the golden does not");
      want = State::kFailed;  // check_undo: a failed undo phase stops in FAILED
      break;
    case Outcome::kAtRest:
      return;
  }
  if (step.end == FailEnd::kUndo &&
      (m.outcome == Outcome::kFailed || m.outcome == Outcome::kCanceled)) {
    if (!m.undo_began || m.undo_began->op->action != m.action) {
      return fail("expected the operation undoing");
    }
    check_undo(e, *m.undo_began, m.origin, status, fail);
    // Where it settles, the other tables' moment.
    if (r.busy() || r.state != m.origin || !r.op || r.op->status != status) {
      fail("expected " + std::string(state_name(m.origin)) + " once undone");
    }
    return;
  }
  const bool phase_ok = !busy || current_phase(*r.op) == step.phase;
  if (r.busy() != busy || r.state != want || !r.op || r.op->status != status ||
      r.op->action != m.action || !phase_ok) {
    return fail("expected " + std::string(state_name(want)) + (busy ? " while running" : "") +
                ", " + std::string(op_status_name(status)));
  }
  // Only a failure that kept its target may turn into a success later (seed 000:290: "the
  // platform will automatically transition to success from failure").
  if (m.outcome == Outcome::kFailed &&
      late_success(r).has_value() != (step.end == FailEnd::kTarget)) {
    fail(step.end == FailEnd::kTarget ? "expected a late success to be possible"
                                      : "expected no late success");
  }
}

// Where a row ends does not depend on the VM's power, except for a by-power row (nova.md:42-43):
// each idle entry runs again from its origin with the power flipped, to its success end.
void check_power_flip(const Entry& e, State origin, Mismatches& out) {
  if (e.row->preempting || origin == State::kInit) return;
  VmRecord r = record_at_rest(origin);
  r.power = r.power == Power::kRunning ? Power::kShutdown : Power::kRunning;
  const Power power = r.power;
  auto started = begin(r, {e.action});
  if (!started) return;  // reported by the moments already
  r = started->record;
  for (std::size_t i = 0; i < e.steps.size() && r.busy(); ++i) r = phase_succeeded(r).record;
  const State want = success_end(e, origin, power);
  if (r.busy() || r.state != want) {
    out.add(std::string(action_name(e.action)) + " from " + std::string(state_name(origin)) +
            " with power " + std::string(power_name(power)) + " succeeded: expected " +
            std::string(state_name(want)) + "; " + e.describe() + "; " + said(r));
  }
}

// ---- Operations on operations: cancel, recover, reset_state -------------------------------

// What an action does to the operation it acts on, checked at every moment it applies to.
enum class Effect : std::uint8_t {
  kEndsCanceled,  // the phase ends as its failure would (origin unknown), the op canceled
  kEndsFailed,    // the phase ends as its failure would (origin unknown), the op failed
  kRunsAgain,     // the same phase is sent to the driver again; nothing else changes
  kPhaseDone,     // the phase is declared done: the next one runs, or the operation ends
  kBackToOrigin,  // the VM returns to where the failed operation started, op still failed
  kSetsState,     // the state becomes the one asked for (RUNNING, FAILED); power untouched
};
enum class On : std::uint8_t {
  kRunning,  // a running phase (every row, origin and phase; pre-empting rows too)
  kFailed,   // a phase that failed or was canceled into FAILED
  kAtRest,   // a VM at rest in a live state (record_at_rest)
};
struct OperationRow {
  Action action;
  On on;
  Effect effect;
  std::string_view source;
};

// clang-format off
constexpr OperationRow kOperations[] = {
  {Action::kCancel, On::kRunning, Effect::kEndsCanceled,
   "seed 000:264-267 (a user-initiated cancel ends Canceled); reference opennebula.md:50 (DRIVER_CANCEL); a cancel knows nothing of the origin (types.h)"},
  {Action::kRecoverFailure, On::kRunning, Effect::kEndsFailed,
   "reference opennebula.md:47 (--failure re-fires the failure callback of the step in progress)"},
  {Action::kRecoverSuccess, On::kRunning, Effect::kPhaseDone,
   "reference opennebula.md:47 (--success re-fires the success callback)"},
  {Action::kRecoverRetry, On::kRunning, Effect::kRunsAgain,
   "reference opennebula.md:49 (in-progress steps: re-send without state change)"},
  {Action::kResetState, On::kRunning, Effect::kSetsState,
   "reference nova.md:54 (no check; vm_state set, task cleared, the hypervisor not touched)"},
  {Action::kRecoverRetry, On::kFailed, Effect::kRunsAgain,
   "reference opennebula.md:49 (*_FAILURE -> back to the step, re-sent); Corral's choice: the record stays FAILED meanwhile (model.h)"},
  {Action::kRecoverSuccess, On::kFailed, Effect::kPhaseDone,
   "reference opennebula.md:47 (the failed step's success callback)"},
  {Action::kRecoverFailure, On::kFailed, Effect::kBackToOrigin,
   "Corral's choice (docs/state-model.md decision 4): back where the operation started, as OpenNebula's users asked (reference opennebula.md:109, #1206); OpenNebula stays put (opennebula.md:48)"},
  {Action::kResetState, On::kFailed, Effect::kSetsState, "reference nova.md:54, nova.md:186"},
  {Action::kResetState, On::kAtRest, Effect::kSetsState, "reference nova.md:54"},
};
// clang-format on

void check_operation(const OperationRow& op, const Moment& m, const Entry* e, Mismatches& out) {
  const VmRecord& before = m.record;
  const std::string where = m.describe() + ", then " + std::string(action_name(op.action));
  const auto fail = [&](const VmRecord& after, std::string_view expected) {
    out.add(where + ": expected " + std::string(expected) + " [" + std::string(op.source) + "]" +
            (e != nullptr ? "; " + e->describe() : "") + "; " + said(after));
  };
  const auto start = [&](State reset_to) -> std::optional<VmRecord> {
    Result<Step> s = begin(before, {op.action, reset_to});
    if (!s) {
      out.add(where + ": refused (" + s.error().message + "); golden allows it [" +
              std::string(op.source) + "]");
      return std::nullopt;
    }
    return s->record;
  };
  switch (op.effect) {
    case Effect::kSetsState:
      for (State to : {State::kRunning, State::kFailed}) {
        const auto r = start(to);
        if (!r) return;
        const OpStatus st = to == State::kFailed ? OpStatus::kFailed : OpStatus::kSucceeded;
        if (r->busy() || r->state != to || !r->op || r->op->action != Action::kResetState ||
            r->op->status != st || r->power != before.power) {
          fail(*r, std::string(state_name(to)) + " set by reset_state, power untouched");
        }
      }
      return;
    case Effect::kBackToOrigin: {
      const auto r = start(State::kRunning);
      if (r && (r->busy() || r->state != m.origin || r->op != before.op)) {
        fail(*r, std::string(state_name(m.origin)) + ", the failed operation kept");
      }
      return;
    }
    case Effect::kEndsCanceled:
    case Effect::kEndsFailed:
    case Effect::kRunsAgain:
    case Effect::kPhaseDone:
      break;
  }
  if (e == nullptr || m.step >= e->steps.size()) return;  // reported by check_moment
  const auto r = start(State::kRunning);
  if (!r) return;
  const std::size_t k = m.step;
  switch (op.effect) {
    case Effect::kEndsCanceled:
    case Effect::kEndsFailed: {
      const State want = failure_end(*e, k, m.origin, before.power, false);
      const OpStatus st =
          op.effect == Effect::kEndsCanceled ? OpStatus::kCanceled : OpStatus::kFailed;
      if (e->steps[k].end == FailEnd::kUndo) {
        return check_undo(*e, *r, m.origin, st, [&](std::string_view what) { fail(*r, what); });
      }
      if (r->busy() || r->state != want || !r->op || r->op->status != st ||
          r->op->action != m.action) {
        fail(*r, std::string(state_name(want)) + ", " + std::string(op_status_name(st)));
      }
      return;
    }
    case Effect::kRunsAgain:
      if (!r->busy() || r->state != before.state || r->op->action != m.action || r->op->step != k ||
          current_phase(*r->op) != e->steps[k].phase) {
        fail(*r, std::string(phase_name(e->steps[k].phase)) + " running again in " +
                     std::string(state_name(before.state)));
      }
      return;
    case Effect::kPhaseDone:
      if (k + 1 < e->steps.size()) {
        const Phase next = e->steps[k + 1].phase;
        if (!r->busy() || r->state != before.state || r->op->step != k + 1 ||
            current_phase(*r->op) != next) {
          fail(*r, std::string(phase_name(next)) + " running");
        }
      } else {
        const State want = success_end(*e, m.origin, before.power);
        if (r->busy() || r->state != want || !r->op || r->op->status != OpStatus::kSucceeded) {
          fail(*r, std::string(state_name(want)) + ", succeeded");
        }
      }
      return;
    case Effect::kSetsState:
    case Effect::kBackToOrigin:
      return;
  }
}

// Every operation row at every moment it applies to; a row that applies nowhere is a mismatch.
void check_operations(const Golden& g, const std::vector<Moment>& all, Mismatches& out) {
  std::array<bool, std::size(kOperations)> used{};
  for (const Moment& m : all) {
    if (out.full()) return;
    if (is_system_action(m.action) && m.outcome != Outcome::kAtRest) continue;
    On on = On::kRunning;
    const Entry* e = nullptr;
    if (m.outcome == Outcome::kAtRest) {
      if (m.record.busy() || !StateSet::all_live().contains(m.origin)) continue;
      on = On::kAtRest;
    } else {
      e = g.find(m.action, m.origin, m.during);
      if (e == nullptr || m.step >= e->steps.size()) continue;  // reported already
      if (m.outcome == Outcome::kFailed || m.outcome == Outcome::kCanceled) {
        const bool to_failed =
            failure_end(*e, m.step, m.origin, m.record.power, false) == State::kFailed;
        if (!to_failed || m.record.state != State::kFailed) continue;
        on = On::kFailed;
      } else if (m.outcome != Outcome::kRunning) {
        continue;  // kUndoFailed too: recovering a failed undo is model_test.cc's
      }
    }
    for (std::size_t i = 0; i < std::size(kOperations); ++i) {
      if (kOperations[i].on != on) continue;
      used[i] = true;
      check_operation(kOperations[i], m, e, out);
    }
  }
  for (std::size_t i = 0; i < std::size(kOperations); ++i) {
    if (!used[i]) {
      out.add("golden " + std::string(action_name(kOperations[i].action)) +
              " row matches no moment of the model [" + std::string(kOperations[i].source) + "]");
    }
  }
}

}  // namespace

Mismatches check_outcomes(std::size_t limit) {
  Mismatches out(limit);
  const Golden& g = golden();
  for (const std::string& e : g.errors) out.add(e);
  Seen seen(g.entries.size());
  const std::vector<Moment> all = moments();
  for (const Moment& m : all) {
    if (out.full()) return out;
    if (m.outcome == Outcome::kAtRest) continue;
    // Whatever the row, the record names the operation that was asked for (system actions
    // included: the history says observed_running, not what the row's target made of it).
    if (!m.record.op.has_value() || m.record.op->action != m.action) {
      out.add(m.describe() + ": the record's operation is not " +
              std::string(action_name(m.action)) + "; " + said(m.record));
      continue;
    }
    if (is_system_action(m.action)) continue;
    const Entry* e = g.find(m.action, m.origin, m.during);
    if (e == nullptr) {
      out.add(m.describe() + ": the model allows it; no golden row does; " + said(m.record));
      continue;
    }
    seen[static_cast<std::size_t>(e - g.entries.data())][static_cast<std::size_t>(m.origin)] |=
        bit(m.step, m.outcome);
    check_moment(m, *e, out);
  }
  // Golden -> model: every entry, origin, phase and outcome exists in the model.
  for (std::size_t i = 0; i < g.entries.size() && !out.full(); ++i) {
    const Entry& e = g.entries[i];
    for (State s : kAllStates) {
      if (!e.origins.contains(s) || out.full()) continue;
      const std::uint64_t got = seen[i][static_cast<std::size_t>(s)];
      auto need = [&](std::uint8_t step, Outcome o) {
        if ((got & bit(step, o)) != 0) return;
        std::string what = std::string(action_name(e.action)) + " from " +
                           std::string(state_name(s)) + (e.row->preempting ? " (pre-empting)" : "");
        if (!e.steps.empty()) what += ", " + std::string(phase_name(e.steps[step].phase));
        out.add(what + " " + std::string(outcome_name(o)) + ": not in the model; " + e.describe());
      };
      for (std::uint8_t k = 0; k < e.steps.size(); ++k) {
        for (Outcome o : {Outcome::kRunning, Outcome::kFailed, Outcome::kCanceled}) need(k, o);
        if (e.steps[k].end == FailEnd::kIfIntact) need(k, Outcome::kFailedIntact);
        if (e.steps[k].end == FailEnd::kUndo) need(k, Outcome::kUndoFailed);
      }
      need(e.steps.empty() ? 0 : static_cast<std::uint8_t>(e.steps.size() - 1),
           Outcome::kSucceeded);
      check_power_flip(e, s, out);
    }
  }
  // The system actions (their rows are not moments when instant rows target another kind):
  // wherever the model allows one, its record names it.
  for (Action a : kAllActions) {
    if (!is_system_action(a)) continue;
    for (State s : kAllStates) {
      if (out.full()) return out;
      auto step = begin(record_at_rest(s), {a});
      if (step && (!step->record.op.has_value() || step->record.op->action != a)) {
        out.add(std::string(action_name(a)) + " from " + std::string(state_name(s)) +
                ": the record's operation is not " + std::string(action_name(a)) + "; " +
                said(step->record));
      }
    }
  }
  if (!out.full()) check_operations(g, all, out);
  return out;
}

}  // namespace corral::lifecycle::golden
