// The agent's pieces (convert, outbox, lease) and the whole agent against the in-process test
// controller (wire/test_controller.h) over real mutual TLS, with the sim driver.
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

// ---- convert ----------------------------------------------------------------------------

TEST(AgentConvert, PhaseRequestsRoundTrip) {
  driver::PhaseRequest base;
  base.vm = 12;
  base.op = 34;
  base.step = 2;
  base.attempt = 3;
  base.action = lc::Action::kSnapshot;
  base.phase = lc::Phase::kSnapshot;
  base.origin = lc::State::kRunning;
  base.model = {2, 256, "tiny"};
  base.host = "node-1";
  struct Case {
    const char* name;
    std::optional<std::string> param_name;
    std::int64_t size_mib;
    bool delete_files;
    bool ends_vm;
  };
  for (const Case& c : {Case{"plain", std::nullopt, 0, false, false},
                        Case{"named", "before-upgrade", 0, false, false},
                        Case{"disk_resize", std::nullopt, 4096, false, false},
                        Case{"intents", std::nullopt, 0, true, true}}) {
    SCOPED_TRACE(c.name);
    driver::PhaseRequest r = base;
    r.name = c.param_name;
    r.size_mib = c.size_mib;
    r.delete_files = c.delete_files;
    r.ends_vm = c.ends_vm;
    Result<driver::PhaseRequest> back = to_driver(to_wire(r));
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back->vm, r.vm);
    EXPECT_EQ(back->op, r.op);
    EXPECT_EQ(back->step, r.step);
    EXPECT_EQ(back->attempt, r.attempt);
    EXPECT_EQ(back->action, r.action);
    EXPECT_EQ(back->phase, r.phase);
    EXPECT_EQ(back->origin, r.origin);
    EXPECT_EQ(back->model, r.model);
    EXPECT_EQ(back->host, r.host);
    EXPECT_EQ(back->name, r.name);
    EXPECT_EQ(back->size_mib, r.size_mib);
    EXPECT_EQ(back->delete_files, r.delete_files);
    EXPECT_EQ(back->ends_vm, r.ends_vm);
  }
}

TEST(AgentConvert, BackupParamsGiveTheName) {
  v1::PhaseRequest w;
  w.set_action(v1::ACTION_BACKUP);
  w.set_phase(v1::PHASE_BACKUP);
  w.set_origin(v1::STATE_RUNNING);
  w.mutable_backup()->set_name("nightly");
  Result<driver::PhaseRequest> r = to_driver(w);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->name, "nightly");
}

TEST(AgentConvert, UnknownEnumsAreRefused) {
  v1::PhaseRequest w;
  w.set_action(static_cast<v1::Action>(999));
  Result<driver::PhaseRequest> r = to_driver(w);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("action"), std::string::npos) << r.error().message;
  w.set_action(v1::ACTION_REBOOT);
  w.set_phase(static_cast<v1::Phase>(500));
  EXPECT_FALSE(to_driver(w));
}

TEST(AgentConvert, PhaseResultsRoundTrip) {
  for (const bool ok : {true, false}) {
    driver::PhaseResult r{7,
                          8,
                          1,
                          2,
                          ok,
                          ok ? "" : "disk full",
                          lc::Power::kPaused,
                          true,
                          ok ? lc::Integrity::kUnknown : lc::Integrity::kIntact};
    Result<driver::PhaseResult> back = to_driver(to_wire(r));
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back->vm, 7);
    EXPECT_EQ(back->op, 8);
    EXPECT_EQ(back->step, 1);
    EXPECT_EQ(back->attempt, 2U);
    EXPECT_EQ(back->ok, ok);
    EXPECT_EQ(back->error, r.error);
    EXPECT_EQ(back->power, lc::Power::kPaused);
    EXPECT_TRUE(back->power_known);
    EXPECT_EQ(back->integrity, r.integrity);
  }
}

TEST(AgentConvert, PowerEventsRoundTripWithTheirObservation) {
  struct Case {
    driver::PowerEventKind kind;
    lc::Power power;
    v1::Observation observation;
  };
  for (const Case& c : {
           Case{driver::PowerEventKind::kPowerChanged, lc::Power::kRunning,
                v1::OBSERVATION_RUNNING},
           Case{driver::PowerEventKind::kPowerChanged, lc::Power::kPaused, v1::OBSERVATION_PAUSED},
           Case{driver::PowerEventKind::kPowerChanged, lc::Power::kCrashed,
                v1::OBSERVATION_UNSPECIFIED},
           Case{driver::PowerEventKind::kGuestPoweroff, lc::Power::kShutdown,
                v1::OBSERVATION_GUEST_POWEROFF},
           Case{driver::PowerEventKind::kVanished, lc::Power::kNoState, v1::OBSERVATION_VANISHED},
           Case{driver::PowerEventKind::kUnresponsive, lc::Power::kNoState,
                v1::OBSERVATION_UNRESPONSIVE},
           Case{driver::PowerEventKind::kGuestReady, lc::Power::kRunning,
                v1::OBSERVATION_GUEST_READY},
       }) {
    SCOPED_TRACE(static_cast<int>(c.kind));
    const driver::PowerEvent e{5, c.kind, c.power, "because"};
    const v1::PowerEvent w = to_wire(e);
    EXPECT_EQ(w.observation(), c.observation);
    Result<driver::PowerEvent> back = to_driver(w);
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back->vm, 5);
    EXPECT_EQ(back->kind, c.kind);
    EXPECT_EQ(back->power, c.power);
    EXPECT_EQ(back->cause, "because");
  }
}

