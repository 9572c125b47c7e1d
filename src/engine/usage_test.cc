// Usage from the history on the fake clock: a scripted life — create, run 1 h, stop, 30 min
// off, deallocate, 2 h deallocated, start, 1 h, a hot resize to twice the size, 20 min,
// delete — gives, for each billing table, the hours computed by hand below; and the same
// after the engine is restarted on its store (nothing but the history is read).
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "engine/auto_driver_testing.h"
#include "engine/engine.h"
#include "engine/memory_store_testing.h"

namespace corral::engine {
namespace {

namespace lc = corral::lifecycle;
using lc::Action;
using lc::Billing;
using lc::State;
using namespace std::chrono_literals;

constexpr Millis kMinute = 60'000;
constexpr Millis kHour = 60 * kMinute;

class UsageTest : public ::testing::Test {
 protected:
  void SetUp() override { start(); }
  void TearDown() override { engine_->stop(); }
  void start() {
    engine_ = std::make_unique<Engine>(store_, driver_, clock_);
    ASSERT_TRUE(engine_->start());
  }
  void settle(store::VmId id, State s) {
    for (int i = 0; i < 500; ++i) {
      const std::optional<store::Vm> vm = engine_->get(id);
      if (vm && vm->record.state == s && !vm->record.busy()) return;
      std::this_thread::sleep_for(5ms);
    }
    FAIL() << "VM " << id << " did not settle in " << lc::state_name(s);
  }
  void act(store::VmId id, Action action, std::optional<store::VmModel> model = std::nullopt) {
    ActionRequest r;
    r.vm = id;
    r.action = action;
    r.model = std::move(model);
    ASSERT_TRUE(engine_->act(r)) << lc::action_name(action);
  }
  lc::VmUsage usage(lc::BillingTable table, Millis from, Millis to) {
    Result<std::vector<VmUsageReport>> reports = engine_->usage({std::nullopt, table, from, to});
    EXPECT_TRUE(reports && reports->size() == 1);
    return reports && !reports->empty() ? reports->front().usage : lc::VmUsage{};
  }

  testing::MemoryStore store_;
  testing::AutoDriver driver_;
  FakeClock clock_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(UsageTest, AScriptedLifeGivesTheHoursComputedByHandInEveryTable) {
  const Millis t0 = clock_.now_ms();
  Result<Accepted> made = engine_->create({"vm", {2, 1024, "tiny"}, false, "test", ""});
  ASSERT_TRUE(made);
  const store::VmId id = made->vm.id;
  settle(id, State::kRunning);
  clock_.advance(kHour);
  act(id, Action::kShutdown);
  settle(id, State::kPoweroff);
  clock_.advance(30 * kMinute);
  act(id, Action::kDeallocate);
  settle(id, State::kDeallocated);
  clock_.advance(2 * kHour);
  act(id, Action::kStart);
  settle(id, State::kRunning);
  clock_.advance(kHour);
  act(id, Action::kResize, store::VmModel{4, 2048, "tiny"});
  settle(id, State::kRunning);
  clock_.advance(20 * kMinute);
  act(id, Action::kTerminate);
  settle(id, State::kDone);
  clock_.advance(kHour);  // dead time: counts nothing
  const Millis now = clock_.now_ms();

  // By hand (phases take no time on this driver):
  //   RUNNING      1 h at 2 vCPU / 1024 MiB, then 1 h at 2 / 1024, then 20 min at 4 / 2048
  //   POWEROFF    30 min at 2 / 1024
  //   DEALLOCATED  2 h at 2 / 1024
  // existed 1 h + 30 min + 2 h + 1 h + 20 min = 4 h 50 min.
  const double running_h = 2.0 + 20.0 / 60;               // 2 h 20 min
  const double running_vcpu_h = 2 * 2.0 + 4 * 20.0 / 60;  // 4 + 1 1/3
  const double running_mib_h = 1024 * 2.0 + 2048 * 20.0 / 60;
  struct Case {
    lc::BillingTable table;
    double full_h;      // billed hardware and software
    double hardware_h;  // billed hardware only
    double none_h;      // not billed
    double full_vcpu_h;
  };
  const Case cases[] = {
      // seed 000: Running billed; Stopped hardware only; Deallocated not billed.
      {lc::BillingTable::kAzureSeed000, running_h, 0.5, 2.0, running_vcpu_h},
      // 2023: Stopped (allocated) is billed like Running; Deallocated is not.
      {lc::BillingTable::kAzureCurrent, running_h + 0.5, 0.0, 2.0, running_vcpu_h + 2 * 0.5},
      // Showback: charged while the VM holds a host (ACTIVE, POWEROFF), not UNDEPLOYED.
      {lc::BillingTable::kOpenNebulaShowback, running_h + 0.5, 0.0, 2.0, running_vcpu_h + 1.0},
  };
  const auto check = [&](const char* when) {
    for (const Case& c : cases) {
      SCOPED_TRACE(std::string(when) + " " + std::string(lc::billing_table_name(c.table)));
      const lc::VmUsage u = usage(c.table, t0, now + kHour);
      EXPECT_DOUBLE_EQ(u.of(Billing::kBilledHardwareAndSoftware).hours, c.full_h);
      EXPECT_DOUBLE_EQ(u.of(Billing::kBilledHardwareOnly).hours, c.hardware_h);
      EXPECT_DOUBLE_EQ(u.of(Billing::kNotBilled).hours, c.none_h);
      EXPECT_DOUBLE_EQ(u.of(Billing::kBilledHardwareAndSoftware).vcpu_hours, c.full_vcpu_h);
      EXPECT_DOUBLE_EQ(u.existed_hours, 4.0 + 50.0 / 60);
      EXPECT_EQ(u.started_at, t0);
      EXPECT_EQ(u.ended_at, now - kHour);
      EXPECT_EQ(u.vcpus, 4);
    }
    // seed 000's full class, in MiB-hours; and a window inside the life (the first 90 min).
    const lc::VmUsage seed = usage(lc::BillingTable::kAzureSeed000, t0, now);
    EXPECT_DOUBLE_EQ(seed.of(Billing::kBilledHardwareAndSoftware).memory_mib_hours, running_mib_h);
    const lc::VmUsage early = usage(lc::BillingTable::kAzureSeed000, t0, t0 + 90 * kMinute);
    EXPECT_DOUBLE_EQ(early.of(Billing::kBilledHardwareAndSoftware).hours, 1.0);
    EXPECT_DOUBLE_EQ(early.of(Billing::kBilledHardwareOnly).hours, 0.5);
  };
  check("live");
  // From the history alone: a restarted engine on the same store gives the same figures.
  engine_->stop();
  start();
  check("after a restart");
}

}  // namespace
}  // namespace corral::engine
