// The policy: which caller may call which route, and which VM action — one table, as data,
// checked in one place (the server, before any handler; act_on_vm for the action).
//
// Contract:
// - kRoutePolicy[i] is RouteId(i)'s rule (static_asserts below), so a route without a rule
//   fails the build. kActionPolicy has one row per user action (policy_test.cc checks every
//   canonical action and, through the vocabularies, every verb of every vocabulary).
// - kPublic: no token needed. kAuthenticated: any valid token. kProject: the caller's role on
//   the token's project must imply `role` (roles.h); the objects of other projects are not
//   found (404, never 403: their existence does not leak) — the handlers look objects up
//   through can_see(). kCloudAdmin: admin on the admin project, nothing less (Keystone bug
//   968696 was admin on any project being admin everywhere).
// - A refusal is kForbidden naming what is needed and what the caller has.
// - Defaults after Nova's (reader reads, member changes, manager moves, admin administers)
//   and OpenNebula's rights (ADMIN: deploy, recover; MANAGE: the rest of the VM verbs).
#pragma once

#include <cstddef>
#include <iterator>

#include "api/routes.h"
#include "auth/identity.h"
#include "auth/roles.h"
#include "common/result.h"
#include "lifecycle/types.h"

namespace corral::api {

enum class Access : std::uint8_t {
  kPublic,
  kAuthenticated,
  kProject,
  kCloudAdmin,
};

struct Need {
  Access access = Access::kProject;
  auth::Role role = auth::Role::kReader;  // for kProject
  friend bool operator==(const Need&, const Need&) = default;
};

struct RoutePolicy {
  RouteId route;
  Need need;
};

using auth::Role;
using enum Access;

inline constexpr RoutePolicy kRoutePolicy[] = {
    {RouteId::kCreateVm, {kProject, Role::kMember}},
    {RouteId::kListVms, {kProject, Role::kReader}},
    {RouteId::kGetVm, {kProject, Role::kReader}},
    {RouteId::kDeleteVm, {kProject, Role::kMember}},
    // Each action has its own need (kActionPolicy); a member's is the least any of them needs,
    // checked before the verb is resolved (a reader learns nothing of the VM's state).
    {RouteId::kActOnVm, {kProject, Role::kMember}},
    {RouteId::kInstanceView, {kProject, Role::kReader}},
    {RouteId::kVmHistory, {kProject, Role::kReader}},
    // Nova: os_compute_api:servers:migrations:index is PROJECT_MANAGER_OR_ADMIN.
    {RouteId::kVmMigrations, {kProject, Role::kManager}},
    // Every project's moves, with their hosts: the cloud's admin (Nova's os-migrations).
    {RouteId::kListMigrations, {kCloudAdmin, Role::kAdmin}},
    {RouteId::kUpdateNic, {kProject, Role::kMember}},
    // Nova's os-lock-server: the owner (a member) or the admin; unlocking the admin's lock is
    // the admin's (the engine refuses it to the rest).
    {RouteId::kLockVm, {kProject, Role::kMember}},
    {RouteId::kUnlockVm, {kProject, Role::kMember}},
    {RouteId::kGetOperation, {kProject, Role::kReader}},
    // Hosts are the cloud's, not a project's (Nova's os-hypervisors and services: admin).
    {RouteId::kListHosts, {kCloudAdmin, Role::kAdmin}},
    {RouteId::kGetHost, {kCloudAdmin, Role::kAdmin}},
    {RouteId::kAddHost, {kCloudAdmin, Role::kAdmin}},
    {RouteId::kActOnHost, {kCloudAdmin, Role::kAdmin}},
    {RouteId::kDeleteHost, {kCloudAdmin, Role::kAdmin}},
    {RouteId::kHostJoinToken, {kCloudAdmin, Role::kAdmin}},
    // Server groups, networks, volumes and security groups belong to projects: a project's
    // readers see them, its members make, change and delete them (Nova's os-server-groups,
    // Neutron's and Cinder's defaults); another project's are not found. Two more rules sit
    // in the handlers, as Neutron's attribute policies: only the cloud's admin sets a
    // network's `shared` (create_network:shared is admin_only), and a shared network, which
    // every project sees, is changed and deleted by the cloud's admin only (can_change_network
    // below: 403 to the others, who see it).
    {RouteId::kListGroups, {kProject, Role::kReader}},
    {RouteId::kCreateGroup, {kProject, Role::kMember}},
    {RouteId::kGetGroup, {kProject, Role::kReader}},
    {RouteId::kDeleteGroup, {kProject, Role::kMember}},
    {RouteId::kListNetworks, {kProject, Role::kReader}},
    {RouteId::kCreateNetwork, {kProject, Role::kMember}},
    {RouteId::kGetNetwork, {kProject, Role::kReader}},
    {RouteId::kUpdateNetwork, {kProject, Role::kMember}},
    {RouteId::kDeleteNetwork, {kProject, Role::kMember}},
    {RouteId::kListVolumes, {kProject, Role::kReader}},
    // Cinder's defaults: a project's members make, change and delete its volumes.
    {RouteId::kCreateVolume, {kProject, Role::kMember}},
    {RouteId::kGetVolume, {kProject, Role::kReader}},
    {RouteId::kActOnVolume, {kProject, Role::kMember}},
    {RouteId::kDeleteVolume, {kProject, Role::kMember}},
    {RouteId::kListSecurityGroups, {kProject, Role::kReader}},
    {RouteId::kCreateSecurityGroup, {kProject, Role::kMember}},
    {RouteId::kGetSecurityGroup, {kProject, Role::kReader}},
    {RouteId::kSetSecurityGroupRules, {kProject, Role::kMember}},
    {RouteId::kAddSecurityGroupRule, {kProject, Role::kMember}},
    {RouteId::kDeleteSecurityGroupRule, {kProject, Role::kMember}},
    {RouteId::kDeleteSecurityGroup, {kProject, Role::kMember}},
    // Azure's resource groups: a subscription's Reader reads them, a Contributor makes them.
    {RouteId::kListResourceGroups, {kProject, Role::kReader}},
    {RouteId::kPutResourceGroup, {kProject, Role::kMember}},
    {RouteId::kGetResourceGroup, {kProject, Role::kReader}},
    {RouteId::kDeleteResourceGroup, {kProject, Role::kMember}},
    {RouteId::kListImages, {kProject, Role::kReader}},
    {RouteId::kVmUsage, {kProject, Role::kReader}},
    // Nova: os-console-output is a member's (it may show secrets the guest prints).
    {RouteId::kConsoleLog, {kProject, Role::kMember}},
    {RouteId::kConsoleStream, {kProject, Role::kMember}},
    {RouteId::kConsoleInput, {kProject, Role::kMember}},
    {RouteId::kConsoleWebSocket, {kProject, Role::kMember}},
    {RouteId::kGetStates, {kAuthenticated, Role::kReader}},
    {RouteId::kStreamEvents, {kProject, Role::kReader}},
    {RouteId::kHealthz, {kPublic, Role::kReader}},
    // Nova: os-simple-tenant-usage:show is a project reader's; :list (every project) admin's.
    {RouteId::kUsage, {kProject, Role::kReader}},
    // Nova: os-instance-actions:list and :show are a project reader's.
    {RouteId::kVmActions, {kProject, Role::kReader}},
    {RouteId::kAudit, {kCloudAdmin, Role::kAdmin}},
    // Counts of every project's VMs and the hosts' capacity: the cloud's operators'. A
    // Prometheus scrapes it with a token (authorization: credentials_file).
    {RouteId::kMetrics, {kCloudAdmin, Role::kAdmin}},
    {RouteId::kLogin, {kPublic, Role::kReader}},
    {RouteId::kWhoAmI, {kAuthenticated, Role::kReader}},
    {RouteId::kLogout, {kAuthenticated, Role::kReader}},
    // Everyone lists the projects they hold a role on (Keystone's GET /v3/auth/projects).
    {RouteId::kListProjects, {kAuthenticated, Role::kReader}},
    {RouteId::kCreateProject, {kCloudAdmin, Role::kAdmin}},
    {RouteId::kGetProject, {kAuthenticated, Role::kReader}},
    {RouteId::kUpdateProject, {kCloudAdmin, Role::kAdmin}},
    {RouteId::kDeleteProject, {kCloudAdmin, Role::kAdmin}},
    // A project's own: its members see who else is in it; its admins give and take roles.
    {RouteId::kProjectMembers, {kProject, Role::kReader}},
    {RouteId::kGrantRole, {kProject, Role::kAdmin}},
    {RouteId::kRevokeRole, {kProject, Role::kAdmin}},
    {RouteId::kGetQuotas, {kProject, Role::kReader}},
    // Nova: quota update is admin only (a project cannot raise its own limits).
    {RouteId::kSetQuotas, {kCloudAdmin, Role::kAdmin}},
    {RouteId::kListUsers, {kCloudAdmin, Role::kAdmin}},
    {RouteId::kCreateUser, {kCloudAdmin, Role::kAdmin}},
    // A user reads and changes (the password of) themselves; the handler lets nobody else but
    // the cloud's admin in.
    {RouteId::kGetUser, {kAuthenticated, Role::kReader}},
    {RouteId::kUpdateUser, {kAuthenticated, Role::kReader}},
    {RouteId::kDeleteUser, {kCloudAdmin, Role::kAdmin}},
    {RouteId::kAddFault, {kCloudAdmin, Role::kAdmin}},
    {RouteId::kListFaults, {kCloudAdmin, Role::kAdmin}},
    {RouteId::kClearFaults, {kCloudAdmin, Role::kAdmin}},
    {RouteId::kRemoveFault, {kCloudAdmin, Role::kAdmin}},
    {RouteId::kExternalEvent, {kCloudAdmin, Role::kAdmin}},
};

constexpr bool route_policy_in_order() {
  for (std::size_t i = 0; i < std::size(kRoutePolicy); ++i) {
    if (static_cast<std::size_t>(kRoutePolicy[i].route) != i) return false;
  }
  return true;
}
static_assert(std::size(kRoutePolicy) == std::size(kRoutes), "every route has its rule");
static_assert(route_policy_in_order(), "kRoutePolicy[i].route must be RouteId(i)");

struct ActionPolicy {
  lifecycle::Action action;
  Need need;
};

// Every user action's rule. The system actions (observed_*) are the hypervisor's: no user
// may ask for them (the vocabularies have no verb for them; their rows say kCloudAdmin so
// that a verb added by mistake would still need the cloud's admin).
extern const ActionPolicy kActionPolicy[];
extern const std::size_t kActionPolicySize;

// A VM action's need. `names_host`: the request picks the target host (deploy, migrate,
// live_migrate with "host"), which only the cloud's admin may do (Nova: migrate to a host).
Need need_for_action(lifecycle::Action action, bool names_host);
Need need_for_route(RouteId route);

// kForbidden unless `caller` meets `need` (kUnauthenticated for no caller on a non-public
// need). `what` names the request in the refusal ("POST /v1/vms", "action migrate").
[[nodiscard]] Status authorize(const auth::Principal* caller, const Need& need,
                               std::string_view what);

// Whether `caller` may see an object of `project`: its own project's, or any for the cloud's
// admin. Objects it may not see are not found.
bool can_see(const auth::Principal* caller, store::ProjectId project);

// Networks (Neutron's shared networks): a project sees its own and the shared ones (and
// attaches VMs to them, which the engine checks again: engine/networks.h); it changes and
// deletes its own only, a shared one being the cloud's admin's alone. A network the caller
// may see but not change is a 403 (Neutron's answer); one it may not see, a 404.
bool can_see_network(const auth::Principal* caller, store::ProjectId project, bool shared);
bool can_change_network(const auth::Principal* caller, store::ProjectId project, bool shared);

}  // namespace corral::api
