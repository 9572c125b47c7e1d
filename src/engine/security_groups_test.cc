// Security groups in the engine: the default group, create/rules/delete with their refusals,
// the groups a NIC gets at create and nic_attach, and each host's whole firewall sent to the
// fabric after the commits that change it.
#include <gtest/gtest.h>

#include <algorithm>
#include <mutex>

#include "engine/hosts_testing.h"

namespace corral::engine {
namespace {

namespace lc = corral::lifecycle;
using lc::State;

// A fabric that builds networks at once and records each host's firewall jobs.
class FirewallFabric : public driver::NetworkFabric {
 public:
  void start(driver::NetworkSink* sink) override { sink_ = sink; }
  void stop() override {}
  void apply(driver::NetworkJob job) override {
    sink_->network_done({job.network, job.generation, std::nullopt});
  }
  void apply_firewall(driver::HostFirewallJob job) override {
    std::lock_guard lock(mu_);
    sink_->firewall_done({job.host, job.generation, error_});
    jobs_.push_back(std::move(job));
  }
  // The newest job for `host`, if any.
  std::optional<driver::HostFirewallJob> last(const std::string& host) const {
    std::lock_guard lock(mu_);
    for (auto it = jobs_.rbegin(); it != jobs_.rend(); ++it) {
      if (it->host == host) return *it;
    }
    return std::nullopt;
  }
  std::size_t count(const std::string& host) const {
    std::lock_guard lock(mu_);
    return static_cast<std::size_t>(
        std::ranges::count(jobs_, host, &driver::HostFirewallJob::host));
  }
  void fail_with(std::optional<std::string> error) {
    std::lock_guard lock(mu_);
    error_ = std::move(error);
  }

