// The engine with a scripted driver, an in-memory store and a fake clock: group commit,
// placement, deadlines in simulated time, pre-emption, restart, the desired/effective model.
#include "engine/engine.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "engine/history_replay_testing.h"
#include "engine/memory_store_testing.h"

namespace corral::engine {
namespace {

namespace lc = corral::lifecycle;
using lc::Action;
using lc::Phase;
using lc::State;
using testing::MemoryStore;
using namespace std::chrono_literals;

// A driver that answers every phase at once (auto) or holds them for the test to answer.
class ScriptedDriver final : public driver::Driver {
 public:
  std::string name() const override { return "scripted"; }
  std::vector<driver::HostInfo> hosts() const override {
    return {{"h1", 4, 4096}, {"h2", 4, 4096}};
  }
  void start(driver::DriverSink* sink) override { sink_ = sink; }
  void stop() override {}
  void run_phase(const driver::PhaseRequest& request) override {
    bool answer_now = false;
    bool failing = false;
    bool echo = false;
    {
      std::lock_guard lock(mu_);
      requests_.push_back(request);
      answer_now = auto_ && !hang_.contains({request.action, request.phase});
      failing = fail_.contains({request.action, request.phase});
      echo = echo_power_;
    }
    cv_.notify_all();
    if (!answer_now) return;
    // The sink only enqueues, so answering from inside run_phase is safe. Echoing, it reports
    // the power the request names, as the sim driver does.
    const bool known = echo && request.power_after.has_value();
    sink_->phase_done({request.vm, request.op, request.step, request.attempt, !failing,
                       failing ? "injected" : "",
                       known ? *request.power_after : lc::Power::kNoState, known});
  }
  void echo_power(bool on) {
    std::lock_guard lock(mu_);
    echo_power_ = on;
  }
  void set_auto(bool on) {
    std::lock_guard lock(mu_);
    auto_ = on;
  }
  void hang(Action a, Phase p) {
    std::lock_guard lock(mu_);
    hang_.insert({a, p});
  }
  void fail_phase(Action a, Phase p) {
    std::lock_guard lock(mu_);
    fail_.insert({a, p});
  }
  // Waits for a request matching `pred`; returns it.
  std::optional<driver::PhaseRequest> wait_for(
      const std::function<bool(const driver::PhaseRequest&)>& pred) {
    std::unique_lock lock(mu_);
    std::optional<driver::PhaseRequest> found;
    cv_.wait_for(lock, 5s, [&] {
      for (const auto& r : requests_) {
        if (pred(r)) {
          found = r;
          return true;
        }
      }
      return false;
    });
    return found;
  }
  void answer(const driver::PhaseRequest& r, bool ok = true,
              lc::Integrity integrity = lc::Integrity::kUnknown) {
    sink_->phase_done({r.vm, r.op, r.step, r.attempt, ok, ok ? "" : "failed (test)",
                       lc::Power::kNoState, false, integrity});
  }
  driver::DriverSink* sink() { return sink_; }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<driver::PhaseRequest> requests_;
  std::set<std::pair<Action, Phase>> hang_;
  std::set<std::pair<Action, Phase>> fail_;
  bool auto_ = true;
  bool echo_power_ = false;
  driver::DriverSink* sink_ = nullptr;
};

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override { start(); }
  void TearDown() override { engine_->stop(); }

  void start(EngineOptions options = {}) {
    options.default_phase_deadline_ms = 60'000;
    engine_ = std::make_unique<Engine>(store_, driver_, clock_, options);
    ASSERT_TRUE(engine_->start().has_value());
  }

  // Polls committed state until `pred` holds (the engine works asynchronously).
  store::Vm wait_vm(store::VmId id, const std::function<bool(const store::Vm&)>& pred) {
    for (int i = 0; i < 500; ++i) {
      std::optional<store::Vm> vm = engine_->get(id);
      if (vm && pred(*vm)) return *vm;
      std::this_thread::sleep_for(10ms);
    }
    std::optional<store::Vm> vm = engine_->get(id);
    ADD_FAILURE() << "timed out waiting on VM " << id << " in state "
                  << (vm ? lc::state_name(vm->record.state) : "none");
    return vm.value_or(store::Vm{});
  }
  store::Vm wait_state(store::VmId id, State s) {
    return wait_vm(id,
                   [s](const store::Vm& vm) { return vm.record.state == s && !vm.record.busy(); });
  }

