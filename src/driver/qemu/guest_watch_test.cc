#include "driver/qemu/guest_watch.h"

#include <gtest/gtest.h>

#include <vector>

namespace corral::driver::qemu {
namespace {

using lifecycle::Power;
using std::chrono::milliseconds;

constexpr std::string_view kReady = "corral-guest: ready";

QmpEvent qmp_event(const std::string& name, nlohmann::json data = nlohmann::json::object()) {
  return QmpEvent{name, std::move(data)};
}

// What the watch reports between phases, in the worker's order (react_when_idle).
struct Reported {
  std::optional<PowerEvent> ready;
  std::optional<PowerEvent> outside;
  std::optional<PowerEvent> off;
};

Reported idle(GuestState& state, bool alive) {
  Reported out;
  out.ready = guest_watch::take_readiness(state);
  out.outside = guest_watch::take_outside_power(state, alive);
  out.off = guest_watch::powered_off(state, alive);
  return out;
}

TEST(GuestWatchTest, QmpEventsBecomeTheRightPowerEventBetweenPhases) {
  struct Case {
    const char* name;
    std::vector<QmpEvent> events;
    bool in_phase;
    bool alive;
    std::optional<Power> outside;  // the outside-Corral power reported, if any
    std::optional<Power> off;      // the power-off reported, if any
    bool guest_initiated;
  };
  const std::vector<Case> cases = {
      {"guest power-off",
       {qmp_event("SHUTDOWN", {{"guest", true}, {"reason", "guest-shutdown"}})},
       false,
       true,
       std::nullopt,
       Power::kShutdown,
       true},
      {"host power-off",
       {qmp_event("SHUTDOWN", {{"guest", false}, {"reason", "host-signal"}})},
       false,
       true,
       std::nullopt,
       Power::kShutdown,
       false},
      {"SHUTDOWN of a process already gone waits for process_ended",
       {qmp_event("SHUTDOWN", {{"guest", true}})},
       false,
       false,
       std::nullopt,
       std::nullopt,
       false},
      {"STOP outside a phase",
       {qmp_event("STOP")},
       false,
       true,
       Power::kPaused,
       std::nullopt,
       false},
      {"RESUME outside a phase",
       {qmp_event("RESUME")},
       false,
       true,
       Power::kRunning,
       std::nullopt,
       false},
      {"the last of STOP, RESUME counts",
       {qmp_event("STOP"), qmp_event("RESUME")},
       false,
       true,
       Power::kRunning,
       std::nullopt,
       false},
      {"STOP inside a phase is the phase's own",
       {qmp_event("STOP")},
       true,
       true,
       std::nullopt,
       std::nullopt,
       false},
      {"STOP of a dead process",
       {qmp_event("STOP")},
       false,
       false,
       std::nullopt,
       std::nullopt,
       false},
      {"STOP then SHUTDOWN: only the power-off",
       {qmp_event("STOP"), qmp_event("SHUTDOWN", {{"guest", true}})},
       false,
       true,
       std::nullopt,
       Power::kShutdown,
       true},
      {"other events are ignored",
       {qmp_event("POWERDOWN"), qmp_event("RESET")},
       false,
       true,
       std::nullopt,
       std::nullopt,
       false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    GuestState state;
    for (const QmpEvent& e : c.events) guest_watch::on_qmp_event(state, e, c.in_phase);
    const Reported got = idle(state, c.alive);
    EXPECT_FALSE(got.ready.has_value());
    ASSERT_EQ(got.outside.has_value(), c.outside.has_value());
    if (c.outside) {
      EXPECT_EQ(got.outside->power, *c.outside);
      EXPECT_FALSE((got.outside->kind == PowerEventKind::kVanished) ||
                   (got.outside->kind == PowerEventKind::kUnresponsive) ||
                   (got.outside->kind == PowerEventKind::kGuestReady));
    }
    ASSERT_EQ(got.off.has_value(), c.off.has_value());
    if (c.off) {
      EXPECT_EQ(got.off->power, *c.off);
      EXPECT_EQ((got.off->kind == PowerEventKind::kGuestPoweroff), c.guest_initiated);
      EXPECT_FALSE((got.off->kind == PowerEventKind::kVanished));
    }
    // What was reported once is not reported again; a power-off stays until handled.
    const Reported again = idle(state, c.alive);
    EXPECT_FALSE(again.outside.has_value());
    EXPECT_EQ(again.off.has_value(), c.off.has_value());
    state.shutdown_handled();
    EXPECT_FALSE(idle(state, c.alive).off.has_value());
  }
}

TEST(GuestWatchTest, AProcessThatEndsIsAShutdownAfterSHUTDOWNAndLostWithout) {
  struct Case {
    const char* name;
    std::vector<QmpEvent> events;
    Power power;
    bool guest_initiated;
    bool lost;
    const char* cause_has;
  };
  const std::vector<Case> cases = {
      {"guest power-off",
       {qmp_event("SHUTDOWN", {{"guest", true}, {"reason", "guest-shutdown"}})},
       Power::kShutdown,
       true,
       false,
       "reason guest-shutdown"},
      {"killed by the host after SHUTDOWN",
       {qmp_event("SHUTDOWN", {{"guest", false}, {"reason", "host-signal"}})},
       Power::kShutdown,
       false,
       false,
       "reason host-signal"},
      {"SHUTDOWN without a reason",
       {qmp_event("SHUTDOWN")},
       Power::kShutdown,
       false,
       false,
       "reason unknown"},
      {"no SHUTDOWN: lost", {}, Power::kNoState, false, true, "qemu: terminating on signal 9"},
      {"a pause before dying is still lost",
       {qmp_event("STOP")},
       Power::kNoState,
       false,
       true,
       "without a shutdown event"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    GuestState state;
    for (const QmpEvent& e : c.events) guest_watch::on_qmp_event(state, e, false);
    const PowerEvent got = guest_watch::process_ended(state, "qemu: terminating on signal 9");
    EXPECT_EQ(got.power, c.power);
    EXPECT_EQ((got.kind == PowerEventKind::kGuestPoweroff), c.guest_initiated);
    EXPECT_EQ((got.kind == PowerEventKind::kVanished), c.lost);
    EXPECT_NE(got.cause.find(c.cause_has), std::string::npos) << got.cause;
    EXPECT_FALSE(state.shutdown_seen) << "the shutdown is reported once";
  }
}

TEST(GuestWatchTest, TheReadinessLineIsReportedOnceAndAgainAfterAReboot) {
  GuestState state;
  guest_watch::on_serial(state, "booting...\ncorral-guest: re", kReady);
  EXPECT_FALSE(state.ready) << "half a line is not a line";
  guest_watch::on_serial(state, "ady\n", kReady);
  ASSERT_TRUE(state.ready);
  std::optional<PowerEvent> ready = guest_watch::take_readiness(state);
  ASSERT_TRUE(ready.has_value());
  EXPECT_TRUE((ready->kind == PowerEventKind::kGuestReady));
  EXPECT_EQ(ready->power, Power::kRunning);
  EXPECT_FALSE(guest_watch::take_readiness(state).has_value()) << "reported once";

  guest_watch::on_qmp_event(state, qmp_event("RESET"), false);  // the guest reboots
  EXPECT_FALSE(guest_watch::take_readiness(state).has_value());
  guest_watch::on_serial(state, "x corral-guest: ready y\r\n", kReady);
  EXPECT_TRUE(guest_watch::take_readiness(state).has_value()) << "ready again after the reboot";

  state.reset();  // a new process
  EXPECT_FALSE(state.ready);
  EXPECT_TRUE(state.serial_line.empty());
}

TEST(GuestWatchTest, AnUnfinishedSerialLineKeepsItsLast4KiB) {
  GuestState state;
  guest_watch::on_serial(state, std::string(10000, 'x'), kReady);
  EXPECT_EQ(state.serial_line.size(), 4096U);
  guest_watch::on_serial(state, "corral-guest: ready\n", kReady);
  EXPECT_TRUE(state.ready);
  EXPECT_TRUE(state.serial_line.empty());
}

TEST(GuestWatchTest, ANewProcessForgetsWhatTheOldOneSaid) {
  GuestState state;
  guest_watch::on_qmp_event(state, qmp_event("SHUTDOWN", {{"guest", true}}), false);
  guest_watch::on_serial(state, "corral-guest: ready\npartial", kReady);
  state.reported_power = Power::kPaused;
  state.unresponsive = true;
  state.reset();
  EXPECT_FALSE(state.shutdown_seen);
  EXPECT_FALSE(state.ready);
  EXPECT_FALSE(state.ready_reported);
  EXPECT_TRUE(state.serial_line.empty());
  EXPECT_FALSE(guest_watch::powered_off(state, true).has_value());
  // What the engine was told is not the process's: it survives.
  EXPECT_EQ(state.reported_power, Power::kPaused);
  EXPECT_TRUE(state.unresponsive);
}

TEST(GuestWatchTest, MonitorStatusReportsChangesAndRecoveryOnly) {
  struct Case {
    const char* status;
    Power reported;     // what the engine last heard
    bool unresponsive;  // the previous query went unanswered
    std::optional<Power> event;
  };
  const std::vector<Case> cases = {
      {"running", Power::kRunning, false, std::nullopt},
      {"running", Power::kPaused, false, Power::kRunning},
      {"running", Power::kRunning, true, Power::kRunning},
      {"paused", Power::kRunning, false, Power::kPaused},
      {"paused", Power::kPaused, false, std::nullopt},
      {"suspended", Power::kRunning, false, Power::kPaused},
      {"io-error", Power::kRunning, false, Power::kPaused},
      {"prelaunch", Power::kRunning, false, Power::kPaused},
      {"postmigrate", Power::kRunning, false, Power::kPaused},
      {"internal-error", Power::kRunning, false, Power::kCrashed},
      {"guest-panicked", Power::kRunning, false, Power::kCrashed},
      {"guest-panicked", Power::kCrashed, false, std::nullopt},
      {"shutdown", Power::kRunning, false, std::nullopt},
      {"shutdown", Power::kRunning, true, std::nullopt},
      {"inmigrate", Power::kPaused, false, Power::kRunning},  // anything else runs
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.status) + " after " +
                 std::string(lifecycle::power_name(c.reported)));
    GuestState state;
    state.reported_power = c.reported;
    state.unresponsive = c.unresponsive;
    const std::optional<PowerEvent> got = guest_watch::on_status(state, c.status);
    ASSERT_EQ(got.has_value(), c.event.has_value());
    if (!got) continue;
    EXPECT_EQ(got->power, *c.event);
    EXPECT_FALSE((got->kind == PowerEventKind::kUnresponsive));
    EXPECT_NE(got->cause.find(c.status), std::string::npos);
    EXPECT_EQ(state.reported_power, *c.event);
    EXPECT_FALSE(state.unresponsive);
    EXPECT_FALSE(guest_watch::on_status(state, c.status).has_value()) << "reported once";
  }
}

TEST(GuestWatchTest, SilenceIsReportedOnceUntilQemuAnswersAgain) {
  GuestState state;
  std::optional<PowerEvent> silent = guest_watch::on_silence(state, milliseconds(1000));
  ASSERT_TRUE(silent.has_value());
  EXPECT_TRUE((silent->kind == PowerEventKind::kUnresponsive));
  EXPECT_NE(silent->cause.find("1000 ms"), std::string::npos);
  EXPECT_FALSE(guest_watch::on_silence(state, milliseconds(1000)).has_value());
  std::optional<PowerEvent> back = guest_watch::on_status(state, "running");
  ASSERT_TRUE(back.has_value()) << "answering again is news even with the same power";
  EXPECT_EQ(back->power, Power::kRunning);
  EXPECT_TRUE(guest_watch::on_silence(state, milliseconds(1000)).has_value());
}

TEST(GuestWatchTest, ReattachingAfterARestartReportsWhatQemuSays) {
  struct Case {
    const char* status;
    std::optional<Power> event;
    bool off_later;  // left for powered_off()
  };
  const std::vector<Case> cases = {
      {"running", Power::kRunning, false},
      {"paused", Power::kPaused, false},
      {"prelaunch", Power::kPaused, false},
      {"shutdown", std::nullopt, true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.status);
    GuestState state;
    guest_watch::reattached(state, "...\ncorral-guest: ready\n", kReady);
    EXPECT_TRUE(state.ready);
    EXPECT_FALSE(state.ready_reported) << "the engine hears it again";
    const std::optional<PowerEvent> got = guest_watch::on_reattach_status(state, c.status);
    ASSERT_EQ(got.has_value(), c.event.has_value());
    if (got) {
      EXPECT_EQ(got->power, *c.event);
    }
    const std::optional<PowerEvent> off = guest_watch::powered_off(state, true);
    ASSERT_EQ(off.has_value(), c.off_later);
    if (off) {
      EXPECT_TRUE((off->kind == PowerEventKind::kGuestPoweroff));
    }
  }
}

TEST(GuestWatchTest, AVmFoundWithoutItsProcessIsOffOrLost) {
  struct Case {
    Power stored;
    const char* serial_tail;
    std::optional<Power> power;
    bool lost;
  };
  const std::vector<Case> cases = {
      {Power::kRunning, "[ 9.1] reboot: Power down\n", Power::kShutdown, false},
      {Power::kPaused, "[ 9.1] reboot: Power down\n", Power::kShutdown, false},
      {Power::kRunning, "[ 3.0] corral-guest: ready\n", Power::kNoState, true},
      {Power::kPaused, "", Power::kNoState, true},
      {Power::kShutdown, "", std::nullopt, false},  // nothing to say of a VM that was off
      {Power::kSuspended, "reboot: Power down", std::nullopt, false},
      {Power::kNoState, "", std::nullopt, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(lifecycle::power_name(c.stored)) + ": " + c.serial_tail);
    const std::optional<PowerEvent> got =
        guest_watch::found_without_process(c.stored, c.serial_tail);
    ASSERT_EQ(got.has_value(), c.power.has_value());
    if (!got) continue;
    EXPECT_EQ(got->power, *c.power);
    EXPECT_EQ((got->kind == PowerEventKind::kVanished), c.lost);
    EXPECT_EQ((got->kind == PowerEventKind::kGuestPoweroff), !c.lost);
  }
}

}  // namespace
}  // namespace corral::driver::qemu