 private:
  mutable std::mutex mu_;
  driver::NetworkSink* sink_ = nullptr;
  std::vector<driver::HostFirewallJob> jobs_;
  std::optional<std::string> error_;
};

net::SecurityGroupRule tcp_in(std::uint16_t port) {
  return {net::RuleDirection::kIngress, net::RuleProtocol::kTcp, {{port, port}}, std::nullopt};
}

class SecurityGroupsTest : public testing::HostsTest {
 protected:
  void start_with_fabric() {
    // One sim host of the sim's default size.
    start(options_, 1, 64, 262144, [this](Engine& e) {
      fabric_.start(&e);
      e.set_network_fabric(&fabric_);
    });
    if (HasFatalFailure()) return;
    ASSERT_TRUE(engine_->network("net") || engine_->create_network({"net", "10.77.0.0/24"}));
    ASSERT_TRUE(
        eventually([&] { return engine_->network("net")->row.state == lc::NetworkState::kReady; }));
  }
  void restart_with_fabric() {
    stop();
    start_with_fabric();
  }
  Result<SecurityGroupDetail> request(SecurityGroupOp op, std::string name,
                                      std::vector<RuleSpec> rules = {}, std::int64_t rule = 0) {
    SecurityGroupRequest r;
    r.op = op;
    (op == SecurityGroupOp::kCreate ? r.name : r.name_or_id) = std::move(name);
    r.rules = std::move(rules);
    r.rule = rule;
    return engine_->security_group_request(std::move(r));
  }
  Result<Accepted> create_in(std::vector<std::string> groups) {
    CreateRequest request;
    request.name = "web";
    request.model = {1, 128, "img"};
    request.networks = {"net"};
    request.security_groups = std::move(groups);
    return engine_->create(std::move(request));
  }
  // The rules of NIC `nic` of `vm` in the newest job of the VM's host, or nullopt.
  std::optional<std::vector<net::SecurityGroupRule>> rules_on_host(store::VmId vm, int nic) {
    const std::optional<driver::HostFirewallJob> job = fabric_.last(host_of(vm));
    if (!job) return std::nullopt;
    for (const driver::NicFirewallSpec& n : job->nics) {
      if (n.vm == vm && n.nic == nic) return n.rules;
    }
    return std::nullopt;
  }
  FirewallFabric fabric_;
};

const net::Cidr kNet{net::Ipv4{0x0a4d0000}, 24};  // 10.77.0.0/24

// Catches: no default group at start, a default group made twice after a restart, its rules
// not Neutron's, a NIC without named groups outside the default group.
TEST_F(SecurityGroupsTest, TheDefaultGroupIsMadeOnceAndNicsGetIt) {
  start_with_fabric();
  const std::optional<SecurityGroupDetail> def = engine_->security_group("default");
  ASSERT_TRUE(def);
  EXPECT_EQ(def->row.id, store::kDefaultSecurityGroupId);
  ASSERT_EQ(def->row.rules.size(), 2u);
  EXPECT_TRUE(def->row.rules[1].remote_own_network);
  Result<Accepted> vm = create_in({});
  ASSERT_TRUE(vm) << vm.error().message;
  EXPECT_EQ(vm->vm.nics[0].security_groups,
            std::vector<std::int64_t>{store::kDefaultSecurityGroupId});
  ASSERT_TRUE(eventually([&] { return is(vm->vm.id, State::kRunning); }));
  // The own-network rule reaches the host resolved to the NIC's network.
  ASSERT_TRUE(eventually([&] {
    auto rules = rules_on_host(vm->vm.id, 0);
    return rules && *rules == net::default_group_rules(kNet);
  }));
  EXPECT_EQ(engine_->security_group("1")->nics, (std::vector<SecurityGroupMember>{{1, 0}}));
  restart_with_fabric();
  EXPECT_EQ(engine_->security_groups().size(), 1u);
  EXPECT_EQ(engine_->security_group("default")->row, def->row);
}

// Catches: bad names or rules accepted, a taken name accepted, a refused request that changed
// something, a rule id reused, a missing rule deleted.
TEST_F(SecurityGroupsTest, CreateAndRuleChangesAreCheckedAndDurable) {
  start_with_fabric();
  Result<SecurityGroupDetail> web =
      request(SecurityGroupOp::kCreate, "web", {{tcp_in(22), false}, {tcp_in(80), false}});
  ASSERT_TRUE(web) << web.error().message;
  EXPECT_EQ(web->row.id, 2);
  EXPECT_EQ(web->row.rules[1].id, 2);
  EXPECT_EQ(web->row.rules[1].ports, "80");

  net::SecurityGroupRule icmp_ports{
      net::RuleDirection::kIngress, net::RuleProtocol::kIcmp, {{1, 2}}, std::nullopt};
  struct Bad {
    SecurityGroupOp op;
    std::string name;
    std::vector<RuleSpec> rules;
    std::int64_t rule;
    ErrorCode code;
  };
  for (const Bad& b : {
           Bad{SecurityGroupOp::kCreate, "web", {}, 0, ErrorCode::kConflict},
           Bad{SecurityGroupOp::kCreate, "Bad Name", {}, 0, ErrorCode::kInvalidArgument},
           Bad{SecurityGroupOp::kCreate, "42", {}, 0, ErrorCode::kInvalidArgument},
           Bad{SecurityGroupOp::kCreate,
               "x",
               {{icmp_ports, false}},
               0,
               ErrorCode::kInvalidArgument},
           Bad{SecurityGroupOp::kCreate,
               "x",
               {{tcp_in(22), false}, {icmp_ports, false}},
               0,
               ErrorCode::kInvalidArgument},
           Bad{SecurityGroupOp::kSetRules,
               "web",
               {{icmp_ports, false}},
               0,
               ErrorCode::kInvalidArgument},
           Bad{SecurityGroupOp::kAddRule, "web", {}, 0, ErrorCode::kInvalidArgument},
           Bad{SecurityGroupOp::kAddRule, "nope", {{tcp_in(1), false}}, 0, ErrorCode::kNotFound},
           Bad{SecurityGroupOp::kDeleteRule, "web", {}, 9, ErrorCode::kNotFound},
           Bad{SecurityGroupOp::kDelete, "default", {}, 0, ErrorCode::kConflict},
           Bad{SecurityGroupOp::kDelete, "nope", {}, 0, ErrorCode::kNotFound},
       }) {
    Result<SecurityGroupDetail> r = request(b.op, b.name, b.rules, b.rule);
    ASSERT_FALSE(r) << b.name;
    EXPECT_EQ(r.error().code, b.code) << b.name << ": " << r.error().message;
  }
  EXPECT_EQ(engine_->security_group("web")->row, web->row);  // refusals changed nothing

  Result<SecurityGroupDetail> added =
      request(SecurityGroupOp::kAddRule, "web", {{tcp_in(443), false}});
  ASSERT_TRUE(added) << added.error().message;
  EXPECT_EQ(added->added_rule, 3);
  ASSERT_TRUE(request(SecurityGroupOp::kDeleteRule, "web", {}, 3));
  added = request(SecurityGroupOp::kAddRule, "web", {{tcp_in(8080), false}});
  ASSERT_TRUE(added);
  EXPECT_EQ(added->added_rule, 4);  // never reused within the group
  ASSERT_TRUE(request(SecurityGroupOp::kSetRules, "2", {{tcp_in(22), false}}));
  restart_with_fabric();
  const std::optional<SecurityGroupDetail> kept = engine_->security_group("web");
  ASSERT_TRUE(kept);
  ASSERT_EQ(kept->row.rules.size(), 1u);
  EXPECT_EQ(kept->row.rules[0].id, 5);
  EXPECT_EQ(kept->row.rules[0].ports, "22");
}

// Catches: a group listed by a NIC deleted, a rule change that does not reach the host, the
// groups' rules not merged in order, a nic_attach ignoring its groups, an unknown group
// accepted at create or attach (400 at create, 404 at attach).
TEST_F(SecurityGroupsTest, RuleChangesReachTheHostsOfTheirNics) {
  start_with_fabric();
  ASSERT_TRUE(request(SecurityGroupOp::kCreate, "ssh", {{tcp_in(22), false}}));
  ASSERT_TRUE(request(SecurityGroupOp::kCreate, "web", {{tcp_in(80), false}}));
  ASSERT_TRUE(request(SecurityGroupOp::kCreate, "spare"));
  Result<Accepted> refused = create_in({"nope"});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(engine_->network("net")->leases.size(), 0u);  // nothing taken

  Result<Accepted> vm = create_in({"ssh", "web"});
  ASSERT_TRUE(vm) << vm.error().message;
  const store::VmId id = vm->vm.id;
  ASSERT_TRUE(eventually([&] { return is(id, State::kRunning); }));
  ASSERT_TRUE(eventually([&] {
    auto rules = rules_on_host(id, 0);
    return rules && *rules == std::vector<net::SecurityGroupRule>{tcp_in(22), tcp_in(80)};
  }));
  ASSERT_TRUE(request(SecurityGroupOp::kAddRule, "ssh", {{tcp_in(2222), false}}));
  ASSERT_TRUE(eventually([&] {
    auto rules = rules_on_host(id, 0);
    return rules &&
           *rules == std::vector<net::SecurityGroupRule>{tcp_in(22), tcp_in(2222), tcp_in(80)};
  }));
  Result<SecurityGroupDetail> busy = request(SecurityGroupOp::kDelete, "web");
  ASSERT_FALSE(busy);
  EXPECT_EQ(busy.error().code, ErrorCode::kConflict);

  // nic_attach with its own groups: listed in the host's job with them.
  ActionRequest attach;
  attach.vm = id;
  attach.action = lc::Action::kNicAttach;
  attach.network = "net";
  attach.security_groups = {"nope"};
  Result<Accepted> bad_attach = engine_->act(attach);
  ASSERT_FALSE(bad_attach);
  // An attach to an existing VM says 404 (Nova's os-interface), a create 400 (above).
  EXPECT_EQ(bad_attach.error().code, ErrorCode::kNotFound);
  attach.security_groups = {"spare"};
  Result<Accepted> attached = engine_->act(attach);
  ASSERT_TRUE(attached) << attached.error().message;
  ASSERT_TRUE(eventually([&] { return engine_->get(id)->nics.size() == 2u; }));
  EXPECT_EQ(engine_->get(id)->nics[1].security_groups, std::vector<std::int64_t>{4});
  ASSERT_TRUE(eventually([&] {
    auto rules = rules_on_host(id, 1);
    return rules && rules->empty();  // "spare" has no rules: everything is dropped
  }));
  // Terminated: the host's list loses the NICs and the groups can go.
  ASSERT_TRUE(engine_->act({.vm = id, .action = lc::Action::kTerminate}));
  ASSERT_TRUE(eventually([&] { return is(id, State::kDone); }));
  ASSERT_TRUE(eventually([&] {
    const auto job = fabric_.last("sim-1");
    return job && job->nics.empty();
  }));
  EXPECT_TRUE(request(SecurityGroupOp::kDelete, "web"));
  EXPECT_FALSE(engine_->security_group("web"));
}

// Catches: nic_update that hotplugs (the VM leaves RUNNING), that does not reach the host's
// firewall, that is not durable, or that accepts an unknown group, NIC or VM or a DONE VM.
TEST_F(SecurityGroupsTest, NicUpdateChangesARunningNicsGroupsInPlace) {
  start_with_fabric();
  ASSERT_TRUE(request(SecurityGroupOp::kCreate, "ssh", {{tcp_in(22), false}}));
  ASSERT_TRUE(request(SecurityGroupOp::kCreate, "web", {{tcp_in(80), false}}));
  Result<Accepted> vm = create_in({"ssh"});
  ASSERT_TRUE(vm) << vm.error().message;
  const store::VmId id = vm->vm.id;
  ASSERT_TRUE(eventually([&] { return is(id, State::kRunning); }));
  const auto transitions = [&] { return engine_->history(id, 0, 1000)->size(); };
  const std::size_t before = transitions();
  const auto update = [&](store::VmId target, int nic, std::vector<std::string> groups) {
    SecurityGroupRequest r;
    r.op = SecurityGroupOp::kSetNicGroups;
    r.vm = target;
    r.nic = nic;
    r.groups = std::move(groups);
    return engine_->security_group_request(std::move(r));
  };
  ASSERT_TRUE(update(id, 0, {"web", "ssh"}));
  EXPECT_EQ(engine_->get(id)->nics[0].security_groups, (std::vector<std::int64_t>{3, 2}));
  EXPECT_TRUE(is(id, State::kRunning));
  EXPECT_EQ(transitions(), before);  // no operation, no hotplug
  ASSERT_TRUE(eventually([&] {
    auto rules = rules_on_host(id, 0);
    return rules && *rules == std::vector<net::SecurityGroupRule>{tcp_in(80), tcp_in(22)};
  }));

  const struct {
    store::VmId vm;
    int nic;
    std::vector<std::string> groups;
    ErrorCode code;
  } refused[] = {{id, 0, {"nope"}, ErrorCode::kNotFound},  // Neutron's port update: 404
                 {id, 1, {"web"}, ErrorCode::kNotFound},
                 {id + 100, 0, {"web"}, ErrorCode::kNotFound}};
  for (const auto& r : refused) {
    Result<SecurityGroupDetail> no = update(r.vm, r.nic, r.groups);
    ASSERT_FALSE(no);
    EXPECT_EQ(no.error().code, r.code) << no.error().message;
  }
  EXPECT_EQ(engine_->get(id)->nics[0].security_groups, (std::vector<std::int64_t>{3, 2}));

  // No groups: the default group, as at create. Durable across a restart.
  ASSERT_TRUE(update(id, 0, {}));
  restart_with_fabric();
  EXPECT_EQ(engine_->get(id)->nics[0].security_groups,
            std::vector<std::int64_t>{store::kDefaultSecurityGroupId});
  EXPECT_TRUE(request(SecurityGroupOp::kDelete, "web"));  // no NIC lists it any more

  ASSERT_TRUE(engine_->act({.vm = id, .action = lc::Action::kTerminate}));
  ASSERT_TRUE(eventually([&] { return is(id, State::kDone); }));
  Result<SecurityGroupDetail> done = update(id, 0, {"ssh"});
  ASSERT_FALSE(done);
  EXPECT_EQ(done.error().code, ErrorCode::kInvalidState);
}

// Catches: a restarted controller that leaves a host's table as the crash left it (the host's
// whole list is sent again at start, with the NICs and rules as committed).
TEST_F(SecurityGroupsTest, ARestartSendsEveryHostItsFirewallAgain) {
  start_with_fabric();
  ASSERT_TRUE(request(SecurityGroupOp::kCreate, "ssh", {{tcp_in(22), false}}));
  Result<Accepted> vm = create_in({"ssh"});
  ASSERT_TRUE(vm);
  ASSERT_TRUE(eventually([&] { return is(vm->vm.id, State::kRunning); }));
  ASSERT_TRUE(eventually([&] {
    auto rules = rules_on_host(vm->vm.id, 0);
    return rules && *rules == std::vector<net::SecurityGroupRule>{tcp_in(22)};
  }));
  const std::size_t before = fabric_.count("sim-1");
  restart_with_fabric();
  ASSERT_TRUE(eventually([&] { return fabric_.count("sim-1") > before; }));
  const std::optional<driver::HostFirewallJob> job = fabric_.last("sim-1");
  ASSERT_TRUE(job);
  ASSERT_EQ(job->nics.size(), 1u);
  EXPECT_EQ(job->nics[0].ip, vm->vm.nics[0].ip);
  EXPECT_EQ(job->nics[0].mac, vm->vm.nics[0].mac);
  EXPECT_EQ(job->nics[0].rules, std::vector<net::SecurityGroupRule>{tcp_in(22)});
}

// Catches: a host's firewall failure lost, or kept after a job that worked.
TEST_F(SecurityGroupsTest, AFirewallFailureIsKeptOnTheHostUntilAJobWorks) {
  start_with_fabric();
  fabric_.fail_with("nft: no such table");
  Result<Accepted> vm = create_in({});
  ASSERT_TRUE(vm);
  ASSERT_TRUE(eventually([&] { return is(vm->vm.id, State::kRunning); }));
  ASSERT_TRUE(eventually([&] { return engine_->firewall_errors().size() == 1; }));
  EXPECT_EQ(engine_->firewall_errors().begin()->second, "nft: no such table");
  fabric_.fail_with(std::nullopt);
  ASSERT_TRUE(request(SecurityGroupOp::kAddRule, "default", {{tcp_in(22), false}}));
  EXPECT_TRUE(eventually([&] { return engine_->firewall_errors().empty(); }));
}

}  // namespace
}  // namespace corral::engine
