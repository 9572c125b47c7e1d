// The policy as data: every route has a rule, every canonical action and every verb of every
// vocabulary has a need that follows the rule written here from Nova's and OpenNebula's
// defaults (not read from the table), and authorize() applies the implied role chain, the
// admin project's binding, and 401 for a missing caller.
#include "api/policy.h"

#include <gtest/gtest.h>

#include <set>

#include "lifecycle/vocabulary.h"

namespace corral::api {
namespace {

using lifecycle::Action;

// Nova (2023.2 defaults) and OpenNebula (oned.conf's ADMIN right), as a rule: moving a VM is
// a manager's; placing it, recovering it or forcing its state is the cloud admin's; every
// other user action is a member's (shelve_offload too: Nova's member `shelve` offloads at once).
Need expected_need(Action a) {
  static const std::set<Action> kManagers = {Action::kMigrate, Action::kLiveMigrate};
  static const std::set<Action> kCloudAdmins = {
      Action::kDeploy,        Action::kResched,         Action::kUnresched,
      Action::kRecoverRetry,  Action::kRecoverSuccess,  Action::kRecoverFailure,
      Action::kRecoverDelete, Action::kRecoverRecreate, Action::kResetState};
  if (kManagers.contains(a)) return {Access::kProject, auth::Role::kManager};
  if (kCloudAdmins.contains(a) || lifecycle::is_system_action(a)) {
    return {Access::kCloudAdmin, auth::Role::kAdmin};
  }
  return {Access::kProject, auth::Role::kMember};
}

TEST(PolicyTest, EveryCanonicalActionHasOneRowWithTheExpectedNeed) {
  std::set<Action> seen;
  for (std::size_t i = 0; i < kActionPolicySize; ++i) {
    EXPECT_TRUE(seen.insert(kActionPolicy[i].action).second) << "two rows for one action";
  }
  for (int n = 1; n < lifecycle::kActionCount; ++n) {
    const auto a = static_cast<Action>(n);
    SCOPED_TRACE(std::string(lifecycle::action_name(a)));
    EXPECT_TRUE(seen.contains(a)) << "an action without a row";
    EXPECT_EQ(need_for_action(a, false), expected_need(a));
    // Naming the host is the cloud admin's, whatever the action (Nova: migrate to a host).
    EXPECT_EQ(need_for_action(a, true), (Need{Access::kCloudAdmin, auth::Role::kAdmin}));
  }
}

TEST(PolicyTest, EveryVerbOfEveryVocabularyNeedsWhatItsActionNeeds) {
  int verbs = 0;
  for (const lifecycle::VerbRule& rule : lifecycle::all_verb_rules()) {
    SCOPED_TRACE(std::string(rule.verb));
    const Need need = need_for_action(rule.action, false);
    EXPECT_EQ(need, expected_need(rule.action));
    // No verb of any vocabulary lets a reader change a VM.
    EXPECT_NE(need.access == Access::kProject && need.role == auth::Role::kReader, true);
    ++verbs;
  }
  EXPECT_GT(verbs, 50);
}

auth::Principal caller(auth::Role role, store::ProjectId project) {
  return {7,    "alice", project, project == store::kAdminProjectId ? "admin" : "research",
          role, 1,       0};
}

TEST(PolicyTest, TheImpliedChainAndTheAdminProjectDecide) {
  struct Case {
    auth::Role role;
    store::ProjectId project;
    Need need;
    bool allowed;
  };
  const Need reader{Access::kProject, auth::Role::kReader};
  const Need member{Access::kProject, auth::Role::kMember};
  const Need manager{Access::kProject, auth::Role::kManager};
  const Need cloud{Access::kCloudAdmin, auth::Role::kAdmin};
  const Case cases[] = {
      {auth::Role::kReader, 2, reader, true},
      {auth::Role::kReader, 2, member, false},
      {auth::Role::kMember, 2, member, true},
      {auth::Role::kMember, 2, manager, false},
      {auth::Role::kManager, 2, manager, true},
      {auth::Role::kManager, 2, cloud, false},
      {auth::Role::kAdmin, 2, manager, true},
      {auth::Role::kAdmin, 2, cloud, false},
      {auth::Role::kAdmin, 1, cloud, true},
      {auth::Role::kManager, 1, cloud, false},
      {auth::Role::kReader, 2, {Access::kAuthenticated, auth::Role::kReader}, true},
  };
  for (const Case& c : cases) {
    const auth::Principal p = caller(c.role, c.project);
    Status s = authorize(&p, c.need, "GET /x");
    EXPECT_EQ(s.has_value(), c.allowed) << auth::role_name(c.role) << " on " << c.project << " for "
                                        << auth::role_name(c.need.role);
    if (!s) {
      EXPECT_EQ(s.error().code, ErrorCode::kForbidden);
      EXPECT_NE(s.error().message.find("alice is " + std::string(auth::role_name(c.role))),
                std::string::npos)
          << s.error().message;
    }
  }
  Status anonymous = authorize(nullptr, reader, "GET /v1/vms");
  ASSERT_FALSE(anonymous);
  EXPECT_EQ(anonymous.error().code, ErrorCode::kUnauthenticated);
  EXPECT_TRUE(authorize(nullptr, {Access::kPublic, auth::Role::kReader}, "GET /healthz"));
}

TEST(PolicyTest, OnlyTheirOwnProjectOrTheCloudsAdminSeeAnObject) {
  const auth::Principal member = caller(auth::Role::kMember, 2);
  const auth::Principal project_admin = caller(auth::Role::kAdmin, 2);
  const auth::Principal admin_reader = caller(auth::Role::kReader, 1);
  const auth::Principal cloud_admin = caller(auth::Role::kAdmin, 1);
  EXPECT_TRUE(can_see(&member, 2));
  EXPECT_FALSE(can_see(&member, 3));
  EXPECT_FALSE(can_see(&project_admin, 3));
  EXPECT_FALSE(can_see(&admin_reader, 2)) << "a reader of the admin project is not admin";
  EXPECT_TRUE(can_see(&cloud_admin, 2));
  EXPECT_FALSE(can_see(nullptr, 2));
}

// Neutron's shared networks: every project sees a shared one, only the cloud's admin changes
// it; a private one is its project's alone (and any for the cloud's admin).
TEST(PolicyTest, SharedNetworksAreSeenByAllAndChangedByTheCloudsAdminOnly) {
  const auth::Principal member = caller(auth::Role::kMember, 2);
  const auth::Principal admin_member = caller(auth::Role::kMember, 1);
  const auth::Principal cloud_admin = caller(auth::Role::kAdmin, 1);
  struct Case {
    const auth::Principal* who;
    store::ProjectId project;  // the network's
    bool shared;
    bool sees;
    bool changes;
  };
  const Case cases[] = {
      {&member, 2, false, true, true},       {&member, 3, false, false, false},
      {&member, 1, true, true, false},       {&member, 1, false, false, false},
      {&admin_member, 1, true, true, false}, {&admin_member, 1, false, true, true},
      {&cloud_admin, 1, true, true, true},   {&cloud_admin, 3, false, true, true},
      {nullptr, 1, true, false, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(::testing::Message() << (c.who ? c.who->project : 0) << " on " << c.project
                                      << (c.shared ? " shared" : ""));
    EXPECT_EQ(can_see_network(c.who, c.project, c.shared), c.sees);
    EXPECT_EQ(can_change_network(c.who, c.project, c.shared), c.changes);
  }
}

}  // namespace
}  // namespace corral::api
