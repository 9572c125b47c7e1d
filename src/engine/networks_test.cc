// Networks in the engine: create and delete with their states, leases taken at create and at
// nic_attach and given back when a NIC goes, the NICs a phase is handed, the fabric's jobs,
// and what a restart keeps.
#include <gtest/gtest.h>

#include <mutex>

#include "engine/hosts_testing.h"

namespace corral::engine {
namespace {

namespace lc = corral::lifecycle;
using lc::NetworkState;
using lc::State;

// A fabric that records its jobs and answers them when told (or at once).
class RecordingFabric : public driver::NetworkFabric {
 public:
  void start(driver::NetworkSink* sink) override { sink_ = sink; }
  void stop() override {}
  void apply(driver::NetworkJob job) override {
    std::lock_guard lock(mu_);
    jobs_.push_back(job);
    if (auto_answer_) sink_->network_done({job.network, job.generation, error_});
  }
  void apply_firewall(driver::HostFirewallJob job) override {
    sink_->firewall_done({job.host, job.generation, std::nullopt});
  }
  std::vector<driver::NetworkJob> jobs() const {
    std::lock_guard lock(mu_);
    return jobs_;
  }
  void answer_with(std::optional<std::string> error) {
    std::lock_guard lock(mu_);
    error_ = std::move(error);
  }
  void hold() { auto_answer_ = false; }

