// What the scheduler sees of a host: a copy taken at one moment, with the generation the
// claim must match (placement's resource-provider generation, hosts-migration.md:94).
//
// Capacity is placement's formula: (total - reserved) * allocation_ratio, reserved possibly
// negative (OpenNebula RESERVED_CPU/RESERVED_MEM "can be negative… thus overcommitting",
// hosts-migration.md:85). Defaults are Nova's ratios: CPU 4.0, RAM 1.0 (:93).
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "lifecycle/host_table.h"

namespace corral::sched {

struct Resources {
  std::int64_t vcpus = 0;
  std::int64_t memory_mib = 0;
};

using Labels = std::map<std::string, std::string, std::less<>>;

inline constexpr double kDefaultCpuAllocationRatio = 4.0;
inline constexpr double kDefaultRamAllocationRatio = 1.0;

struct HostSnapshot {
  std::string name;
  lifecycle::HostRecord record;  // state and forced_down
  Resources total;
  Resources reserved;  // may be negative: overcommit
  double cpu_allocation_ratio = kDefaultCpuAllocationRatio;
  double ram_allocation_ratio = kDefaultRamAllocationRatio;
  Resources used;
  int running_vms = 0;
  Labels labels;
  double free_cpu = 0;  // the monitored idle CPU (OpenNebula FREE_CPU), for load-aware ranking
  std::uint64_t generation = 0;
};

inline std::int64_t scaled(std::int64_t total, std::int64_t reserved, double ratio) {
  const double v = std::floor(static_cast<double>(total - reserved) * ratio);
  return v < 0 ? 0 : static_cast<std::int64_t>(v);
}

inline Resources capacity(const HostSnapshot& h) {
  return {scaled(h.total.vcpus, h.reserved.vcpus, h.cpu_allocation_ratio),
          scaled(h.total.memory_mib, h.reserved.memory_mib, h.ram_allocation_ratio)};
}

inline bool fits(const HostSnapshot& h, const Resources& request) {
  const Resources cap = capacity(h);
  return h.used.vcpus + request.vcpus <= cap.vcpus &&
         h.used.memory_mib + request.memory_mib <= cap.memory_mib;
}

}  // namespace corral::sched