// ---- outbox -----------------------------------------------------------------------------

v1::AgentMessage result_msg(std::int64_t op) {
  v1::AgentMessage m;
  m.mutable_phase_result()->set_op(op);
  return m;
}

v1::AgentMessage event_msg(std::int64_t vm) {
  v1::AgentMessage m;
  m.mutable_power_event()->set_vm(vm);
  return m;
}

TEST(AgentOutbox, KeepsOrderAcrossAFailedSend) {
  Outbox box;
  for (int op = 1; op <= 4; ++op) box.push(result_msg(op));
  std::vector<v1::AgentMessage> taken = box.take_all();
  ASSERT_EQ(taken.size(), 4U);
  EXPECT_EQ(box.size(), 0U);
  box.push(result_msg(5));  // arrives while the first two were being written
  // Writing the third failed: it and the fourth go back in front of the fifth.
  box.put_back_front({taken[2], taken[3]});
  std::vector<v1::AgentMessage> again = box.take_all();
  ASSERT_EQ(again.size(), 3U);
  EXPECT_EQ(again[0].phase_result().op(), 3);
  EXPECT_EQ(again[1].phase_result().op(), 4);
  EXPECT_EQ(again[2].phase_result().op(), 5);
}

TEST(AgentOutbox, WhenFullDropsOldestEventsBeforeResults) {
  Outbox box(3);
  box.push(result_msg(1));
  box.push(event_msg(10));
  box.push(result_msg(2));
  box.push(event_msg(11));  // over: event 10 goes
  box.push(result_msg(3));  // over: event 11 goes
  box.push(result_msg(4));  // over: no event left, result 1 goes
  EXPECT_EQ(box.dropped(), 3U);
  std::vector<v1::AgentMessage> left = box.take_all();
  ASSERT_EQ(left.size(), 3U);
  EXPECT_EQ(left[0].phase_result().op(), 2);
  EXPECT_EQ(left[1].phase_result().op(), 3);
  EXPECT_EQ(left[2].phase_result().op(), 4);
}

// ---- lease ------------------------------------------------------------------------------

TEST(AgentLease, ExpiresAfterLeaseMsWithoutWordOncePerExpiry) {
  FakeClock clock;
  Lease lease(clock);
  EXPECT_FALSE(lease.fence_due()) << "never welcomed: nothing to fence";
  lease.welcome(1000);
  clock.advance(999);
  EXPECT_FALSE(lease.fence_due());
  EXPECT_EQ(lease.remaining_ms(), 1);
  clock.advance(1);
  EXPECT_TRUE(lease.expired());
  EXPECT_TRUE(lease.fence_due());
  EXPECT_FALSE(lease.fence_due()) << "once per expiry";
  lease.heard();
  EXPECT_FALSE(lease.expired());
  clock.advance(600);
  lease.heard();
  clock.advance(600);
  EXPECT_FALSE(lease.fence_due()) << "heard 600 ms ago";
  clock.advance(400);
  EXPECT_TRUE(lease.fence_due());
}

TEST(AgentLease, BootClockMovesForward) {
  BootClock clock;
  const Millis a = clock.now_ms();
  std::this_thread::sleep_for(20ms);
  EXPECT_GE(clock.now_ms() - a, 20);
}

TEST(AgentLease, ZeroNeverExpires) {
  FakeClock clock;
  Lease lease(clock);
  lease.welcome(0);
  clock.advance(1'000'000'000);
  EXPECT_FALSE(lease.expired());
  EXPECT_FALSE(lease.fence_due());
}

// ---- metrics ----------------------------------------------------------------------------

TEST(AgentMetrics, ReadsMemoryLoadAndIdleFromProc) {
  TempDir proc;
  auto write = [&](const char* name, const std::string& text) {
    std::ofstream(proc.path() / name) << text;
  };
  write("meminfo", "MemTotal:        8388608 kB\nMemFree:         1024 kB\n");
  write("loadavg", "1.25 0.50 0.10 2/300 4242\n");
  write("stat", "cpu  100 0 100 600 200 0 0 0 0 0\ncpu0 1 2 3 4\n");
  const v1::Capacity c = read_capacity(proc.path().string());
  EXPECT_EQ(c.memory_mib(), 8192);
  EXPECT_GT(c.vcpus(), 0);
  EXPECT_EQ(read_load1(proc.path().string()), 1.25);
  EXPECT_FALSE(read_load1((proc.path() / "none").string()));
  CpuIdle idle(proc.path().string());
  EXPECT_DOUBLE_EQ(idle.free_percent(), 80.0);  // (600 + 200) of 1000 since boot
  write("stat", "cpu  150 0 150 600 200 0 0 0 0 0\n");
  EXPECT_DOUBLE_EQ(idle.free_percent(), 0.0);  // all 100 new ticks busy
}

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
