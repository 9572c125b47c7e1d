// Faults in every phase, generated from the transition table: for every row and every phase
// of it, a driver failure and a hang past the deadline (in simulated time) end the VM where
// the model says — back at its origin with the reason, or FAILED — with the reason in its
// history; from FAILED, every recover option works. A new row is covered without new code.
#include <gtest/gtest.h>

#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "engine/engine.h"
#include "engine/memory_store_testing.h"
#include "lifecycle/table.h"

namespace corral::engine {
namespace {

namespace lc = corral::lifecycle;
using lc::Action;
using lc::Phase;
using lc::State;
using testing::MemoryStore;
using namespace std::chrono_literals;

constexpr Millis kDeadline = 60'000;

enum class Fault : std::uint8_t { kFail, kHang };

// Answers every phase at once, except the one (action, phase) armed to fail or hang, once.
class FaultDriver final : public driver::Driver {
 public:
  std::string name() const override { return "faults"; }
  std::vector<driver::HostInfo> hosts() const override {
    return {{"h1", 1024, 1 << 20}, {"h2", 1024, 1 << 20}};
  }
  void start(driver::DriverSink* sink) override { sink_ = sink; }
  void stop() override {}
  void run_phase(const driver::PhaseRequest& r) override {
    std::optional<Fault> fault;
    {
      std::lock_guard lock(mu_);
      if (armed_ && armed_->first == std::pair{r.vm, r.action} && armed_phase_ == r.phase) {
        fault = armed_->second;
        armed_.reset();
        hit_ = true;
      }
    }
    cv_.notify_all();
    if (fault == Fault::kHang) return;
    const bool ok = !fault.has_value();
    sink_->phase_done({r.vm, r.op, r.step, r.attempt, ok, ok ? "" : "injected failure",
                       lc::Power::kNoState, false});
  }
  void arm(store::VmId vm, Action action, Phase phase, Fault fault) {
    std::lock_guard lock(mu_);
    armed_ = {{vm, action}, fault};
    armed_phase_ = phase;
    hit_ = false;
  }
  bool wait_hit() {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, 5s, [&] { return hit_; });
  }
  driver::DriverSink* sink() { return sink_; }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<std::pair<std::pair<store::VmId, Action>, Fault>> armed_;
  Phase armed_phase_ = Phase::kNone;
  bool hit_ = false;
  driver::DriverSink* sink_ = nullptr;
};

// Runs the model's operation to its end, every phase succeeding.
void run_to_end(lc::VmRecord& record) {
  while (record.busy()) record = lc::phase_succeeded(record).record;
}

class FaultsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    EngineOptions options;
    options.default_phase_deadline_ms = kDeadline;
    options.auto_schedule = false;
    options.commit_delay = std::chrono::microseconds(0);
    engine_ = std::make_unique<Engine>(store_, driver_, clock_, options);
    ASSERT_TRUE(engine_->start().has_value());
  }
  void TearDown() override { engine_->stop(); }

  store::Vm wait_idle(store::VmId id) {
    for (int i = 0; i < 5000; ++i) {
      std::optional<store::Vm> vm = engine_->get(id);
      if (vm && !vm->record.busy()) return *vm;
      std::this_thread::sleep_for(1ms);
    }
    ADD_FAILURE() << "VM " << id << " still busy";
    return engine_->get(id).value_or(store::Vm{});
  }

  Result<Accepted> act(store::VmId id, Action action) {
    ActionRequest r;
    r.vm = id;
    r.action = action;
    if (action == Action::kResize || action == Action::kResizeMigrate ||
        action == Action::kRebuild) {
      r.model = store::VmModel{2, 1024, "tiny"};
    }
    return engine_->act(r);
  }

  // Acts on the engine and the mirror alike, to the end of the operation.
  bool step(store::VmId id, lc::VmRecord& mirror, Action action) {
    Result<Accepted> accepted = act(id, action);
    if (!accepted) {
      ADD_FAILURE() << lc::action_name(action) << ": " << accepted.error().message;
      return false;
    }
    Result<lc::Step> begun = lc::begin(mirror, {action});
    if (!begun) return false;
    mirror = begun->record;
    run_to_end(mirror);
    return wait_idle(id).record.state == mirror.state;
  }

  // A new VM in `state`, and its mirror; nullopt if the path does not lead there.
  std::optional<std::pair<store::VmId, lc::VmRecord>> vm_in(State state) {
    Result<Accepted> created =
        engine_->create({"vm", {1, 512, "tiny"}, state == State::kHold, "test", ""});
    if (!created) return std::nullopt;
    const store::VmId id = created->vm.id;
    lc::VmRecord mirror = lc::new_record();
    run_to_end(mirror);
    if (state == State::kHold) {
      mirror = lc::begin(mirror, {Action::kHold})->record;
      run_to_end(mirror);
    }
    wait_idle(id);
    if (state == State::kPending || state == State::kHold) return std::pair{id, mirror};
    if (state == State::kFailed) {
      driver_.arm(id, Action::kDeploy, Phase::kBoot, Fault::kFail);
      if (!act(id, Action::kDeploy)) return std::nullopt;
      mirror = lc::begin(mirror, {Action::kDeploy})->record;
      mirror = lc::phase_succeeded(mirror).record;  // prolog
      mirror = lc::phase_failed(mirror).record;     // boot
      if (wait_idle(id).record.state != State::kFailed) return std::nullopt;
      return std::pair{id, mirror};
    }
    if (!step(id, mirror, Action::kDeploy)) return std::nullopt;
    static const std::map<State, Action> kFromRunning = {
        {State::kPaused, Action::kPause},           {State::kSuspended, Action::kSuspend},
        {State::kPoweroff, Action::kShutdown},      {State::kHibernated, Action::kHibernate},
        {State::kDeallocated, Action::kDeallocate}, {State::kShelved, Action::kShelve},
        {State::kRescued, Action::kRescue},         {State::kResized, Action::kResizeMigrate},
        {State::kSoftDeleted, Action::kSoftDelete},
    };
    if (state == State::kUnknown) {
      driver_.sink()->power_event({.vm = id, .lost = true, .cause = "lost (test)"});
      mirror = lc::begin(mirror, {Action::kObservedLost})->record;
      for (int i = 0; i < 5000 && engine_->get(id)->record.state != State::kUnknown; ++i) {
        std::this_thread::sleep_for(1ms);
      }
      return std::pair{id, mirror};
    }
    if (auto it = kFromRunning.find(state); it != kFromRunning.end()) {
      if (!step(id, mirror, it->second)) return std::nullopt;
    }
    if (wait_idle(id).record.state != state) return std::nullopt;
    return std::pair{id, mirror};
  }

  MemoryStore store_;
  FaultDriver driver_;
  FakeClock clock_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(FaultsTest, EveryPhaseOfEveryRowFailsAndHangsWhereTheTableSays) {
  int injected = 0;
  int recovered = 0;
  std::set<std::pair<Action, Phase>> covered;
  for (const lc::Transition& row : lc::transitions()) {
    if (!lc::request_runs_phases(row)) continue;
    const std::optional<State> origin = lc::first_origin(row);
    ASSERT_TRUE(origin.has_value()) << lc::action_name(row.action);
    for (std::uint8_t i = 0; i < row.step_count; ++i) {
      const Phase phase = row.steps[i].phase;
      if (phase == Phase::kSchedule) continue;  // the engine's own phase: no driver to fail
      for (Fault fault : {Fault::kFail, Fault::kHang}) {
        const std::string what = std::string(lc::action_name(row.action)) + " from " +
                                 std::string(lc::state_name(*origin)) + ", phase " +
                                 std::string(lc::phase_name(phase)) +
                                 (fault == Fault::kFail ? ", failing" : ", hanging");
        SCOPED_TRACE(what);
        auto vm = vm_in(*origin);
        ASSERT_TRUE(vm.has_value());
        auto [id, mirror] = *vm;
        // The model's prediction: every earlier phase succeeds, this one fails.
        Result<lc::Step> begun = lc::begin(mirror, {row.action});
        ASSERT_TRUE(begun.has_value()) << begun.error().message;
        lc::VmRecord expected = begun->record;
        while (lc::current_phase(*expected.op) != phase) {
          expected = lc::phase_succeeded(expected).record;
        }
        expected = lc::phase_failed(expected).record;

        driver_.arm(id, row.action, phase, fault);
        ASSERT_TRUE(act(id, row.action).has_value());
        ASSERT_TRUE(driver_.wait_hit());
        if (fault == Fault::kHang) clock_.advance(kDeadline + 1);
        const store::Vm after = wait_idle(id);
        ++injected;
        covered.insert({row.action, phase});
        EXPECT_EQ(after.record.state, expected.state);
        ASSERT_TRUE(after.record.op.has_value());
        EXPECT_EQ(after.record.op->status, expected.op->status);
        EXPECT_EQ(lc::current_phase(*after.record.op), phase);
        Result<std::vector<store::TransitionRow>> h = engine_->history(id, 0, 1000);
        ASSERT_TRUE(h.has_value() && !h->empty());
        EXPECT_NE(
            h->back().reason.find(fault == Fault::kFail ? "injected failure" : "deadline exceeded"),
            std::string::npos)
            << h->back().reason;

        if (expected.state != State::kFailed || fault != Fault::kFail) continue;
        // From FAILED, every recover option — each on its own copy of this failure.
        for (Action recover :
             {Action::kRecoverRetry, Action::kRecoverSuccess, Action::kRecoverFailure,
              Action::kRecoverDelete, Action::kRecoverRecreate}) {
          SCOPED_TRACE(std::string(lc::action_name(recover)));
          store::VmId copy = id;
          lc::VmRecord at = expected;
          if (recover != Action::kRecoverRetry) {  // the first recover uses this VM
            auto again = vm_in(*origin);
            ASSERT_TRUE(again.has_value());
            copy = again->first;
            driver_.arm(copy, row.action, phase, Fault::kFail);
            ASSERT_TRUE(act(copy, row.action).has_value());
            ASSERT_TRUE(driver_.wait_hit());
            ASSERT_EQ(wait_idle(copy).record.state, State::kFailed);
          }
          Result<lc::Step> model = lc::begin(at, {recover});
          ASSERT_TRUE(model.has_value()) << model.error().message;
          lc::VmRecord want = model->record;
          run_to_end(want);
          ASSERT_TRUE(act(copy, recover).has_value());
          const store::Vm done = wait_idle(copy);
          EXPECT_EQ(done.record.state, want.state);
          ASSERT_TRUE(done.record.op.has_value());
          EXPECT_EQ(done.record.op->action, want.op->action);
          EXPECT_EQ(done.record.op->status, want.op->status);
          ++recovered;
        }
      }
    }
  }
  // Every (action, phase) the driver runs for a user action is in there.
  EXPECT_GT(covered.size(), 60U);
  std::printf("faults: %d injected over %zu (action, phase) pairs; %d recoveries from FAILED\n",
              injected, covered.size(), recovered);
}

}  // namespace
}  // namespace corral::engine
