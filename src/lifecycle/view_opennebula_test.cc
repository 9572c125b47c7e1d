// Seed 001, line by line: every STATE and LCM_STATE, with its number and short alias, is
// produced by the OpenNebula view for some reachable record. The golden table
// (golden/opennebula_golden.cc) pins what each moment shows; here, that its check can fail.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <set>

#include "lifecycle/golden/golden.h"
#include "lifecycle/reachable.h"
#include "lifecycle/seed_text.h"
#include "lifecycle/views.h"

namespace corral::lifecycle {
namespace {

using testing::OneSeedEntry;
using testing::opennebula_seed_states;
using testing::reachable_records;

TEST(OpenNebulaViewTest, SeedTableParsesCompletely) {
  const std::vector<OneSeedEntry> seed = opennebula_seed_states();
  int states = 0;
  int lcm = 0;
  for (const OneSeedEntry& e : seed) (e.lcm ? lcm : states)++;
  // 11 STATEs (0-6, 8-11) and 68 LCM_STATEs (0-70 less the retired 13, 14, 58 ... as listed).
  EXPECT_EQ(states, 11);
  EXPECT_EQ(lcm, 68);
}

TEST(OpenNebulaViewTest, NamesNumbersAndAliasesMatchTheSeed) {
  for (const OneSeedEntry& e : opennebula_seed_states()) {
    SCOPED_TRACE("seed 001 line " + std::to_string(e.line) + ": " + e.name);
    if (e.lcm) {
      const auto lcm = static_cast<LcmState>(e.number);
      EXPECT_EQ(lcm_state_name(lcm), e.name);
      EXPECT_EQ(lcm_state_alias(lcm), e.alias);
    } else {
      const auto state = static_cast<OneState>(e.number);
      EXPECT_EQ(one_state_name(state), e.name);
      EXPECT_EQ(one_state_alias(state), e.alias);
    }
  }
  EXPECT_EQ(kAllLcmStates.size(), 68U);
  EXPECT_EQ(kAllOneStates.size(), 11U);
}

TEST(OpenNebulaViewTest, EverySeedStateIsProducedBySomeReachableRecord) {
  std::map<int, std::string> one_seen;  // STATE -> an example path
  std::map<int, std::string> lcm_seen;  // LCM_STATE -> an example path
  std::set<std::pair<int, std::string>> aliases;
  for (const testing::Reached& r : reachable_records()) {
    const OpenNebulaView v = opennebula_view(r.record);
    one_seen.emplace(static_cast<int>(v.state), r.path);
    // LCM_INIT is, by seed 001's own note, the LCM_STATE of every VM that is not ACTIVE.
    lcm_seen.emplace(static_cast<int>(v.lcm_state), r.path);
    aliases.emplace(static_cast<int>(v.state) * 100 + static_cast<int>(v.lcm_state),
                    std::string(v.short_alias));
  }
  for (const OneSeedEntry& e : opennebula_seed_states()) {
    SCOPED_TRACE("seed 001 line " + std::to_string(e.line) + ": " + e.name);
    if (e.lcm) {
      EXPECT_TRUE(lcm_seen.contains(e.number)) << "no reachable record shows ACTIVE/" << e.name;
    } else {
      EXPECT_TRUE(one_seen.contains(e.number)) << "no reachable record shows " << e.name;
    }
  }
}

TEST(OpenNebulaViewTest, LcmStateOnlyWhenActiveAndAliasFollowsIt) {
  // Seed 001: "LCM_INIT state is used as LCM_STATE when the VM is in a state different than
  // ACTIVE"; onevm list shows the LCM alias for ACTIVE VMs.
  for (const testing::Reached& r : reachable_records()) {
    const OpenNebulaView v = opennebula_view(r.record);
    SCOPED_TRACE(testing::describe(r.record));
    if (v.state == OneState::kActive) {
      EXPECT_NE(v.lcm_state, LcmState::kLcmInit);
      EXPECT_EQ(v.short_alias, lcm_state_alias(v.lcm_state));
    } else {
      EXPECT_EQ(v.lcm_state, LcmState::kLcmInit);
      EXPECT_EQ(v.short_alias, one_state_alias(v.state));
    }
  }
}

TEST(OpenNebulaViewTest, FineGrainedStatesFollowOriginAndPhase) {
  using A = Action;
  auto run = [](State from, Action a, int ok, bool fail) {
    VmRecord r = begin(record_at_rest(from), {a})->record;
    for (int i = 0; i < ok; ++i) r = phase_succeeded(r).record;
    if (fail) r = phase_failed(r).record;
    return opennebula_view(r);
  };
  struct Case {
    State from;
    Action a;
    int ok;
    bool fail;
    LcmState lcm;
  };
  const Case cases[] = {
      {State::kPoweroff, A::kStart, 0, false, LcmState::kBootPoweroff},
      {State::kSuspended, A::kResume, 0, false, LcmState::kBootSuspended},
      {State::kUnknown, A::kStart, 0, false, LcmState::kBootUnknown},
      {State::kHibernated, A::kResume, 1, false, LcmState::kPrologResume},
      {State::kHibernated, A::kResume, 2, false, LcmState::kBootStopped},
      {State::kHibernated, A::kResume, 2, true, LcmState::kBootStoppedFailure},
      {State::kPoweroff, A::kMigrate, 0, true, LcmState::kPrologMigratePoweroffFailure},
      {State::kRunning, A::kMigrate, 0, false, LcmState::kSaveMigrate},
      {State::kRunning, A::kShutdown, 0, false, LcmState::kShutdownPoweroff},
      {State::kRunning, A::kDeallocate, 0, false, LcmState::kShutdownUndeploy},
      {State::kRunning, A::kTerminate, 0, false, LcmState::kShutdown},
      {State::kRunning, A::kTerminate, 1, true, LcmState::kEpilogFailure},
      {State::kRunning, A::kHibernate, 0, false, LcmState::kSaveStop},
      {State::kPoweroff, A::kDiskAttach, 0, false, LcmState::kHotplugPrologPoweroff},
      {State::kFailed, A::kTerminate, 0, false, LcmState::kCleanupDelete},
      // A live migration's failure first runs its undo phases: still MIGRATE meanwhile.
      {State::kRunning, A::kLiveMigrate, 1, true, LcmState::kMigrate},
      // Failed with the origin not known intact (FailureRule::kRollbackIfIntact): OpenNebula
      // has no failure state of its own for these steps; Corral shows the nearest.
      {State::kRunning, A::kSuspend, 0, true, LcmState::kBootFailure},
      {State::kSuspended, A::kResume, 0, true, LcmState::kBootFailure},
  };
  for (const Case& c : cases) {
    const OpenNebulaView v = run(c.from, c.a, c.ok, c.fail);
    EXPECT_EQ(v.state, OneState::kActive);
    EXPECT_EQ(lcm_state_name(v.lcm_state), lcm_state_name(c.lcm))
        << action_name(c.a) << " from " << state_name(c.from) << " after " << c.ok << " phases";
  }
  // A VM waiting for a host again (resume from STOPPED) is PENDING, as OpenNebula reschedules it.
  EXPECT_EQ(run(State::kHibernated, A::kResume, 0, false).state, OneState::kPending);
  // Creation: INIT, then CLONING, and a failed clone is CLONING_FAILURE.
  VmRecord r = new_record();
  EXPECT_EQ(opennebula_view(r).state, OneState::kInit);
  r = phase_succeeded(r).record;
  EXPECT_EQ(opennebula_view(r).state, OneState::kCloning);
  EXPECT_EQ(opennebula_view(phase_failed(r).record).state, OneState::kCloningFailure);
}

// The golden check on a table edited in memory, as the mutation tool edits it.
golden::Mismatches check_with_rows(const std::function<bool(Transition&)>& edit) {
  std::vector<Transition> rows(transitions().begin(), transitions().end());
  bool edited = false;
  for (Transition& t : rows) edited = edit(t) || edited;
  EXPECT_TRUE(edited) << "the edit matched no row of the table";
  const lifecycle::testing::ScopedTransitions mutant(rows);
  return golden::check_opennebula(1);
}

TEST(OpenNebulaViewTest, GoldenCheckFailsBothWays) {
  const golden::Mismatches as_is = golden::check_opennebula(1);
  EXPECT_TRUE(as_is.empty()) << as_is.lines().front();

  // A moment no golden row knows: pause allowed from SUSPENDED too.
  const golden::Mismatches added = check_with_rows([](Transition& t) {
    if (t.action != Action::kPause || !t.when_idle) return false;
    t.from = t.from.with(State::kSuspended);
    return true;
  });
  ASSERT_FALSE(added.empty());
  EXPECT_THAT(added.lines().front(), ::testing::HasSubstr("no golden row"));

  // A golden row no moment reaches: backup no longer allowed from POWEROFF.
  const golden::Mismatches dropped = check_with_rows([](Transition& t) {
    if (t.action != Action::kBackup || !t.from.contains(State::kPoweroff)) return false;
    t.from = t.from.without(State::kPoweroff);
    return true;
  });
  ASSERT_FALSE(dropped.empty());
  EXPECT_THAT(dropped.lines().front(), ::testing::HasSubstr("BACKUP_POWEROFF"));
  EXPECT_THAT(dropped.lines().front(), ::testing::HasSubstr("is no moment's row"));
}

}  // namespace
}  // namespace corral::lifecycle
