// The model's behaviour, scenario by scenario: phases, failure rules, pre-emption, cancel,
// recover and reset-state.
#include "lifecycle/model.h"

#include <gtest/gtest.h>

#include <vector>

#include "lifecycle/views.h"

namespace corral::lifecycle {
namespace {

VmRecord at(State s, Power p) {
  VmRecord r = record_at_rest(s);
  r.power = p;
  return r;
}

Step must_begin(const VmRecord& r, Action a, State reset_to = State::kRunning) {
  Result<Step> step = begin(r, {a, reset_to});
  EXPECT_TRUE(step.has_value()) << action_name(a) << ": " << (step ? "" : step.error().message);
  return step.value_or(Step{});
}

// Runs every remaining phase to success; returns the phases seen.
std::vector<Phase> run_to_end(VmRecord& r) {
  std::vector<Phase> seen;
  for (int guard = 0; r.busy() && guard < 10; ++guard) {
    seen.push_back(current_phase(*r.op));
    r = phase_succeeded(r).record;
  }
  return seen;
}

struct HappyPath {
  State from;
  Action action;
  std::vector<Phase> phases;
  State to;
  Power power_after;
};

class HappyPathTest : public ::testing::TestWithParam<HappyPath> {};

TEST_P(HappyPathTest, RunsItsPhasesAndLandsOnTarget) {
  const HappyPath& c = GetParam();
  VmRecord r = record_at_rest(c.from);
  r = must_begin(r, c.action).record;
  EXPECT_EQ(run_to_end(r), c.phases);
  EXPECT_EQ(r.state, c.to);
  EXPECT_EQ(r.power, c.power_after);
  ASSERT_TRUE(r.op.has_value());
  EXPECT_EQ(r.op->status, OpStatus::kSucceeded);
  EXPECT_EQ(r.op->action, c.action);
  EXPECT_EQ(r.op->origin, c.from);
}

using P = Phase;
using S = State;
using A = Action;
INSTANTIATE_TEST_SUITE_P(
    Table, HappyPathTest,
    ::testing::Values(
        HappyPath{S::kPending,
                  A::kDeploy,
                  {P::kProlog, P::kBoot, P::kOsProvisioning, P::kOsProvisioned},
                  S::kRunning,
                  Power::kRunning},
        HappyPath{S::kPending, A::kHold, {}, S::kHold, Power::kNoState},
        HappyPath{S::kHold, A::kRelease, {}, S::kPending, Power::kNoState},
        HappyPath{S::kRunning, A::kShutdown, {P::kShutdown}, S::kPoweroff, Power::kShutdown},
        HappyPath{S::kPoweroff, A::kStart, {P::kBoot}, S::kRunning, Power::kRunning},
        HappyPath{S::kDeallocated,
                  A::kStart,
                  {P::kSchedule, P::kProlog, P::kBoot},
                  S::kRunning,
                  Power::kRunning},
        HappyPath{S::kRunning, A::kSuspend, {P::kSave}, S::kSuspended, Power::kShutdown},
        HappyPath{S::kHibernated,
                  A::kResume,
                  {P::kSchedule, P::kProlog, P::kRestore},
                  S::kRunning,
                  Power::kRunning},
        HappyPath{
            S::kRunning, A::kHibernate, {P::kSave, P::kEpilog}, S::kHibernated, Power::kShutdown},
        HappyPath{S::kRunning,
                  A::kDeallocate,
                  {P::kShutdown, P::kEpilog},
                  S::kDeallocated,
                  Power::kShutdown},
        HappyPath{
            S::kRunning, A::kTerminate, {P::kShutdown, P::kEpilog}, S::kDone, Power::kNoState},
        HappyPath{S::kPending, A::kTerminateHard, {}, S::kDone, Power::kNoState},
        HappyPath{S::kRunning, A::kPause, {P::kPause}, S::kPaused, Power::kPaused},
        HappyPath{S::kRunning,
                  A::kMigrate,
                  {P::kSave, P::kProlog, P::kRestore, P::kCleanup},
                  S::kRunning,
                  Power::kRunning},
        HappyPath{
            S::kPoweroff, A::kMigrate, {P::kProlog, P::kCleanup}, S::kPoweroff, Power::kShutdown},
        HappyPath{
            S::kRunning, A::kSnapshot, {P::kSnapshot, P::kUpload}, S::kRunning, Power::kRunning},
        HappyPath{S::kRunning,
                  A::kShelveOffload,
                  {P::kShelve, P::kUpload, P::kEpilog},
                  S::kDeallocated,
                  Power::kShutdown},
        HappyPath{S::kShelved, A::kStart, {P::kBoot}, S::kRunning, Power::kRunning},
        HappyPath{S::kSoftDeleted, A::kRestore, {P::kBoot}, S::kRunning, Power::kRunning},
        HappyPath{S::kFailed, A::kTerminate, {P::kCleanup}, S::kDone, Power::kNoState},
        HappyPath{S::kFailed, A::kRecoverRecreate, {P::kCleanup}, S::kPending, Power::kNoState}));

struct FailurePath {
  State from;
  Action action;
  int fail_at;  // index of the phase that fails
  State ends;
};

class FailurePathTest : public ::testing::TestWithParam<FailurePath> {};

TEST_P(FailurePathTest, EndsWhereTheFailureRuleSays) {
  const FailurePath& c = GetParam();
  VmRecord r = must_begin(record_at_rest(c.from), c.action).record;
  for (int i = 0; i < c.fail_at; ++i) r = phase_succeeded(r).record;
  const Step failed = phase_failed(r);
  EXPECT_EQ(failed.record.state, c.ends);
  EXPECT_EQ(failed.to, c.ends);
  ASSERT_TRUE(failed.record.op.has_value());
  EXPECT_EQ(failed.record.op->status, OpStatus::kFailed);
  EXPECT_FALSE(failed.record.busy());
}

INSTANTIATE_TEST_SUITE_P(
    Table, FailurePathTest,
    ::testing::Values(
        // OpenNebula: a failed ACPI shutdown returns to RUNNING ("Fail to shutdown VM").
        FailurePath{S::kRunning, A::kShutdown, 0, S::kRunning},
        FailurePath{S::kPending, A::kDeploy, 0, S::kFailed},  // PROLOG_FAILURE
        FailurePath{S::kPending, A::kDeploy, 1, S::kFailed},  // BOOT_FAILURE
        // Azure: OS provisioning times out, the VM is running, the operation failed.
        FailurePath{S::kPending, A::kDeploy, 2, S::kRunning},
        FailurePath{S::kRunning, A::kMigrate, 0, S::kRunning},  // save fails: stays on source
        FailurePath{S::kRunning, A::kMigrate, 1, S::kFailed},   // PROLOG_MIGRATE_FAILURE
        FailurePath{S::kRunning, A::kMigrate, 3, S::kRunning},  // source cleanup: on the target
        FailurePath{S::kSuspended, A::kMigrate, 1, S::kSuspended},
        FailurePath{S::kPoweroff, A::kStart, 0, S::kPoweroff},   // BOOT_POWEROFF -> POWEROFF
        FailurePath{S::kRunning, A::kHibernate, 1, S::kFailed},  // EPILOG_STOP_FAILURE
        FailurePath{S::kRunning, A::kResize, 0, S::kRunning},    // a failed update keeps running
        FailurePath{S::kRunning, A::kTerminate, 0, S::kRunning},
        FailurePath{S::kRunning, A::kTerminate, 1, S::kFailed},
        // Nova: a failed rescue is ERROR (reference nova.md:39), so is unrescue (nova.md:40).
        FailurePath{S::kRunning, A::kRescue, 0, S::kFailed},
        FailurePath{S::kRescued, A::kUnrescue, 0, S::kFailed},
        // Nova's E (nova.md:21): with nothing said of the origin, a failure is ERROR.
        FailurePath{S::kRunning, A::kReboot, 0, S::kFailed},
        FailurePath{S::kRunning, A::kSuspend, 0, S::kFailed},
        FailurePath{S::kPoweroff, A::kRebuild, 0, S::kFailed}));

struct IntactPath {
  State from;
  Action action;
  int fail_at;
  State ends;  // when the driver reports the origin intact
};

class IntactPathTest : public ::testing::TestWithParam<IntactPath> {};

TEST_P(IntactPathTest, AFailureWithTheOriginIntactRollsBackOnlyWhereTheRuleSays) {
  const IntactPath& c = GetParam();
  VmRecord r = must_begin(record_at_rest(c.from), c.action).record;
  for (int i = 0; i < c.fail_at; ++i) r = phase_succeeded(r).record;
  const Step failed = phase_failed(r, OpStatus::kFailed, Integrity::kIntact);
  EXPECT_EQ(failed.record.state, c.ends);
  EXPECT_EQ(failed.record.op->status, OpStatus::kFailed);
  // Every case here rolls back if intact or stops in FAILED: a cancel, knowing nothing of the
  // origin, stops in FAILED.
  EXPECT_EQ(phase_failed(r, OpStatus::kCanceled).record.state, S::kFailed);
}

INSTANTIATE_TEST_SUITE_P(
    Table, IntactPathTest,
    ::testing::Values(
        // Nova's E: InstanceFaultRollback puts the vm_state back (reference nova.md:21).
        IntactPath{S::kRunning, A::kSuspend, 0, S::kRunning},     // nova.md:35 E(active)
        IntactPath{S::kSuspended, A::kResume, 0, S::kSuspended},  // nova.md:36 E(suspended)
        IntactPath{S::kRunning, A::kReboot, 0, S::kRunning},      // nova.md:37 still RUNNING
        IntactPath{S::kPoweroff, A::kRebuild, 0, S::kPoweroff},   // nova.md:46 claim failure
        // Fail-stop does not ask: OpenNebula's *_FAILURE stays (seed 001:377), Nova's
        // "E: ERROR" stays ERROR (nova.md:42), a re-imaged disk is not intact (nova.md:46).
        IntactPath{S::kRunning, A::kDeallocate, 1, S::kFailed},
        IntactPath{S::kResized, A::kConfirmResize, 0, S::kFailed},
        IntactPath{S::kRunning, A::kRebuild, 1, S::kFailed}));

// A live migration's undo (table.cc): a failure, a cancel or a lost answer in any forward
// phase before the source's cleanup removes the target's copy, then resumes the source's,
// and ends at the origin with the status it failed with (Nova: the migration record
// "failed", the instance back ACTIVE, nova.md:48). A failed undo phase stops in FAILED; a
// failed source cleanup leaves the VM moved.
TEST(ModelTest, ALiveMigrationRollsBackThroughItsUndoPhases) {
  struct Case {
    int fail_at;  // forward phase that fails
    OpStatus why;
    Integrity origin;
    int undo_fails_at;  // -1: the undo succeeds
    State ends;
    OpStatus status;
  };
  const Case cases[] = {
      {0, OpStatus::kFailed, Integrity::kUnknown, -1, S::kRunning, OpStatus::kFailed},
      {1, OpStatus::kFailed, Integrity::kIntact, -1, S::kRunning, OpStatus::kFailed},
      {1, OpStatus::kCanceled, Integrity::kUnknown, -1, S::kRunning, OpStatus::kCanceled},
      {2, OpStatus::kFailed, Integrity::kUnknown, -1, S::kRunning, OpStatus::kFailed},
      {1, OpStatus::kFailed, Integrity::kUnknown, 0, S::kFailed, OpStatus::kFailed},
      {2, OpStatus::kFailed, Integrity::kUnknown, 1, S::kFailed, OpStatus::kFailed},
      {3, OpStatus::kFailed, Integrity::kUnknown, -1, S::kRunning, OpStatus::kFailed},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(::testing::Message()
                 << "fail at " << c.fail_at << ", undo fails at " << c.undo_fails_at);
    VmRecord r = must_begin(record_at_rest(S::kRunning), A::kLiveMigrate).record;
    for (int i = 0; i < c.fail_at; ++i) r = phase_succeeded(r).record;
    Step s = phase_failed(r, c.why, c.origin);
    if (c.fail_at == 3) {  // the source's cleanup: kKeepTarget, no undo
      EXPECT_FALSE(s.record.busy());
      EXPECT_TRUE(reached_target(*s.record.op));
      continue;
    }
    ASSERT_TRUE(s.record.busy());
    EXPECT_EQ(s.phase, P::kCleanup);
    EXPECT_EQ(current_runs_on(*s.record.op), RunsOn::kTarget);
    EXPECT_FALSE(in_last_phase(*s.record.op));
    if (c.undo_fails_at == 0) {
      s = phase_failed(s.record);
    } else {
      s = phase_succeeded(s.record);
      ASSERT_TRUE(s.record.busy());
      EXPECT_EQ(s.phase, P::kAbortMigrate);
      EXPECT_EQ(current_runs_on(*s.record.op), RunsOn::kSource);
      EXPECT_FALSE(allowed(s.record, A::kCancel)) << "an undo is not canceled half-way";
      s = c.undo_fails_at == 1 ? phase_failed(s.record) : phase_succeeded(s.record);
    }
    EXPECT_FALSE(s.record.busy());
    EXPECT_EQ(s.record.state, c.ends);
    EXPECT_EQ(s.record.op->status, c.status);
    EXPECT_FALSE(reached_target(*s.record.op));
  }
}

TEST(ModelTest, NewRecordIsCreatingInInit) {
  const VmRecord r = new_record();
  EXPECT_EQ(r.state, S::kInit);
  ASSERT_TRUE(r.busy());
  EXPECT_EQ(current_phase(*r.op), P::kInit);
  VmRecord done = r;
  EXPECT_EQ(run_to_end(done), (std::vector<Phase>{P::kInit, P::kClone}));
  EXPECT_EQ(done.state, S::kPending);
}

TEST(ModelTest, WrongStateIsATypedErrorWithStateAndAllowedActions) {
  const Result<Step> r = begin(record_at_rest(S::kPoweroff), {A::kPause});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidState);
  EXPECT_EQ(r.error().state, "POWEROFF");
  EXPECT_NE(r.error().message.find("pause"), std::string::npos);
  const auto& allowed = r.error().allowed_actions;
  EXPECT_NE(std::find(allowed.begin(), allowed.end(), "start"), allowed.end());
  EXPECT_EQ(std::find(allowed.begin(), allowed.end(), "pause"), allowed.end());
}

TEST(ModelTest, OneOperationAtATime) {
  const VmRecord r = must_begin(record_at_rest(S::kRunning), A::kShutdown).record;
  const Result<Step> second = begin(r, {A::kPause});
  ASSERT_FALSE(second.has_value());
  EXPECT_NE(second.error().message.find("while shutdown is running"), std::string::npos);
  const auto& allowed = second.error().allowed_actions;
  for (const char* a : {"shutdown_hard", "terminate_hard", "cancel", "recover_delete"}) {
    EXPECT_NE(std::find(allowed.begin(), allowed.end(), a), allowed.end()) << a;
  }
}

TEST(ModelTest, TerminateHardPreemptsAnyOperation) {
  VmRecord r = must_begin(record_at_rest(S::kPending), A::kDeploy).record;
  r = phase_succeeded(r).record;  // in boot
  const Step t = must_begin(r, A::kTerminateHard);
  EXPECT_EQ(t.replaced, A::kDeploy);
  EXPECT_EQ(t.phase, P::kCleanup);
  r = t.record;
  run_to_end(r);
  EXPECT_EQ(r.state, S::kDone);
  // Once DONE, nothing more.
  EXPECT_FALSE(begin(r, {A::kTerminateHard}).has_value());
}

TEST(ModelTest, HardShutdownOverridesOnlyAGracefulOne) {
  VmRecord r = must_begin(record_at_rest(S::kRunning), A::kShutdown).record;
  Step hard = must_begin(r, A::kShutdownHard);
  EXPECT_EQ(hard.replaced, A::kShutdown);
  EXPECT_EQ(hard.phase, P::kPowerOff);
  VmRecord after = hard.record;
  run_to_end(after);
  EXPECT_EQ(after.state, S::kPoweroff);
  // But not a pause in flight.
  r = must_begin(record_at_rest(S::kRunning), A::kPause).record;
  EXPECT_FALSE(begin(r, {A::kShutdownHard}).has_value());
}

TEST(ModelTest, CancelAppliesTheFailureRuleAsCanceled) {
  VmRecord r = must_begin(record_at_rest(S::kRunning), A::kShutdown).record;
  Step c = must_begin(r, A::kCancel);
  EXPECT_EQ(c.record.state, S::kRunning);
  EXPECT_EQ(c.record.op->status, OpStatus::kCanceled);
  EXPECT_EQ(c.record.op->action, A::kShutdown);
  // Nothing to cancel at rest.
  EXPECT_FALSE(begin(record_at_rest(S::kRunning), {A::kCancel}).has_value());
}

TEST(ModelTest, RecoverRetrySuccessAndFailureFromFailed) {
  VmRecord r = must_begin(record_at_rest(S::kPending), A::kDeploy).record;
  r = phase_succeeded(r).record;  // boot
  r = phase_failed(r).record;     // BOOT_FAILURE
  ASSERT_EQ(r.state, S::kFailed);

  const Step retry = must_begin(r, A::kRecoverRetry);
  EXPECT_TRUE(retry.record.busy());
  EXPECT_EQ(retry.phase, P::kBoot);  // the failed phase runs again
  VmRecord retried = retry.record;
  run_to_end(retried);
  EXPECT_EQ(retried.state, S::kRunning);

  const Step success = must_begin(r, A::kRecoverSuccess);
  EXPECT_EQ(success.phase, P::kOsProvisioning);  // boot declared done; go on

  const Step failure = must_begin(r, A::kRecoverFailure);
  EXPECT_EQ(failure.record.state, S::kPending);  // back where deploy started
  EXPECT_FALSE(failure.record.busy());
}

TEST(ModelTest, RecoverDeleteAndRecreateWorkEverywhereLive) {
  for (State s : kAllStates) {
    if (s == S::kDone || s == S::kInit) continue;
    const VmRecord r = record_at_rest(s);
    EXPECT_TRUE(allowed(r, A::kRecoverDelete)) << state_name(s);
  }
  VmRecord busy = must_begin(record_at_rest(S::kRunning), A::kMigrate).record;
  const Step recreate = must_begin(busy, A::kRecoverRecreate);
  EXPECT_EQ(recreate.replaced, A::kMigrate);
  VmRecord r = recreate.record;
  run_to_end(r);
  EXPECT_EQ(r.state, S::kPending);
}

TEST(ModelTest, OsProvisioningFailsForwardAndSucceedsLate) {
  VmRecord r = must_begin(record_at_rest(S::kPending), A::kDeploy).record;
  r = phase_succeeded(phase_succeeded(r).record).record;  // os_provisioning
  ASSERT_EQ(current_phase(*r.op), P::kOsProvisioning);
  r = phase_failed(r).record;
  EXPECT_EQ(r.state, S::kRunning);
  EXPECT_EQ(r.op->status, OpStatus::kFailed);
  const std::optional<Step> late = late_success(r);
  ASSERT_TRUE(late.has_value());
  EXPECT_EQ(late->record.op->status, OpStatus::kSucceeded);
  EXPECT_EQ(late->record.state, S::kRunning);
  // A failure that rolled back does not turn into success by itself.
  VmRecord s = must_begin(record_at_rest(S::kRunning), A::kShutdown).record;
  s = phase_failed(s).record;
  EXPECT_FALSE(late_success(s).has_value());
}

TEST(ModelTest, ResetStateSetsTheStateAndTouchesNothingElse) {
  VmRecord r = at(S::kRunning, Power::kRunning);
  r = must_begin(r, A::kMigrate).record;
  const Step reset = must_begin(r, A::kResetState, S::kFailed);
  EXPECT_EQ(reset.record.state, S::kFailed);
  EXPECT_EQ(reset.replaced, A::kMigrate);
  EXPECT_EQ(reset.record.power, Power::kRunning);  // the hypervisor is not touched
  const Step back = must_begin(reset.record, A::kResetState, S::kRunning);
  EXPECT_EQ(back.record.state, S::kRunning);
  const Result<Step> bad = begin(reset.record, {A::kResetState, S::kDone});
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
}

TEST(ModelTest, ConfirmAndRevertResizeEndByPower) {
  for (const auto& [origin, expected] :
       {std::pair{S::kRunning, S::kRunning}, std::pair{S::kPoweroff, S::kPoweroff}}) {
    VmRecord r = must_begin(record_at_rest(origin), A::kResizeMigrate).record;
    run_to_end(r);
    ASSERT_EQ(r.state, S::kResized);
    for (Action a : {A::kConfirmResize, A::kRevertResize}) {
      VmRecord x = must_begin(r, a).record;
      run_to_end(x);
      EXPECT_EQ(x.state, expected) << action_name(a) << " from " << state_name(origin);
    }
  }
}

TEST(ModelTest, HostResourcesFollowTheBillingOfSeed000) {
  // Azure bills the hardware of a VM that holds its host (Stopped) and not of one that
  // released it (Deallocated); StratusLab's Unknown "still has resources allocated".
  for (State s : kAllStates) {
    const bool billed = azure_view(record_at_rest(s)).billing != Billing::kNotBilled;
    EXPECT_EQ(holds_host(s), billed) << state_name(s);
  }
  EXPECT_TRUE(holds_host(S::kPoweroff));
  EXPECT_TRUE(holds_host(S::kSuspended));
  EXPECT_FALSE(holds_host(S::kDeallocated));
  EXPECT_FALSE(holds_host(S::kHibernated));
  EXPECT_FALSE(holds_host(S::kPending));
  EXPECT_FALSE(holds_host(S::kDone));
}

TEST(ModelTest, ReschedSetsAFlagOnly) {
  VmRecord r = must_begin(record_at_rest(S::kRunning), A::kResched).record;
  EXPECT_TRUE(r.resched);
  EXPECT_EQ(r.state, S::kRunning);
  r = must_begin(r, A::kUnresched).record;
  EXPECT_FALSE(r.resched);
}

TEST(ModelTest, ObservedEventsFollowTheHypervisor) {
  VmRecord r = must_begin(at(S::kRunning, Power::kRunning), A::kObservedPoweroff).record;
  EXPECT_EQ(r.state, S::kPoweroff);
  EXPECT_EQ(r.power, Power::kShutdown);
  r = must_begin(at(S::kRunning, Power::kRunning), A::kObservedLost).record;
  EXPECT_EQ(r.state, S::kUnknown);
  r = must_begin(r, A::kObservedRunning).record;
  EXPECT_EQ(r.state, S::kRunning);
  // System actions are not user actions.
  for (Action a : allowed_actions(at(S::kRunning, Power::kRunning))) {
    EXPECT_FALSE(is_system_action(a)) << action_name(a);
  }
}

}  // namespace
}  // namespace corral::lifecycle

