// The routes the HTTP server serves: the one list (method, path pattern, help text), in the
// style of Envoy's admin `makeHandler(prefix, help_text, handler, ...)`.
//
// Contract:
// - kRoutes[i].id == RouteId(i) (static_assert below), and the server registers kRoutes in
//   order, so Router::Match::route is a RouteId's number (route_id_of).
// - The server maps each RouteId to its handler in a switch without `default` (api/server.cc):
//   a route added here without a handler fails the build (-Werror=switch).
// - docs/api.md names every route as `METHOD /pattern` (routes_test.cc checks both ways).
// It lives apart from the server, without httplib, so that the request fuzzer routes as the
// server does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string_view>

namespace corral::api {

// Numbered in kRoutes' order. Not persisted: renumbering is free.
enum class RouteId : std::uint8_t {
  kCreateVm,
  kListVms,
  kGetVm,
  kDeleteVm,
  kActOnVm,
  kInstanceView,
  kVmHistory,
  kVmMigrations,
  kListMigrations,
  kUpdateNic,
  kLockVm,
  kUnlockVm,
  kGetOperation,
  kListHosts,
  kGetHost,
  kAddHost,
  kActOnHost,
  kDeleteHost,
  kHostJoinToken,
  kListGroups,
  kCreateGroup,
  kGetGroup,
  kDeleteGroup,
  kListNetworks,
  kCreateNetwork,
  kGetNetwork,
  kUpdateNetwork,
  kDeleteNetwork,
  kListVolumes,
  kCreateVolume,
  kGetVolume,
  kActOnVolume,
  kDeleteVolume,
  kListSecurityGroups,
  kCreateSecurityGroup,
  kGetSecurityGroup,
  kSetSecurityGroupRules,
  kAddSecurityGroupRule,
  kDeleteSecurityGroupRule,
  kDeleteSecurityGroup,
  kListImages,
  kVmUsage,
  kConsoleLog,
  kConsoleStream,
  kConsoleInput,
  kConsoleWebSocket,
  kGetStates,
  kStreamEvents,
  kHealthz,
  kUsage,
  kVmActions,
  kAudit,
  kMetrics,
  kLogin,
  kWhoAmI,
  kLogout,
  kListProjects,
  kCreateProject,
  kGetProject,
  kUpdateProject,
  kDeleteProject,
  kProjectMembers,
  kGrantRole,
  kRevokeRole,
  kGetQuotas,
  kSetQuotas,
  kListUsers,
  kCreateUser,
  kGetUser,
  kUpdateUser,
  kDeleteUser,
  kAddFault,
  kListFaults,
  kClearFaults,
  kRemoveFault,
  kExternalEvent,
};

struct Route {
  RouteId id;
  std::string_view method;
  std::string_view pattern;  // literal segments and "{name}" segments (api/router.h)
  std::string_view help;     // one line: what the route does
};

inline constexpr Route kRoutes[] = {
    {RouteId::kCreateVm, "POST", "/v1/vms", "create a VM (202, an operation)"},
    {RouteId::kListVms, "GET", "/v1/vms", "list VMs, filtered and paged"},
    {RouteId::kGetVm, "GET", "/v1/vms/{id}", "read a VM"},
    {RouteId::kDeleteVm, "DELETE", "/v1/vms/{id}", "terminate a VM (202, an operation)"},
    {RouteId::kActOnVm, "POST", "/v1/vms/{id}/actions", "run an action on a VM (202)"},
    {RouteId::kInstanceView, "GET", "/v1/vms/{id}/instance-view", "a VM in Azure's terms"},
    {RouteId::kVmHistory, "GET", "/v1/vms/{id}/history",
     "a VM's transitions, paged, and its host stays"},
    {RouteId::kVmMigrations, "GET", "/v1/vms/{id}/migrations", "a VM's migration records (Nova's)"},
    {RouteId::kListMigrations, "GET", "/v1/migrations",
     "every VM's migration records, newest first, paged (Nova's os-migrations)"},
    {RouteId::kUpdateNic, "PUT", "/v1/vms/{id}/nics/{nic}",
     "change a NIC's security groups (running VMs too: only firewalls change)"},
    {RouteId::kLockVm, "PUT", "/v1/vms/{id}/lock",
     "lock a VM: its actions are refused to all but the cloud's admin (Nova's lock)"},
    {RouteId::kUnlockVm, "DELETE", "/v1/vms/{id}/lock",
     "unlock a VM (one the admin locked: the admin only)"},
    {RouteId::kGetOperation, "GET", "/v1/operations/{id}", "read an operation"},
    {RouteId::kListHosts, "GET", "/v1/hosts", "hosts with their state, capacity and use"},
    {RouteId::kGetHost, "GET", "/v1/hosts/{name}", "read a host"},
    {RouteId::kAddHost, "POST", "/v1/hosts", "add a host (201, with a one-time join token)"},
    {RouteId::kActOnHost, "POST", "/v1/hosts/{name}/action",
     "enable, disable, offline, flush, force_down or unforce_down a host"},
    {RouteId::kDeleteHost, "DELETE", "/v1/hosts/{name}", "forget a host that holds no VM"},
    {RouteId::kHostJoinToken, "POST", "/v1/hosts/{name}/join-token",
     "a new one-time join token for a host's agent"},
    {RouteId::kListGroups, "GET", "/v1/server-groups", "server groups with their members"},
    {RouteId::kCreateGroup, "POST", "/v1/server-groups",
     "create a server group (affinity, anti-affinity, soft-affinity, soft-anti-affinity)"},
    {RouteId::kGetGroup, "GET", "/v1/server-groups/{name}", "read a server group (name or id)"},
    {RouteId::kDeleteGroup, "DELETE", "/v1/server-groups/{name}",
     "delete a server group that has no members"},
    {RouteId::kListNetworks, "GET", "/v1/networks", "virtual networks with their leases"},
    {RouteId::kCreateNetwork, "POST", "/v1/networks",
     "create a virtual network with an IPv4 range (201; READY once built)"},
    {RouteId::kGetNetwork, "GET", "/v1/networks/{name}", "read a network (name or id)"},
    {RouteId::kUpdateNetwork, "PATCH", "/v1/networks/{name}",
     "change a network's description, or (the cloud's admin) whether it is shared"},
    {RouteId::kDeleteNetwork, "DELETE", "/v1/networks/{name}",
     "delete a network that holds no lease"},
    {RouteId::kListVolumes, "GET", "/v1/volumes", "persistent volumes with their snapshots"},
    {RouteId::kCreateVolume, "POST", "/v1/volumes",
     "create a volume (201; available once its file exists)"},
    {RouteId::kGetVolume, "GET", "/v1/volumes/{name}", "read a volume (name or id)"},
    {RouteId::kActOnVolume, "POST", "/v1/volumes/{name}/action",
     "extend, snapshot or delete_snapshot a volume"},
    {RouteId::kDeleteVolume, "DELETE", "/v1/volumes/{name}",
     "delete a volume that is not attached and has no snapshots"},
    {RouteId::kListSecurityGroups, "GET", "/v1/security-groups",
     "security groups with their rules and NICs"},
    {RouteId::kCreateSecurityGroup, "POST", "/v1/security-groups",
     "create a security group (rules in Neutron's or OpenNebula's words)"},
    {RouteId::kGetSecurityGroup, "GET", "/v1/security-groups/{name}",
     "read a security group (name or id)"},
    {RouteId::kSetSecurityGroupRules, "PUT", "/v1/security-groups/{name}/rules",
     "replace a security group's rules"},
    {RouteId::kAddSecurityGroupRule, "POST", "/v1/security-groups/{name}/rules",
     "add one rule to a security group (201)"},
    {RouteId::kDeleteSecurityGroupRule, "DELETE", "/v1/security-groups/{name}/rules/{rule}",
     "remove one rule of a security group"},
    {RouteId::kDeleteSecurityGroup, "DELETE", "/v1/security-groups/{name}",
     "delete a security group no NIC lists (never default)"},
    {RouteId::kListImages, "GET", "/v1/images", "images VMs can boot"},
    {RouteId::kVmUsage, "GET", "/v1/monitoring", "what each VM uses now (cpu%)"},
    {RouteId::kConsoleLog, "GET", "/v1/vms/{id}/console/log", "the tail of a VM's serial output"},
    {RouteId::kConsoleStream, "GET", "/v1/vms/{id}/console", "stream a VM's serial output"},
    {RouteId::kConsoleInput, "POST", "/v1/vms/{id}/console", "type into a VM's serial console"},
    {RouteId::kConsoleWebSocket, "GET", "/v1/vms/{id}/console/ws",
     "a VM's serial console both ways over a WebSocket"},
    {RouteId::kGetStates, "GET", "/v1/states", "the state model, as data"},
    {RouteId::kStreamEvents, "GET", "/v1/events", "committed transitions, as Server-Sent Events"},
    {RouteId::kHealthz, "GET", "/healthz", "liveness and counters"},
    {RouteId::kUsage, "GET", "/v1/usage",
     "hours per billing class, vCPU- and memory-hours, per VM and project, from the history"},
    {RouteId::kVmActions, "GET", "/v1/vms/{id}/actions",
     "the audit log of one VM: every request that named it, who, from where, and the outcome"},
    {RouteId::kAudit, "GET", "/v1/audit",
     "the audit log: every request but successful reads, refusals included (cloud admin)"},
    {RouteId::kMetrics, "GET", "/metrics", "Prometheus metrics, in the text exposition format"},
    {RouteId::kLogin, "POST", "/v1/auth/tokens",
     "log in with a user name and password: a token scoped to one project (201, shown once)"},
    {RouteId::kWhoAmI, "GET", "/v1/auth/token", "the caller: user, project, role, expiry"},
    {RouteId::kLogout, "DELETE", "/v1/auth/token", "revoke the token the request carries"},
    {RouteId::kListProjects, "GET", "/v1/projects",
     "projects (the caller's own; every one for the cloud's admin)"},
    {RouteId::kCreateProject, "POST", "/v1/projects", "create a project (201)"},
    {RouteId::kGetProject, "GET", "/v1/projects/{name}", "read a project (name or id)"},
    {RouteId::kUpdateProject, "PATCH", "/v1/projects/{name}",
     "enable or disable a project, or change its description"},
    {RouteId::kDeleteProject, "DELETE", "/v1/projects/{name}",
     "delete a project that owns nothing: no VM, volume, network, server or security group"},
    {RouteId::kProjectMembers, "GET", "/v1/projects/{name}/users",
     "a project's users with their roles"},
    {RouteId::kGrantRole, "PUT", "/v1/projects/{name}/users/{user}/roles/{role}",
     "give a user a role on a project (replacing the one they had)"},
    {RouteId::kRevokeRole, "DELETE", "/v1/projects/{name}/users/{user}/roles/{role}",
     "take a user's role on a project away"},
    {RouteId::kGetQuotas, "GET", "/v1/projects/{name}/quotas",
     "a project's quotas: each resource's limit and use"},
    {RouteId::kSetQuotas, "PUT", "/v1/projects/{name}/quotas",
     "change a project's limits (-1: none; null: the default)"},
    {RouteId::kListUsers, "GET", "/v1/users", "users with their roles"},
    {RouteId::kCreateUser, "POST", "/v1/users", "create a user with a password (201)"},
    {RouteId::kGetUser, "GET", "/v1/users/{name}", "read a user (name or id)"},
    {RouteId::kUpdateUser, "PATCH", "/v1/users/{name}",
     "change a user's password or enable/disable them (their tokens are revoked)"},
    {RouteId::kDeleteUser, "DELETE", "/v1/users/{name}",
     "delete a user (their tokens are revoked)"},
    {RouteId::kAddFault, "POST", "/v1/admin/faults", "sim: inject a fault"},
    {RouteId::kListFaults, "GET", "/v1/admin/faults", "sim: the faults in force"},
    {RouteId::kClearFaults, "DELETE", "/v1/admin/faults", "sim: remove every fault"},
    {RouteId::kRemoveFault, "DELETE", "/v1/admin/faults/{id}", "sim: remove one fault"},
    {RouteId::kExternalEvent, "POST", "/v1/admin/vms/{id}/external",
     "sim: something the hypervisor does by itself"},
};

constexpr bool routes_numbered_in_order() {
  for (std::size_t i = 0; i < std::size(kRoutes); ++i) {
    if (static_cast<std::size_t>(kRoutes[i].id) != i) return false;
  }
  return true;
}
static_assert(routes_numbered_in_order(), "kRoutes[i].id must be RouteId(i)");
static_assert(static_cast<std::size_t>(RouteId::kExternalEvent) + 1 == std::size(kRoutes),
              "every RouteId has its kRoutes entry (the last RouteId is kRoutes' last)");

// The route of a Router::Match::route (the server registers kRoutes in order).
constexpr RouteId route_id_of(std::size_t index) { return kRoutes[index].id; }

}  // namespace corral::api
