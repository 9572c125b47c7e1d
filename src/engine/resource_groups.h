// Resource groups as the engine's API shows them (Azure's resource groups, issue 17): a
// project's named set of VMs with a location and tags. The engine's methods are in engine.h.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/types.h"

namespace corral::engine {

// PUT: create the group, or (it exists) replace its tags. The location is fixed at create: a
// PUT naming another is refused (kConflict), as Azure's InvalidResourceGroupLocation.
struct ResourceGroupSpec {
  std::string name;      // valid_resource_group_name; matched regardless of case
  std::string location;  // normalize_location's form; required to create
  std::string tags;      // a JSON object of strings as text ("" for none); the API checks it
  store::ProjectId project = store::kAdminProjectId;
};

struct ResourceGroupDetail {
  store::ResourceGroupRow row;
  std::vector<store::VmId> members;  // VMs created in it that are not DONE, by id
  bool created = false;              // put_resource_group made it (else: it existed)
};

// Azure's rule, in ASCII: 1-90 of letters, digits, '_', '(', ')', '-' and '.', not ending in
// '.'.
bool valid_resource_group_name(std::string_view name);
// Azure's location names: "West US" and "westus" are one ("westus"): spaces dropped, lower
// case; nullopt unless 1-64 letters and digits remain.
std::optional<std::string> normalize_location(std::string_view location);
// ASCII case-insensitive equality (resource group names).
bool iequal_names(std::string_view a, std::string_view b);

}  // namespace corral::engine