  store::VmId create(int vcpus = 1, bool hold = false) {
    Result<Accepted> a = engine_->create({"vm", {vcpus, 512, "tiny"}, hold, "test", "req-1"});
    EXPECT_TRUE(a.has_value());
    return a ? a->vm.id : 0;
  }

  Result<Accepted> act(store::VmId id, Action action) {
    ActionRequest r;
    r.vm = id;
    r.action = action;
    return engine_->act(r);
  }

  MemoryStore store_;
  ScriptedDriver driver_;
  FakeClock clock_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(EngineTest, CreateRunsToRunningOnAHostAndRecordsHistory) {
  Result<Accepted> a = engine_->create({"web", {2, 1024, "tiny"}, false, "test", "req-7"});
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->vm.record.state, State::kInit);
  ASSERT_TRUE(a->op.has_value());
  EXPECT_EQ(a->op->op.action, Action::kCreate);
  EXPECT_EQ(a->op->meta.request_id, "req-7");
  const store::Vm vm = wait_state(a->vm.id, State::kRunning);
  EXPECT_EQ(vm.host, "h1");
  EXPECT_EQ(vm.record.power, lc::Power::kRunning);
  Result<std::vector<store::TransitionRow>> h = engine_->history(vm.id, 0, 100);
  ASSERT_TRUE(h.has_value());
  // Each entry names the phase that started (running) or that ended the operation.
  std::vector<std::string> phases;
  for (const auto& t : *h) {
    phases.push_back(std::string(lc::phase_name(t.phase)) + ":" +
                     std::string(lc::op_status_name(t.status)));
  }
  EXPECT_EQ(phases,
            (std::vector<std::string>{"init:running", "clone:running", "clone:succeeded",
                                      "prolog:running", "boot:running", "os_provisioning:running",
                                      "os_provisioned:running", "os_provisioned:succeeded"}));
  EXPECT_EQ(h->back().to, State::kRunning);
  EXPECT_EQ((*h)[3].actor, "scheduler");
  EXPECT_EQ((*h)[0].request_id, "req-7");
  const std::vector<HostUsage> hosts = engine_->hosts();
  EXPECT_EQ(hosts[0].used_vcpus, 2);
  EXPECT_EQ(hosts[0].vms, 1);
}

// A cold migration's phases run where the table says (save on the source; prolog and restore
// on the target, each told the other side; the source's copy removed last), and each names the
// power it leaves given what the phase before it reported: the prolog after the save names
// shut off, not the running the VM had when the operation began. Only the source's cleanup
// removes files (the table's removes_copy), and it forgets the VM only there.
TEST_F(EngineTest, AMigrationsPhasesRunOnTheirSideAndNameThePowerTheyLeave) {
  driver_.echo_power(true);
  const store::VmId id = create();
  const store::Vm placed = wait_state(id, State::kRunning);
  ASSERT_EQ(placed.host, "h1");
  ASSERT_TRUE(act(id, Action::kMigrate).has_value());
  struct Want {
    Phase phase;
    lc::RunsOn side;
    const char* host;
    const char* peer;
    lc::Power power;
    bool removes = false;
  };
  for (const Want& w :
       {Want{Phase::kSave, lc::RunsOn::kSource, "h1", "h2", lc::Power::kShutdown},
        Want{Phase::kProlog, lc::RunsOn::kTarget, "h2", "h1", lc::Power::kShutdown},
        Want{Phase::kRestore, lc::RunsOn::kTarget, "h2", "h1", lc::Power::kRunning},
        Want{Phase::kCleanup, lc::RunsOn::kSource, "h1", "h2", lc::Power::kRunning, true}}) {
    SCOPED_TRACE(std::string(lc::phase_name(w.phase)));
    const std::optional<driver::PhaseRequest> r =
        driver_.wait_for([&](const driver::PhaseRequest& q) {
          return q.vm == id && q.action == Action::kMigrate && q.phase == w.phase;
        });
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->runs_on, w.side);
    EXPECT_EQ(r->host, w.host);
    EXPECT_EQ(r->peer_host, w.peer);
    EXPECT_EQ(r->power_after, w.power);
    EXPECT_EQ(r->delete_files, w.removes);
    EXPECT_EQ(r->ends_vm, w.removes);
  }
  const store::Vm moved = wait_state(id, State::kRunning);
  EXPECT_EQ(moved.host, "h2") << "moves_vm: on the target once done";
  EXPECT_EQ(moved.record.power, lc::Power::kRunning);
  EXPECT_EQ(moved.record.op->status, lc::OpStatus::kSucceeded);
}

