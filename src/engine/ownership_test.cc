// What a project's VMs may use (engine/ownership.cc): a NIC goes only on the VM's project's
// networks and the shared ones, lists only its project's security groups, a VM joins only its
// project's server group — another project's is refused exactly as one that does not exist,
// at create (400) and at nic_attach or a NIC's update (404). Every project has its own
// "default" security group, made on first use. Sharing is the admin project's only; server
// groups count against Nova's server_groups and server_group_members quotas.
#include <gtest/gtest.h>

#include "engine/hosts_testing.h"

namespace corral::engine {
namespace {

namespace lc = corral::lifecycle;
using lc::State;

constexpr store::ProjectId kMine = 2;
constexpr store::ProjectId kTheirs = 3;

class OwnershipTest : public testing::HostsTest {
 protected:
  void SetUp() override {
    start({}, 1, 64, 262144);  // no fabric: a network is READY as soon as it is committed
  }
  void network(const std::string& name, const std::string& cidr, store::ProjectId project,
               bool shared = false) {
    Result<NetworkDetail> made = engine_->create_network({name, cidr, project, shared, ""});
    ASSERT_TRUE(made) << name << ": " << made.error().message;
    ASSERT_TRUE(
        eventually([&] { return engine_->network(name)->row.state == lc::NetworkState::kReady; }));
  }
  Result<SecurityGroupDetail> security_group(const std::string& name, store::ProjectId project) {
    SecurityGroupRequest r;
    r.op = SecurityGroupOp::kCreate;
    r.project = project;
    r.name = name;
    return engine_->security_group_request(std::move(r));
  }
  Result<Accepted> create(store::ProjectId project, std::vector<std::string> networks,
                          std::vector<std::string> groups = {}, std::string server_group = {},
                          std::optional<lc::QuotaLimits> quota = std::nullopt) {
    CreateRequest request;
    request.name = "vm";
    request.model = {1, 128, "img"};
    request.networks = std::move(networks);
    request.security_groups = std::move(groups);
    request.group = std::move(server_group);
    request.project = project;
    request.quota = quota;
    return engine_->create(std::move(request));
  }
  // A running VM of `project` with a NIC on `network`.
  store::VmId running(store::ProjectId project, const std::string& network) {
    Result<Accepted> vm = create(project, {network});
    EXPECT_TRUE(vm) << vm.error().message;
    if (!vm) return 0;
    EXPECT_TRUE(eventually([&] { return is(vm->vm.id, State::kRunning); }));
    return vm->vm.id;
  }
  Result<Accepted> attach(store::VmId vm, const std::string& network,
                          std::vector<std::string> groups = {}) {
    ActionRequest request;
    request.vm = vm;
    request.action = lc::Action::kNicAttach;
    request.network = network;
    request.security_groups = std::move(groups);
    return engine_->act(std::move(request));
  }
  Result<SecurityGroupDetail> set_nic_groups(store::VmId vm, std::vector<std::string> groups) {
    SecurityGroupRequest r;
    r.op = SecurityGroupOp::kSetNicGroups;
    r.vm = vm;
    r.nic = 0;
    r.groups = std::move(groups);
    return engine_->security_group_request(std::move(r));
  }
};

// Catches: a NIC on another project's network (at create or attach), another project's
// network told apart from a missing one (code or message), a shared network refused, the
// admin project's private network usable by others.
TEST_F(OwnershipTest, ANicGoesOnlyOnItsProjectsNetworksAndTheSharedOnes) {
  network("mine", "10.70.0.0/24", kMine);
  network("theirs", "10.71.0.0/24", kTheirs);
  network("shared", "10.72.0.0/24", store::kAdminProjectId, true);
  network("admins", "10.73.0.0/24", store::kAdminProjectId);
  const store::VmId vm = running(kMine, "mine");
  ASSERT_NE(vm, 0);
  const std::string theirs_id = std::to_string(engine_->network("theirs")->row.id);
  struct Case {
    std::string network;
    bool usable;
  };
  const Case cases[] = {
      {"mine", true},     {"shared", true},  {"theirs", false},
      {theirs_id, false}, {"admins", false}, {"nope", false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.network);
    Result<Accepted> made = create(kMine, {c.network});
    Result<Accepted> attached = attach(vm, c.network);
    if (c.usable) {
      EXPECT_TRUE(made) << made.error().message;
      EXPECT_TRUE(attached) << attached.error().message;
      ASSERT_TRUE(eventually([&] { return is(vm, State::kRunning); }));
      continue;
    }
    // As for a network that does not exist: Nova's create says 400, its os-interface 404.
    ASSERT_FALSE(made);
    EXPECT_EQ(made.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(made.error().message, "no network " + c.network);
    ASSERT_FALSE(attached);
    EXPECT_EQ(attached.error().code, ErrorCode::kNotFound);
    EXPECT_EQ(attached.error().message, "no network " + c.network);
  }
  EXPECT_TRUE(engine_->network("theirs")->leases.empty()) << "a refused NIC took an address";
  EXPECT_TRUE(engine_->network("admins")->leases.empty());
  EXPECT_EQ(engine_->network("shared")->leases.size(), 2u);  // the create's and the attach's
}

// Catches: a project's network shared, a shared network un-shared under another project's
// NICs, another project's network named in an overlap refusal, a long description accepted,
// a PATCH not durable.
TEST_F(OwnershipTest, OnlyTheAdminProjectsNetworksAreSharedAndOthersStayUnnamed) {
  network("shared", "10.72.0.0/24", store::kAdminProjectId, true);
  network("theirs", "10.71.0.0/24", kTheirs);
  struct Bad {
    NetworkSpec spec;
    ErrorCode code;
    std::string says;
  };
  const Bad bad[] = {
      {{"mine", "10.70.0.0/24", kMine, true, ""}, ErrorCode::kInvalidArgument, "admin project"},
      {{"mine", "10.70.0.0/24", kMine, false, std::string(1025, 'd')},
       ErrorCode::kInvalidArgument,
       "description"},
      {{"mine", "10.71.0.0/25", kMine, false, ""},
       ErrorCode::kInvalidArgument,
       "a network of another project"},
      {{"mine", "10.72.0.0/25", kMine, false, ""},
       ErrorCode::kInvalidArgument,
       "network shared (10.72.0.0/24)"},
      {{"theirs", "10.74.0.0/24", kMine, false, ""}, ErrorCode::kConflict, "exists"},
  };
  for (const Bad& b : bad) {
    SCOPED_TRACE(b.spec.name + " " + b.spec.cidr);
    Result<NetworkDetail> r = engine_->create_network(b.spec);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, b.code);
    EXPECT_NE(r.error().message.find(b.says), std::string::npos) << r.error().message;
    EXPECT_EQ(r.error().message.find("theirs ("), std::string::npos) << r.error().message;
  }

  Result<NetworkDetail> share_theirs = engine_->update_network("theirs", {true, std::nullopt});
  ASSERT_FALSE(share_theirs);
  EXPECT_EQ(share_theirs.error().code, ErrorCode::kInvalidArgument);
  ASSERT_TRUE(engine_->update_network("theirs", {std::nullopt, "lab"}));
  EXPECT_FALSE(engine_->update_network("nope", {std::nullopt, "x"}));

  // Another project's VM on the shared network: it stays shared until that VM goes.
  const store::VmId vm = running(kMine, "shared");
  ASSERT_NE(vm, 0);
  Result<NetworkDetail> unshare = engine_->update_network("shared", {false, std::nullopt});
  ASSERT_FALSE(unshare);
  EXPECT_EQ(unshare.error().code, ErrorCode::kConflict);
  ASSERT_TRUE(engine_->act({.vm = vm, .action = lc::Action::kTerminate}));
  ASSERT_TRUE(eventually([&] { return is(vm, State::kDone); }));
  ASSERT_TRUE(engine_->update_network("shared", {false, std::nullopt}));
  restart();
  EXPECT_FALSE(engine_->network("shared")->row.shared);
  EXPECT_EQ(engine_->network("theirs")->row.description, "lab");
  EXPECT_EQ(engine_->network("theirs")->row.project, kTheirs);
}

// Catches: projects sharing one "default" group, a default group made twice, a NIC listing
// another project's group (by name or id, at create, attach or update), another project's
// group told apart from a missing one, a project's "default" deleted or shadowed.
TEST_F(OwnershipTest, ANicListsOnlyItsProjectsSecurityGroupsAndEachProjectHasItsDefault) {
  network("shared", "10.72.0.0/24", store::kAdminProjectId, true);
  ASSERT_TRUE(security_group("web", kMine));
  ASSERT_TRUE(security_group("web", kTheirs)) << "names are unique within a project only";
  ASSERT_TRUE(security_group("db", kTheirs));
  const store::VmId vm = running(kMine, "shared");
  ASSERT_NE(vm, 0);
  const std::optional<SecurityGroupDetail> my_default = engine_->security_group("default", kMine);
  const std::optional<SecurityGroupDetail> their_default =
      engine_->security_group("default", kTheirs);
  ASSERT_TRUE(my_default);
  ASSERT_TRUE(their_default);
  EXPECT_EQ(my_default->row.project, kMine);
  EXPECT_EQ(their_default->row.project, kTheirs);
  EXPECT_NE(my_default->row.id, store::kDefaultSecurityGroupId);
  EXPECT_NE(my_default->row.id, their_default->row.id);
  EXPECT_EQ(my_default->row.rules.size(), 2u);
  EXPECT_EQ(engine_->get(vm)->nics[0].security_groups,
            std::vector<std::int64_t>{my_default->row.id});
  const store::SecurityGroupId my_web = engine_->security_group("web", kMine)->row.id;
  const std::string their_db = std::to_string(engine_->security_group("db", kTheirs)->row.id);
  const std::string their_default_id = std::to_string(their_default->row.id);
  struct Case {
    std::string group;
    std::optional<store::SecurityGroupId> id;  // nullopt: refused
  };
  const Case cases[] = {
      {"web", my_web},
      {"default", my_default->row.id},
      {std::to_string(my_web), my_web},
      {"db", std::nullopt},  // only project 3 has one
      {their_db, std::nullopt},
      {their_default_id, std::nullopt},
      {"1", std::nullopt},  // the admin project's default
      {"nope", std::nullopt},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.group);
    Result<Accepted> made = create(kMine, {"shared"}, {c.group});
    Result<Accepted> attached = attach(vm, "shared", {c.group});
    if (c.id) {
      ASSERT_TRUE(made) << made.error().message;
      EXPECT_EQ(made->vm.nics[0].security_groups, std::vector<std::int64_t>{*c.id});
      EXPECT_TRUE(attached) << attached.error().message;
      // A NIC's update waits for the hotplug to end (kConflict meanwhile).
      ASSERT_TRUE(eventually([&] { return is(vm, State::kRunning); }));
      Result<SecurityGroupDetail> updated = set_nic_groups(vm, {c.group});
      EXPECT_TRUE(updated) << updated.error().message;
      EXPECT_EQ(engine_->get(vm)->nics[0].security_groups, std::vector<std::int64_t>{*c.id});
      continue;
    }
    Result<SecurityGroupDetail> updated = set_nic_groups(vm, {c.group});
    const std::string says = "no security group " + c.group;
    ASSERT_FALSE(made);
    EXPECT_EQ(made.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(made.error().message, says);
    ASSERT_FALSE(attached);
    EXPECT_EQ(attached.error().code, ErrorCode::kNotFound);
    EXPECT_EQ(attached.error().message, says);
    ASSERT_FALSE(updated);
    EXPECT_EQ(updated.error().code, ErrorCode::kNotFound);
    EXPECT_EQ(updated.error().message, says);
  }

  // "default" is every project's own: not made twice, not made by hand, never deleted.
  Result<SecurityGroupDetail> second = security_group("default", kMine);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, ErrorCode::kConflict);
  SecurityGroupRequest remove;
  remove.op = SecurityGroupOp::kDelete;
  remove.project = kTheirs;
  remove.name_or_id = "default";
  Result<SecurityGroupDetail> removed = engine_->security_group_request(remove);
  ASSERT_FALSE(removed);
  EXPECT_EQ(removed.error().code, ErrorCode::kConflict);
  SecurityGroupRequest ensure;
  ensure.op = SecurityGroupOp::kEnsureDefault;
  ensure.project = kTheirs;
  Result<SecurityGroupDetail> ensured = engine_->security_group_request(ensure);
  ASSERT_TRUE(ensured) << ensured.error().message;
  EXPECT_EQ(ensured->row.id, their_default->row.id);
  ensure.project = 4;  // a project's first use
  ensured = engine_->security_group_request(ensure);
  ASSERT_TRUE(ensured) << ensured.error().message;
  EXPECT_EQ(ensured->row.project, 4);
  EXPECT_EQ(ensured->row.name, "default");
  restart();
  std::map<store::ProjectId, int> defaults;
  for (const SecurityGroupDetail& g : engine_->security_groups()) {
    if (g.row.name == "default") ++defaults[g.row.project];
  }
  EXPECT_EQ(defaults, (std::map<store::ProjectId, int>{
                          {store::kAdminProjectId, 1}, {kMine, 1}, {kTheirs, 1}, {4, 1}}));
}

// Catches: a VM joining another project's server group (by name or id), another project's
// group told apart from a missing one, the server_groups and server_group_members quotas not
// enforced or not shown.
TEST_F(OwnershipTest, AVmJoinsOnlyItsProjectsServerGroupWithinTheQuotas) {
  lc::QuotaLimits limits = lc::default_quota_limits();
  limits[lc::quota_index(lc::QuotaResource::kServerGroups)] = 1;
  limits[lc::quota_index(lc::QuotaResource::kServerGroupMembers)] = 2;
  Result<GroupDetail> mine =
      engine_->create_group({"g-mine", store::GroupPolicy::kSoftAntiAffinity, kMine, limits});
  ASSERT_TRUE(mine) << mine.error().message;
  EXPECT_EQ(mine->row.project, kMine);
  Result<GroupDetail> over =
      engine_->create_group({"g-more", store::GroupPolicy::kAffinity, kMine, limits});
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code, ErrorCode::kQuotaExceeded);
  ASSERT_TRUE(over.error().quota);
  EXPECT_EQ(over.error().quota->resource, "server_groups");
  Result<GroupDetail> theirs =
      engine_->create_group({"g-theirs", store::GroupPolicy::kAffinity, kTheirs, limits});
  ASSERT_TRUE(theirs) << "each project has its own server_groups";

