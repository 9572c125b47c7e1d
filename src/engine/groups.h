// Server groups as the engine's API shows them (Nova's os-server-groups): a name, a policy,
// and the members. The engine's methods are in engine.h; policies' numbers in store/types.h.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lifecycle/quota_table.h"
#include "store/types.h"

namespace corral::engine {

struct GroupSpec {
  std::string name;  // [a-z0-9][a-z0-9._-]{0,62}, and not all digits (an id is all digits)
  store::GroupPolicy policy = store::GroupPolicy::kAntiAffinity;
  store::ProjectId project = store::kAdminProjectId;  // the owner: only its VMs join
  // The owner's limits (server_groups); nullopt: none (the admin project's).
  std::optional<lifecycle::QuotaLimits> quota{};
};

struct GroupDetail {
  store::ServerGroupRow row;
  std::vector<store::VmId> members;  // VMs in the group that are not DONE, by id
};

// Nova's names: "affinity", "anti-affinity", "soft-affinity", "soft-anti-affinity".
std::string_view group_policy_name(store::GroupPolicy policy);
std::optional<store::GroupPolicy> parse_group_policy(std::string_view name);

}  // namespace corral::engine
