// The moment rules of the view golden tables (azure_rows.h, stratuslab_golden.cc): a rule
// matches a moment (golden.h) by its outcome, action, origin, phase and the state its record
// is in, and gives one output of the view there.
//
// Contract: rules are data (constexpr). A table's first rule that matches a moment is that
// moment's golden row; the check that uses a table makes every moment match one and agree
// with it, and every rule be the first match of at least one moment (no dead or shadowed rows).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string_view>

#include "lifecycle/golden/golden.h"

namespace corral::lifecycle::golden::view_rules {

// Outcomes as bits, to match several at once.
enum : std::uint8_t {
  kRest = 1U << 0,      // Outcome::kAtRest
  kRun = 1U << 1,       // Outcome::kRunning
  kFail = 1U << 2,      // Outcome::kFailed
  kIntact = 1U << 3,    // Outcome::kFailedIntact
  kCancel = 1U << 4,    // Outcome::kCanceled
  kDone = 1U << 5,      // Outcome::kSucceeded
  kUndoFail = 1U << 6,  // Outcome::kUndoFailed
  kEnd = kRest | kFail | kIntact | kCancel | kDone |
         kUndoFail,  // nothing running: the record's state shows
};

constexpr std::uint8_t outcome_bit(Outcome o) {
  switch (o) {
    case Outcome::kAtRest:
      return kRest;
    case Outcome::kRunning:
      return kRun;
    case Outcome::kFailed:
      return kFail;
    case Outcome::kFailedIntact:
      return kIntact;
    case Outcome::kCanceled:
      return kCancel;
    case Outcome::kSucceeded:
      return kDone;
    case Outcome::kUndoFailed:
      return kUndoFail;
  }
  return 0;
}

class PhaseSet {
 public:
  constexpr PhaseSet() = default;
  constexpr PhaseSet(std::initializer_list<Phase> phases) {
    for (Phase p : phases) bits_ |= std::uint64_t{1} << static_cast<unsigned>(p);
  }
  static constexpr PhaseSet all() {
    PhaseSet set;
    set.bits_ = ~std::uint64_t{0};
    return set;
  }
  constexpr bool contains(Phase p) const {
    return (bits_ & (std::uint64_t{1} << static_cast<unsigned>(p))) != 0;
  }

 private:
  std::uint64_t bits_ = 0;
};

constexpr ActionSet kAnyAction = ActionSet::all();
constexpr StateSet kAnyState = StateSet::all_live().with(State::kInit).with(State::kDone);
constexpr PhaseSet kAnyPhase = PhaseSet::all();

// A moment matches when its outcome, action, origin, phase (kNone at rest) and record state
// (the origin while running) are in the rule's sets.
struct When {
  std::uint8_t outcomes;
  ActionSet actions = kAnyAction;
  StateSet origins = kAnyState;
  PhaseSet phases = kAnyPhase;
  StateSet states = kAnyState;

  bool matches(const Moment& m) const {
    return (outcomes & outcome_bit(m.outcome)) != 0 &&
           (m.outcome == Outcome::kAtRest || actions.contains(m.action)) &&
           origins.contains(m.origin) && phases.contains(m.phase) &&
           states.contains(m.record.state);
  }
};

template <typename T>
struct Rule {
  When when;
  T then;
  std::string_view source;
};

}  // namespace corral::lifecycle::golden::view_rules
