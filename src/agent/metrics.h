// The host's capacity and load as the agent reports them, read from /proc.
#pragma once

#include <optional>
#include <string>

#include "wire/agent.pb.h"

namespace corral::agent {

namespace v1 = ::corral::agent::v1;

// vcpus: online CPUs; memory: MemTotal of /proc/meminfo (root lets tests pass another /proc).
v1::Capacity read_capacity(const std::string& proc_root = "/proc");
// The first figure of <proc_root>/loadavg; nullopt when unreadable.
std::optional<double> read_load1(const std::string& proc_root = "/proc");
// cpu idle share since the previous call (first call: since boot), 0-100, from /proc/stat.
class CpuIdle {
 public:
  explicit CpuIdle(std::string proc_root = "/proc") : root_(std::move(proc_root)) {}
  double free_percent();

 private:
  std::string root_;
  unsigned long long last_idle_ = 0;
  unsigned long long last_total_ = 0;
};

}  // namespace corral::agent
