// Is a migrated guest healthy? `completed` does not say so: under TCG a pre-copy migration of
// a guest dirtying memory fast reports completed while the destination kernel Oopses
// (hosts-migration.md §3). So the target's console is read: no kernel trouble since the
// switch, and the guest answers a command typed on its console.
//
// Contract:
// - kernel_trouble and console_probe are pure.
// - check_guest_health reads the serial log (what launch.h's chardev logs) from `from` on and
//   types through `type` (the worker's serial port); it blocks at most timeout + settle.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace corral::driver::qemu {

// The first console line that shows the guest's kernel in trouble (Oops, BUG:, panic, a
// general protection fault, a call trace), or nullopt.
std::optional<std::string> kernel_trouble(std::string_view console);

struct GuestProbe {
  std::string command;  // typed on the console, newline included
  std::string answer;   // what only the command's running prints (not its echo)
};
// A shell probe: "echo corral-alive-<nonce>-$((6*7))" answered by "corral-alive-<nonce>-42".
GuestProbe console_probe(std::string_view nonce);

struct HealthReport {
  bool healthy = false;
  std::string reason;  // why not: the trouble line, or no answer
  std::chrono::milliseconds answered_after{0};
};

// Types the probe (again every `retry`: input typed while the guest's UART was being switched
// over can be lost) until its answer is in the log, then watches the log `settle` longer.
// Unhealthy when the kernel reports trouble at any point, or no answer comes within `timeout`.
HealthReport check_guest_health(const std::string& serial_log, std::size_t from,
                                const std::function<void(const std::string&)>& type,
                                const GuestProbe& probe, std::chrono::milliseconds timeout,
                                std::chrono::milliseconds settle = std::chrono::seconds(2),
                                std::chrono::milliseconds retry = std::chrono::seconds(2));

}  // namespace corral::driver::qemu