  struct Case {
    std::string group;
    bool joins;
  };
  const Case cases[] = {
      {"g-mine", true},    {std::to_string(mine->row.id), true},
      {"g-theirs", false}, {std::to_string(theirs->row.id), false},
      {"nope", false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.group);
    Result<Accepted> made = create(kMine, {}, {}, c.group);
    if (c.joins) {
      ASSERT_TRUE(made) << made.error().message;
      EXPECT_EQ(made->vm.group, mine->row.id);
      continue;
    }
    ASSERT_FALSE(made);
    EXPECT_EQ(made.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(made.error().message, "no server group " + c.group);
  }
  // Two members: a third is over server_group_members (a limit per group).
  Result<Accepted> third = create(kMine, {}, {}, "g-mine", limits);
  ASSERT_FALSE(third);
  EXPECT_EQ(third.error().code, ErrorCode::kQuotaExceeded);
  ASSERT_TRUE(third.error().quota);
  EXPECT_EQ(third.error().quota->resource, "server_group_members");
  EXPECT_EQ(third.error().quota->used, 2);
  const lc::QuotaUsage used = engine_->project_usage(kMine);
  EXPECT_EQ(used[lc::quota_index(lc::QuotaResource::kServerGroups)], 1);
  EXPECT_EQ(used[lc::quota_index(lc::QuotaResource::kServerGroupMembers)], 2);
  EXPECT_EQ(engine_->project_usage(kTheirs)[lc::quota_index(lc::QuotaResource::kServerGroups)], 1);
}

}  // namespace
}  // namespace corral::engine