 private:
  mutable std::mutex mu_;
  driver::NetworkSink* sink_ = nullptr;
  std::vector<driver::NetworkJob> jobs_;
  std::optional<std::string> error_;
  bool auto_answer_ = true;
};

class NetworksTest : public testing::HostsTest {
 protected:
  void start_with_fabric() {
    // One sim host of the sim's default size.
    start(options_, 1, 64, 262144, [this](Engine& e) {
      fabric_.start(&e);
      e.set_network_fabric(&fabric_);
    });
  }
  void restart_with_fabric() {
    stop();
    start_with_fabric();
  }
  NetworkState state_of_net(const std::string& name) const {
    const std::optional<NetworkDetail> n = engine_->network(name);
    return n ? n->row.state : NetworkState::kDone;
  }
  Result<Accepted> create_on(std::vector<std::string> networks) {
    CreateRequest request;
    request.name = "web";
    request.model = {1, 128, "img"};
    request.networks = std::move(networks);
    request.ssh_keys = {"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample test"};
    return engine_->create(std::move(request));
  }
  Result<Accepted> act(store::VmId vm, lc::Action action, std::string network = {}, int nic = -1,
                       std::string ip = {}) {
    ActionRequest request;
    request.vm = vm;
    request.action = action;
    request.network = std::move(network);
    request.nic = nic;
    request.ip = std::move(ip);
    return engine_->act(std::move(request));
  }
  RecordingFabric fabric_;
};

// Catches: a network READY before the fabric built it, a failed build left in LOCK_CREATE,
// bad names or ranges accepted, overlapping ranges accepted.
TEST_F(NetworksTest, CreateGoesThroughLockCreateToReadyOrError) {
  fabric_.hold();
  start_with_fabric();
  Result<NetworkDetail> made = engine_->create_network({"default", "10.77.0.0/24"});
  ASSERT_TRUE(made) << made.error().message;
  EXPECT_EQ(made->row.state, NetworkState::kLockCreate);
  EXPECT_EQ(made->gateway, "10.77.0.1");
  EXPECT_EQ(made->size, 253u);
  ASSERT_TRUE(eventually([&] { return fabric_.jobs().size() == 1; }));
  const driver::NetworkJob job = fabric_.jobs()[0];
  EXPECT_EQ(job.cidr, "10.77.0.0/24");
  EXPECT_FALSE(job.remove);
  EXPECT_TRUE(stays([&] { return state_of_net("default") == NetworkState::kLockCreate; }));
  engine_->network_done({job.network, job.generation, std::nullopt});
  EXPECT_TRUE(eventually([&] { return state_of_net("default") == NetworkState::kReady; }));

  Result<NetworkDetail> broken = engine_->create_network({"broken", "10.78.0.0/24"});
  ASSERT_TRUE(broken);
  ASSERT_TRUE(eventually([&] { return fabric_.jobs().size() == 2; }));
  const driver::NetworkJob second = fabric_.jobs()[1];
  engine_->network_done({second.network, second.generation, "no bridge for you"});
  EXPECT_TRUE(eventually([&] { return state_of_net("broken") == NetworkState::kError; }));
  EXPECT_EQ(engine_->network("broken")->row.error, "no bridge for you");

  struct Bad {
    std::string name;
    std::string cidr;
    ErrorCode code;
  };
  for (const Bad& b : {Bad{"default", "10.90.0.0/24", ErrorCode::kConflict},
                       Bad{"Bad Name", "10.90.0.0/24", ErrorCode::kInvalidArgument},
                       Bad{"12", "10.90.0.0/24", ErrorCode::kInvalidArgument},
                       Bad{"x", "10.90.0.1/24", ErrorCode::kInvalidArgument},
                       Bad{"x", "10.90.0.0/33", ErrorCode::kInvalidArgument},
                       Bad{"x", "banana", ErrorCode::kInvalidArgument},
                       Bad{"x", "10.77.0.128/25", ErrorCode::kInvalidArgument},
                       Bad{"x", "10.0.0.0/8", ErrorCode::kInvalidArgument}}) {
    Result<NetworkDetail> r = engine_->create_network({b.name, b.cidr});
    ASSERT_FALSE(r) << b.name << " " << b.cidr;
    EXPECT_EQ(r.error().code, b.code) << b.name << " " << b.cidr << ": " << r.error().message;
  }
  EXPECT_EQ(engine_->networks().size(), 2u);
}

// Catches: leases not unique, the wrong MAC rule, a lease not in the DHCP job, a NIC missing
// from the boot phase, leases kept by a DONE VM, keys not reaching the phase.
TEST_F(NetworksTest, CreateLeasesAddressesAndTerminateGivesThemBack) {
  start_with_fabric();
  ASSERT_TRUE(engine_->create_network({"default", "10.77.0.0/29"}));  // 5 leasable addresses
  ASSERT_TRUE(eventually([&] { return state_of_net("default") == NetworkState::kReady; }));
  std::vector<store::VmId> ids;
  for (int i = 0; i < 5; ++i) {
    Result<Accepted> vm = create_on({"default"});
    ASSERT_TRUE(vm) << vm.error().message;
    ASSERT_EQ(vm->vm.nics.size(), 1u);
    EXPECT_EQ(vm->vm.nics[0].ip, "10.77.0." + std::to_string(2 + i));
    EXPECT_EQ(vm->vm.nics[0].mac, "02:00:0a:4d:00:0" + std::to_string(2 + i));
    ids.push_back(vm->vm.id);
  }
  Result<Accepted> full = create_on({"default"});
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error().code, ErrorCode::kConflict);
  EXPECT_NE(full.error().message.find("no free address"), std::string::npos);
  ASSERT_TRUE(eventually([&] { return is(ids[0], State::kRunning); }));
  ASSERT_TRUE(eventually([&] {
    const auto jobs = fabric_.jobs();
    return !jobs.empty() && jobs.back().leases.size() == 5;
  }));
  EXPECT_EQ(fabric_.jobs().back().leases[0].hostname, "web");
  EXPECT_EQ(engine_->network("default")->leases.size(), 5u);

  ASSERT_TRUE(eventually([&] { return is(ids[1], State::kRunning); }));
  Result<Accepted> terminated = act(ids[1], lc::Action::kTerminate);
  ASSERT_TRUE(terminated) << terminated.error().message;
  ASSERT_TRUE(eventually([&] { return is(ids[1], State::kDone); }));
  EXPECT_TRUE(engine_->get(ids[1])->nics.empty());
  ASSERT_TRUE(eventually([&] { return engine_->network("default")->leases.size() == 4; }));
  ASSERT_TRUE(eventually([&] { return fabric_.jobs().back().leases.size() == 4; }));
  // The freed address is the lowest free one again.
  Result<Accepted> again = create_on({"default"});
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->vm.nics[0].ip, "10.77.0.3");
  // A refused create takes nothing (no network; a network not READY).
  fabric_.hold();
  ASSERT_TRUE(engine_->create_network({"late", "10.79.0.0/24"}));
  for (const std::vector<std::string>& nets :
       {std::vector<std::string>{"nope"}, std::vector<std::string>{"late"}}) {
    Result<Accepted> refused = create_on(nets);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument) << refused.error().message;
  }
}

