// The whole agent against the in-process test controller (wire/test_controller.h) over real
// mutual TLS, with the sim driver. Its pieces alone: pieces_test.cc.
#include "agent/agent.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <thread>

#include "agent/convert.h"
#include "agent/lease.h"
#include "agent/metrics.h"
#include "agent/outbox.h"
#include "cluster/test_dir.h"
#include "driver/sim/sim_driver.h"
#include "wire/test_controller.h"

namespace corral::agent {
namespace {

namespace lc = corral::lifecycle;
using cluster::testing::TempDir;
using namespace std::chrono_literals;
using wire::testing::TestController;
using wire::testing::TestControllerOptions;

// ---- the agent against the test controller -----------------------------------------------

v1::PlacedVm placed(std::int64_t vm, bool may_fence) {
  v1::PlacedVm p;
  p.set_vm(vm);
  p.set_state(v1::STATE_RUNNING);
  p.set_power(v1::POWER_RUNNING);
  p.mutable_model()->set_vcpus(2);
  p.mutable_model()->set_memory_mib(512);
  p.mutable_model()->set_image("tiny");
  p.set_may_fence(may_fence);
  return p;
}

class AgentSession : public ::testing::Test {
 protected:
  // Placed on node-1: 7 (may_fence) and 8; the sim also has 9, which is nobody's.
  void start_controller(TestControllerOptions options) {
    options.dir = controller_dir_.path();
    options.placed = {placed(7, true), placed(8, false)};
    Result<std::unique_ptr<TestController>> c = TestController::start(options, clock_);
    ASSERT_TRUE(c) << c.error().message;
    controller_ = std::move(*c);
    sim_.adopt(7, "", lc::Power::kRunning);
    sim_.adopt(8, "", lc::Power::kRunning);
    sim_.adopt(9, "", lc::Power::kRunning);
  }

  AgentOptions agent_options(const std::string& token) {
    AgentOptions o;
    o.data_dir = agent_dir_.path().string();
    o.controller_host = "127.0.0.1";
    o.controller_port = controller_->agent_port();
    o.join = {"127.0.0.1", controller_->join_port(), token};
    o.labels = {{"zone", "a"}};
    o.backoff_min_ms = 50;
    o.backoff_max_ms = 200;
    o.lease_tick_ms = 20;
    return o;
  }

  std::string token() {
    Result<std::string> t = controller_->tokens().issue("node-1");
    EXPECT_TRUE(t);
    return t ? *t : "";
  }

  void run_agent(const std::string& join_token) {
    agent_ = std::make_unique<Agent>(sim_, clock_, agent_options(join_token));
    thread_ = std::thread([this] { code_ = agent_->run(); });
  }

  int finish() {
    agent_->stop();
    if (thread_.joinable()) thread_.join();
    return code_;
  }

  template <typename F>
  bool eventually(F done, std::chrono::milliseconds deadline = 10s) {
    const auto until = std::chrono::steady_clock::now() + deadline;
    while (std::chrono::steady_clock::now() < until) {
      if (done()) return true;
      std::this_thread::sleep_for(10ms);
    }
    return done();
  }

  std::vector<store::VmId> sim_vms() const {
    std::vector<store::VmId> out;
    for (const driver::FoundVm& vm : sim_.found()) out.push_back(vm.vm);
    std::ranges::sort(out);
    return out;
  }

  void TearDown() override {
    if (agent_) finish();
  }