// A cold move from POWEROFF, SUSPENDED or RUNNING whose source cleanup fails keeps the VM on
// the target (kKeepTarget): the operation failed, the VM is in its target state there and
// only the target is charged. A lost VM's move (UNKNOWN) never touches its source.
TEST_F(EngineTest, AColdMoveWhoseSourceCleanupFailsStaysOnTheTarget) {
  driver_.fail_phase(Action::kMigrate, Phase::kCleanup);
  const store::VmId id = create();
  wait_state(id, State::kRunning);
  ASSERT_TRUE(act(id, Action::kShutdownHard).has_value());
  wait_state(id, State::kPoweroff);
  ASSERT_TRUE(act(id, Action::kMigrate).has_value());
  const std::optional<driver::PhaseRequest> cleanup =
      driver_.wait_for([&](const driver::PhaseRequest& q) {
        return q.vm == id && q.action == Action::kMigrate && q.phase == Phase::kCleanup;
      });
  ASSERT_TRUE(cleanup.has_value());
  EXPECT_EQ(cleanup->host, "h1");
  EXPECT_EQ(cleanup->runs_on, lc::RunsOn::kSource);
  EXPECT_TRUE(cleanup->delete_files);
  const store::Vm vm = wait_vm(id, [](const store::Vm& v) {
    return !v.record.busy() && v.record.op && v.record.op->action == Action::kMigrate;
  });
  EXPECT_EQ(vm.record.state, State::kPoweroff);
  EXPECT_EQ(vm.record.op->status, lc::OpStatus::kFailed);
  EXPECT_EQ(vm.host, "h2") << "the VM reached the target; a failed source cleanup keeps it there";
  EXPECT_EQ(vm.op.error, "injected");
  const std::vector<HostUsage> hosts = engine_->hosts();
  ASSERT_EQ(hosts.size(), 2U);
  EXPECT_EQ(hosts[0].vms, 0) << "the source is no longer charged";
  EXPECT_EQ(hosts[1].vms, 1);
}

// Drivers get intents, not the table: terminate's epilog deletes the files and ends the VM;
// deallocate's epilog does neither (the VM lives on, off its host).
TEST_F(EngineTest, OnlyAPhaseThatEndsTheVmAsksTheDriverToDeleteItsFiles) {
  const store::VmId kept = create();
  wait_state(kept, State::kRunning);
  ASSERT_TRUE(act(kept, Action::kDeallocate).has_value());
  const std::optional<driver::PhaseRequest> deallocate =
      driver_.wait_for([&](const driver::PhaseRequest& r) {
        return r.vm == kept && r.action == Action::kDeallocate && r.phase == Phase::kEpilog;
      });
  ASSERT_TRUE(deallocate.has_value());
  EXPECT_FALSE(deallocate->delete_files);
  EXPECT_FALSE(deallocate->ends_vm);

  const store::VmId gone = create();
  wait_state(gone, State::kRunning);
  ASSERT_TRUE(act(gone, Action::kTerminate).has_value());
  const std::optional<driver::PhaseRequest> shutdown =
      driver_.wait_for([&](const driver::PhaseRequest& r) {
        return r.vm == gone && r.action == Action::kTerminate && r.phase == Phase::kShutdown;
      });
  ASSERT_TRUE(shutdown.has_value());
  EXPECT_FALSE(shutdown->delete_files) << "files go in the epilog, not before";
  const std::optional<driver::PhaseRequest> epilog =
      driver_.wait_for([&](const driver::PhaseRequest& r) {
        return r.vm == gone && r.action == Action::kTerminate && r.phase == Phase::kEpilog;
      });
  ASSERT_TRUE(epilog.has_value());
  EXPECT_TRUE(epilog->delete_files);
  EXPECT_TRUE(epilog->ends_vm);
}

