#include "driver/qemu/migrate_health.h"

#include <array>
#include <fstream>
#include <iterator>
#include <thread>

namespace corral::driver::qemu {

namespace {

using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// What Linux prints when its kernel is in trouble (lib/bug.c, arch/x86/mm/fault.c,
// kernel/panic.c, arch/x86/kernel/traps.c, lib/dump_stack.c).
constexpr std::array<std::string_view, 7> kTrouble = {
    "Oops",        "BUG:",        "Kernel panic", "general protection fault", "invalid opcode:",
    "Call Trace:", "segfault at",
};

std::string read_from(const std::string& path, std::size_t from) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  in.seekg(static_cast<std::streamoff>(from));
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

std::optional<std::string> kernel_trouble(std::string_view console) {
  std::size_t start = 0;
  while (start < console.size()) {
    std::size_t end = console.find('\n', start);
    if (end == std::string_view::npos) end = console.size();
    const std::string_view line = console.substr(start, end - start);
    for (std::string_view word : kTrouble) {
      if (line.find(word) != std::string_view::npos) {
        std::string out(line);
        while (!out.empty() && (out.back() == '\r' || out.back() == ' ')) out.pop_back();
        return out;
      }
    }
    start = end + 1;
  }
  return std::nullopt;
}

GuestProbe console_probe(std::string_view nonce) {
  const std::string marker = "corral-alive-" + std::string(nonce);
  return {"echo " + marker + "-$((6*7))\n", marker + "-42"};
}

HealthReport check_guest_health(const std::string& serial_log, std::size_t from,
                                const std::function<void(const std::string&)>& type,
                                const GuestProbe& probe, milliseconds timeout, milliseconds settle,
                                milliseconds retry) {
  HealthReport report;
  const auto start = SteadyClock::now();
  auto typed_at = start - retry;
  std::optional<SteadyClock::time_point> answered;
  for (;;) {
    const auto now = SteadyClock::now();
    const std::string log = read_from(serial_log, from);
    if (std::optional<std::string> trouble = kernel_trouble(log)) {
      report.reason = "the guest kernel reports trouble: " + *trouble;
      return report;
    }
    if (!answered && log.find(probe.answer) != std::string::npos) {
      answered = now;
      report.answered_after = std::chrono::duration_cast<milliseconds>(now - start);
    }
    if (answered && now - *answered >= settle) {
      report.healthy = true;
      return report;
    }
    if (!answered && now - start >= timeout) {
      report.reason = "the guest did not answer on its console within " +
                      std::to_string(timeout.count()) + " ms";
      return report;
    }
    if (!answered && now - typed_at >= retry) {
      type(probe.command);
      typed_at = now;
    }
    std::this_thread::sleep_for(milliseconds(50));
  }
}

}  // namespace corral::driver::qemu
