#include "driver/qemu/guest_watch.h"

#include <utility>

namespace corral::driver::qemu {

using lifecycle::Power;

void GuestState::reset() {
  shutdown_seen = false;
  shutdown_guest = false;
  shutdown_reason.clear();
  ready = false;
  ready_reported = false;
  serial_line.clear();
}

void GuestState::rebooted() {
  ready = false;
  ready_reported = false;
}

namespace guest_watch {

void on_qmp_event(GuestState& state, const QmpEvent& event, bool in_phase) {
  if (event.name == "SHUTDOWN") {
    state.shutdown_seen = true;
    state.shutdown_guest = event.data.value("guest", false);
    state.shutdown_reason = event.data.value("reason", std::string("unknown"));
  } else if ((event.name == "STOP" || event.name == "RESUME") && !in_phase) {
    // Not ours (our own stop/cont run inside phases): someone paused or resumed the VM on
    // the host; the engine notes the power.
    state.outside_power = event.name == "STOP" ? Power::kPaused : Power::kRunning;
  } else if (event.name == "RESET") {
    // The guest reboots: it will say it is ready again.
    state.rebooted();
  }
}

void on_serial(GuestState& state, std::string_view bytes, std::string_view readiness_line) {
  std::string& line = state.serial_line;
  line.append(bytes);
  std::size_t start = 0;
  for (std::size_t nl = line.find('\n'); nl != std::string::npos; nl = line.find('\n', start)) {
    if (std::string_view(line).substr(start, nl - start).find(readiness_line) !=
        std::string_view::npos) {
      state.ready = true;
    }
    start = nl + 1;
  }
  line.erase(0, start);
  if (line.size() > 4096) line.erase(0, line.size() - 4096);
}

std::optional<PowerEvent> take_readiness(GuestState& state) {
  if (!state.ready || state.ready_reported) return std::nullopt;
  state.ready_reported = true;
  PowerEvent event;
  event.kind = PowerEventKind::kGuestReady;
  event.power = Power::kRunning;
  event.cause = "the guest printed its readiness line";
  return event;
}

std::optional<PowerEvent> take_outside_power(GuestState& state, bool alive) {
  std::optional<PowerEvent> report;
  if (state.outside_power && alive && !state.shutdown_seen) {
    PowerEvent event;
    event.power = *state.outside_power;
    event.cause = *state.outside_power == Power::kPaused ? "paused outside Corral (QMP STOP)"
                                                         : "resumed outside Corral (QMP RESUME)";
    report = std::move(event);
  }
  state.outside_power.reset();
  return report;
}

std::optional<PowerEvent> powered_off(const GuestState& state, bool alive) {
  if (!alive || !state.shutdown_seen) return std::nullopt;
  const bool guest = state.shutdown_guest;
  const std::string& reason = state.shutdown_reason;
  PowerEvent event;
  event.kind = guest ? PowerEventKind::kGuestPoweroff : PowerEventKind::kPowerChanged;
  event.power = Power::kShutdown;
  event.cause = guest ? "the guest powered itself off (QMP SHUTDOWN, reason " + reason + ")"
                      : "QEMU shut the VM down (QMP SHUTDOWN, reason " + reason + ")";
  return event;
}

PowerEvent process_ended(GuestState& state, std::string_view qemu_said) {
  PowerEvent event;
  if (state.shutdown_seen) {
    event.kind =
        state.shutdown_guest ? PowerEventKind::kGuestPoweroff : PowerEventKind::kPowerChanged;
    event.power = Power::kShutdown;
    event.cause = "the QEMU process ended after a shutdown (reason " + state.shutdown_reason + ")";
  } else {
    event.kind = PowerEventKind::kVanished;
    event.cause = "the QEMU process ended without a shutdown event: " + std::string(qemu_said);
  }
  state.shutdown_handled();
  return event;
}

std::optional<PowerEvent> on_status(GuestState& state, std::string_view status) {
  Power power = Power::kRunning;
  if (status == "paused" || status == "suspended" || status == "io-error" ||
      status == "prelaunch" || status == "postmigrate") {
    power = Power::kPaused;
  } else if (status == "internal-error" || status == "guest-panicked") {
    power = Power::kCrashed;
  } else if (status == "shutdown") {
    return std::nullopt;  // the SHUTDOWN event ends it (powered_off)
  }
  if (!state.unresponsive && power == state.reported_power) return std::nullopt;
  state.unresponsive = false;
  state.reported_power = power;
  PowerEvent event;
  event.power = power;
  event.cause = "monitor: QEMU says " + std::string(status);
  return event;
}

std::optional<PowerEvent> on_silence(GuestState& state, std::chrono::milliseconds timeout) {
  if (state.unresponsive) return std::nullopt;
  state.unresponsive = true;
  PowerEvent event;
  event.kind = PowerEventKind::kUnresponsive;
  event.cause = "QEMU does not answer QMP within " + std::to_string(timeout.count()) +
                " ms (stopped or wedged)";
  return event;
}

void reattached(GuestState& state, std::string_view serial_log, std::string_view readiness_line) {
  // Whatever the guest said before we came back.
  state.ready = serial_log.find(readiness_line) != std::string_view::npos;
  state.ready_reported = false;
}

std::optional<PowerEvent> on_reattach_status(GuestState& state, std::string_view status) {
  PowerEvent event;
  event.cause = "re-attached after a restart";
  if (status == "running") {
    event.power = Power::kRunning;
  } else if (status == "shutdown") {
    state.shutdown_seen = true;  // powered_off() completes it
    state.shutdown_guest = true;
    state.shutdown_reason = "guest-shutdown, while the server was down";
    return std::nullopt;
  } else {
    event.power = Power::kPaused;
  }
  return event;
}

std::optional<PowerEvent> found_without_process(Power stored, std::string_view serial_tail) {
  if (stored != Power::kRunning && stored != Power::kPaused) return std::nullopt;
  PowerEvent event;
  // The kernel says "reboot: Power down" as its last words when the guest powered off.
  if (serial_tail.find("Power down") != std::string_view::npos) {
    event.kind = PowerEventKind::kGuestPoweroff;
    event.power = Power::kShutdown;
    event.cause =
        "found powered off after a restart: the guest shut down while the server was down";
  } else {
    event.kind = PowerEventKind::kVanished;
    event.cause = "found no QEMU process after a restart";
  }
  return event;
}

}  // namespace guest_watch
}  // namespace corral::driver::qemu