TEST_F(EngineTest, WrongStateIsATypedErrorAndChangesNothing) {
  const store::VmId id = create();
  wait_state(id, State::kRunning);
  Result<Accepted> r = act(id, Action::kUnpause);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidState);
  EXPECT_EQ(r.error().state, "RUNNING");
  EXPECT_EQ(engine_->get(id)->record.state, State::kRunning);
  Result<Accepted> missing = act(9999, Action::kShutdown);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

TEST_F(EngineTest, AVmThatFitsNowhereStaysPendingWithTheReasonUntilRoomIsFreed) {
  const store::VmId big1 = create(4);
  const store::VmId big2 = create(4);
  wait_state(big1, State::kRunning);
  wait_state(big2, State::kRunning);
  const store::VmId third = create(4);
  const store::Vm waiting = wait_vm(third, [](const store::Vm& vm) {
    return vm.record.state == State::kPending && !vm.pending_reason.empty();
  });
  EXPECT_NE(waiting.pending_reason.find("no host has room for 4 vCPU"), std::string::npos);
  ASSERT_TRUE(act(big1, Action::kTerminateHard).has_value());
  wait_state(big1, State::kDone);
  const store::Vm placed = wait_state(third, State::kRunning);
  EXPECT_EQ(placed.host, "h1");
  EXPECT_TRUE(placed.pending_reason.empty());
}

TEST_F(EngineTest, HoldKeepsAVmFromBeingScheduledUntilReleased) {
  const store::VmId id = create(1, true);
  wait_state(id, State::kHold);
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(engine_->get(id)->record.state, State::kHold);
  ASSERT_TRUE(act(id, Action::kRelease).has_value());
  wait_state(id, State::kRunning);
}

