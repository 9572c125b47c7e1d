// CPU use of a VM's QEMU process, from /proc/<pid>/stat, as top measures it: the CPU time the
// process gained between two samples over the wall time between them, in percent of one CPU
// (100: one core busy all the time; a 2-vCPU guest spinning shows up to 200). The first
// sample of a process gives its average since it started, as ps does.
//
// Contract: percent() never blocks beyond reading two small /proc files; a sample younger
// than kMinInterval is not replaced (the last figure is returned), so callers may ask as
// often as they like. Thread-safe.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string_view>

namespace corral::driver::qemu {

// The fields of /proc/<pid>/stat that CPU use needs, in clock ticks.
struct ProcCpu {
  std::uint64_t busy_ticks = 0;   // utime + stime (fields 14 and 15)
  std::uint64_t start_ticks = 0;  // starttime (field 22): since boot
};
// Parses one /proc/<pid>/stat line; nullopt when it is not one. The command (field 2) may
// hold spaces and parentheses: fields are counted after its last ')'.
std::optional<ProcCpu> parse_proc_stat(std::string_view text);

class CpuMeter {
 public:
  static constexpr std::chrono::milliseconds kMinInterval{1000};

  // The process's CPU use; nullopt when it does not exist (any more).
  std::optional<double> percent(pid_t pid);
  // Drops the samples of processes not in `alive`.
  void keep_only(const std::set<pid_t>& alive);

 private:
  struct Sample {
    std::uint64_t busy_ticks = 0;
    std::chrono::steady_clock::time_point at;
    double percent = 0;
  };
  std::mutex mu_;
  std::map<pid_t, Sample> samples_;
};

}  // namespace corral::driver::qemu
