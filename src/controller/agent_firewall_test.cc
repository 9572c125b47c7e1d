// Security groups on an agent host, end to end in one process: the engine (sim driver, memory
// store) sends each host's firewall through driver::FabricRouter, the local host's to the
// local fabric and an agent host's to the agent service, over mutual TLS to a real
// agent::Agent (sim driver) whose HostFirewallWorker applies it with a recording function in
// place of nft. The agent's answers set and clear the host's firewall error; a reconnecting
// agent gets the host's job in its Welcome.
#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <thread>

#include "agent/agent.h"
#include "cluster/test_dir.h"
#include "controller/agent_registry.h"
#include "controller/cluster_server.h"
#include "driver/fabric_router.h"
#include "driver/host_router.h"
#include "driver/sim/sim_driver.h"
#include "engine/engine.h"
#include "engine/memory_store_testing.h"

namespace corral::controller {
namespace {

using cluster::testing::TempDir;
using namespace std::chrono_literals;
namespace lc = corral::lifecycle;

bool eventually(const std::function<bool()>& done, std::chrono::milliseconds deadline = 20s) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return done();
}

// The controller's own fabric: networks built at once, the local hosts' firewalls recorded.
class LocalFabric final : public driver::NetworkFabric {
 public:
  void start(driver::NetworkSink* sink) override { sink_ = sink; }
  void stop() override {}
  void apply(driver::NetworkJob job) override {
    sink_->network_done({job.network, job.generation, std::nullopt});
  }
  void apply_firewall(driver::HostFirewallJob job) override {
    {
      std::lock_guard lock(mu_);
      hosts_.push_back(job.host);
    }
    sink_->firewall_done({job.host, job.generation, std::nullopt});
  }
  std::vector<std::string> hosts() const {
    std::lock_guard lock(mu_);
    return hosts_;
  }

 private:
  mutable std::mutex mu_;
  driver::NetworkSink* sink_ = nullptr;
  std::vector<std::string> hosts_;
};

// What the agent's worker applies, in place of net::apply_firewall; fails while told to.
class RecordingApply {
 public:
  Status apply(const std::vector<net::NicFirewall>& nics) {
    std::lock_guard lock(mu_);
    applied_.push_back(nics);
    if (error_) return fail(Error{ErrorCode::kUnavailable, *error_, {}, {}});
    return {};
  }
  void fail_with(std::optional<std::string> error) {
    std::lock_guard lock(mu_);
    error_ = std::move(error);
  }
  std::size_t count() const {
    std::lock_guard lock(mu_);
    return applied_.size();
  }
  std::vector<net::NicFirewall> last() const {
    std::lock_guard lock(mu_);
    return applied_.empty() ? std::vector<net::NicFirewall>{} : applied_.back();
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::vector<net::NicFirewall>> applied_;
  std::optional<std::string> error_;
};

class AgentFirewallTest : public ::testing::Test {
 protected:
  void SetUp() override {
    driver::sim::SimOptions sim;
    sim.host_count = 1;  // sim-1: the controller's own host
    sim.default_latency = 0ms;
    local_driver_ = std::make_unique<driver::sim::SimDriver>(sim);
    router_ = std::make_unique<driver::HostRouter>(*local_driver_);
    fabric_router_ = std::make_unique<driver::FabricRouter>(
        local_fabric_, [this](const std::string& host) { return router_->is_local(host); });
    engine::EngineOptions options;
    options.hosts.heartbeat_interval_ms = 200;
    engine_ = std::make_unique<engine::Engine>(store_, *router_, clock_, options);
    fabric_router_->start(engine_.get());
    engine_->set_network_fabric(fabric_router_.get());
    ASSERT_TRUE(engine_->start());
    ASSERT_TRUE(engine_->create_network({"net", "10.77.0.0/24"}));
    ASSERT_TRUE(
        eventually([&] { return engine_->network("net")->row.state == lc::NetworkState::kReady; }));
    ASSERT_TRUE(engine_->add_host({"h2", {{"zone", "b"}}}));

    registry_ = std::make_unique<EngineRegistry>(*engine_);
    ClusterServerOptions cluster;
    cluster.dir = controller_dir_.path() / "cluster";
    cluster.agent_listen = "127.0.0.1:0";
    cluster.join_listen = "127.0.0.1:0";
    cluster.agents.ping_interval_ms = 200;
    Result<std::unique_ptr<ClusterServer>> started =
        ClusterServer::start(cluster, *registry_, router_->remote_sink(), clock_);
    ASSERT_TRUE(started) << started.error().message;
    server_ = std::move(*started);
    router_->set_remote(&server_->agents());
    server_->agents().set_firewall_sink(&fabric_router_->remote_sink());
    fabric_router_->set_remote(&server_->agents());
  }

  void TearDown() override {
    stop_agent();
    if (server_) {
      router_->set_remote(nullptr);
      fabric_router_->set_remote(nullptr);
      server_->stop();
    }
    if (engine_) engine_->stop();
    fabric_router_->stop();
  }

