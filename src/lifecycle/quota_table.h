// Quotas as data: the resources a project's limits apply to (Nova's and OpenNebula's names
// beside Corral's), their defaults, and which VM states count toward them — the totals (every
// VM not deleted) and OpenNebula's RUNNING_* twins (the VMs that hold or wait for a host's
// vCPUs and memory).
//
// Contract: a resource's number is persisted (quotas.resource) and never reused. A limit of
// kUnlimited (-1) is no limit. Usage is never stored: it is counted from the VMs' states
// whenever it is needed (the engine does, on its own thread, at the moment it accepts a
// request), so it cannot drift as OpenNebula's stored counters do (#6355, #6615, #5106) and
// needs no `onedb fsck`.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "lifecycle/types.h"

namespace corral::lifecycle {

enum class QuotaResource : std::uint8_t {
  kVms = 1,
  kVcpus = 2,
  kMemoryMib = 3,
  kRunningVms = 4,
  kRunningVcpus = 5,
  kRunningMemoryMib = 6,
  kAddresses = 7,      // NICs, each holding a lease on a network (Neutron's ports)
  kVolumes = 8,        // volumes not deleted (Cinder's "volumes"; OpenNebula's datastore IMAGES)
  kVolumeMib = 9,      // their sizes, snapshots included (Cinder's "gigabytes"; datastore SIZE)
  kServerGroups = 10,  // server groups (Nova's server_groups)
  // Members of ONE server group, each group counted alone (Nova's server_group_members): the
  // limit applies per group, and a project's use is its fullest group's VMs not DONE.
  kServerGroupMembers = 11,
};
inline constexpr int kQuotaResourceCount = 11;
inline constexpr std::int64_t kUnlimited = -1;

struct QuotaResourceRow {
  QuotaResource resource;
  std::string_view name;        // Corral's, in the API: "vcpus"
  std::int64_t default_limit;   // Nova's defaults (nova/conf/quota.py), Neutron's for ports
  std::string_view nova;        // os-quota-sets key; "" if Nova has none
  std::string_view opennebula;  // VM quota attribute
};

inline constexpr std::array<QuotaResourceRow, kQuotaResourceCount> kQuotaResources = {{
    {QuotaResource::kVms, "vms", 10, "instances", "VMS"},
    {QuotaResource::kVcpus, "vcpus", 20, "cores", "CPU"},
    {QuotaResource::kMemoryMib, "memory_mib", 51200, "ram", "MEMORY"},
    // OpenNebula's running quotas default to unlimited, as its -1 ("use the default") is.
    {QuotaResource::kRunningVms, "running_vms", kUnlimited, "", "RUNNING_VMS"},
    {QuotaResource::kRunningVcpus, "running_vcpus", kUnlimited, "", "RUNNING_CPU"},
    {QuotaResource::kRunningMemoryMib, "running_memory_mib", kUnlimited, "", "RUNNING_MEMORY"},
    {QuotaResource::kAddresses, "addresses", 50, "", ""},
    // Cinder's defaults: 10 volumes, 1000 GiB (of volumes and snapshots together).
    {QuotaResource::kVolumes, "volumes", 10, "", "IMAGES"},
    {QuotaResource::kVolumeMib, "volume_mib", std::int64_t{1000} * 1024, "", "SIZE"},
    // Nova's defaults: 10 server groups, 10 members in each.
    {QuotaResource::kServerGroups, "server_groups", 10, "server_groups", ""},
    {QuotaResource::kServerGroupMembers, "server_group_members", 10, "server_group_members", ""},
}};

// The states whose VMs count toward the totals: every one but DONE and SOFT_DELETED (Nova
// counts instances not deleted and not soft-deleted; stopped, shelved and errored ones
// count).
inline constexpr StateSet kQuotaTotalStates =
    StateSet::all_live().with(State::kInit).without(State::kSoftDeleted);

// The states that count toward RUNNING_*: OpenNebula's is_running_quota() — waiting for a
// host (INIT, PENDING, HOLD) or on one with its vCPUs and memory held (RUNNING, PAUSED,
// RESCUED, RESIZED, UNKNOWN, and FAILED, which may still hold them). Power-off, suspend,
// stop (hibernate), undeploy (deallocate) and shelve release them.
inline constexpr StateSet kQuotaRunningStates = {
    State::kInit,    State::kPending, State::kHold,    State::kRunning, State::kPaused,
    State::kRescued, State::kResized, State::kUnknown, State::kFailed,
};

constexpr bool quota_rows_in_order() {
  for (std::size_t i = 0; i < kQuotaResources.size(); ++i) {
    if (static_cast<std::size_t>(kQuotaResources[i].resource) != i + 1) return false;
  }
  return true;
}
static_assert(quota_rows_in_order(), "kQuotaResources[i] is resource number i + 1");

const QuotaResourceRow& quota_resource(QuotaResource resource);
std::optional<QuotaResource> parse_quota_resource(std::string_view name);  // Corral's name
bool quota_resource_known(QuotaResource resource);

// A project's limits, indexed by resource number - 1 (kUnlimited: none).
using QuotaLimits = std::array<std::int64_t, kQuotaResourceCount>;
QuotaLimits default_quota_limits();

// A project's use, indexed the same way.
using QuotaUsage = std::array<std::int64_t, kQuotaResourceCount>;

constexpr std::size_t quota_index(QuotaResource r) { return static_cast<std::size_t>(r) - 1; }

}  // namespace corral::lifecycle