namespace corral::lifecycle {
namespace {

// What each phase leaves of the guest's power (phases_power moved here from the sim driver,
// so the model, the sim and QEMU read one rule): kPaused before means "unchanged".
TEST(PhasePowerTest, EachPhase) {
  struct Case {
    Phase phase;
    Power after;
  };
  const Case cases[] = {
      {Phase::kBoot, Power::kRunning},      {Phase::kRestore, Power::kRunning},
      {Phase::kUnpause, Power::kRunning},   {Phase::kReset, Power::kRunning},
      {Phase::kReboot, Power::kRunning},    {Phase::kShutdown, Power::kShutdown},
      {Phase::kPowerOff, Power::kShutdown}, {Phase::kSave, Power::kShutdown},
      {Phase::kEpilog, Power::kShutdown},   {Phase::kCleanup, Power::kShutdown},
      {Phase::kPause, Power::kPaused},      {Phase::kProlog, Power::kPaused},
      {Phase::kSchedule, Power::kPaused},   {Phase::kSnapshot, Power::kPaused},
      {Phase::kHotplug, Power::kPaused},    {Phase::kRebuild, Power::kShutdown},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(phase_power(c.phase, Power::kPaused), c.after) << phase_name(c.phase);
  }
  EXPECT_EQ(phase_power(Phase::kPause, Power::kRunning), Power::kPaused);
  EXPECT_EQ(phase_power(Phase::kProlog, Power::kNoState), Power::kNoState);
}

// The power a phase's request carries: the phase's own between phases, the row's at the end.
TEST(PhasePowerTest, PowerAfterThePhaseARecordRuns) {
  Result<Step> migrate = begin(record_at_rest(State::kRunning), {Action::kMigrate});
  ASSERT_TRUE(migrate.has_value());
  EXPECT_EQ(power_after_phase(migrate->record), Power::kShutdown);  // save
  EXPECT_EQ(current_runs_on(*migrate->record.op), RunsOn::kSource);
  const Step prolog = phase_succeeded(migrate->record);
  EXPECT_EQ(current_runs_on(*prolog.record.op), RunsOn::kTarget);
  const Step restore = phase_succeeded(prolog.record);
  EXPECT_EQ(power_after_phase(restore.record), Power::kRunning);
  EXPECT_FALSE(current_removes_copy(*restore.record.op));
  const Step cleanup = phase_succeeded(restore.record);
  EXPECT_TRUE(in_last_phase(*cleanup.record.op));
  EXPECT_EQ(current_runs_on(*cleanup.record.op), RunsOn::kSource);
  EXPECT_TRUE(current_removes_copy(*cleanup.record.op));  // the source's copy goes
  EXPECT_EQ(power_after_phase(cleanup.record), Power::kRunning);
  EXPECT_TRUE(has_effect(*cleanup.record.op, Effect::kMovesVm));

  Result<Step> suspend = begin(record_at_rest(State::kRunning), {Action::kSuspend});
  ASSERT_TRUE(suspend.has_value());
  EXPECT_EQ(power_after_phase(suspend->record), Power::kShutdown);
  EXPECT_EQ(phase_succeeded(suspend->record).record.power, Power::kShutdown);

  Result<Step> rebuild = begin(record_at_rest(State::kPoweroff), {Action::kRebuild});
  ASSERT_TRUE(rebuild.has_value());
  EXPECT_EQ(power_after_phase(rebuild->record), Power::kShutdown) << "re-imaging boots nothing";
  EXPECT_TRUE(has_effect(*rebuild->record.op, Effect::kAppliesModel));
}

}  // namespace
}  // namespace corral::lifecycle
