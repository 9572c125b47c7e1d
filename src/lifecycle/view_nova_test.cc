// Seeds 003 and 004, line by line: every edge of the preconditions digraph, Nova's status
// map, and the power states.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "lifecycle/golden/golden.h"
#include "lifecycle/reachable.h"
#include "lifecycle/seed_text.h"
#include "lifecycle/views.h"
#include "lifecycle/vocabulary.h"

namespace corral::lifecycle {
namespace {

using golden::Mismatches;
using testing::Edge;
using testing::nova_seed_edges;

const std::set<std::string> kNovaStates = {"building", "active",  "paused",  "suspended",
                                           "stopped",  "rescued", "resized", "soft_deleted",
                                           "deleted",  "error",   "shelved", "shelved_offloaded"};

// The digraph writes soft-delete as soft_deleted.
std::string digraph_name(NovaVmState s) {
  std::string n(nova_vm_state_name(s));
  return n == "soft-delete" ? "soft_deleted" : n;
}

// The canonical record a Nova user sees as each vm_state, at rest (task_state None).
VmRecord primary(const std::string& nova_state) {
  static const std::map<std::string, State> kPrimary = {
      {"building", State::kPending}, {"active", State::kRunning},
      {"paused", State::kPaused},    {"suspended", State::kSuspended},
      {"stopped", State::kPoweroff}, {"rescued", State::kRescued},
      {"resized", State::kResized},  {"soft_deleted", State::kSoftDeleted},
      {"deleted", State::kDone},     {"error", State::kFailed},
      {"shelved", State::kShelved},  {"shelved_offloaded", State::kDeallocated}};
  VmRecord r = record_at_rest(kPrimary.at(nova_state));
  if (r.state == State::kResized) r.power = Power::kRunning;
  return r;
}

// The variants a verb can be asked with (reboot SOFT/HARD, shelve offload true/false).
std::vector<std::string> variants(const std::string& verb) {
  std::set<std::string> out;
  for (const VerbRule& r : verb_rules(Vocabulary::kNova)) {
    if (r.verb == verb) out.insert(std::string(r.variant));
  }
  return {out.begin(), out.end()};
}

bool allowed_in_some_variant(const VmRecord& r, const std::string& verb) {
  for (const std::string& v : variants(verb)) {
    if (resolve(r, Vocabulary::kNova, verb, v).has_value()) return true;
  }
  return false;
}

std::set<std::string> apis() {
  std::set<std::string> out;
  for (const Edge& e : nova_seed_edges()) {
    if (!kNovaStates.contains(e.from)) out.insert(e.from);
    if (!kNovaStates.contains(e.to)) out.insert(e.to);
  }
  out.erase("states");  // "digraph states {" is not an edge, but be safe
  return out;
}

TEST(NovaViewTest, SeedDigraphParses) {
  const std::vector<Edge> edges = nova_seed_edges();
  EXPECT_EQ(edges.size(), 95U);
  EXPECT_EQ(apis().size(), 24U);  // create ... unshelve: the 24 Nova verbs
}

TEST(NovaViewTest, EveryPreconditionEdgeIsAllowed) {
  for (const Edge& e : nova_seed_edges()) {
    if (!kNovaStates.contains(e.from)) continue;  // "api -> state" edges are outcomes
    SCOPED_TRACE("seed 003: " + e.from + " -> " + e.to);
    const VmRecord r = primary(e.from);
    EXPECT_EQ(digraph_name(nova_view(r).vm_state), e.from);
    EXPECT_TRUE(allowed_in_some_variant(r, e.to)) << e.to << " refused on " << e.from;
  }
}

// Seed 003 does not draw delete from active, resized, shelved or shelved_offloaded, yet
// Nova's API deletes in any vm_state and task_state (nova/compute/api.py delete:
// check_instance_state(vm_state=None, task_state=None, must_have_launched=False)), and so do
// OpenNebula (terminate) and StratusLab (kill). Corral follows the systems, not the drawing.
const std::set<std::pair<std::string, std::string>> kUndrawnButAllowed = {
    {"active", "delete"},
    {"resized", "delete"},
    {"shelved", "delete"},
    {"shelved_offloaded", "delete"}};

TEST(NovaViewTest, EveryUndrawnStateVerbPairIsRefused) {
  std::set<std::pair<std::string, std::string>> drawn;
  for (const Edge& e : nova_seed_edges()) {
    if (kNovaStates.contains(e.from)) drawn.insert({e.from, e.to});
  }
  int checked = 0;
  for (const testing::Reached& reached : testing::reachable_records()) {
    const VmRecord& r = reached.record;
    const NovaView v = nova_view(r);
    if (v.task_state != NovaTaskState::kNone) continue;  // tasks: see the next test
    const std::string state = digraph_name(v.vm_state);
    for (const std::string& api : apis()) {
      const bool allowed = allowed_in_some_variant(r, api);
      if (drawn.contains({state, api}) || kUndrawnButAllowed.contains({state, api})) continue;
      ++checked;
      EXPECT_FALSE(allowed) << "seed 003 draws no " << state << " -> " << api
                            << ", but it was allowed on " << testing::describe(r);
    }
  }
  EXPECT_GT(checked, 1000);
}

TEST(NovaViewTest, DeletingAnActiveVmIsAllowedThoughSeed003DoesNotDrawIt) {
  EXPECT_EQ(resolve(primary("active"), Vocabulary::kNova, "delete"), Action::kTerminateHard);
}

TEST(NovaViewTest, DuringATaskOnlyDeletePreempts) {
  // Seed 004: "There are only one task (with a task id) can be running on the VM at a time.
  // Only HARD_DELETE can pre-empt other tasks."
  for (const testing::Reached& reached : testing::reachable_records()) {
    const VmRecord& r = reached.record;
    if (!r.busy()) continue;
    for (const std::string& api : apis()) {
      if (api == "delete") continue;
      EXPECT_FALSE(allowed_in_some_variant(r, api))
          << api << " allowed during " << testing::describe(r);
    }
    EXPECT_EQ(nova_view(r).vm_state == NovaVmState::kDeleted, r.state == State::kDone);
  }
}

// Runs an action from a record to the end of its phases; returns the outcome's vm_state.
std::string outcome(const VmRecord& from, Action a) {
  VmRecord r = begin(from, {a})->record;
  for (int guard = 0; r.busy() && guard < 10; ++guard) r = phase_succeeded(r).record;
  return digraph_name(nova_view(r).vm_state);
}

// Every "api -> state" edge is an outcome of the verb. The "api -> error" edges, and the
// sources that excuse the ones no failure reaches, are golden::check_nova's (nova_golden.cc).
TEST(NovaViewTest, EveryOutcomeEdgeIsReached) {
  std::map<std::string, std::set<std::string>> outcomes;  // api -> vm_states reached
  for (const Edge& e : nova_seed_edges()) {
    if (!kNovaStates.contains(e.from)) continue;
    const VmRecord r = primary(e.from);
    for (const std::string& v : variants(e.to)) {
      const Result<Action> a = resolve(r, Vocabulary::kNova, e.to, v);
      if (a) outcomes[e.to].insert(outcome(r, *a));
    }
  }
  int checked = 0;
  for (const Edge& e : nova_seed_edges()) {
    if (kNovaStates.contains(e.from) || e.to == "error") continue;
    SCOPED_TRACE("seed 003: " + e.from + " -> " + e.to);
    ++checked;
    EXPECT_TRUE(outcomes[e.from].contains(e.to)) << e.from << " never ends in " << e.to;
  }
  EXPECT_GT(checked, 0);
}

// The golden check must be able to fail: a failure rule flipped in memory (as the mutation
// tool does) is caught, whichever way it is flipped.
Mismatches check_nova_with_rule(Action action, State origin, FailureRule rule) {
  std::vector<Transition> rows(transitions().begin(), transitions().end());
  bool flipped = false;
  for (Transition& t : rows) {
    if (t.action == action && t.when_idle && t.from.contains(origin) && t.step_count > 0) {
      t.steps[0].on_failure = rule;
      flipped = true;
    }
  }
  EXPECT_TRUE(flipped) << action_name(action) << " from " << state_name(origin);
  const lifecycle::testing::ScopedTransitions mutant(rows);
  return golden::check_nova(1);
}

TEST(NovaViewTest, GoldenCheckCatchesAFlippedFailureRule) {
  EXPECT_TRUE(golden::check_nova(1).empty()) << golden::check_nova(1).lines().front();
  // Nova reverts a failed pause (nova.md:33): fail-stop would show ERROR.
  EXPECT_FALSE(
      check_nova_with_rule(Action::kPause, State::kRunning, FailureRule::kFailStop).empty());
  // Nova errors out a failed suspend (nova.md:35): a plain rollback never shows ERROR.
  EXPECT_FALSE(
      check_nova_with_rule(Action::kSuspend, State::kRunning, FailureRule::kRollback).empty());
  // Confirm is E: ERROR (nova.md:42); a rollback would leave seed 003's edge unreached too.
  EXPECT_FALSE(check_nova_with_rule(Action::kConfirmResize, State::kResized, FailureRule::kRollback)
                   .empty());
}

TEST(NovaViewTest, GoldenCheckCatchesAnErrorEdgeLostToAVerbRule) {
  // Nova's confirm_resize asking for an action that cannot run on a resized VM: seed 003's
  // confirm_resize -> error is then reached by no failure.
  std::vector<VerbRule> rules(all_verb_rules().begin(), all_verb_rules().end());
  bool changed = false;
  for (VerbRule& r : rules) {
    if (r.vocabulary == Vocabulary::kNova && r.verb == "confirm_resize") {
      r.action = Action::kResize;
      changed = true;
    }
  }
  ASSERT_TRUE(changed);
  const lifecycle::testing::ScopedVerbRules mutant(rules);
  const Mismatches found = golden::check_nova();
  ASSERT_FALSE(found.empty());
  EXPECT_NE(found.lines().front().find("confirm_resize -> error"), std::string::npos)
      << found.lines().front();
}

TEST(NovaViewTest, StatusMapIsNovas) {
  using V = NovaVmState;
  using T = NovaTaskState;
  struct Case {
    V vm;
    T task;
    const char* status;
  };
  const Case cases[] = {
      {V::kActive, T::kNone, "ACTIVE"},
      {V::kBuilding, T::kScheduling, "BUILD"},
      {V::kStopped, T::kNone, "SHUTOFF"},
      {V::kResized, T::kNone, "VERIFY_RESIZE"},
      {V::kPaused, T::kNone, "PAUSED"},
      {V::kSuspended, T::kNone, "SUSPENDED"},
      {V::kRescued, T::kNone, "RESCUE"},
      {V::kError, T::kNone, "ERROR"},
      {V::kDeleted, T::kNone, "DELETED"},
      {V::kSoftDeleted, T::kNone, "SOFT_DELETED"},
      {V::kShelved, T::kNone, "SHELVED"},
      {V::kShelvedOffloaded, T::kNone, "SHELVED_OFFLOADED"},
      {V::kActive, T::kRebooting, "REBOOT"},
      {V::kActive, T::kRebootStarted, "REBOOT"},
      {V::kActive, T::kRebootingHard, "HARD_REBOOT"},
      {V::kActive, T::kUpdatingPassword, "PASSWORD"},
      {V::kActive, T::kRebuildSpawning, "REBUILD"},
      {V::kActive, T::kMigrating, "MIGRATING"},
      {V::kActive, T::kResizeFinish, "RESIZE"},
      {V::kStopped, T::kResizePrep, "RESIZE"},
      {V::kStopped, T::kRebuilding, "REBUILD"},
      {V::kResized, T::kResizeReverting, "REVERT_RESIZE"},
      {V::kPaused, T::kMigrating, "MIGRATING"},
      {V::kError, T::kRebuilding, "REBUILD"},
      // Every other combination shows the default.
      {V::kActive, T::kPoweringOff, "ACTIVE"},
      {V::kActive, T::kPausing, "ACTIVE"},
      {V::kActive, T::kDeleting, "ACTIVE"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(nova_status(c.vm, c.task), c.status)
        << nova_vm_state_name(c.vm) << "/" << nova_task_state_name(c.task);
  }
}

// Seed 004's lists of power statuses and vm_status are parsed and compared with the code's
// names both ways by golden::check_nova; here, that the records show them.
TEST(NovaViewTest, PowerStatesOfSeed004) {
  // Numbers as Nova stores them: 0 NOSTATE, 1 RUNNING, 3 PAUSED, 4 SHUTDOWN (nova.md:12).
  std::set<int> seen;
  for (const testing::Reached& r : testing::reachable_records()) {
    seen.insert(nova_view(r.record).power_state);
  }
  for (int p : {0, 1, 3, 4}) EXPECT_TRUE(seen.contains(p)) << "power_state " << p;
  EXPECT_EQ(nova_view(primary("active")).power_state, 1);
  EXPECT_EQ(nova_view(primary("stopped")).power_state, 4);
  EXPECT_EQ(nova_view(record_at_rest(State::kUnknown)).power_state, 0);  // active, NOSTATE
  EXPECT_EQ(nova_power_state_name(4), "Shutdown");
}

TEST(NovaViewTest, Seed004VmStatusesAreAllShown) {
  // Seed 004 lists ACTIVE, RESCUED, PAUSED, SUSPENDED, STOPPED, SOFT_DELETED, HARD_DELETED
  // (deleted), RESIZED, ERROR and INITIALIZED (building).
  std::set<std::string> seen;
  for (const testing::Reached& r : testing::reachable_records()) {
    seen.insert(std::string(nova_vm_state_name(nova_view(r.record).vm_state)));
  }
  for (NovaVmState s : kAllNovaVmStates) {
    EXPECT_TRUE(seen.contains(std::string(nova_vm_state_name(s)))) << nova_vm_state_name(s);
  }
}

}  // namespace
}  // namespace corral::lifecycle
