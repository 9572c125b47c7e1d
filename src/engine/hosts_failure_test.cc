// Silent and returning hosts: the down-timeout, reconnects with their VM set and epoch,
// re-dispatch, flush of a lost host, and the failure policies (none, evacuate by lease).
// Fake clock, sim driver; agents are played by calling agent_connected/heartbeat.
#include <gtest/gtest.h>

#include <algorithm>

#include "engine/hosts_testing.h"

namespace corral::engine {
namespace {

namespace lc = corral::lifecycle;
using lc::HostEvent;
using lc::HostState;
using lc::State;
using testing::HostsTest;

TEST_F(HostsTest, SilentHostGoesErrorItsVmsUnknownAndComesBackOnReconnect) {
  start();
  ASSERT_TRUE(add("a"));
  Result<AgentWelcome> welcome = connect("a");
  ASSERT_TRUE(welcome);
  EXPECT_EQ(welcome->heartbeat_interval_ms, 2000);
  EXPECT_EQ(welcome->lease_ms, 6000);
  const store::VmId vm = create();
  ASSERT_TRUE(eventually([&] { return is(vm, State::kRunning, "a"); }));
  EXPECT_TRUE(engine_->host("a")->up);
  // Heartbeats keep it up: no state change, whatever the time.
  advance(30'000, {"a"});
  EXPECT_TRUE(stays([&] { return state_of("a") == HostState::kMonitored; }));
  // Silent for the down-timeout (10 s): ERROR, its VM UNKNOWN.
  advance(9'000);
  EXPECT_TRUE(stays([&] { return state_of("a") == HostState::kMonitored; }));
  advance(2'000);
  ASSERT_TRUE(eventually([&] { return state_of("a") == HostState::kError; }));
  ASSERT_TRUE(eventually([&] { return is(vm, State::kUnknown, "a"); }));
  EXPECT_FALSE(engine_->host("a")->up);
  EXPECT_NE(engine_->host("a")->row.error.find("no heartbeat"), std::string::npos);
  // The agent reconnects and reports the VM running: MONITORED, the VM RUNNING again.
  const std::uint64_t before = epochs_["a"];
  welcome = connect("a", {{vm, lc::Power::kRunning}});
  ASSERT_TRUE(welcome);
  EXPECT_GT(welcome->epoch, before);
  ASSERT_EQ(welcome->vms.size(), 1u);
  EXPECT_EQ(welcome->vms[0].vm, vm);
  EXPECT_FALSE(welcome->vms[0].may_fence) << "policy none: nothing is fenced";
  EXPECT_EQ(state_of("a"), HostState::kMonitored);
  ASSERT_TRUE(eventually([&] { return is(vm, State::kRunning, "a"); }));
  // A heartbeat of the old epoch is ignored.
  const Millis heard = engine_->host("a")->row.last_heartbeat_at;
  clock_.advance(500);
  engine_->agent_heartbeat("a", before, {});
  EXPECT_EQ(engine_->host("a")->row.last_heartbeat_at, heard);
  heartbeat("a", {3, 256, 1, 50.0, 0.5});
  EXPECT_EQ(engine_->host("a")->metrics.free_cpu_percent, 50.0);
  EXPECT_GT(engine_->host("a")->row.last_heartbeat_at, heard);
  engine_->agent_disconnected("a", epochs_["a"]);
  EXPECT_FALSE(engine_->host("a")->connected);
}

TEST_F(HostsTest, AVmTheReturningAgentDoesNotFindIsNoLongerRunning) {
  start();
  ASSERT_TRUE(add("a"));
  ASSERT_TRUE(connect("a"));
  const store::VmId kept = create();
  const store::VmId gone = create();
  ASSERT_TRUE(
      eventually([&] { return is(kept, State::kRunning, "a") && is(gone, State::kRunning, "a"); }));
  ASSERT_TRUE(connect("a", {{kept, lc::Power::kRunning}}));
  ASSERT_TRUE(eventually([&] { return is(gone, State::kUnknown, "a"); }));
  EXPECT_TRUE(stays([&] { return is(kept, State::kRunning, "a"); }));
}

// Two agent hosts, `a` and `b`, for moves between them.
class HostsMoveTest : public HostsTest {
 protected:
  // A VM RUNNING on `a`, placed before `b` connected; 0 on failure.
  store::VmId running_on_a_beside_b() {
    start();
    if (!add("a") || !add("b") || !connect("a")) return 0;
    const store::VmId vm = create();
    if (!eventually([&] { return is(vm, State::kRunning, "a"); })) return 0;
    return connect("b") ? vm : 0;
  }
};

// A live migration's target that comes back without the VM while the source cleans up: the
// move ends on a host that does not run it. OpenNebula's policy makes it UNKNOWN, as for any
// VM its host no longer has; a target that comes back with it keeps it RUNNING.
// Catches: a move ending RUNNING where nothing runs (found by agents_crash_migrate_test).
TEST_F(HostsMoveTest, AMoveEndingOnATargetThatCameBackWithoutTheVmReconcilesIt) {
  const store::VmId vm = running_on_a_beside_b();
  ASSERT_NE(vm, 0);
  for (const bool target_has_it : {false, true}) {
    SCOPED_TRACE(target_has_it ? "the target still runs it" : "the target lost it");
    const std::string source = host_of(vm);
    const std::string target = source == "a" ? "b" : "a";
    // The source's cleanup hangs once (its answer lost with the target's stream).
    driver::sim::Fault hang;
    hang.kind = driver::sim::FaultKind::kHang;
    hang.action = lc::Action::kLiveMigrate;
    hang.phase = lc::Phase::kCleanup;
    driver_->add_fault(hang);
    ActionRequest move;
    move.vm = vm;
    move.action = lc::Action::kLiveMigrate;
    move.host = target;
    ASSERT_TRUE(engine_->act(std::move(move)));
    ASSERT_TRUE(eventually([&] {
      const std::optional<store::Vm> v = engine_->get(vm);
      return v->record.busy() && lc::current_phase(*v->record.op) == lc::Phase::kCleanup;
    }));
    std::vector<AgentVm> reported;
    if (target_has_it) reported.push_back({vm, lc::Power::kRunning});
    // The target's reconnect re-sends the move's phase in progress: the cleanup ends it.
    ASSERT_TRUE(connect(target, reported));
    if (target_has_it) {
      ASSERT_TRUE(eventually([&] { return is(vm, State::kRunning, target); }));
      EXPECT_EQ(engine_->get(vm)->record.power, lc::Power::kRunning);
    } else {
      ASSERT_TRUE(eventually([&] { return is(vm, State::kUnknown, target); }));
      EXPECT_EQ(engine_->get(vm)->record.power, lc::Power::kNoState);
      // It comes back RUNNING once the target reports it again.
      ASSERT_TRUE(connect(target, {{vm, lc::Power::kRunning}}));
      ASSERT_TRUE(eventually([&] { return is(vm, State::kRunning, target); }));
    }
  }
}

// The host a resize left keeps the VM's copy until confirm or revert: its agent, reconnecting,
// is told the VM is its own (not to discard it), and a confirm running there is sent again.
// Catches: a reconnect deleting the copy revert goes back to; a confirm stuck until its
// deadline because the source's reconnect did not re-send it (agents_crash_migrate_test).
TEST_F(HostsMoveTest, TheHostAResizeLeftKeepsItsCopyAcrossReconnects) {
  const store::VmId vm = running_on_a_beside_b();
  ASSERT_NE(vm, 0);
  ActionRequest resize;
  resize.vm = vm;
  resize.action = lc::Action::kResizeMigrate;
  resize.model = store::VmModel{2, 256, "img"};
  resize.host = "b";
  ASSERT_TRUE(engine_->act(std::move(resize)));
  ASSERT_TRUE(eventually([&] { return is(vm, State::kResized, "b"); }));
  auto lists = [&](const AgentWelcome& w) {
    return std::ranges::any_of(w.vms, [&](const PlacedVm& v) { return v.vm == vm; });
  };
  Result<AgentWelcome> again = connect("a", {{vm, lc::Power::kShutdown}});
  ASSERT_TRUE(again);
  EXPECT_TRUE(lists(*again)) << "the source's agent would discard the copy revert needs";
  // A confirm whose answer is lost (the phase hangs once) is sent again when `a` reconnects.
  driver::sim::Fault hang;
  hang.kind = driver::sim::FaultKind::kHang;
  hang.action = lc::Action::kConfirmResize;
  driver_->add_fault(hang);
  ActionRequest confirm;
  confirm.vm = vm;
  confirm.action = lc::Action::kConfirmResize;
  ASSERT_TRUE(engine_->act(std::move(confirm)));
  EXPECT_TRUE(stays([&] { return engine_->get(vm)->record.busy(); }));
  ASSERT_TRUE(connect("a", {{vm, lc::Power::kShutdown}}));
  ASSERT_TRUE(eventually([&] { return is(vm, State::kRunning, "b"); }));
  // Confirmed, the copy is no longer `a`'s.
  again = connect("a");
  ASSERT_TRUE(again);
  EXPECT_FALSE(lists(*again));
}

TEST_F(HostsTest, AReconnectReDispatchesThePhasesRunningOnTheHost) {
  start();
  ASSERT_TRUE(add("a"));
  ASSERT_TRUE(connect("a"));
  const store::VmId vm = create();
  ASSERT_TRUE(eventually([&] { return is(vm, State::kRunning, "a"); }));
  // The stream to `a` drops the reboot's phase (a hang, once); the new stream carries it.
  driver::sim::Fault hang;
  hang.kind = driver::sim::FaultKind::kHang;
  hang.action = lc::Action::kReboot;
  driver_->add_fault(hang);
  ASSERT_TRUE(engine_->act({vm, lc::Action::kReboot}));
  EXPECT_TRUE(stays([&] { return engine_->get(vm)->record.busy(); }));
  const std::uint32_t attempt = engine_->get(vm)->op.attempt;
  ASSERT_TRUE(connect("a", {{vm, lc::Power::kRunning}}));
  ASSERT_TRUE(eventually([&] { return is(vm, State::kRunning, "a"); }));
  EXPECT_GT(engine_->get(vm)->op.attempt, attempt);
  EXPECT_EQ(engine_->get(vm)->record.op->status, lc::OpStatus::kSucceeded);
}

TEST_F(HostsTest, FlushLeavesLostVmsUntilTheHostIsForcedDown) {
  start();
  ASSERT_TRUE(add("a"));
  ASSERT_TRUE(add("b"));
  ASSERT_TRUE(connect("a"));
  const store::VmId vm = create();
  ASSERT_TRUE(eventually([&] { return is(vm, State::kRunning, "a"); }));
  ASSERT_TRUE(connect("b"));
  advance(11'000, {"b"});
  ASSERT_TRUE(eventually([&] { return is(vm, State::kUnknown, "a"); }));
  // It may still run on `a`: flushing must not start it a second time on `b`.
  ASSERT_TRUE(engine_->host_action({"a", HostEvent::kFlush, {}, "op", {}}));
  EXPECT_TRUE(stays([&] { return is(vm, State::kUnknown, "a"); }));
  // The operator asserts `a` is fenced: now it moves.
  ASSERT_TRUE(engine_->host_action({"a", HostEvent::kForceDown, {}, "op", {}}));
  ASSERT_TRUE(engine_->host_action({"a", HostEvent::kFlush, {}, "op", {}}));
  ASSERT_TRUE(eventually([&] { return is(vm, State::kRunning, "b"); }));
}

TEST_F(HostsTest, NonePolicyMovesNothing) {
  start();
  ASSERT_TRUE(add("a"));
  ASSERT_TRUE(add("b"));
  ASSERT_TRUE(connect("a"));
  const store::VmId vm = create();
  ASSERT_TRUE(eventually([&] { return is(vm, State::kRunning, "a"); }));
  ASSERT_TRUE(connect("b"));
  advance(11'000, {"b"});
  ASSERT_TRUE(eventually([&] { return is(vm, State::kUnknown, "a"); }));
  advance(120'000, {"b"});
  EXPECT_TRUE(stays([&] { return is(vm, State::kUnknown, "a"); }));
}

class EvacuateTest : public HostsTest {
 protected:
  static EngineOptions evacuate() {
    EngineOptions o;
    o.hosts.failure_policy = HostFailurePolicy::kEvacuate;
    return o;
  }
};

TEST_F(EvacuateTest, RecreatesElsewhereOnlyAfterTheLeaseAndMargin) {
  start(evacuate());
  ASSERT_TRUE(add("a"));
  ASSERT_TRUE(add("b"));
  ASSERT_TRUE(connect("a"));
  const store::VmId vm = create();
  ASSERT_TRUE(eventually([&] { return is(vm, State::kRunning, "a"); }));
  heartbeat("a");  // its agent reports the VM guarded (held by its fence guard)
  Result<AgentWelcome> b = connect("b");
  ASSERT_TRUE(b);
  // `a` goes silent: ERROR once 10 s pass (down_at), recreated at down_at + 6 s + 2 s.
  advance(11'000, {"b"});
  ASSERT_TRUE(eventually([&] { return is(vm, State::kUnknown, "a"); }));
  advance(7'000, {"b"});
  EXPECT_TRUE(stays([&] { return is(vm, State::kUnknown, "a"); })) << "before the lease ran out";
  advance(2'000, {"b"});
  ASSERT_TRUE(eventually([&] { return is(vm, State::kRunning, "b"); }));
  // The agent of `a` returns: its Welcome no longer places the VM there (it discards it).
  Result<AgentWelcome> back = connect("a", {{vm, lc::Power::kShutdown}});
  ASSERT_TRUE(back);
  EXPECT_TRUE(back->vms.empty());
  EXPECT_TRUE(stays([&] { return is(vm, State::kRunning, "b"); }));
  // b's Welcome marks its VMs as fenceable under this policy.
  Result<AgentWelcome> again = connect("b", {{vm, lc::Power::kRunning}});
  ASSERT_TRUE(again);
  ASSERT_EQ(again->vms.size(), 1u);
  EXPECT_TRUE(again->vms[0].may_fence);
}

// After a restart the controller cannot know what a host that does not come back was told,
// nor whether its fence guard holds its guests: the lease never moves its VMs; an operator's
// force_down (Nova's rule) does.
TEST_F(EvacuateTest, AfterARestartAHostThatNeverReturnsWaitsForTheOperator) {
  start(evacuate());
  ASSERT_TRUE(add("a"));
  ASSERT_TRUE(add("b"));
  ASSERT_TRUE(connect("a"));
  const store::VmId vm = create();
  ASSERT_TRUE(eventually([&] { return is(vm, State::kRunning, "a"); }));
  heartbeat("a");
  advance(11'000);
  ASSERT_TRUE(eventually([&] { return is(vm, State::kUnknown, "a"); }));
  stop();
  clock_.advance(60'000);
  restart();
  ASSERT_TRUE(connect("b"));
  EXPECT_EQ(state_of("a"), HostState::kError);
  advance(30'000, {"b"});
  EXPECT_TRUE(stays([&] { return is(vm, State::kUnknown, "a"); }));
  ASSERT_TRUE(engine_->host_action({"a", HostEvent::kForceDown, {}, "op", {}}));
  ASSERT_TRUE(eventually([&] { return is(vm, State::kRunning, "b"); }));
}

// A host that returns after the restart and dies again is evacuated as usual: its agent was
// welcomed by this run and reported the VM guarded.
TEST_F(EvacuateTest, AfterARestartAReturnedHostIsEvacuatedAsUsual) {
  start(evacuate());
  ASSERT_TRUE(add("a"));
  ASSERT_TRUE(add("b"));
  ASSERT_TRUE(connect("a"));
  const store::VmId vm = create();
  ASSERT_TRUE(eventually([&] { return is(vm, State::kRunning, "a"); }));
  stop();
  clock_.advance(60'000);
  restart();
  ASSERT_TRUE(connect("a", {{vm, lc::Power::kRunning}}));
  ASSERT_TRUE(connect("b"));
  heartbeat("a");
  advance(11'000, {"b"});
  ASSERT_TRUE(eventually([&] { return is(vm, State::kUnknown, "a"); }));
  advance(9'000, {"b"});
  ASSERT_TRUE(eventually([&] { return is(vm, State::kRunning, "b"); }));
}

TEST_F(EvacuateTest, AnOperationStuckOnTheDeadHostIsCutShortAndTheVmRecreated) {
  start(evacuate());
  ASSERT_TRUE(add("a"));
  ASSERT_TRUE(add("b"));
  ASSERT_TRUE(connect("a"));
  const store::VmId vm = create();
  ASSERT_TRUE(eventually([&] { return is(vm, State::kRunning, "a"); }));
  heartbeat("a");  // the VM is guarded there
  ASSERT_TRUE(connect("b"));
  driver::sim::Fault hang;
  hang.kind = driver::sim::FaultKind::kHang;
  hang.action = lc::Action::kReboot;
  driver_->add_fault(hang);
  ASSERT_TRUE(engine_->act({vm, lc::Action::kReboot}));
  advance(11'000, {"b"});
  ASSERT_TRUE(eventually([&] { return state_of("a") == HostState::kError; }));
  EXPECT_TRUE(stays([&] { return engine_->get(vm)->record.busy() && host_of(vm) == "a"; }));
  advance(9'000, {"b"});
  ASSERT_TRUE(eventually([&] { return is(vm, State::kRunning, "b"); }));
}

// A VM its agent never reported guarded (no fence guard held its process: it may still run
// on the silent host) is not recreated by the lease, only once an operator forces the host down.
TEST_F(EvacuateTest, OnlyGuardedVmsAreRecreatedWithoutAnOperator) {
  start(evacuate());
  ASSERT_TRUE(add("a"));
  ASSERT_TRUE(add("b"));
  ASSERT_TRUE(connect("a"));
  const store::VmId guarded = create();
  const store::VmId unguarded = create();
  ASSERT_TRUE(eventually([&] { return is(guarded, State::kRunning, "a"); }));
  ASSERT_TRUE(eventually([&] { return is(unguarded, State::kRunning, "a"); }));
  HostMetrics metrics;
  metrics.guarded_vms = {guarded};
  heartbeat("a", metrics);
  ASSERT_TRUE(connect("b"));
  advance(30'000, {"b"});
  ASSERT_TRUE(eventually([&] { return is(guarded, State::kRunning, "b"); }));
  EXPECT_TRUE(stays([&] {
    return engine_->get(unguarded)->record.state == State::kUnknown && host_of(unguarded) == "a";
  }));
  ASSERT_TRUE(engine_->host_action({"a", HostEvent::kForceDown, {}, "op", {}}));
  ASSERT_TRUE(eventually([&] { return is(unguarded, State::kRunning, "b"); }));
}

TEST_F(EvacuateTest, ForcedDownHostIsEvacuatedAtOnce) {
  start(evacuate(), 2);
  ASSERT_TRUE(engine_->host_action({"sim-1", HostEvent::kDisable, {}, "op", {}}));
  ASSERT_TRUE(add("a"));
  ASSERT_TRUE(connect("a"));
  const store::VmId vm = create();
  ASSERT_TRUE(eventually([&] { return is(vm, State::kRunning); }));
  const std::string from = host_of(vm);
  ASSERT_TRUE(engine_->host_action({from, HostEvent::kForceDown, {}, "op", {}}));
  ASSERT_TRUE(eventually([&] {
    return engine_->get(vm)->record.state == State::kRunning && host_of(vm) != from &&
           !engine_->get(vm)->record.busy();
  }));
}

}  // namespace
}  // namespace corral::engine
