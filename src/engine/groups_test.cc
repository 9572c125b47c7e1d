// Placement constraints end to end in the engine: create validates a VM's requirements and
// group; the scheduler follows each server-group policy and the requirements over host
// labels; a VM nothing can host stays PENDING with a reason naming the rule and is placed
// when a host that can take it appears; flush keeps to the rules; groups survive a restart.
#include <gtest/gtest.h>

#include <set>

#include "engine/hosts_testing.h"

namespace corral::engine {
namespace {

namespace lc = corral::lifecycle;
using lc::HostEvent;
using lc::State;
using store::GroupPolicy;

class GroupsTest : public testing::HostsTest {
 protected:
  // Adds and connects a host with these labels.
  void labeled(const std::string& name, std::map<std::string, std::string> labels = {},
               int vcpus = 8) {
    HostSpec spec;
    spec.labels = std::move(labels);
    ASSERT_TRUE(add(name, spec));
    ASSERT_TRUE(connect(name, {}, vcpus, 8192));
  }
  Result<Accepted> create_in(const std::string& group, const std::string& requirements = {}) {
    CreateRequest request;
    request.name = "vm";
    request.model = {1, 128, "img"};
    request.group = group;
    request.requirements = requirements;
    return engine_->create(std::move(request));
  }
  std::string reason(store::VmId id) const { return engine_->get(id)->pending_reason; }
  bool pending_with(store::VmId id, const std::string& text) const {
    const std::optional<store::Vm> vm = engine_->get(id);
    return vm->record.state == State::kPending && !vm->record.busy() &&
           vm->pending_reason.find(text) != std::string::npos;
  }
};

// Catches: create not parsing the expression (a bad one stored), an unknown group accepted,
// a refused create that still took an id.
TEST_F(GroupsTest, CreateValidatesRequirementsAndGroup) {
  start({}, 1);
  ASSERT_TRUE(engine_->create_group({"g1", GroupPolicy::kAntiAffinity}));
  struct Case {
    std::string requirements;
    std::string group;
    ErrorCode error;  // kInternal: accepted
    std::string message;
  };
  const Case cases[] = {
      {R"(ARCH = "x86_64")", "", ErrorCode::kInternal, ""},
      {"zone = a & !(rack = r*)", "g1", ErrorCode::kInternal, ""},
      {"", "1", ErrorCode::kInternal, ""},  // by id
      {"zone = ", "", ErrorCode::kInvalidArgument, "position"},
      {"(zone = a", "", ErrorCode::kInvalidArgument, "requirements"},
      {"zone == a", "", ErrorCode::kInvalidArgument, "position"},
      {"", "nope", ErrorCode::kInvalidArgument, "no server group nope"},
      {"", "7", ErrorCode::kInvalidArgument, "no server group 7"},
  };
  std::size_t accepted = 0;
  for (const Case& c : cases) {
    Result<Accepted> got = create_in(c.group, c.requirements);
    if (c.error == ErrorCode::kInternal) {
      ASSERT_TRUE(got) << c.requirements << ": " << got.error().message;
      ++accepted;
      EXPECT_EQ(got->vm.requirements, c.requirements);
      EXPECT_EQ(got->vm.group, c.group.empty() ? 0 : 1);
      EXPECT_EQ(got->vm.id, static_cast<store::VmId>(accepted)) << "ids stay dense";
    } else {
      ASSERT_FALSE(got) << c.requirements << " " << c.group;
      EXPECT_EQ(got.error().code, c.error);
      EXPECT_NE(got.error().message.find(c.message), std::string::npos) << got.error().message;
    }
  }
  EXPECT_EQ(engine_->list({}).vms.size(), accepted);
}

// Catches: a policy mapped to the wrong sched policy, members' hosts not passed to the
// scheduler, members placed in one pass not seeing each other.
TEST_F(GroupsTest, EachPolicyPlacesItsMembers) {
  struct Case {
    GroupPolicy policy;
    int members;
    std::size_t distinct_hosts;  // among the placed members
    int pending;                 // members nothing can host
  };
  const Case cases[] = {
      {GroupPolicy::kAffinity, 3, 1, 0},
      {GroupPolicy::kAntiAffinity, 4, 3, 1},
      {GroupPolicy::kSoftAffinity, 3, 1, 0},
      {GroupPolicy::kSoftAntiAffinity, 4, 3, 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(group_policy_name(c.policy)));
    stop();
    store_ = std::make_unique<testing::MemoryStore>();
    start();  // striping: without a rule, members spread
    for (const std::string name : {"x", "y", "z"}) labeled(name);
    ASSERT_TRUE(engine_->create_group({"g1", c.policy}));
    std::vector<store::VmId> ids;
    for (int i = 0; i < c.members; ++i) {
      Result<Accepted> vm = create_in("g1");
      ASSERT_TRUE(vm) << vm.error().message;
      ids.push_back(vm->vm.id);
    }
    ASSERT_TRUE(eventually([&] {
      int settled = 0;
      for (store::VmId id : ids) {
        settled += is(id, State::kRunning) || pending_with(id, "group") ? 1 : 0;
      }
      return settled == c.members;
    }));
    std::set<std::string> hosts;
    int pending = 0;
    for (store::VmId id : ids) {
      if (is(id, State::kRunning)) {
        hosts.insert(host_of(id));
      } else {
        ++pending;
        EXPECT_NE(reason(id).find("anti-affinity group g1: every host already holds a member"),
                  std::string::npos)
            << reason(id);
      }
    }
    EXPECT_EQ(hosts.size(), c.distinct_hosts);
    EXPECT_EQ(pending, c.pending);
    const std::optional<GroupDetail> g = engine_->group("g1");
    ASSERT_TRUE(g);
    EXPECT_EQ(g->members, ids);
  }
}

// Catches: requirements not passed to the scheduler, or the reason not naming them.
TEST_F(GroupsTest, RequirementsOverHostLabels) {
  struct Case {
    std::string requirements;
    std::string host;  // empty: stays PENDING
  };
  const Case cases[] = {
      {R"(ARCH = "x86_64")", "x"},       {"ARCH = arm*", "y"}, {"!(zone = a)", "y"},
      {"zone = a & ARCH = aarch64", ""}, {"gpu = yes", ""},
  };
  start();
  labeled("x", {{"ARCH", "x86_64"}, {"zone", "a"}});
  labeled("y", {{"ARCH", "arm64"}, {"zone", "b"}});
  for (const Case& c : cases) {
    SCOPED_TRACE(c.requirements);
    Result<Accepted> vm = create_in("", c.requirements);
    ASSERT_TRUE(vm) << vm.error().message;
    if (!c.host.empty()) {
      EXPECT_TRUE(eventually([&] { return is(vm->vm.id, State::kRunning, c.host); }));
    } else {
      EXPECT_TRUE(eventually([&] {
        return pending_with(vm->vm.id, "no host matches requirements '" + c.requirements + "'");
      })) << reason(vm->vm.id);
    }
  }
}

// Catches: a pending constrained VM not retried when a host appears, or placed on a host that
// does not match.
TEST_F(GroupsTest, PendingUntilAHostThatCanTakeItAppears) {
  start();
  labeled("plain");
  ASSERT_TRUE(engine_->create_group({"web", GroupPolicy::kAntiAffinity}));
  Result<Accepted> first = create_in("web");
  ASSERT_TRUE(first);
  ASSERT_TRUE(eventually([&] { return is(first->vm.id, State::kRunning, "plain"); }));
  Result<Accepted> second = create_in("web");
  Result<Accepted> gpu = create_in("", "gpu = yes");
  ASSERT_TRUE(second && gpu);
  ASSERT_TRUE(eventually([&] { return pending_with(second->vm.id, "anti-affinity group web"); }))
      << reason(second->vm.id);
  ASSERT_TRUE(eventually([&] { return pending_with(gpu->vm.id, "requirements 'gpu = yes'"); }));
  labeled("other");  // no gpu: takes the second member only
  ASSERT_TRUE(eventually([&] { return is(second->vm.id, State::kRunning, "other"); }));
  EXPECT_TRUE(stays([&] { return pending_with(gpu->vm.id, "requirements"); }));
  labeled("gpu-1", {{"gpu", "yes"}});
  ASSERT_TRUE(eventually([&] { return is(gpu->vm.id, State::kRunning, "gpu-1"); }));
  EXPECT_TRUE(engine_->get(gpu->vm.id)->pending_reason.empty());
}

// Catches: flush ignoring the rules (packing would put both moved VMs on the busiest host).
TEST_F(GroupsTest, FlushKeepsRequirementsAndAntiAffinity) {
  EngineOptions packing;
  packing.rank_policy = 0;
  start(packing);
  labeled("a", {{"zone", "1"}});
  labeled("b", {{"zone", "2"}});
  labeled("c", {{"zone", "1"}});
  ASSERT_TRUE(engine_->create_group({"pair", GroupPolicy::kAntiAffinity}));
  Result<Accepted> m1 = create_in("pair", "zone = 1");
  ASSERT_TRUE(m1);
  ASSERT_TRUE(eventually([&] { return is(m1->vm.id, State::kRunning, "a"); }));
  Result<Accepted> m2 = create_in("pair");
  ASSERT_TRUE(m2);
  ASSERT_TRUE(eventually([&] { return is(m2->vm.id, State::kRunning, "b"); }));
  for (int i = 0; i < 2; ++i) {  // make b the host packing prefers
    const store::VmId filler = create();
    ASSERT_TRUE(eventually([&] { return is(filler, State::kRunning); }));
  }
  ASSERT_TRUE(engine_->host_action({"a", HostEvent::kFlush, {}, "op", {}}));
  // b holds a member (anti-affinity) and is zone 2 (requirements): only c is allowed.
  ASSERT_TRUE(eventually([&] { return is(m1->vm.id, State::kRunning, "c"); }));
}

// Catches: delete ignoring members, members counted after they are DONE, groups or
// membership lost across a restart.
TEST_F(GroupsTest, DeleteIsRefusedWhileMembersLiveAndGroupsSurviveARestart) {
  start({}, 2);
  struct Case {
    std::string name;
    ErrorCode error;  // kInternal: accepted
  };
  const Case names[] = {{"db", ErrorCode::kInternal},         {"db", ErrorCode::kConflict},
                        {"", ErrorCode::kInvalidArgument},    {"Web", ErrorCode::kInvalidArgument},
                        {"123", ErrorCode::kInvalidArgument}, {"a b", ErrorCode::kInvalidArgument},
                        {"web-2", ErrorCode::kInternal}};
  for (const Case& c : names) {
    Result<GroupDetail> got = engine_->create_group({c.name, GroupPolicy::kSoftAffinity});
    if (c.error == ErrorCode::kInternal) {
      ASSERT_TRUE(got) << c.name << ": " << got.error().message;
    } else {
      ASSERT_FALSE(got) << c.name;
      EXPECT_EQ(got.error().code, c.error) << c.name;
    }
  }
  Result<Accepted> vm = create_in("db");
  ASSERT_TRUE(vm);
  ASSERT_TRUE(eventually([&] { return is(vm->vm.id, State::kRunning); }));
  Result<GroupDetail> refused = engine_->delete_group("db");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kConflict);
  EXPECT_EQ(engine_->delete_group("nope").error().code, ErrorCode::kNotFound);