  TempDir controller_dir_;
  TempDir agent_dir_;
  SystemClock clock_;  // TLS checks certificates against real time
  driver::sim::SimDriver sim_{[] {
    driver::sim::SimOptions o;
    o.host_count = 1;
    o.default_latency = 0ms;
    o.phase_latency = {{lc::Phase::kMigrate, 200ms}};  // reports progress (the sim's contract)
    return o;
  }()};
  std::unique_ptr<TestController> controller_;
  std::unique_ptr<Agent> agent_;
  std::thread thread_;
  int code_ = -1;
};

TEST_F(AgentSession, HelloCarriesTheHostItsVmsAndNoEpochThenWelcomeDiscardsOnlyUnplacedVms) {
  start_controller({});
  run_agent(token());
  ASSERT_TRUE(eventually([&] { return controller_->epoch() == 1; }));
  const std::vector<v1::Hello> hellos = controller_->hellos();
  ASSERT_EQ(hellos.size(), 1U);
  const v1::Hello& h = hellos[0];
  EXPECT_EQ(h.host(), "node-1");
  EXPECT_EQ(h.driver(), "sim");
  EXPECT_EQ(h.last_epoch(), 0U);
  EXPECT_GT(h.capacity().vcpus(), 0);
  EXPECT_GT(h.capacity().memory_mib(), 0);
  EXPECT_EQ(h.labels().at("zone"), "a");
  std::vector<std::int64_t> reported;
  for (const v1::RunningVm& vm : h.vms()) reported.push_back(vm.vm());
  std::ranges::sort(reported);
  EXPECT_EQ(reported, (std::vector<std::int64_t>{7, 8, 9}));
  // 9 is not placed here: discarded; 7 and 8 are: kept, whatever may_fence says.
  ASSERT_TRUE(eventually([&] {
    return sim_vms() == std::vector<store::VmId>{7, 8};
  })) << sim_vms().size();
  EXPECT_EQ(finish(), 0);
  EXPECT_EQ(sim_vms(), (std::vector<store::VmId>{7, 8})) << "a stopped agent leaves its VMs";
}

TEST_F(AgentSession, APhaseRequestIsAnsweredWithItsResult) {
  TestControllerOptions options;
  v1::PhaseRequest reboot;
  reboot.set_vm(7);
  reboot.set_op(41);
  reboot.set_step(1);
  reboot.set_attempt(2);
  reboot.set_action(v1::ACTION_REBOOT);
  reboot.set_phase(v1::PHASE_REBOOT);
  reboot.set_origin(v1::STATE_RUNNING);
  reboot.set_host("node-1");
  options.after_welcome.push_back(reboot);
  start_controller(options);
  run_agent(token());
  v1::PhaseResult result;
  ASSERT_TRUE(eventually([&] {
    for (const v1::AgentMessage& m : controller_->received()) {
      if (m.has_phase_result()) {
        result = m.phase_result();
        return true;
      }
    }
    return false;
  }));
  EXPECT_EQ(result.vm(), 7);
  EXPECT_EQ(result.op(), 41);
  EXPECT_EQ(result.step(), 1U);
  EXPECT_EQ(result.attempt(), 2U);
  EXPECT_TRUE(result.ok()) << result.error();
  EXPECT_TRUE(result.power_known());
  EXPECT_EQ(result.power(), v1::POWER_RUNNING);
  // Heartbeats come too, with the host's metrics.
  ASSERT_TRUE(eventually([&] {
    for (const v1::AgentMessage& m : controller_->received()) {
      if (m.has_heartbeat()) return m.heartbeat().metrics().running_vms() == 2;
    }
    return false;
  }));
}

// A live migration's migrate phase: the sim's progress reports reach the controller before the
// phase's result, the last one with all memory sent and the downtime.
TEST_F(AgentSession, AMigratePhaseSendsItsProgressBeforeItsResult) {
  TestControllerOptions options;
  v1::PhaseRequest migrate;
  migrate.set_vm(7);
  migrate.set_op(42);
  migrate.set_step(2);
  migrate.set_attempt(1);
  migrate.set_action(v1::ACTION_LIVE_MIGRATE);
  migrate.set_phase(v1::PHASE_MIGRATE);
  migrate.set_origin(v1::STATE_RUNNING);
  migrate.set_host("node-1");
  migrate.set_runs_on(v1::RUNS_ON_SOURCE);
  migrate.set_peer_host("node-2");
  migrate.mutable_model()->set_vcpus(1);
  migrate.mutable_model()->set_memory_mib(128);
  migrate.mutable_model()->set_image("tiny");
  options.after_welcome.push_back(migrate);
  start_controller(options);
  run_agent(token());
  std::vector<v1::PhaseProgress> progress;
  ASSERT_TRUE(eventually([&] {
    progress.clear();
    for (const v1::AgentMessage& m : controller_->received()) {
      if (m.has_phase_progress()) progress.push_back(m.phase_progress());
      if (m.has_phase_result() && m.phase_result().op() == 42) return true;
    }
    return false;
  }));
  ASSERT_FALSE(progress.empty());
  for (const v1::PhaseProgress& p : progress) {
    EXPECT_EQ(p.vm(), 7);
    EXPECT_EQ(p.op(), 42);
    EXPECT_EQ(p.step(), 2U);
    EXPECT_EQ(p.attempt(), 1U);
    EXPECT_EQ(p.memory_total(), 128ULL << 20);
  }
  EXPECT_EQ(progress.back().memory_remaining(), 0U);
  EXPECT_GT(progress.back().downtime_ms(), 0);
}

TEST_F(AgentSession, AStaleEpochRequestIsDroppedAndAnUnreadableOneFails) {
  start_controller({});
  run_agent(token());
  ASSERT_TRUE(eventually([&] { return controller_->epoch() == 1; }));
  ASSERT_TRUE(eventually([&] { return agent_->state() && agent_->state()->epoch() == 1; }));
  v1::ControllerMessage stale;
  v1::PhaseRequest* r = stale.mutable_phase_request();
  r->set_vm(8);
  r->set_op(1);
  r->set_action(v1::ACTION_PAUSE);
  r->set_phase(v1::PHASE_PAUSE);
  r->set_origin(v1::STATE_RUNNING);
  r->set_epoch(99);
  ASSERT_TRUE(controller_->send(stale));
  v1::ControllerMessage unreadable = stale;
  unreadable.mutable_phase_request()->set_op(2);
  unreadable.mutable_phase_request()->set_epoch(1);
  unreadable.mutable_phase_request()->set_phase(static_cast<v1::Phase>(777));
  ASSERT_TRUE(controller_->send(unreadable));
  v1::PhaseResult result;
  ASSERT_TRUE(eventually([&] {
    for (const v1::AgentMessage& m : controller_->received()) {
      if (m.has_phase_result()) {
        result = m.phase_result();
        return true;
      }
    }
    return false;
  }));
  EXPECT_EQ(result.op(), 2) << "the stale request (op 1) must not run";
  EXPECT_FALSE(result.ok());
  EXPECT_NE(result.error().find("phase"), std::string::npos) << result.error();
  EXPECT_EQ(sim_.power_of(8), lc::Power::kRunning);
}

TEST_F(AgentSession, ALostStreamIsReconnectedWithTheLastEpoch) {
  start_controller({});
  run_agent(token());
  ASSERT_TRUE(eventually([&] { return controller_->epoch() == 1; }));
  ASSERT_TRUE(eventually([&] { return agent_->state() && agent_->state()->epoch() == 1; }));
  controller_->drop_streams();
  ASSERT_TRUE(eventually([&] { return controller_->epoch() == 2; }));
  const std::vector<v1::Hello> hellos = controller_->hellos();
  ASSERT_GE(hellos.size(), 2U);
  EXPECT_EQ(hellos.back().last_epoch(), 1U);
  EXPECT_EQ(sim_vms(), (std::vector<store::VmId>{7, 8})) << "placed VMs survive every Welcome";
}

// Failure rehearsal (--sim-hosts mode=cut): a cut agent drops its stream and dials no more,
// so its lease runs out and fences; uncut, it dials again with its last epoch.
TEST_F(AgentSession, ACutAgentDialsNoMoreAndFencesThenRedialsWhenRestored) {
  TestControllerOptions options;
  options.echo_heartbeats = true;  // a Ping for each Heartbeat keeps the lease alive
  options.heartbeat_interval_ms = 50;
  options.lease_ms = 400;
  start_controller(options);
  run_agent(token());
  ASSERT_TRUE(eventually([&] { return agent_->state() && agent_->state()->epoch() == 1; }));
  std::this_thread::sleep_for(600ms);  // longer than the lease: the pings hold it
  EXPECT_TRUE(agent_->state()->fenced().empty());

  agent_->cut(true);
  ASSERT_TRUE(eventually([&] { return !agent_->state()->fenced().empty(); }, 5s));
  EXPECT_EQ(agent_->state()->fenced(), (std::vector<store::VmId>{7}));
  std::this_thread::sleep_for(500ms);  // more than the agent's backoff (200 ms at most)
  EXPECT_EQ(controller_->connects(), 1) << "a cut agent must not dial";
  EXPECT_EQ(controller_->epoch(), 1U);

  agent_->cut(false);
  ASSERT_TRUE(eventually([&] { return controller_->epoch() == 2; }));
  EXPECT_EQ(controller_->hellos().back().last_epoch(), 1U);
  EXPECT_EQ(finish(), 0);
}

TEST_F(AgentSession, ARefuseIsFatalWithTheControllersMessage) {
  TestControllerOptions options;
  v1::Refuse refuse;
  refuse.set_code(v1::Refuse::CODE_HOST_OFFLINE);
  refuse.set_message("host node-1 is offline: `corral host enable node-1` first");
  options.refuse = refuse;
  start_controller(options);
  run_agent(token());
  thread_.join();
  EXPECT_EQ(code_, 1);
  EXPECT_NE(agent_->fatal_message().find("is offline"), std::string::npos)
      << agent_->fatal_message();
  EXPECT_EQ(sim_vms(), (std::vector<store::VmId>{7, 8, 9})) << "no Welcome: nothing discarded";
}

TEST_F(AgentSession, ABadTokenIsFatalAndSaysToken) {
  start_controller({});
  std::string bad = token();
  bad.back() = bad.back() == 'a' ? 'b' : 'a';
  run_agent(bad);
  thread_.join();
  EXPECT_EQ(code_, 1);
  EXPECT_NE(agent_->fatal_message().find("token"), std::string::npos) << agent_->fatal_message();
}

TEST_F(AgentSession, NoIdentityAndNoTokenIsFatal) {
  start_controller({});
  run_agent("");
  thread_.join();
  EXPECT_EQ(code_, 1);
  EXPECT_NE(agent_->fatal_message().find("--join"), std::string::npos) << agent_->fatal_message();
}

TEST_F(AgentSession, ASilentControllerGetsMayFenceVmsFencedAtLeaseEnd) {
  TestControllerOptions options;
  options.heartbeat_interval_ms = 50;
  options.lease_ms = 400;  // the test controller sends nothing after the Welcome
  start_controller(options);
  run_agent(token());
  ASSERT_TRUE(eventually([&] { return controller_->epoch() == 1; }));
  ASSERT_TRUE(eventually([&] { return sim_.power_of(7) == lc::Power::kShutdown; }, 5s));
  EXPECT_EQ(sim_.power_of(8), lc::Power::kRunning) << "8 is not may_fence";
  EXPECT_EQ(agent_->state()->fenced(), std::vector<store::VmId>{7});
  // A stream quiet for a whole lease is given up: the agent dials again, and is welcomed.
  ASSERT_TRUE(eventually([&] { return controller_->epoch() >= 2; }));
  EXPECT_EQ(sim_.power_of(7), lc::Power::kShutdown) << "a new Welcome does not restart it";
}

TEST_F(AgentSession, AControllerThatNeverAnswersTheHelloIsRedialed) {
  TestControllerOptions options;
  options.mute = true;
  start_controller(options);
  AgentOptions o = agent_options(token());
  o.welcome_timeout_ms = 200;
  agent_ = std::make_unique<Agent>(sim_, clock_, o);
  thread_ = std::thread([this] { code_ = agent_->run(); });
  ASSERT_TRUE(eventually([&] { return controller_->connects() >= 3; }));
  EXPECT_EQ(sim_vms(), (std::vector<store::VmId>{7, 8, 9})) << "no Welcome: nothing discarded";
  EXPECT_EQ(finish(), 0);
}

TEST_F(AgentSession, ControllerMessagesKeepTheLeaseAlive) {
  TestControllerOptions options;
  options.heartbeat_interval_ms = 50;
  options.lease_ms = 400;
  options.echo_heartbeats = true;  // a Ping for every heartbeat: the controller hears us
  start_controller(options);
  run_agent(token());
  ASSERT_TRUE(eventually([&] { return controller_->epoch() == 1; }));
  std::this_thread::sleep_for(1200ms);
  EXPECT_EQ(sim_.power_of(7), lc::Power::kRunning);
}

// A Ping's answer stands for the periodic heartbeat: while Pings come (here twice per
// interval) the agent sends no heartbeat of its own; when they stop, its own resume.
TEST_F(AgentSession, APingsAnswerStandsForThePeriodicHeartbeatUntilThePingsStop) {
  TestControllerOptions options;
  options.heartbeat_interval_ms = 200;
  start_controller(options);
  run_agent(token());
  ASSERT_TRUE(eventually([&] { return agent_->state() && agent_->state()->epoch() == 1; }));
  constexpr std::uint64_t kPings = 12;
  for (std::uint64_t seq = 1; seq <= kPings; ++seq) {
    v1::ControllerMessage ping;
    ping.mutable_ping()->set_seq(seq);
    ASSERT_TRUE(controller_->send(ping));
    std::this_thread::sleep_for(100ms);
  }
  auto heartbeats = [&] {
    std::vector<std::uint64_t> answered;  // ping_seq of each heartbeat, in order (0: its own)
    for (const v1::AgentMessage& m : controller_->received()) {
      if (m.has_heartbeat()) answered.push_back(m.heartbeat().ping_seq());
    }
    return answered;
  };
  ASSERT_TRUE(eventually([&] {
    const std::vector<std::uint64_t> h = heartbeats();
    return std::count(h.begin(), h.end(), 0U) >= 2 && h.back() == 0;
  })) << "heartbeats resume on the agent's own timer when the pings stop";
  const std::vector<std::uint64_t> h = heartbeats();
  const auto first = std::find(h.begin(), h.end(), 1U);
  const auto last = std::find(h.begin(), h.end(), kPings);
  ASSERT_NE(first, h.end());
  ASSERT_NE(last, h.end());
  std::vector<std::uint64_t> between(first, last + 1);
  std::vector<std::uint64_t> expected;
  for (std::uint64_t seq = 1; seq <= kPings; ++seq) expected.push_back(seq);
  EXPECT_EQ(between, expected) << "each Ping answered once, and no periodic heartbeat between";
}

TEST_F(AgentSession, WhatHappensWhileDisconnectedIsSentAfterTheReconnect) {
  start_controller({});
  run_agent(token());
  ASSERT_TRUE(eventually([&] { return controller_->epoch() == 1; }));
  ASSERT_TRUE(eventually([&] { return agent_->state() && agent_->state()->epoch() == 1; }));
  const int port = controller_->agent_port();
  controller_.reset();  // the controller goes away
  sim_.external_event(8, driver::sim::ExternalEvent::kGuestPoweroff);
  ASSERT_TRUE(eventually([&] { return agent_->state()->outbox().size() >= 1; }))
      << "the event waits in the outbox";
  TestControllerOptions options;
  options.dir = controller_dir_.path();  // same CA: the agent's certificate is still good
  options.agent_port = port;
  options.placed = {placed(7, true), placed(8, false)};
  Result<std::unique_ptr<TestController>> again = TestController::start(options, clock_);
  ASSERT_TRUE(again) << again.error().message;
  controller_ = std::move(*again);
  ASSERT_TRUE(eventually([&] {
    for (const v1::AgentMessage& m : controller_->received()) {
      if (m.has_power_event()) {
        EXPECT_EQ(m.power_event().vm(), 8);
        EXPECT_EQ(m.power_event().observation(), v1::OBSERVATION_GUEST_POWEROFF);
        return true;
      }
    }
    return false;
  })) << "the queued power event is sent on the new stream";
  EXPECT_EQ(controller_->hellos().back().last_epoch(), 1U);
}

TEST_F(AgentSession, APingIsAnsweredByAHeartbeatWithItsSeq) {
  start_controller({});
  run_agent(token());
  ASSERT_TRUE(eventually([&] { return agent_->state() && agent_->state()->epoch() == 1; }));
  v1::ControllerMessage ping;
  ping.mutable_ping()->set_seq(77);
  ASSERT_TRUE(controller_->send(ping));
  ASSERT_TRUE(eventually([&] {
    for (const v1::AgentMessage& m : controller_->received()) {
      if (m.has_heartbeat() && m.heartbeat().ping_seq() == 77) return true;
    }
    return false;
  }));
}

TEST_F(AgentSession, AVmDeployedAfterTheWelcomeWithMayFenceIsFencedToo) {
  TestControllerOptions options;
  options.heartbeat_interval_ms = 50;
  options.lease_ms = 400;
  v1::PhaseRequest deploy;
  deploy.set_vm(20);
  deploy.set_op(5);
  deploy.set_action(v1::ACTION_DEPLOY);
  deploy.set_phase(v1::PHASE_BOOT);
  deploy.set_origin(v1::STATE_PENDING);
  deploy.set_host("node-1");
  deploy.set_may_fence(true);
  deploy.set_power_after(v1::POWER_RUNNING);  // as the controller names it (the table's)
  options.after_welcome.push_back(deploy);
  start_controller(options);
  run_agent(token());
  ASSERT_TRUE(eventually([&] { return sim_.power_of(20) == lc::Power::kRunning; }));
  ASSERT_TRUE(eventually([&] { return !agent_->state()->fenced().empty(); }, 5s));
  std::vector<store::VmId> fenced = agent_->state()->fenced();
  std::ranges::sort(fenced);
  EXPECT_EQ(fenced, (std::vector<store::VmId>{7, 20})) << "8 is not may_fence";
}

TEST_F(AgentSession, ASecondStartReusesTheStoredIdentity) {
  start_controller({});
  run_agent(token());
  ASSERT_TRUE(eventually([&] { return controller_->epoch() == 1; }));
  EXPECT_EQ(finish(), 0);
  agent_.reset();
  run_agent("");  // no token: the stored certificate must do
  ASSERT_TRUE(eventually([&] { return controller_->epoch() == 2; }));
}

}  // namespace
}  // namespace corral::agent
