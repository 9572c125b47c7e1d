// Golden table: the transition table's columns the engine turns into driver intents — each
// phase's side (runs_on), the power each phase leaves (power_after), and each row's effects.
// The rows (column_rows.h) are written from the sources. check_columns holds every moment of
// the model (golden.h) against them both ways:
// - at each running phase: the phase, its side (current_runs_on) and whether it removes the
//   VM's copy there (current_removes_copy), and the power the engine
//   would name for it (power_after_phase, given the power the phases before it left, as the
//   engine records each driver's answer before it starts the next phase);
// - at each success: the record's power (the row's end);
// - at every moment of an operation: its effects (lifecycle::effects);
// - every golden row and origin is something the model does.
// Meta rows (cancel, recover_*, reset_state: they act on another operation) carry no
// columns: no effects, no power, no phases.
#include <string>
#include <vector>

#include "lifecycle/golden/column_rows.h"
#include "lifecycle/golden/golden.h"

namespace corral::lifecycle::golden {
namespace {

using column_rows::kRows;
using column_rows::Row;

struct PhaseColumns {
  Phase phase = Phase::kNone;
  RunsOn side = RunsOn::kHost;
  std::optional<Power> power;  // nullopt: `same`
  bool removes = false;        // `+removes`: the phase removes the VM's copy on its side
};

struct Entry {
  const Row* row = nullptr;
  Action action = Action::kCreate;
  StateSet origins;
  std::vector<PhaseColumns> steps;
  std::optional<Power> instant_power;  // an instant row's end; nullopt: `same`
  Effects effects;

