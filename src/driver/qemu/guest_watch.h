// GuestWatch: what the worker has heard from a VM's guest — QMP events, the serial port's
// readiness line, the monitor's status queries, the process's exit — kept as one GuestState
// and turned into the PowerEvents the engine gets. Pure: no I/O, no clock, no threads; the
// VM's worker feeds it and sends what it returns (tested alone in guest_watch_test.cc).
//
// Contract:
// - The inputs (on_qmp_event, on_serial, reattached) only change the state.
// - The outputs report each fact once: take_readiness() and take_outside_power() consume what
//   they report; powered_off() does not (the worker ends the process first, then calls
//   GuestState::shutdown_handled()); process_ended() consumes the shutdown it reports.
// - STOP and RESUME during a phase are the phase's own commands (pause, save ...) and are not
//   reported; between phases they are someone else's and are (take_outside_power).
// - A SHUTDOWN event is reported only while the process lives (powered_off) or once it ended
//   (process_ended): the guest powered off. A process that ends without one is lost.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "driver/driver.h"
#include "driver/qemu/qmp_client.h"
#include "lifecycle/types.h"

namespace corral::driver::qemu {

struct GuestState {
  // What this QEMU process said since it started (reset() when another one starts).
  bool shutdown_seen = false;   // QMP SHUTDOWN since the last boot
  bool shutdown_guest = false;  // ... and the guest asked for it
  std::string shutdown_reason;
  bool ready = false;           // the readiness line since the last boot
  bool ready_reported = false;  // ... and the engine was told
  std::string serial_line;      // what the serial port said after its last newline

  // What the engine was told, across processes.
  std::optional<lifecycle::Power> outside_power;                 // a STOP/RESUME we did not cause
  bool unresponsive = false;                                     // the last monitor query timed out
  lifecycle::Power reported_power = lifecycle::Power::kRunning;  // what monitor last said

  // A new QEMU process starts: nothing the previous one said holds.
  void reset();
  // The guest restarts inside its process (a reset): it will say it is ready again.
  void rebooted();
  // The worker dealt with the SHUTDOWN (it ended the process, or resets the guest).
  void shutdown_handled() { shutdown_seen = false; }
};

namespace guest_watch {

// A QMP event. `in_phase`: a phase is running, so STOP/RESUME are its own commands.
void on_qmp_event(GuestState& state, const QmpEvent& event, bool in_phase);
// Bytes from the serial port: sets `ready` when a complete line contains `readiness_line`.
// Keeps at most 4 KiB of an unfinished line.
void on_serial(GuestState& state, std::string_view bytes, std::string_view readiness_line);

// The guest printed its readiness line and the engine has not heard it yet.
std::optional<PowerEvent> take_readiness(GuestState& state);
// Someone paused or resumed the VM outside Corral (reported only while the process lives
// and has not shut down). Forgets the STOP/RESUME either way.
std::optional<PowerEvent> take_outside_power(GuestState& state, bool alive);
// The guest (or QEMU) shut the VM down and -no-shutdown left the process running: the worker
// ends it and then reports this.
std::optional<PowerEvent> powered_off(const GuestState& state, bool alive);
// The process ended, not by our hand: a shutdown if a SHUTDOWN came first, else lost
// (`qemu_said`: the tail of QEMU's log, for the cause). Forgets the SHUTDOWN.
PowerEvent process_ended(GuestState& state, std::string_view qemu_said);

// The monitor's query-status answer: an event when the power changed or QEMU answers again
// after it did not. Nothing for "shutdown" (the SHUTDOWN event reports that).
std::optional<PowerEvent> on_status(GuestState& state, std::string_view status);
// The monitor's query went unanswered (the process still lives): reported once until QEMU
// answers again.
std::optional<PowerEvent> on_silence(GuestState& state, std::chrono::milliseconds timeout);

// After a server restart the worker re-attached to the process: `serial_log` is what the
// guest wrote meanwhile (did it say it was ready?).
void reattached(GuestState& state, std::string_view serial_log, std::string_view readiness_line);
// ... and QEMU's run status then: running or paused is reported; a guest that shut down while
// the server was down is left for powered_off().
std::optional<PowerEvent> on_reattach_status(GuestState& state, std::string_view status);
// After a restart no process was found for a VM the store had running or paused: powered off
// if the kernel's last words (`serial_tail`) say so, else lost.
std::optional<PowerEvent> found_without_process(lifecycle::Power stored,
                                                std::string_view serial_tail);

}  // namespace guest_watch
}  // namespace corral::driver::qemu
