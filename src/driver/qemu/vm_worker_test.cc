// What the worker reports between phases: guest power-off, a lost process, a pause on the
// host, a silent QMP, the readiness line, reconcile (vm_worker_testing.h has the stand-in
// process and fake QMP).
#include "driver/qemu/vm_worker.h"

#include <gtest/gtest.h>
#include <signal.h>

#include "driver/qemu/vm_worker_testing.h"

namespace corral::driver::qemu {
namespace {

using lifecycle::Action;
using lifecycle::Phase;
using lifecycle::Power;
using std::chrono::milliseconds;

TEST_F(VmWorkerTest, AGuestPowerOffEndsTheProcessAndIsReportedAsGuestInitiated) {
  start_process();
  serve_qmp();
  attach_worker();
  qmp_->push(FakeQmp::event("SHUTDOWN", {{"guest", true}, {"reason", "guest-shutdown"}}));
  std::optional<PowerEvent> off =
      sink_.event_where([](const PowerEvent& e) { return e.power == Power::kShutdown; });
  ASSERT_TRUE(off.has_value());
  EXPECT_TRUE((off->kind == PowerEventKind::kGuestPoweroff));
  EXPECT_FALSE((off->kind == PowerEventKind::kVanished));
  EXPECT_NE(off->cause.find("guest-shutdown"), std::string::npos) << off->cause;
  EXPECT_TRUE(qmp_saw("quit")) << "-no-shutdown leaves the process for the worker to end";
  EXPECT_FALSE(worker_->running());
  for (const PowerEvent& e : sink_.events())
    EXPECT_FALSE((e.kind == PowerEventKind::kVanished)) << e.cause;
}

TEST_F(VmWorkerTest, AProcessThatDiesWithoutShutdownIsLost) {
  start_process();
  serve_qmp();
  attach_worker();
  ::kill(pid_, SIGKILL);
  std::optional<PowerEvent> lost =
      sink_.event_where([](const PowerEvent& e) { return e.kind == PowerEventKind::kVanished; });
  ASSERT_TRUE(lost.has_value());
  EXPECT_NE(lost->cause.find("without a shutdown event"), std::string::npos) << lost->cause;
  EXPECT_FALSE(worker_->running());
  EXPECT_FALSE(worker_->write_console("x")) << "no process to type into";
}

TEST_F(VmWorkerTest, APauseOnTheHostIsReportedAsOutsideCorral) {
  start_process();
  serve_qmp();
  attach_worker();
  qmp_->push(FakeQmp::event("STOP"));
  std::optional<PowerEvent> paused =
      sink_.event_where([](const PowerEvent& e) { return e.power == Power::kPaused; });
  ASSERT_TRUE(paused.has_value());
  EXPECT_NE(paused->cause.find("outside Corral"), std::string::npos) << paused->cause;
}

TEST_F(VmWorkerTest, ASilentQmpIsUnresponsiveThenReportedWhenItAnswersAgain) {
  config_.monitor_interval = milliseconds(50);
  config_.monitor_timeout = milliseconds(100);
  start_process();
  serve_qmp([this](const std::string& command, const std::string&) -> std::optional<std::string> {
    if (command == "query-status" && silent_) return std::string();  // never answered
    return std::nullopt;
  });
  attach_worker();
  const std::size_t before = sink_.events().size();
  silent_ = true;
  std::optional<PowerEvent> stuck = sink_.event_where(
      [](const PowerEvent& e) { return e.kind == PowerEventKind::kUnresponsive; }, before);
  ASSERT_TRUE(stuck.has_value());
  EXPECT_NE(stuck->cause.find("100 ms"), std::string::npos) << stuck->cause;
  EXPECT_TRUE(worker_->running()) << "unresponsive is not gone";
  silent_ = false;
  std::optional<PowerEvent> back = sink_.event_where(
      [](const PowerEvent& e) {
        return !(e.kind == PowerEventKind::kUnresponsive) && e.power == Power::kRunning;
      },
      before);
  ASSERT_TRUE(back.has_value());
  EXPECT_NE(back->cause.find("monitor: QEMU says running"), std::string::npos) << back->cause;
  std::size_t unresponsive = 0;
  for (const PowerEvent& e : sink_.events())
    unresponsive += (e.kind == PowerEventKind::kUnresponsive) ? 1 : 0;
  EXPECT_EQ(unresponsive, 1U) << "reported once while it stayed silent";
}

TEST_F(VmWorkerTest, OsProvisioningIsAnsweredByTheReadinessLineAndTheConsoleCarriesBoth) {
  start_process();
  serve_qmp();
  FakeSerial serial(paths_.serial);
  attach_worker();
  std::mutex console_mu;
  std::string console;
  const int handle = worker_->attach_console([&](std::string_view bytes) {
    std::lock_guard lock(console_mu);
    console.append(bytes);
  });
  worker_->submit(request(1, Action::kCreate, Phase::kOsProvisioning));
  worker_->submit(request(2, Action::kCreate, Phase::kSchedule));  // a barrier
  ASSERT_TRUE(sink_.result_of(2).has_value());
  for (const PhaseResult& r : sink_.results()) {
    EXPECT_NE(r.op, 1U) << "os_provisioning waits for the guest";
  }

  serial.print("booting\ncorral-guest: ready\n");
  std::optional<PowerEvent> ready =
      sink_.event_where([](const PowerEvent& e) { return e.kind == PowerEventKind::kGuestReady; });
  ASSERT_TRUE(ready.has_value());
  EXPECT_EQ(ready->power, Power::kRunning);
  {
    std::lock_guard lock(console_mu);
    EXPECT_NE(console.find("corral-guest: ready"), std::string::npos) << console;
  }
  EXPECT_TRUE(worker_->write_console("root\n"));
  EXPECT_TRUE(serial.received("root\n"));
  worker_->detach_console(handle);

  // Once ready, a later os_provisioning (a re-dispatch) answers at once.
  worker_->submit(request(3, Action::kCreate, Phase::kOsProvisioning));
  std::optional<PhaseResult> again = sink_.result_of(3);
  ASSERT_TRUE(again.has_value());
  EXPECT_TRUE(again->ok) << again->error;
  EXPECT_EQ(again->power, Power::kRunning);
  std::size_t readiness_events = 0;
  for (const PowerEvent& e : sink_.events())
    readiness_events += (e.kind == PowerEventKind::kGuestReady) ? 1 : 0;
  EXPECT_EQ(readiness_events, 1U) << "the readiness line is reported once";
}

TEST_F(VmWorkerTest, AfterARestartAVmWithoutItsProcessIsLost) {
  worker_ = std::make_unique<VmWorker>(kVm, config_, images_, &sink_);
  worker_->reconcile(Power::kRunning);
  std::optional<PowerEvent> lost =
      sink_.event_where([](const PowerEvent& e) { return e.kind == PowerEventKind::kVanished; });
  ASSERT_TRUE(lost.has_value());
  EXPECT_EQ(lost->cause, "found no QEMU process after a restart");
}
}  // namespace
}  // namespace corral::driver::qemu
