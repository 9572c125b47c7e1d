// Property: from every reachable record, every verb of every vocabulary is either refused
// with a typed error, or leads phase by phase to a record the table names; a failure in any
// phase ends where that phase's rule says.
#include <gtest/gtest.h>

#include "lifecycle/reachable.h"
#include "lifecycle/views.h"
#include "lifecycle/vocabulary.h"

namespace corral::lifecycle {
namespace {

using testing::describe;
using testing::reachable_records;

State expected_target(const Transition& t, const Operation& op, Power power) {
  switch (t.target) {
    case Target::kState:
      return t.to;
    case Target::kOrigin:
      return op.origin;
    case Target::kByPower:
      return power == Power::kRunning ? State::kRunning : State::kPoweroff;
    case Target::kFailPhase:
    case Target::kNextPhase:
    case Target::kRetryPhase:
    case Target::kParameter:
      break;
  }
  ADD_FAILURE() << "an operation runs by a meta row";
  return State::kInit;
}

// Walks a running operation: at each phase, failure must follow the phase's rule; success
// must move to the next phase of the row, and the last one to the row's target.
void check_walk(VmRecord r, const std::string& context) {
  for (int guard = 0; r.busy(); ++guard) {
    ASSERT_LT(guard, kMaxSteps + kMaxUndoSteps + 1) << context;
    const Operation op = *r.op;
    const Transition* t = row_of(op);
    ASSERT_NE(t, nullptr) << context << ": running operation without a row: " << describe(r);
    if (op.undoing) {
      // Undoing: a failure stops in FAILED; the last success ends at the origin, with the
      // status the rollback had.
      ASSERT_LT(op.step, t->undo_count) << context;
      for (OpStatus why : {OpStatus::kFailed, OpStatus::kCanceled}) {
        const Step failed = phase_failed(r, why);
        EXPECT_FALSE(failed.record.busy()) << context;
        EXPECT_EQ(failed.record.state, State::kFailed) << context << " " << describe(r);
      }
      const Step ok = phase_succeeded(r);
      if (op.step + 1 < t->undo_count) {
        EXPECT_TRUE(ok.record.busy()) << context;
        EXPECT_EQ(ok.phase, t->undo_steps[op.step + 1].phase) << context;
      } else {
        EXPECT_FALSE(ok.record.busy()) << context;
        EXPECT_EQ(ok.record.state, op.origin) << context << " " << describe(r);
        EXPECT_EQ(ok.record.op->status, *op.undoing) << context;
      }
      r = ok.record;
      continue;
    }
    ASSERT_LT(op.step, t->step_count) << context;
    const FailureRule rule = t->steps[op.step].on_failure;
    for (OpStatus why : {OpStatus::kFailed, OpStatus::kCanceled}) {
      const Step failed = phase_failed(r, why);
      if (rule == FailureRule::kRollback && t->undo_count > 0) {
        // A rollback with undo phases runs them first.
        EXPECT_TRUE(failed.record.busy()) << context;
        EXPECT_EQ(failed.record.op->undoing, why) << context;
        EXPECT_EQ(failed.phase, t->undo_steps[0].phase) << context;
        check_walk(failed.record, context + " (undoing)");
        continue;
      }
      EXPECT_FALSE(failed.record.busy()) << context;
      EXPECT_EQ(failed.record.op->status, why) << context;
      switch (rule) {
        case FailureRule::kRollback:
          EXPECT_EQ(failed.record.state, op.origin) << context << " " << describe(r);
          break;
        case FailureRule::kFailStop:
        case FailureRule::kRollbackIfIntact:  // the driver said nothing of the origin
          EXPECT_EQ(failed.record.state, State::kFailed) << context << " " << describe(r);
          break;
        case FailureRule::kKeepTarget:
          EXPECT_EQ(failed.record.state, expected_target(*t, op, r.power)) << context;
          break;
      }
    }
    const Step ok = phase_succeeded(r);
    if (op.step + 1 < t->step_count) {
      EXPECT_TRUE(ok.record.busy()) << context;
      EXPECT_EQ(ok.phase, t->steps[op.step + 1].phase) << context;
    } else {
      EXPECT_FALSE(ok.record.busy()) << context;
      EXPECT_EQ(ok.record.state, expected_target(*t, op, r.power)) << context << " " << describe(r);
      EXPECT_EQ(ok.record.op->status, OpStatus::kSucceeded) << context;
    }
    r = ok.record;
  }
}

std::vector<std::string> variants_of(Vocabulary v, std::string_view verb) {
  std::vector<std::string> out = {""};
  for (const VerbRule& r : verb_rules(v)) {
    if (r.verb == verb && !r.variant.empty()) out.emplace_back(r.variant);
  }
  return out;
}

TEST(PropertyTest, EveryVerbFromEveryReachableRecordIsRefusedOrWalksTheTable) {
  long accepted = 0;
  long refused = 0;
  for (const testing::Reached& reached : reachable_records()) {
    const VmRecord& r = reached.record;
    for (Vocabulary v : kAllVocabularies) {
      for (std::string_view verb : verbs(v)) {
        for (const std::string& variant : variants_of(v, verb)) {
          const std::string context = std::string(vocabulary_name(v)) + " " + std::string(verb) +
                                      "(" + variant + ") on " + describe(r) + " via " +
                                      reached.path;
          const Result<Action> action = resolve(r, v, verb, variant);
          const std::vector<std::string> allowed = allowed_verbs(r, v);
          if (!action) {
            ++refused;
            ASSERT_EQ(action.error().code, ErrorCode::kInvalidState) << context;
            EXPECT_FALSE(action.error().state.empty()) << context;
            EXPECT_FALSE(action.error().message.empty()) << context;
            EXPECT_EQ(action.error().allowed_actions, allowed) << context;
            if (variants_of(v, verb).size() == 1) {
              EXPECT_EQ(std::find(allowed.begin(), allowed.end(), verb), allowed.end()) << context;
            }
            continue;
          }
          ++accepted;
          if (*action == Action::kCreate) continue;  // a new VM, walked from new_record()
          EXPECT_NE(std::find(allowed.begin(), allowed.end(), verb), allowed.end()) << context;
          const Result<Step> step = begin(r, {*action, State::kRunning});
          ASSERT_TRUE(step.has_value()) << context << ": " << step.error().message;
          if (step->replaced) {
            EXPECT_TRUE(r.busy()) << context;
          }
          check_walk(step->record, context);
        }
      }
    }
  }
  EXPECT_GT(accepted, 1000);
  EXPECT_GT(refused, 10000);
}

TEST(PropertyTest, EveryReachableRecordRendersConsistently) {
  for (const testing::Reached& reached : reachable_records()) {
    const VmRecord& r = reached.record;
    SCOPED_TRACE(describe(r) + " via " + reached.path);
    const Views v = render_views(r);
    EXPECT_FALSE(v.nova.status.empty());
    EXPECT_FALSE(v.opennebula.short_alias.empty());
    EXPECT_GE(v.azure.status_count, 1);
    EXPECT_EQ(v.stratuslab.state == SlState::kDone, r.state == State::kDone);
    EXPECT_EQ(v.opennebula.state == OneState::kDone, r.state == State::kDone);
    // Nova keeps vm_state error while a task (stop, reboot, delete ...) runs on an errored VM.
    const bool errored = r.busy() ? r.op->origin == State::kFailed : r.state == State::kFailed;
    EXPECT_EQ(v.nova.vm_state == NovaVmState::kError, errored);
    // A failed operation is visible in every vocabulary.
    if (r.state == State::kFailed && !r.busy()) {
      EXPECT_EQ(v.stratuslab.state, SlState::kFailed);
      EXPECT_EQ(v.opennebula.short_alias, "fail");
      EXPECT_TRUE(v.azure.provisioning == AzureProvisioning::kFailed ||
                  v.azure.provisioning == AzureProvisioning::kCanceled);
    }
    if (r.busy()) {
      const Transition* t = row_of(*r.op);
      ASSERT_NE(t, nullptr);
      EXPECT_NE(current_phase(*r.op), Phase::kNone);
    }
  }
}

TEST(PropertyTest, ReachableSpaceIsLargeAndCoversEveryStateAndPhase) {
  std::set<State> states;
  std::set<Phase> phases;
  for (const testing::Reached& r : reachable_records()) {
    states.insert(r.record.state);
    if (r.record.busy()) phases.insert(current_phase(*r.record.op));
  }
  EXPECT_EQ(states.size(), static_cast<std::size_t>(kStateCount));
  EXPECT_EQ(phases.size(), static_cast<std::size_t>(kPhaseCount - 1));  // all but kNone
  EXPECT_GT(reachable_records().size(), 500U);
}

}  // namespace
}  // namespace corral::lifecycle
