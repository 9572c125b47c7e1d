// Placement: which host takes a VM. Pure: a function of a host snapshot and a request.
//
// Filters, in order (a host is counted against the first one it fails): the requested host,
// host state (lifecycle::host_table's deploy columns: the scheduler's, or the manual one for
// an operator's deploy to a named host), capacity ((total - reserved) * ratio - used >=
// request), the requirements expression, then the server group (affinity: only hosts already
// holding a member; anti-affinity: none that do; soft variants filter nothing and rank
// instead, like Nova's weighers). The survivors are ranked by policy — OpenNebula's 0-2
// (hosts-migration.md:70-76) — with ties broken by host name, so the choice is
// deterministic. "No valid host" names the filter that eliminated the most hosts.
#pragma once

#include <array>
#include <cstdint>
#include <expected>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sched/host_snapshot.h"
#include "sched/requirements.h"

namespace corral::sched {

// OpenNebula's policy numbers.
enum class RankPolicy : std::uint8_t {
  kPacking = 0,    // most running VMs first
  kStriping = 1,   // fewest running VMs first (the default)
  kLoadAware = 2,  // most free CPU first
};
inline constexpr RankPolicy kDefaultRankPolicy = RankPolicy::kStriping;
std::string_view rank_policy_name(RankPolicy policy);  // "packing", "striping", "load-aware"

// Nova's server group policies.
enum class GroupPolicy : std::uint8_t {
  kNone = 0,
  kAffinity = 1,
  kAntiAffinity = 2,
  kSoftAffinity = 3,
  kSoftAntiAffinity = 4,
};

struct ServerGroup {
  GroupPolicy policy = GroupPolicy::kNone;
  // The host of each member already placed (one entry per member: a host may repeat).
  std::vector<std::string> member_hosts;
};

// The requirements' result per host, kept across the placements of a batch that share one
// expression reading only fixed attributes (labels, name). Valid for one host list in one
// order: clear() it when the list changes. Ignored for expressions that read metrics.
struct RequirementsMemo {
  const Requirements* of = nullptr;  // the expression the results are for
  std::vector<std::int8_t> results;  // per host: -1 not yet evaluated, 0 no, 1 yes
  void clear() {
    of = nullptr;
    results.clear();
  }
};

struct PlacementRequest {
  Resources resources;
  const Requirements* requirements = nullptr;  // null: none
  RequirementsMemo* memo = nullptr;            // optional, for batches (see above)
  ServerGroup group;
  std::string requested_host;  // empty: any
  // An operator's deploy to requested_host (OpenNebula `onevm deploy`): the host-state filter
  // uses the manual-deploy column (a DISABLED host accepts it).
  bool manual = false;
};

enum class Filter : std::uint8_t {
  kRequestedHost = 0,
  kHostState = 1,
  kCapacity = 2,
  kRequirements = 3,
  kAffinity = 4,
  kAntiAffinity = 5,
};
inline constexpr int kFilterCount = 6;
std::string_view filter_name(Filter filter);  // "capacity", "host state", ...

struct Placement {
  std::size_t host = 0;          // index into the snapshot
  std::uint64_t generation = 0;  // the generation the claim must match
};

struct NoValidHost {
  Filter filter = Filter::kCapacity;  // the filter that eliminated the most hosts
  std::array<int, kFilterCount> eliminated{};
  int hosts = 0;
  std::string reason;  // "No valid host: capacity eliminated 7 of 10 hosts (...)"
};

[[nodiscard]] std::expected<Placement, NoValidHost> place(std::span<const HostSnapshot> hosts,
                                                          const PlacementRequest& request,
                                                          RankPolicy policy = kDefaultRankPolicy);

}  // namespace corral::sched
