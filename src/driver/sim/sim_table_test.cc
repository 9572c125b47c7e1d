// Every row of the transition table, from every origin it allows, run through the sim driver
// the way the engine runs it (engine/apply.cc): each phase's request names the power the
// model gives it (lifecycle::power_after_phase) and the side it runs on; the driver's answer
// is recorded on the VM before the next phase is named. At the end the power the sim reports
// and the model's must agree — the sim decides no power of its own (sim_driver.h), so a sim
// that invented one (as it once did for save) or an engine that named a stale one fails here.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "driver/sim/sim_driver.h"
#include "lifecycle/model.h"
#include "lifecycle/table.h"

namespace corral::driver::sim {
namespace {

namespace lc = corral::lifecycle;
using namespace std::chrono_literals;

class Sink final : public DriverSink {
 public:
  void phase_done(PhaseResult result) override {
    std::lock_guard lock(mu_);
    results_.push_back(std::move(result));
    cv_.notify_all();
  }
  void power_event(PowerEvent) override {}
  // The next result, or nullopt after 5 s.
  std::optional<PhaseResult> next() {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, 5s, [&] { return taken_ < results_.size(); })) return std::nullopt;
    return results_[taken_++];
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<PhaseResult> results_;
  std::size_t taken_ = 0;
};

TEST(SimTableTest, EveryRowEndsWithTheModelsPower) {
  SimDriver driver(*parse_sim_profile("zero"));
  Sink sink;
  driver.start(&sink);
  store::VmId vm = 0;
  int rows_run = 0;
  for (const lc::Transition& t : lc::transitions()) {
    if (lc::is_meta_target(t.target) || t.instant() || !t.when_idle ||
        t.action == lc::Action::kCreate || lc::is_system_action(t.action)) {
      continue;
    }
    for (lc::State origin : lc::kAllStates) {
      if (!t.from.contains(origin) || lc::find_idle(t.action, origin) != &t) continue;
      SCOPED_TRACE(std::string(lc::action_name(t.action)) + " from " +
                   std::string(lc::state_name(origin)));
      ++vm;
      lc::VmRecord record = lc::record_at_rest(origin);
      driver.adopt(vm, "sim-1", record.power);
      Result<lc::Step> begun = lc::begin(record, {t.action, lc::State::kRunning});
      ASSERT_TRUE(begun.has_value()) << begun.error().message;
      record = begun->record;
      std::optional<lc::Power> reported;
      while (record.busy()) {
        const lc::Operation& op = *record.op;
        const lc::Phase phase = lc::current_phase(op);
        if (phase != lc::Phase::kSchedule) {  // the engine's own phase: no driver
          PhaseRequest r;
          r.vm = vm;
          r.op = 1;
          r.step = op.step;
          r.action = op.action;
          r.phase = phase;
          r.origin = op.origin;
          r.host = "sim-1";
          r.runs_on = lc::current_runs_on(op);
          const bool last = lc::in_last_phase(op);
          r.ends_vm = last && lc::has_effect(op, lc::Effect::kEndsVm);
          r.delete_files = last && lc::has_effect(op, lc::Effect::kDeletesFiles);
          r.power_after = lc::power_after_phase(record);
          driver.run_phase(r);
          std::optional<PhaseResult> result = sink.next();
          ASSERT_TRUE(result.has_value()) << lc::phase_name(phase) << ": no answer";
          ASSERT_TRUE(result->ok) << result->error;
          ASSERT_TRUE(result->power_known);
          record.power = result->power;  // as engine/apply.cc handle_result
          reported = result->power;
        }
        record = lc::phase_succeeded(record).record;
      }
      ASSERT_TRUE(reported.has_value());
      if (record.state == lc::State::kDone) {
        // A VM that ends is forgotten by the driver; the engine shows no power for it.
        EXPECT_EQ(record.power, lc::Power::kNoState);
        continue;
      }
      EXPECT_EQ(*reported, record.power) << "the sim ends " << lc::power_name(*reported)
                                         << ", the model " << lc::power_name(record.power);
      ++rows_run;
    }
  }
  driver.stop();
  EXPECT_GT(rows_run, 60) << "every idle row with phases, from each origin";
}

// The case the sources pin (reference nova.md:13): a suspended VM is shut off, in the model,
// in the sim, and as QEMU reports it (qemu agent_ops_test.cc).
TEST(SimTableTest, SuspendLeavesTheVmShutOff) {
  const lc::Transition* suspend = lc::find_idle(lc::Action::kSuspend, lc::State::kRunning);
  ASSERT_NE(suspend, nullptr);
  Result<lc::Step> begun = lc::begin(lc::record_at_rest(lc::State::kRunning),
                                     {lc::Action::kSuspend, lc::State::kRunning});
  ASSERT_TRUE(begun.has_value());
  EXPECT_EQ(lc::power_after_phase(begun->record), lc::Power::kShutdown);
  EXPECT_EQ(lc::phase_succeeded(begun->record).record.power, lc::Power::kShutdown);
  EXPECT_EQ(lc::record_at_rest(lc::State::kSuspended).power, lc::Power::kShutdown);
}

}  // namespace
}  // namespace corral::driver::sim
