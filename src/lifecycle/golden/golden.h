// Golden tables: the lifecycle as the sources say it, written apart from the code that runs
// it, and the checks that hold the two against each other both ways.
//
// Contract:
// - Every golden row cites where it comes from: a seed line ("seed 001:123"), a reference
//   line ("reference nova.md:35"), or "Corral's choice: <why>" where the sources are silent.
//   A row is written from its source, never copied from the code it checks.
// - A check compares one golden table with the model both ways: every moment the model can
//   produce is accounted for by a golden row and agrees with it, and every golden row matches
//   something the model does. Either kind of disagreement is one Mismatch line.
// - Checks read the model only through its public functions (model.h, views.h, vocabulary.h,
//   drift.h) and cache nothing derived from the tables, so the mutation tool (src/tools/
//   mutate) can swap the tables in memory and run the same checks again.
// - A check stops once `limit` mismatches are collected (the mutation tool asks for one).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lifecycle/model.h"
#include "lifecycle/table.h"

namespace corral::lifecycle::golden {

// What a check found; empty when model and golden table agree.
class Mismatches {
 public:
  explicit Mismatches(std::size_t limit = std::numeric_limits<std::size_t>::max())
      : limit_(limit) {}
  void add(std::string what) {
    if (lines_.size() < limit_) lines_.push_back(std::move(what));
  }
  bool full() const { return lines_.size() >= limit_; }
  bool empty() const { return lines_.empty(); }
  std::size_t size() const { return lines_.size(); }
  const std::vector<std::string>& lines() const { return lines_; }
  std::size_t limit() const { return limit_; }

 private:
  std::size_t limit_;
  std::vector<std::string> lines_;
};

// ---- Moments: what the views and the outcome tables are checked at ----------------------

// How a moment of an operation came out.
enum class Outcome : std::uint8_t {
  kRunning = 1,       // the phase is running
  kFailed = 2,        // the phase failed; the driver said nothing of the origin
  kFailedIntact = 3,  // the phase failed; the driver reports the origin intact (only where
                      // the phase's rule is kRollbackIfIntact)
  kCanceled = 4,      // the phase was canceled (cancel, Azure Canceled)
  kSucceeded = 5,     // the operation's last phase succeeded (phase is the last one), or an
                      // instant row ran (phase kNone)
  kAtRest = 6,        // no operation: record_at_rest(origin) (action is kCreate, ignored)
  kUndoFailed = 7,    // the phase failed, then the first of the undo phases it ran (only on
                      // rows with undo phases)
};
std::string_view outcome_name(Outcome outcome);

struct Moment {
  Action action = Action::kCreate;
  State origin = State::kInit;  // the state the operation started from (or the rest state)
  bool during = false;          // the row pre-empted a running operation
  std::uint8_t step = 0;        // index of `phase` in the row
  Phase phase = Phase::kNone;
  Outcome outcome = Outcome::kRunning;
  const Transition* row = nullptr;  // nullptr at rest
  VmRecord record;                  // what the model makes of it
  // A failure or cancel that runs the row's undo phases: the record as they begin (`record`
  // is where they end when each succeeds).
  std::optional<VmRecord> undo_began;

  std::string describe() const;  // "suspend from RUNNING, save (step 0) failed"
};

// Every moment the model offers as its tables are now:
// - each state at rest (record_at_rest), INIT and DONE included;
// - for each row that has phases or is instant with a state target (meta rows aside), each
//   origin it allows (INIT only for create; for a pre-empting row, each origin of an
//   operation it can replace), each phase: running, failed, canceled (and failed-intact for
//   kRollbackIfIntact), and the end after the last phase succeeded. A failure that runs
//   undo phases is the record once they all succeeded (undo_began: as they began).
// Freshly computed at each call: nothing is cached.
std::vector<Moment> moments();

// Builds the record of (action from origin, at step, outcome) through model.h's functions
// alone; nullopt if the model does not allow it. For `during`, a running operation that the
// row may replace is started first.
std::optional<VmRecord> record_of(Action action, State origin, bool during, std::uint8_t step,
                                  Outcome outcome);

// The space-separated words of a golden row's text ("RUNNING UNKNOWN", "shutdown:origin").
std::vector<std::string_view> words(std::string_view text);

// ---- The checks: one per golden table ------------------------------------------------------

// (action, origin, phases with each one's failure end) -> success end; allowed actions.
Mismatches check_outcomes(std::size_t limit = std::numeric_limits<std::size_t>::max());
// The canonical actions allowed in each state at rest, and during each running operation.
Mismatches check_allowed(std::size_t limit = std::numeric_limits<std::size_t>::max());
// Views: each moment's rendering in one vocabulary.
Mismatches check_opennebula(std::size_t limit = std::numeric_limits<std::size_t>::max());
Mismatches check_nova(std::size_t limit = std::numeric_limits<std::size_t>::max());
Mismatches check_azure(std::size_t limit = std::numeric_limits<std::size_t>::max());
Mismatches check_stratuslab(std::size_t limit = std::numeric_limits<std::size_t>::max());
// The verbs of each vocabulary: where each is accepted and what it does.
Mismatches check_vocabulary(std::size_t limit = std::numeric_limits<std::size_t>::max());
// The drift policies: (policy, observation, state) -> reaction.
Mismatches check_drift(std::size_t limit = std::numeric_limits<std::size_t>::max());
// The intents' columns: each phase's side and power, each row's end power and effects.
Mismatches check_columns(std::size_t limit = std::numeric_limits<std::size_t>::max());

struct NamedCheck {
  std::string_view name;
  Mismatches (*run)(std::size_t limit);
};
// Every check above, in a stable order.
const std::vector<NamedCheck>& all_checks();

}  // namespace corral::lifecycle::golden