TEST_F(EngineTest, AHungPhaseFailsByItsRuleAtTheDeadlineInSimulatedTime) {
  const store::VmId id = create();
  wait_state(id, State::kRunning);
  driver_.hang(Action::kShutdown, Phase::kShutdown);
  driver_.set_auto(false);
  ASSERT_TRUE(act(id, Action::kShutdown).has_value());
  ASSERT_TRUE(driver_.wait_for([](const auto& r) { return r.phase == Phase::kShutdown; }));
  EXPECT_TRUE(engine_->get(id)->record.busy());
  clock_.advance(59'000);
  std::this_thread::sleep_for(50ms);
  EXPECT_TRUE(engine_->get(id)->record.busy()) << "not yet at the deadline";
  clock_.advance(2'000);
  const store::Vm vm = wait_state(id, State::kRunning);  // shutdown rolls back to RUNNING
  EXPECT_EQ(vm.record.op->status, lc::OpStatus::kFailed);
  EXPECT_NE(vm.op.error.find("deadline exceeded: shutdown"), std::string::npos) << vm.op.error;
}

TEST_F(EngineTest, AFailStopPhaseEndsInFailedAndRecoverRetryResumesIt) {
  driver_.fail_phase(Action::kDeploy, Phase::kBoot);
  const store::VmId id = create();
  const store::Vm failed = wait_state(id, State::kFailed);
  EXPECT_EQ(lc::current_phase(*failed.record.op), Phase::kBoot);
  EXPECT_EQ(failed.op.error, "injected");
  driver_.set_auto(false);
  ASSERT_TRUE(act(id, Action::kRecoverRetry).has_value());
  auto retried = driver_.wait_for([&](const auto& r) {
    return r.vm == id && r.phase == Phase::kBoot && r.attempt == failed.op.attempt + 1;
  });
  ASSERT_TRUE(retried.has_value());
  driver_.set_auto(true);
  driver_.answer(*retried);
  // The remaining phases run with auto answers; the same operation, now succeeded.
  const store::Vm vm = wait_state(id, State::kRunning);
  EXPECT_EQ(vm.op.id, failed.op.id);
  EXPECT_EQ(vm.record.op->status, lc::OpStatus::kSucceeded);
  EXPECT_TRUE(vm.op.error.empty());
}

// Nova (reference nova.md:35): a suspend that fails goes back to ACTIVE only on
// InstanceFaultRollback — the driver reports the VM as it was; any other error is ERROR.
TEST_F(EngineTest, AFailedSaveGoesBackOnlyIfTheDriverReportsTheOriginIntact) {
  const store::VmId id = create();
  wait_state(id, State::kRunning);
  driver_.set_auto(false);
  for (lc::Integrity integrity : {lc::Integrity::kIntact, lc::Integrity::kUnknown}) {
    ASSERT_TRUE(act(id, Action::kSuspend).has_value());
    const store::OpId op = engine_->get(id)->op.id;
    auto save = driver_.wait_for([&](const auto& r) { return r.op == op; });
    ASSERT_TRUE(save.has_value());
    ASSERT_EQ(save->phase, Phase::kSave);
    driver_.answer(*save, false, integrity);
    const store::Vm vm = wait_vm(id, [](const store::Vm& v) { return !v.record.busy(); });
    EXPECT_EQ(vm.record.state,
              integrity == lc::Integrity::kIntact ? State::kRunning : State::kFailed);
    EXPECT_EQ(vm.record.op->status, lc::OpStatus::kFailed);
    EXPECT_EQ(vm.op.error, "failed (test)");
  }
}

TEST_F(EngineTest, TerminateHardPreemptsAndTheCutOperationIsRecordedCanceled) {
  const store::VmId id = create();
  wait_state(id, State::kRunning);
  driver_.set_auto(false);
  Result<Accepted> shutdown = act(id, Action::kShutdown);
  ASSERT_TRUE(shutdown.has_value());
  const store::OpId cut = shutdown->op->meta.id;
  driver_.set_auto(true);
  Result<Accepted> kill = act(id, Action::kTerminateHard);
  ASSERT_TRUE(kill.has_value());
  wait_state(id, State::kDone);
  Result<std::optional<store::OperationRow>> old = engine_->operation(cut);
  ASSERT_TRUE(old.has_value() && old->has_value());
  EXPECT_EQ((*old)->op.status, lc::OpStatus::kCanceled);
  EXPECT_EQ((*old)->meta.error, "pre-empted by terminate_hard");
  EXPECT_EQ(engine_->hosts()[0].vms, 0) << "a DONE VM releases its host";
}

TEST_F(EngineTest, AFailedResizeKeepsTheOldModelAndShowsTheRequestedOne) {
  const store::VmId id = create(1);
  wait_state(id, State::kRunning);
  driver_.fail_phase(Action::kResize, Phase::kResize);
  ActionRequest r;
  r.vm = id;
  r.action = Action::kResize;
  r.model = store::VmModel{2, 2048, "tiny"};
  ASSERT_TRUE(engine_->act(r).has_value());
  const store::Vm vm = wait_vm(id, [](const store::Vm& v) {
    return !v.record.busy() && v.record.op->action == Action::kResize;
  });
  EXPECT_EQ(vm.record.state, State::kRunning);
  EXPECT_EQ(vm.model.vcpus, 1);
  ASSERT_TRUE(vm.desired.has_value());
  EXPECT_EQ(vm.desired->vcpus, 2);
  EXPECT_EQ(vm.model_error, "injected");
}

TEST_F(EngineTest, AFailedCommitAnswersAnErrorAndChangesNothing) {
  const store::VmId id = create();
  wait_state(id, State::kRunning);
  store_.fail_next_commit();
  Result<Accepted> r = act(id, Action::kPause);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(engine_->get(id)->record.state, State::kRunning);
  EXPECT_FALSE(engine_->get(id)->record.busy());
  ASSERT_TRUE(act(id, Action::kPause).has_value());  // and it works again after
  wait_state(id, State::kPaused);
}

TEST_F(EngineTest, ManyConcurrentRequestsShareCommits) {
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int c = 0; c < 16; ++c) {
    clients.emplace_back([&] {
      for (int i = 0; i < 20; ++i) {
        if (engine_->create({"x", {1, 16, "tiny"}, true, "test", {}}).has_value()) ++ok;
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), 320);
  EXPECT_LT(store_.commits(), 320 * 3) << "group commit should batch concurrent requests";
  EXPECT_EQ(engine_->stats().vms, 320U);
}

TEST_F(EngineTest, GuestPoweroffIsObservedButNotDuringAnOperation) {
  const store::VmId id = create();
  wait_state(id, State::kRunning);
  driver_.sink()->power_event({.vm = id,
                               .kind = driver::PowerEventKind::kGuestPoweroff,
                               .power = lc::Power::kShutdown,
                               .cause = "test"});
  const store::Vm vm = wait_state(id, State::kPoweroff);
  EXPECT_EQ(vm.record.op->action, Action::kObservedPoweroff);
  EXPECT_EQ(vm.op.actor, "monitor");
}

// Catches: a VM left RUNNING with its power off when its process ended during an operation
// (the power events a driver sends while an operation runs are not acted on; the failed phase
// says the power): the drift policy must settle it when the operation ends.
TEST_F(EngineTest, AnOperationThatEndsWithTheProcessGoneHandsTheVmToTheDriftPolicy) {
  const store::VmId id = create();
  wait_state(id, State::kRunning);
  driver_.hang(Action::kPause, Phase::kPause);
  ASSERT_TRUE(act(id, Action::kPause).has_value());
  const std::optional<driver::PhaseRequest> pause = driver_.wait_for(
      [&](const driver::PhaseRequest& r) { return r.vm == id && r.action == Action::kPause; });
  ASSERT_TRUE(pause.has_value());
  // The process ends mid-phase: its event is not acted on (the operation decides) ...
  driver_.sink()->power_event({.vm = id,
                               .kind = driver::PowerEventKind::kPowerChanged,
                               .power = lc::Power::kShutdown,
                               .cause = "the QEMU process ended"});
  // ... and the phase fails, saying the power it left.
  driver_.sink()->phase_done({pause->vm, pause->op, pause->step, pause->attempt, false,
                              "QMP: connection closed", lc::Power::kShutdown, true});
  const store::Vm vm = wait_vm(
      id, [](const store::Vm& v) { return !v.record.busy() && v.record.state != State::kRunning; });
  EXPECT_EQ(vm.record.state, State::kPoweroff) << "OpenNebula's policy: the hypervisor's view";
  EXPECT_EQ(vm.record.power, lc::Power::kShutdown);
  EXPECT_EQ(vm.op.actor, "monitor");
}

TEST_F(EngineTest, RestartRedispatchesTheRunningPhaseUnderANewAttempt) {
  const store::VmId id = create();
  wait_state(id, State::kRunning);
  driver_.set_auto(false);
  ASSERT_TRUE(act(id, Action::kSuspend).has_value());
  auto first =
      driver_.wait_for([&](const auto& r) { return r.vm == id && r.phase == Phase::kSave; });
  ASSERT_TRUE(first.has_value());
  engine_->stop();
  driver_.set_auto(true);
  start();
  const store::Vm vm = wait_state(id, State::kSuspended);
  EXPECT_EQ(vm.op.attempt, first->attempt + 1);
  Result<std::vector<store::TransitionRow>> h = engine_->history(id, 0, 1000);
  bool noted = false;
  for (const auto& t : *h) noted = noted || t.reason.find("after a restart") != std::string::npos;
  EXPECT_TRUE(noted);
  driver_.answer(*first);  // a late answer from before the restart changes nothing
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(engine_->get(id)->record.state, State::kSuspended);
}

TEST_F(EngineTest, ListPagesByMarkerAndFilters) {
  for (int i = 0; i < 5; ++i) create(1, true);
  for (store::VmId id = 1; id <= 5; ++id) wait_state(id, State::kHold);
  ListPage p = engine_->list({State::kHold, "", 2, 0, 0});
  ASSERT_EQ(p.vms.size(), 2U);
  EXPECT_EQ(p.next_marker, 2);
  p = engine_->list({State::kHold, "", 10, p.next_marker, 0});
  EXPECT_EQ(p.vms.size(), 3U);
  EXPECT_EQ(p.next_marker, 0);
  EXPECT_TRUE(engine_->list({State::kRunning, "", 10, 0, 0}).vms.empty());
}

// ---- The history replay the fault and crash tests rely on ------------------------------

// A history entry as the engine writes it for a model step.
store::TransitionRow entry(const lc::Step& step, Action action, std::string actor) {
  store::TransitionRow row;
  row.from = step.from;
  row.to = step.to;
  row.action = action;
  row.phase = step.record.op ? lc::current_phase(*step.record.op) : Phase::kNone;
  row.status = step.record.op ? step.record.op->status : lc::OpStatus::kSucceeded;
  row.actor = std::move(actor);
  return row;
}

// create, deploy, then deallocate whose epilog fails (fail-stop: FAILED), with a restart's
// re-dispatch in the middle of the epilog.
std::vector<store::TransitionRow> a_history(lc::VmRecord& r) {
  std::vector<store::TransitionRow> h;
  r = lc::new_record();
  h.push_back(
      entry({r, State::kInit, State::kInit, Phase::kInit, std::nullopt}, Action::kCreate, "api"));
  const auto run = [&](Action action) {
    lc::Step begun = lc::begin(r, {action}).value();
    h.push_back(entry(begun, action, "api"));
    r = begun.record;
  };
  const auto succeed = [&] {
    const Action action = r.op->action;
    const lc::Step s = lc::phase_succeeded(r);
    h.push_back(entry(s, action, "driver"));
    r = s.record;
  };
  while (r.busy()) succeed();
  run(Action::kDeploy);
  while (r.busy()) succeed();
  run(Action::kDeallocate);
  succeed();  // shutdown
  h.push_back(
      entry({r, r.state, r.state, Phase::kEpilog, std::nullopt}, Action::kDeallocate, "recovery"));
  const lc::Step failed = lc::phase_failed(r);
  h.push_back(entry(failed, Action::kDeallocate, "driver"));
  r = failed.record;
  return h;
}

TEST(HistoryReplay, AcceptsTheModelsStepsAndEndsWhereTheModelDoes) {
  lc::VmRecord end;
  const std::vector<store::TransitionRow> h = a_history(end);
  ASSERT_EQ(end.state, State::kFailed);
  const testing::Replay replay = testing::replay_history(h);
  EXPECT_TRUE(replay.ok()) << replay.error;
  EXPECT_EQ(replay.steps, h.size());
  EXPECT_TRUE(testing::replay_ends_at(replay, end));
  lc::VmRecord elsewhere = end;
  elsewhere.state = State::kDeallocated;
  EXPECT_FALSE(testing::replay_ends_at(replay, elsewhere));
}

TEST(HistoryReplay, RejectsAnEntryNoModelStepGives) {
  lc::VmRecord end;
  const std::vector<store::TransitionRow> good = a_history(end);
  const std::size_t last = good.size() - 1;
  const std::size_t redispatch = last - 1;
  const struct {
    const char* what;
    std::function<void(std::vector<store::TransitionRow>&)> change;
  } cases[] = {
      // deallocate's epilog is fail-stop: rolling back is not a step the model takes.
      {"a fail-stop phase rolled back", [&](auto& h) { h[last].to = State::kRunning; }},
      {"a jump in state", [&](auto& h) { h[last].from = State::kPoweroff; }},
      {"the wrong phase", [&](auto& h) { h[last].phase = Phase::kShutdown; }},
      {"the wrong status", [&](auto& h) { h[last].status = lc::OpStatus::kCanceled; }},
      {"an action the state does not allow",
       [&](auto& h) { h[redispatch - 2].action = Action::kUnpause; }},
      {"a re-dispatch of another phase", [&](auto& h) { h[redispatch].phase = Phase::kShutdown; }},
      {"a creation that is not first", [&](auto& h) { h.erase(h.begin()); }},
  };
  for (const auto& c : cases) {
    std::vector<store::TransitionRow> bad = good;
    c.change(bad);
    EXPECT_FALSE(testing::replay_history(bad).ok()) << c.what;
  }
}

}  // namespace
}  // namespace corral::engine
