// CpuMeter: /proc/<pid>/stat parsed field by field, and a busy process measured busy.
#include "driver/qemu/cpu_usage.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

namespace corral::driver::qemu {
namespace {

// Catches: fields counted from the start (a command with spaces or ')' shifts them), utime
// and stime not summed, a truncated line accepted.
TEST(CpuUsageTest, ParsesTheFieldsAfterTheCommand) {
  const struct {
    std::string line;
    std::optional<std::uint64_t> busy;
    std::uint64_t start;
  } cases[] = {
      {"42 (qemu-system-x86) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0 12345 1000 "
       "200",
       300, 12345},
      {"7 (a b) c)) R 1 7 7 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 99 0 0", 3, 99},
      {"7 (x) R 1 7 7 0 -1 0 0 0 0 0 1", std::nullopt, 0},
      {"no parenthesis at all", std::nullopt, 0},
      {"7 (x) R 1 7 7 0 -1 0 0 0 0 0 z 2 0 0 20 0 1 0 99 0 0", std::nullopt, 0},
  };
  for (const auto& c : cases) {
    const std::optional<ProcCpu> cpu = parse_proc_stat(c.line);
    ASSERT_EQ(cpu.has_value(), c.busy.has_value()) << c.line;
    if (!cpu) continue;
    EXPECT_EQ(cpu->busy_ticks, *c.busy) << c.line;
    EXPECT_EQ(cpu->start_ticks, c.start) << c.line;
  }
}

// Catches: a spinning process measured idle (or an idle one busy), a figure not per one CPU,
// a process that does not exist measured at all.
TEST(CpuUsageTest, ABusyProcessIsMeasuredBusyAndAnAbsentOneNotAtAll) {
  CpuMeter meter;
  std::atomic<bool> stop{false};
  std::thread spinner([&] {
    volatile std::uint64_t n = 0;
    while (!stop) n = n + 1;
  });
  (void)meter.percent(::getpid());
  std::this_thread::sleep_for(CpuMeter::kMinInterval + std::chrono::milliseconds(200));
  const std::optional<double> busy = meter.percent(::getpid());
  stop = true;
  spinner.join();
  ASSERT_TRUE(busy.has_value());
  // One thread spinning on a 2-core machine others share: well above idle, at most all cores.
  EXPECT_GT(*busy, 20.0);
  EXPECT_LE(*busy, 100.0 * static_cast<double>(std::thread::hardware_concurrency()) + 5);
  EXPECT_FALSE(meter.percent(0x3fffffff).has_value());
}

}  // namespace
}  // namespace corral::driver::qemu