  std::string describe() const {
    return "golden " + std::string(row->action) + (row->preempting ? " (pre-empting)" : "") +
           " from " + std::string(row->origins) + ": " + std::string(row->path) + " / " +
           std::string(row->effects) + " [" + std::string(row->source) + "]";
  }
};

std::optional<Power> parse_power(std::string_view name, bool& ok) {
  ok = true;
  if (name == "same") return std::nullopt;
  for (Power p : {Power::kNoState, Power::kRunning, Power::kPaused, Power::kShutdown,
                  Power::kCrashed, Power::kSuspended}) {
    if (power_name(p) == name) return p;
  }
  ok = false;
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
  bool ok = true;
  if (!tokens.empty() && tokens[0] == "->") {
    if (tokens.size() != 2) return error = "an instant path is '-> <power>'", std::nullopt;
    e.instant_power = parse_power(tokens[1], ok);
    if (!ok) return error = "unknown power " + std::string(tokens[1]), std::nullopt;
  }
  for (std::size_t i = 0; i < tokens.size() && tokens[0] != "->"; ++i) {
    const std::size_t at = tokens[i].find('@');
    const std::size_t colon = tokens[i].find(':');
    if (at == std::string_view::npos || colon == std::string_view::npos || colon < at) {
      return error = "bad phase " + std::string(tokens[i]), std::nullopt;
    }
    PhaseColumns step;
    const std::string_view phase = tokens[i].substr(0, at);
    bool found = false;
    for (Phase p : kAllPhases) {
      if (phase_name(p) == phase) step.phase = p, found = true;
    }
    const std::string_view side = tokens[i].substr(at + 1, colon - at - 1);
    bool side_ok = false;
    for (RunsOn r : {RunsOn::kHost, RunsOn::kSource, RunsOn::kTarget}) {
      if (runs_on_name(r) == side) step.side = r, side_ok = true;
    }
    std::string_view power = tokens[i].substr(colon + 1);
    constexpr std::string_view kRemoves = "+removes";
    if (power.ends_with(kRemoves)) {
      step.removes = true;
      power.remove_suffix(kRemoves.size());
    }
    step.power = parse_power(power, ok);
    if (!found || !side_ok || !ok)
      return error = "bad phase " + std::string(tokens[i]), std::nullopt;
    e.steps.push_back(step);
  }
  if (row.effects != "-") {
    for (std::string_view w : words(row.effects)) {
      bool known = false;
      for (Effect fx : kAllEffects) {
        if (effect_name(fx) == w) e.effects = e.effects.with(fx), known = true;
      }
      if (!known) return error = "unknown effect " + std::string(w), std::nullopt;
    }
  }
  return e;
}

std::string effects_text(Effects effects) {
  std::string out;
  for (Effect fx : kAllEffects) {
    if (effects.has(fx)) out += (out.empty() ? "" : " ") + std::string(effect_name(fx));
  }
  return out.empty() ? "-" : out;
}

// The power the golden row says the VM has once phase `step` succeeds, from `origin`.
Power expected_power(const Entry& e, std::size_t step, State origin) {
  Power power = record_at_rest(origin).power;
  for (std::size_t i = 0; i <= step && i < e.steps.size(); ++i) {
    if (e.steps[i].power) power = *e.steps[i].power;
  }
  return power;
}

}  // namespace

Mismatches check_columns(std::size_t limit) {
  Mismatches out(limit);
  std::vector<Entry> entries;
  for (const Row& row : kRows) {
    std::string error;
    std::optional<Entry> e = parse(row, error);
    if (!e) {
      out.add("columns: golden row " + std::string(row.action) + " is malformed: " + error);
      continue;
    }
    entries.push_back(std::move(*e));
  }
  // (entry index, origin) pairs the model was seen doing.
  std::vector<StateSet> seen(entries.size());
  for (const Moment& m : moments()) {
    if (out.full()) return out;
    if (m.row == nullptr) continue;
    const Entry* e = nullptr;
    for (std::size_t i = 0; i < entries.size(); ++i) {
      if (entries[i].action == m.action && entries[i].row->preempting == m.during &&
          entries[i].origins.contains(m.origin)) {
        e = &entries[i];
        seen[i] = seen[i].with(m.origin);
        break;
      }
    }
    if (e == nullptr) {
      out.add("columns: " + m.describe() + " has no golden row");
      continue;
    }
    const std::string at = "columns: " + m.describe() + ": ";
    if (m.record.op && effects(*m.record.op) != e->effects) {
      out.add(at + "effects " + effects_text(effects(*m.record.op)) + ", " + e->describe());
    }
    if (m.row->instant()) {
      const Power want = e->instant_power.value_or(record_at_rest(m.origin).power);
      if (!e->steps.empty() || m.record.power != want) {
        out.add(at + "ends with power " + std::string(power_name(m.record.power)) + ", " +
                e->describe());
      }
      continue;
    }
    if (m.step >= e->steps.size() || e->steps[m.step].phase != m.phase) {
      out.add(at + "phase not in the golden path, " + e->describe());
      continue;
    }
    if (m.outcome == Outcome::kRunning) {
      const PhaseColumns& want = e->steps[m.step];
      if (current_runs_on(*m.record.op) != want.side) {
        out.add(at + "runs on " + std::string(runs_on_name(current_runs_on(*m.record.op))) + ", " +
                e->describe());
      }
      if (current_removes_copy(*m.record.op) != want.removes) {
        out.add(at + (want.removes ? "keeps" : "removes") + " the copy on its side, " +
                e->describe());
      }
      // The engine has recorded the power each earlier phase left before it names this one's.
      VmRecord record = m.record;
      if (m.step > 0) record.power = expected_power(*e, m.step - 1, m.origin);
      const Power named = power_after_phase(record);
      if (named != expected_power(*e, m.step, m.origin)) {
        out.add(at + "names power " + std::string(power_name(named)) + ", " + e->describe());
      }
      if (m.step + 1 == e->steps.size() && !in_last_phase(*m.record.op)) {
        out.add(at + "is not the row's last phase, " + e->describe());
      }
    }
    if (m.outcome == Outcome::kSucceeded) {
      if (m.step + 1 != e->steps.size()) {
        out.add(at + "succeeds after fewer phases than " + e->describe());
      }
      const Power want = expected_power(*e, e->steps.size() - 1, m.origin);
      if (m.record.power != want) {
        out.add(at + "ends with power " + std::string(power_name(m.record.power)) + ", " +
                e->describe());
      }
    }
  }
  for (std::size_t i = 0; i < entries.size() && !out.full(); ++i) {
    for (State s : kAllStates) {
      if (entries[i].origins.contains(s) && !seen[i].contains(s)) {
        out.add("columns: " + entries[i].describe() + ": the model does nothing like it from " +
                std::string(state_name(s)));
      }
    }
  }
  // Meta rows act on another operation: they carry no columns of their own.
  for (const Transition& t : transitions()) {
    if (out.full()) break;
    if (!is_meta_target(t.target)) continue;
    if (!t.effects.empty() || t.power_after || !t.instant()) {
      out.add("columns: meta row " + std::string(action_name(t.action)) +
              " carries effects, a power or phases (Corral's choice: table.h)");
    }
  }
  return out;
}

}  // namespace corral::lifecycle::golden