  restart();
  ASSERT_EQ(engine_->groups().size(), 2u);
  EXPECT_EQ(engine_->groups()[0].row.name, "db");
  EXPECT_EQ(engine_->groups()[0].row.policy, GroupPolicy::kSoftAffinity);
  EXPECT_EQ(engine_->groups()[0].members, std::vector<store::VmId>{vm->vm.id});
  EXPECT_EQ(engine_->group("2")->row.name, "web-2");
  EXPECT_FALSE(engine_->delete_group("db"));

  ActionRequest terminate;
  terminate.vm = vm->vm.id;
  terminate.action = lc::Action::kTerminate;
  ASSERT_TRUE(engine_->act(terminate));
  ASSERT_TRUE(eventually([&] { return engine_->get(vm->vm.id)->record.state == State::kDone; }));
  Result<GroupDetail> deleted = engine_->delete_group("db");
  ASSERT_TRUE(deleted) << deleted.error().message;
  EXPECT_FALSE(engine_->group("db"));
  restart();
  ASSERT_EQ(engine_->groups().size(), 1u);
  // A new group never reuses a deleted id.
  Result<GroupDetail> again = engine_->create_group({"db", GroupPolicy::kAffinity});
  ASSERT_TRUE(again);
  EXPECT_EQ(again->row.id, 3);
}

}  // namespace
}  // namespace corral::engine
