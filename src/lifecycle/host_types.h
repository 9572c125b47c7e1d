// The host vocabulary: the states a hypervisor host is in, as OpenNebula numbers them.
//
// Contract: stable numbers, persisted (the store's hosts table) and published (API). Retired
// numbers are never reused: OpenNebula retired MONITORING_MONITORED 1, MONITORING_ERROR 5,
// MONITORING_INIT 6 and MONITORING_DISABLED 7 (reference hosts-migration.md §1, Host.h:49);
// Corral keeps the same gaps so its numbers read as OpenNebula's.
//
// Pure: no I/O. The transitions between these states are a data table (host_table.h).
#pragma once

#include <cstdint>

namespace corral::lifecycle {

enum class HostState : std::uint8_t {
  kInit = 0,       // added, its agent not heard from yet; takes deploys
  kMonitored = 2,  // its agent heartbeats; takes deploys
  kError = 3,      // its agent missed heartbeats past the down-timeout; no deploys
  kDisabled = 4,   // an operator disabled it; monitored, manual deploys only
  kOffline = 8,    // an operator took it out; not monitored, no deploys
};
inline constexpr int kHostStateCount = 5;

}  // namespace corral::lifecycle