// Catches: a NIC added before the attach succeeded, a failed attach keeping its lease, a
// detach of a NIC the VM lacks accepted, the phase not seeing the NIC list as it will be,
// delete of a network with leases allowed.
TEST_F(NetworksTest, NicAttachAndDetachMoveLeasesWithTheOperation) {
  start_with_fabric();
  ASSERT_TRUE(engine_->create_network({"a", "10.77.0.0/24"}));
  ASSERT_TRUE(engine_->create_network({"b", "10.78.0.0/24"}));
  ASSERT_TRUE(eventually([&] { return state_of_net("b") == NetworkState::kReady; }));
  Result<Accepted> vm = create_on({"a"});
  ASSERT_TRUE(vm);
  const store::VmId id = vm->vm.id;
  ASSERT_TRUE(eventually([&] { return is(id, State::kRunning); }));

  Result<Accepted> attach = act(id, lc::Action::kNicAttach, "b", -1, "10.78.0.9");
  ASSERT_TRUE(attach) << attach.error().message;
  ASSERT_TRUE(attach->op->meta.params.nic);
  EXPECT_EQ(attach->op->meta.params.nic->index, 1);
  EXPECT_EQ(attach->op->meta.params.nic->ip, "10.78.0.9");
  ASSERT_TRUE(
      eventually([&] { return is(id, State::kRunning) && engine_->get(id)->nics.size() == 2; }));
  EXPECT_EQ(engine_->network("b")->leases.size(), 1u);
  EXPECT_TRUE(engine_->network("b")->leases[0].attached);

  // Taken address; no such NIC; a network with leases cannot go.
  Result<Accepted> taken = act(id, lc::Action::kNicAttach, "b", -1, "10.78.0.9");
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.error().code, ErrorCode::kConflict);
  Result<Accepted> outside = act(id, lc::Action::kNicAttach, "b", -1, "10.77.0.9");
  ASSERT_FALSE(outside);
  EXPECT_EQ(outside.error().code, ErrorCode::kInvalidArgument);
  Result<Accepted> missing = act(id, lc::Action::kNicDetach, {}, 5);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  Result<NetworkDetail> busy = engine_->delete_network("b");
  ASSERT_FALSE(busy);
  EXPECT_EQ(busy.error().code, ErrorCode::kConflict);

  ASSERT_TRUE(act(id, lc::Action::kNicDetach, {}, 1));
  ASSERT_TRUE(
      eventually([&] { return is(id, State::kRunning) && engine_->get(id)->nics.size() == 1; }));
  EXPECT_TRUE(engine_->network("b")->leases.empty());
  ASSERT_TRUE(engine_->delete_network("b"));
  EXPECT_TRUE(eventually([&] { return !engine_->network("b"); }));
  EXPECT_TRUE(eventually([&] { return fabric_.jobs().back().remove; }));
}

// Catches: networks, NICs or keys lost by a restart; a restart not sending every network to
// the fabric again (a dnsmasq that died would stay dead).
TEST_F(NetworksTest, ARestartKeepsNetworksNicsAndKeysAndResendsTheirJobs) {
  start_with_fabric();
  ASSERT_TRUE(engine_->create_network({"default", "10.77.0.0/24"}));
  ASSERT_TRUE(eventually([&] { return state_of_net("default") == NetworkState::kReady; }));
  Result<Accepted> vm = create_on({"default", "default"});
  ASSERT_TRUE(vm);
  ASSERT_TRUE(eventually([&] { return is(vm->vm.id, State::kRunning); }));
  const std::size_t jobs_before = fabric_.jobs().size();
  restart_with_fabric();
  EXPECT_EQ(state_of_net("default"), NetworkState::kReady);
  const std::optional<store::Vm> back = engine_->get(vm->vm.id);
  ASSERT_EQ(back->nics.size(), 2u);
  EXPECT_EQ(back->nics[1].ip, "10.77.0.3");
  EXPECT_EQ(back->ssh_keys.size(), 1u);
  EXPECT_EQ(engine_->network("default")->leases.size(), 2u);
  EXPECT_TRUE(eventually([&] { return fabric_.jobs().size() > jobs_before; }));
  EXPECT_EQ(fabric_.jobs().back().leases.size(), 2u);
}

}  // namespace
}  // namespace corral::engine
