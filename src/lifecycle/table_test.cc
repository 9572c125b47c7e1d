// Invariants of the transition table, and the stable numbers of every persisted enum.
#include "lifecycle/table.h"

#include <gtest/gtest.h>

#include <vector>

#include "lifecycle/golden/golden.h"
#include "lifecycle/model.h"

namespace corral::lifecycle {
namespace {

TEST(TableTest, AtMostOneIdleRowPerActionAndState) {
  for (Action a : kAllActions) {
    for (State s : kAllStates) {
      int rows = 0;
      for (const Transition& t : transitions()) {
        if (t.action == a && t.when_idle && t.from.contains(s)) ++rows;
      }
      EXPECT_LE(rows, 1) << action_name(a) << " from " << state_name(s);
    }
  }
}

TEST(TableTest, AtMostOneRowPerActionOriginAndRunningAction) {
  for (Action a : kAllActions) {
    for (State origin : kAllStates) {
      for (Action running : kAllActions) {
        int rows = 0;
        for (const Transition& t : transitions()) {
          if (t.action == a && t.during.contains(running) && t.from.contains(origin)) ++rows;
        }
        EXPECT_LE(rows, 1) << action_name(a) << " during " << action_name(running) << " from "
                           << state_name(origin);
      }
    }
  }
}

TEST(TableTest, EveryActionHasARowAndASummary) {
  for (Action a : kAllActions) {
    bool found = false;
    for (const Transition& t : transitions()) found = found || t.action == a;
    EXPECT_TRUE(found) << action_name(a) << " has no row in the table";
    EXPECT_FALSE(action_summary(a).empty()) << action_name(a);
  }
}

TEST(TableTest, RowsAreWellFormed) {
  for (const Transition& t : transitions()) {
    SCOPED_TRACE(std::string(action_name(t.action)) + ": " + std::string(t.note));
    EXPECT_FALSE(t.from.empty());
    EXPECT_TRUE(t.when_idle || !t.during.empty()) << "a row must apply at some time";
    EXPECT_FALSE(t.from.contains(State::kDone)) << "DONE is final";
    if (is_meta_target(t.target)) {
      EXPECT_EQ(t.step_count, 0) << "meta rows act on another operation's phases";
    }
    if (t.target == Target::kState) {
      EXPECT_NE(t.to, State::kInit);
      EXPECT_NE(t.to, State::kFailed) << "FAILED is reached by a failure rule, never a target";
    }
    for (const PhaseStep& step : t.phases()) EXPECT_NE(step.phase, Phase::kNone);
    // A phase that fails forward keeps its target: only the last phases of a row may do so.
    bool keep_seen = false;
    for (const PhaseStep& step : t.phases()) {
      if (step.on_failure == FailureRule::kKeepTarget)
        keep_seen = true;
      else
        EXPECT_FALSE(keep_seen) << "a keep-target phase must not precede others";
    }
  }
}

// The columns the engine turns into driver intents hold together with the rest of the row.
TEST(TableTest, EffectsAgreeWithTheRow) {
  for (const Transition& t : transitions()) {
    SCOPED_TRACE(std::string(action_name(t.action)) + ": " + std::string(t.note));
    const bool ends_in_done = t.target == Target::kState && t.to == State::kDone;
    EXPECT_EQ(t.has(Effect::kEndsVm), ends_in_done) << "ends_vm exactly on rows to DONE";
    if (t.has(Effect::kDeletesFiles)) {
      ASSERT_FALSE(t.instant()) << "files are deleted by a phase";
      const Phase last = t.steps[t.step_count - 1].phase;
      EXPECT_TRUE(last == Phase::kEpilog || last == Phase::kCleanup)
          << "the files go in the last phase, an epilog or a cleanup";
    }
    if (ends_in_done && !t.instant()) {
      EXPECT_TRUE(t.has(Effect::kDeletesFiles));
    }
    EXPECT_FALSE(t.has(Effect::kRestoresModel) && !t.has(Effect::kAppliesModel))
        << "a restored model is applied";
    EXPECT_FALSE(t.has(Effect::kPlacesVm) && t.has(Effect::kMovesVm));
    EXPECT_FALSE(is_meta_target(t.target) && !t.effects.empty())
        << "meta rows act on another operation";
    // The guest leaves the source before it runs on the target: once the target has done
    // anything but prepare to receive, the source only sends (migrate) or goes (cleanup).
    bool to_target_seen = false;
    // A row from RESIZED ends a resize that moved: its sides are the resize's (table.h).
    const bool ends_resize = t.from.bits() == StateSet{State::kResized}.bits();
    for (const PhaseStep& step : t.phases()) {
      if (ends_resize) break;  // revert goes back: the target's copy first
      if (step.runs_on != RunsOn::kHost) {
        EXPECT_TRUE(t.has(Effect::kMovesVm)) << "only a move has two sides";
      }
      if (step.runs_on == RunsOn::kTarget && step.phase != Phase::kPrepareMigrate) {
        to_target_seen = true;
      }
      if (step.runs_on == RunsOn::kSource && step.phase != Phase::kCleanup) {
        EXPECT_FALSE(to_target_seen) << "a move runs on the source before the target";
      }
    }
    // A copy is removed only on one side of a move; the source's goes last, once the target
    // holds the VM, so a failure to remove it keeps the VM there.
    for (std::size_t j = 0; j < t.step_count; ++j) {
      const PhaseStep& step = t.steps[j];
      if (!step.removes_copy) continue;
      EXPECT_NE(step.runs_on, RunsOn::kHost)
          << "the VM's own host loses files by the row's effects";
      if (step.runs_on == RunsOn::kSource && t.has(Effect::kMovesVm)) {
        EXPECT_EQ(j + 1, t.step_count) << "the source's copy goes last";
        EXPECT_EQ(step.on_failure, FailureRule::kKeepTarget) << "the VM is on the target by then";
      }
    }
    // Every move whose source still answers (any origin but UNKNOWN, whose host is presumed
    // lost) removes the source's copy at its end: never two copies left behind; but a resize
    // keeps it until confirm removes it or revert goes back to it (RESIZED).
    if (t.has(Effect::kMovesVm) && !t.instant() && !t.from.contains(State::kUnknown) &&
        !(t.target == Target::kState && t.to == State::kResized)) {
      const PhaseStep& last = t.steps[t.step_count - 1];
      EXPECT_TRUE(last.runs_on == RunsOn::kSource && last.removes_copy)
          << action_name(t.action) << ": a move ends by removing the source's copy";
    }
    if (t.from.contains(State::kUnknown) && t.has(Effect::kMovesVm)) {
      for (const PhaseStep& step : t.phases()) EXPECT_NE(step.runs_on, RunsOn::kSource);
    }
    // Undo phases put a move back: each names its side, and a failed one stops in FAILED.
    for (const PhaseStep& step : t.undo()) {
      EXPECT_TRUE(t.has(Effect::kMovesVm)) << "only a move is undone";
      EXPECT_NE(step.runs_on, RunsOn::kHost) << "an undo phase names its side";
      EXPECT_EQ(step.on_failure, FailureRule::kFailStop) << "a failed undo stops in FAILED";
    }
    if (t.undo_count > 0) {
      EXPECT_EQ(t.undo().front().runs_on, RunsOn::kTarget)
          << "the target's copy goes before the source's resumes (never two running)";
    }
    if (t.has(Effect::kMovesVm) && !t.instant()) {
      EXPECT_NE(t.steps[0].runs_on, RunsOn::kHost) << "every phase of a move names its side";
    }
    if (t.power_after) {
      EXPECT_FALSE(t.instant()) << "only a phase leaves a power";
      EXPECT_FALSE(is_meta_target(t.target));
    }
  }
}

TEST(TableTest, EveryLiveStateHasAWayOutAndCanBeDeleted) {
  for (State s : kAllStates) {
    if (s == State::kDone || s == State::kInit) continue;
    const VmRecord r = record_at_rest(s);
    EXPECT_FALSE(allowed_actions(r).empty()) << state_name(s);
    EXPECT_TRUE(allowed(r, Action::kTerminateHard) || allowed(r, Action::kRecoverDelete))
        << state_name(s) << " cannot be deleted";
  }
  EXPECT_TRUE(allowed_actions(record_at_rest(State::kDone)).empty());
}

// ---- The golden checks reject edits of the table ------------------------------------------

using Rows = std::vector<Transition>;

Rows copy_of_table() { return Rows(transitions().begin(), transitions().end()); }

// Whether the outcomes or allowed golden table rejects `rows`.
bool rejected(const Rows& rows) {
  const testing::ScopedTransitions scoped(rows);
  return !golden::check_outcomes(1).empty() || !golden::check_allowed(1).empty();
}

TEST(TableGoldenTest, TheBuiltInTableAgreesWithTheGoldenTables) {
  EXPECT_FALSE(rejected(copy_of_table()));
}

// Issue 10: deallocate's epilog turned from fail-stop (EPILOG_UNDEPLOY_FAILURE) to roll back
// passed every test.
TEST(TableGoldenTest, DeallocateEpilogRollingBackIsRejected) {
  Rows rows = copy_of_table();
  int changed = 0;
  for (Transition& t : rows) {
    if (t.action != Action::kDeallocate) continue;
    for (std::uint8_t i = 0; i < t.step_count; ++i) {
      if (t.steps[i].phase == Phase::kEpilog) {
        t.steps[i].on_failure = FailureRule::kRollback;
        ++changed;
      }
    }
  }
  ASSERT_GT(changed, 0);
  const testing::ScopedTransitions scoped(rows);
  EXPECT_FALSE(golden::check_outcomes(1).empty());
}

// Issue 10: pause also allowed from SUSPENDED passed every test.
TEST(TableGoldenTest, PauseFromSuspendedIsRejected) {
  Rows rows = copy_of_table();
  int changed = 0;
  for (Transition& t : rows) {
    if (t.action == Action::kPause && t.when_idle) {
      t.from = t.from.with(State::kSuspended);
      ++changed;
    }
  }
  ASSERT_EQ(changed, 1);
  const testing::ScopedTransitions scoped(rows);
  EXPECT_FALSE(golden::check_allowed(1).empty());
  EXPECT_FALSE(golden::check_outcomes(1).empty());
}

// Every other failure rule on every phase of every row is rejected, but where no state can
// tell the rules apart: from FAILED alone, rolling back and stopping in FAILED both end in
// FAILED. (The observed_* rows have no phases.)
TEST(TableGoldenTest, EveryFailureRuleFlipIsRejected) {
  const Rows table = copy_of_table();
  int tried = 0;
  for (std::size_t r = 0; r < table.size(); ++r) {
    for (std::uint8_t i = 0; i < table[r].step_count; ++i) {
      for (FailureRule rule : {FailureRule::kRollback, FailureRule::kFailStop,
                               FailureRule::kKeepTarget, FailureRule::kRollbackIfIntact}) {
        const FailureRule was = table[r].steps[i].on_failure;
        if (rule == was) continue;
        const bool only_failed = table[r].from.bits() == StateSet{State::kFailed}.bits();
        const bool ends_alike = (rule == FailureRule::kRollback && was == FailureRule::kFailStop) ||
                                (rule == FailureRule::kFailStop && was == FailureRule::kRollback);
        if (only_failed && ends_alike) continue;
        Rows rows = table;
        rows[r].steps[i].on_failure = rule;
        ++tried;
        EXPECT_TRUE(rejected(rows)) << action_name(table[r].action) << " (" << table[r].note
                                    << "), " << phase_name(table[r].steps[i].phase) << ": "
                                    << failure_rule_name(was) << " -> " << failure_rule_name(rule);
      }
    }
  }
  EXPECT_GT(tried, 0);
}

// Dropping any origin of any user action's row is rejected.
TEST(TableGoldenTest, EveryDroppedOriginIsRejected) {
  const Rows table = copy_of_table();
  int tried = 0;
  for (std::size_t r = 0; r < table.size(); ++r) {
    if (is_system_action(table[r].action)) continue;  // the drift table's rows
    for (State s : kAllStates) {
      if (!table[r].from.contains(s)) continue;
      Rows rows = table;
      rows[r].from = table[r].from.without(s);
      ++tried;
      EXPECT_TRUE(rejected(rows)) << action_name(table[r].action) << " (" << table[r].note
                                  << ") without " << state_name(s);
    }
  }
  EXPECT_GT(tried, 0);
}

// Persisted and published numbers never change. A failure here means a renumbering:
// add a new number instead and leave the old one as a gap.
TEST(TableTest, StableNumbers) {
  struct StateNumber {
    State s;
    int n;
    const char* name;
  };
  const StateNumber states[] = {
      {State::kInit, 0, "INIT"},
      {State::kPending, 1, "PENDING"},
      {State::kHold, 2, "HOLD"},
      {State::kRunning, 3, "RUNNING"},
      {State::kPaused, 4, "PAUSED"},
      {State::kSuspended, 5, "SUSPENDED"},
      {State::kPoweroff, 6, "POWEROFF"},
      {State::kHibernated, 7, "HIBERNATED"},
      {State::kDeallocated, 8, "DEALLOCATED"},
      {State::kShelved, 9, "SHELVED"},
      {State::kRescued, 10, "RESCUED"},
      {State::kResized, 11, "RESIZED"},
      {State::kSoftDeleted, 12, "SOFT_DELETED"},
      {State::kUnknown, 13, "UNKNOWN"},
      {State::kFailed, 14, "FAILED"},
      {State::kDone, 15, "DONE"},
  };
  for (const auto& [s, n, name] : states) {
    EXPECT_EQ(static_cast<int>(s), n);
    EXPECT_EQ(state_name(s), name);
    EXPECT_EQ(parse_state(name), s);
  }
  const char* actions[] = {"",
                           "create",
                           "deploy",
                           "hold",
                           "release",
                           "shutdown",
                           "shutdown_hard",
                           "start",
                           "reboot",
                           "reboot_hard",
                           "pause",
                           "unpause",
                           "suspend",
                           "resume",
                           "hibernate",
                           "deallocate",
                           "deallocate_hard",
                           "terminate",
                           "terminate_hard",
                           "migrate",
                           "live_migrate",
                           "resched",
                           "unresched",
                           "resize",
                           "resize_migrate",
                           "confirm_resize",
                           "revert_resize",
                           "rescue",
                           "unrescue",
                           "rebuild",
                           "set_admin_password",
                           "snapshot",
                           "backup",
                           "shelve",
                           "shelve_offload",
                           "soft_delete",
                           "restore",
                           "disk_attach",
                           "disk_detach",
                           "nic_attach",
                           "nic_detach",
                           "disk_snapshot",
                           "disk_snapshot_revert",
                           "disk_snapshot_delete",
                           "disk_resize",
                           "checkpoint",
                           "checkpoint_revert",
                           "checkpoint_delete",
                           "cancel",
                           "recover_retry",
                           "recover_success",
                           "recover_failure",
                           "recover_delete",
                           "recover_recreate",
                           "reset_state",
                           "observed_lost",
                           "observed_poweroff",
                           "observed_running",
                           "observed_power"};
  ASSERT_EQ(std::size(actions), static_cast<std::size_t>(kActionCount));
  for (int n = 1; n < kActionCount; ++n) {
    EXPECT_EQ(action_name(static_cast<Action>(n)), actions[n]) << "action number " << n;
    EXPECT_EQ(parse_action(actions[n]), static_cast<Action>(n));
  }
  EXPECT_EQ(static_cast<int>(Power::kShutdown), 4);  // Nova's power_state numbers
  EXPECT_EQ(static_cast<int>(Power::kSuspended), 7);
  EXPECT_EQ(static_cast<int>(Phase::kSoftDelete), 30);
  EXPECT_EQ(static_cast<int>(OpStatus::kCanceled), 4);
}

// parse_phase reads --phase-deadline ACTION.PHASE and the sim's faults; case-insensitive as
// parse_state and parse_action.
TEST(Names, EveryPhaseNameParses) {
  for (Phase phase : kAllPhases) {
    EXPECT_EQ(parse_phase(phase_name(phase)), phase) << phase_name(phase);
  }
  EXPECT_EQ(parse_phase("BOOT"), Phase::kBoot);
  EXPECT_EQ(parse_phase("Prolog"), Phase::kProlog);
  EXPECT_EQ(parse_phase("bogus"), std::nullopt);
  EXPECT_EQ(parse_phase(""), std::nullopt);
}

}  // namespace
}  // namespace corral::lifecycle
