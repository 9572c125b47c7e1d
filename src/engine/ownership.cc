// What a project's VMs may use (issue 14): the server groups, networks and security groups a
// create, a nic_attach or a NIC's update names are looked up here, scoped to the VM's project,
// and each project's "default" security group is made on its first use. Engine thread only.
//
// Why in the engine: every path that gives a VM a NIC or a group (the API's create and
// actions, the CLI's, a recreate after a host failure) comes through here, so no API route
// can attach a VM to another project's network or group, as prepare_volume does for volumes.
// Another project's object is treated exactly as one that does not exist (same code, same
// message): its existence never leaks.
#include <algorithm>

#include "engine/engine_impl.h"
#include "engine/names.h"

namespace corral::engine {

const store::ServerGroupRow* Engine::Impl::find_group_of(std::string_view name_or_id,
                                                         store::ProjectId project) const {
  const store::ServerGroupRow* g = find_group(name_or_id);
  return g != nullptr && g->project == project ? g : nullptr;
}

const store::NetworkRow* Engine::Impl::find_network_for(std::string_view name_or_id,
                                                        store::ProjectId project) const {
  const store::NetworkRow* n = find_network(name_or_id);
  return n != nullptr && network_usable_by(*n, project) ? n : nullptr;
}

const store::SecurityGroupRow* Engine::Impl::find_security_group(std::string_view name_or_id,
                                                                 store::ProjectId project) const {
  const bool by_id = id_of(name_or_id).has_value();
  for (const auto& [id, g] : security_groups) {
    if (names_row(g, name_or_id) && (by_id || g.project == project)) return &g;
  }
  return nullptr;
}

store::SecurityGroupId Engine::Impl::ensure_default_group(store::ProjectId project) {
  if (const store::SecurityGroupRow* g = find_security_group(kDefaultSecurityGroup, project)) {
    return g->id;
  }
  // Neutron makes a project's default group on the project's first use of security groups,
  // not when the project is made: projects live in the identity store (auth/), and the
  // projects made before groups had owners need one all the same.
  const store::SecurityGroupRow row =
      default_group_row(++max_security_group_id, project, clock.now_ms());
  security_groups[row.id] = row;
  touch_security_group(security_groups[row.id]);
  return row.id;
}

Result<std::vector<store::SecurityGroupId>> Engine::Impl::security_group_ids(
    const std::vector<std::string>& names, store::ProjectId project, ErrorCode missing) {
  if (names.empty()) return std::vector<store::SecurityGroupId>{ensure_default_group(project)};
  if (names.size() > static_cast<std::size_t>(store::kMaxSecurityGroupsPerNic)) {
    return fail(Error::invalid_argument("a NIC is in at most " +
                                        std::to_string(store::kMaxSecurityGroupsPerNic) +
                                        " security groups"));
  }
  std::vector<store::SecurityGroupId> out;
  for (const std::string& name : names) {
    if (name == kDefaultSecurityGroup) ensure_default_group(project);
    const store::SecurityGroupRow* row = find_security_group(name, project);
    // By id, a group of any project is found: only the VM's own project's may be listed.
    if (row == nullptr || row->project != project) {
      return fail(Error{missing, "no security group " + name, {}, {}});
    }
    if (std::ranges::find(out, row->id) == out.end()) out.push_back(row->id);
  }
  return out;
}

}  // namespace corral::engine