  void run_agent() {
    Result<std::string> token = server_->tokens().issue("h2");
    ASSERT_TRUE(token);
    agent::AgentOptions o;
    o.data_dir = agent_dir_.path().string();
    o.controller_host = "127.0.0.1";
    o.controller_port = server_->agent_port();
    o.join = {"127.0.0.1", server_->join_port(), *token};
    o.labels = {{"zone", "b"}};
    o.backoff_min_ms = 50;
    o.backoff_max_ms = 200;
    o.firewall = std::make_shared<agent::HostFirewallWorker>(
        [this](const std::vector<net::NicFirewall>& nics) { return apply_.apply(nics); });
    agent_ = std::make_unique<agent::Agent>(agent_driver_, clock_, o);
    agent_thread_ = std::thread([this] { agent_code_ = agent_->run(); });
  }

  void stop_agent() {
    if (!agent_) return;
    agent_->stop();
    agent_thread_.join();
    agent_.reset();
  }

  std::optional<std::string> error_of(const std::string& host) const {
    const std::optional<engine::HostDetail> d = engine_->host(host);
    return d ? d->firewall_error : std::nullopt;
  }

  TempDir controller_dir_;
  TempDir agent_dir_;
  SystemClock clock_;  // TLS checks certificates against real time
  engine::testing::MemoryStore store_;
  std::unique_ptr<driver::sim::SimDriver> local_driver_;
  std::unique_ptr<driver::HostRouter> router_;
  LocalFabric local_fabric_;
  std::unique_ptr<driver::FabricRouter> fabric_router_;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<EngineRegistry> registry_;
  std::unique_ptr<ClusterServer> server_;
  driver::sim::SimDriver agent_driver_{[] {
    driver::sim::SimOptions o;
    o.host_count = 1;
    o.default_latency = 0ms;
    return o;
  }()};
  RecordingApply apply_;
  std::unique_ptr<agent::Agent> agent_;
  std::thread agent_thread_;
  int agent_code_ = 0;
};

// Catches: agent hosts' jobs answered with an error or sent to the local fabric, the job not
// reaching the agent or not converted to the NIC's tap and rules, an agent's failure not kept
// on the host, a later success not clearing it, a reconnecting agent not given its job.
TEST_F(AgentFirewallTest, AnAgentHostsFirewallIsAppliedByItsAgentWhichSetsAndClearsItsError) {
  run_agent();
  ASSERT_TRUE(eventually([&] {
    const std::optional<engine::HostDetail> h = engine_->host("h2");
    return h && h->connected && h->row.state == lc::HostState::kMonitored;
  }));

  engine::CreateRequest request;
  request.name = "web";
  request.model = {1, 128, "img"};
  request.requirements = R"(zone = "b")";
  request.networks = {"net"};
  Result<engine::Accepted> created = engine_->create(std::move(request));
  ASSERT_TRUE(created) << created.error().message;
  const store::VmId vm = created->vm.id;
  ASSERT_TRUE(eventually([&] {
    const std::optional<store::Vm> v = engine_->get(vm);
    return v && v->record.state == lc::State::kRunning && !v->record.busy();
  }));
  ASSERT_EQ(engine_->get(vm)->host, "h2");

  // The agent applied a list with the VM's NIC: its tap, address and the default group.
  const std::string tap = "t" + std::to_string(vm) + "n0";
  ASSERT_TRUE(eventually([&] {
    const std::vector<net::NicFirewall> nics = apply_.last();
    return nics.size() == 1 && nics[0].tap == tap;
  })) << apply_.count();
  const net::NicFirewall nic = apply_.last()[0];
  EXPECT_EQ(nic.ip.to_string(), engine_->get(vm)->nics[0].ip);
  EXPECT_EQ(nic.mac, engine_->get(vm)->nics[0].mac);
  ASSERT_EQ(nic.rules.size(), 2U);  // the default group: all egress, ingress from 10.77.0.0/24
  ASSERT_TRUE(nic.rules[1].remote);
  EXPECT_EQ(nic.rules[1].remote->to_string(), "10.77.0.0/24");
  EXPECT_FALSE(error_of("h2"));
  for (const std::string& host : local_fabric_.hosts()) EXPECT_NE(host, "h2");

  // A rule change reaches the agent; its failure becomes the host's error.
  apply_.fail_with("nft: no such table");
  engine::SecurityGroupRequest add;
  add.op = engine::SecurityGroupOp::kAddRule;
  add.name_or_id = "default";
  add.rules = {
      {{net::RuleDirection::kIngress, net::RuleProtocol::kTcp, {{22, 22}}, std::nullopt}, false}};
  ASSERT_TRUE(engine_->security_group_request(add));
  ASSERT_TRUE(eventually([&] { return error_of("h2").has_value(); }));
  EXPECT_EQ(*error_of("h2"), "nft: no such table");
  EXPECT_EQ(engine_->firewall_errors().at("h2"), "nft: no such table");
  EXPECT_EQ(apply_.last()[0].rules.size(), 3U);

  // The agent restarts: its Welcome carries the host's job, which now applies and clears it.
  stop_agent();
  apply_.fail_with(std::nullopt);
  const std::size_t before = apply_.count();
  run_agent();
  ASSERT_TRUE(eventually([&] { return !error_of("h2").has_value(); })) << *error_of("h2");
  EXPECT_GT(apply_.count(), before);
  EXPECT_EQ(apply_.last()[0].rules.size(), 3U);
  EXPECT_TRUE(engine_->firewall_errors().empty());
}

}  // namespace
}  // namespace corral::controller
