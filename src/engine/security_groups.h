// Security groups as the engine's API shows them (docs/security-groups.md): named sets of
// allow rules; a NIC lists the groups it is in (store::Nic::security_groups). The engine's
// methods are in engine.h; the rows in store/types.h; the rules' meaning in
// net/security_group.h, which the API's parsers and the firewall share.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "net/security_group.h"
#include "store/types.h"

namespace corral::engine {

inline constexpr const char* kDefaultSecurityGroup = "default";
inline constexpr std::size_t kMaxRulesPerGroup = 256;

// What a rule is in a request: the parsed rule, or (the default group's ingress rule) one
// whose remote is the network of each NIC it applies to.
struct RuleSpec {
  net::SecurityGroupRule rule;
  bool remote_own_network = false;  // `rule.remote` must then be empty
};

enum class SecurityGroupOp : std::uint8_t {
  kCreate = 1,      // spec: name, description, rules; the name unique in `project`
  kDelete = 2,      // kConflict while a NIC lists it, and for a project's "default"
  kSetRules = 3,    // spec.rules replace the group's
  kAddRule = 4,     // spec.rules holds one rule, appended
  kDeleteRule = 5,  // `rule`: its id
  // nic_update (Neutron's port update, OpenNebula's NIC SECURITY_GROUPS): NIC `nic` of VM
  // `vm` is in `groups` from now on (empty: default), on a running VM too: no hotplug, only
  // the firewalls of the hosts it runs on change. The groups must be the VM's project's
  // (kNotFound otherwise, as for a group that does not exist).
  kSetNicGroups = 6,
  // `project`'s default group, made now if it has none (Neutron makes it on a project's first
  // use): answers the group.
  kEnsureDefault = 7,
};

struct SecurityGroupRequest {
  SecurityGroupOp op = SecurityGroupOp::kCreate;
  // The caller's project: a create's owner, where a name is looked up (an id names a group of
  // any project: the API checks who may see it before asking), kEnsureDefault's project.
  store::ProjectId project = store::kAdminProjectId;
  std::string name_or_id;  // all but create
  std::string name;        // create: [a-z0-9][a-z0-9._-]{0,62}, not all digits
  std::string description;
  std::vector<RuleSpec> rules;
  std::int64_t rule = 0;            // delete_rule
  store::VmId vm = 0;               // set_nic_groups
  int nic = -1;                     // set_nic_groups: the NIC's index
  std::vector<std::string> groups;  // set_nic_groups: names or ids
};

struct SecurityGroupMember {
  store::VmId vm = 0;
  int nic = 0;
  friend bool operator==(const SecurityGroupMember&, const SecurityGroupMember&) = default;
};

struct SecurityGroupDetail {
  store::SecurityGroupRow row;
  std::vector<SecurityGroupMember> nics;  // the NICs of VMs not DONE that list it, by (vm, nic)
  std::int64_t added_rule = 0;            // add_rule: the new rule's id
};

// A stored rule back as a rule (its remote empty for an own-network rule); kInternal for a row
// that does not hold a valid rule (a newer corral's numbers).
[[nodiscard]] Result<net::SecurityGroupRule> rule_of(const store::SecurityGroupRuleRow& row);
// The stored form of a checked rule (id left 0).
store::SecurityGroupRuleRow row_of(const RuleSpec& spec);
// Neutron's default group's rules, stored: every egress; ingress from the NIC's own network.
std::vector<RuleSpec> default_group_rule_specs();
// A project's "default" group with those rules (its id and times given).
store::SecurityGroupRow default_group_row(store::SecurityGroupId id, store::ProjectId project,
                                          Millis now);

}  // namespace corral::engine
