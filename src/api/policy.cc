#include "api/policy.h"

#include <string>

namespace corral::api {

using lifecycle::Action;

namespace {
constexpr Need kMember{kProject, Role::kMember};
constexpr Need kManager{kProject, Role::kManager};
constexpr Need kAdmin{kCloudAdmin, Role::kAdmin};
}  // namespace

const ActionPolicy kActionPolicy[] = {
    {Action::kCreate, kMember},
    // OpenNebula's ADMIN right: deploy, recover, resched; Nova's admin: reset-state, migrate
    // to a named host.
    {Action::kDeploy, kAdmin},
    {Action::kHold, kMember},
    {Action::kRelease, kMember},
    {Action::kShutdown, kMember},
    {Action::kShutdownHard, kMember},
    {Action::kStart, kMember},
    {Action::kReboot, kMember},
    {Action::kRebootHard, kMember},
    {Action::kPause, kMember},
    {Action::kUnpause, kMember},
    {Action::kSuspend, kMember},
    {Action::kResume, kMember},
    {Action::kHibernate, kMember},
    {Action::kDeallocate, kMember},
    {Action::kDeallocateHard, kMember},
    {Action::kTerminate, kMember},
    {Action::kTerminateHard, kMember},
    // Nova 2023.2: a project's manager may migrate (not to a host of their choosing).
    {Action::kMigrate, kManager},
    {Action::kLiveMigrate, kManager},
    {Action::kResched, kAdmin},
    {Action::kUnresched, kAdmin},
    {Action::kResize, kMember},
    {Action::kResizeMigrate, kMember},
    {Action::kConfirmResize, kMember},
    {Action::kRevertResize, kMember},
    {Action::kRescue, kMember},
    {Action::kUnrescue, kMember},
    {Action::kRebuild, kMember},
    {Action::kSetAdminPassword, kMember},
    {Action::kSnapshot, kMember},
    {Action::kBackup, kMember},
    {Action::kShelve, kMember},
    // Nova's shelveOffload is an admin's, but a member's shelve is offloaded at once by Nova
    // itself (shelved_offload_time=0, the default) and Nova's `shelve` verb here is this
    // action: refusing it would refuse the member Nova's own `openstack server shelve`.
    {Action::kShelveOffload, kMember},
    {Action::kSoftDelete, kMember},
    {Action::kRestore, kMember},
    {Action::kDiskAttach, kMember},
    {Action::kDiskDetach, kMember},
    {Action::kNicAttach, kMember},
    {Action::kNicDetach, kMember},
    {Action::kDiskSnapshot, kMember},
    {Action::kDiskSnapshotRevert, kMember},
    {Action::kDiskSnapshotDelete, kMember},
    {Action::kDiskResize, kMember},
    {Action::kCheckpoint, kMember},
    {Action::kCheckpointRevert, kMember},
    {Action::kCheckpointDelete, kMember},
    {Action::kCancel, kMember},
    {Action::kRecoverRetry, kAdmin},
    {Action::kRecoverSuccess, kAdmin},
    {Action::kRecoverFailure, kAdmin},
    {Action::kRecoverDelete, kAdmin},
    {Action::kRecoverRecreate, kAdmin},
    {Action::kResetState, kAdmin},
    {Action::kObservedLost, kAdmin},
    {Action::kObservedPoweroff, kAdmin},
    {Action::kObservedRunning, kAdmin},
    {Action::kObservedPower, kAdmin},
};
const std::size_t kActionPolicySize = std::size(kActionPolicy);

Need need_for_action(Action action, bool names_host) {
  if (names_host) return kAdmin;
  for (const ActionPolicy& row : kActionPolicy) {
    if (row.action == action) return row.need;
  }
  return kAdmin;  // not in the table: nobody but the cloud's admin (policy_test: unreachable)
}

Need need_for_route(RouteId route) { return kRoutePolicy[static_cast<std::size_t>(route)].need; }

Status authorize(const auth::Principal* caller, const Need& need, std::string_view what) {
  if (need.access == kPublic) return {};
  if (caller == nullptr) {
    return fail(Error{ErrorCode::kUnauthenticated,
                      std::string(what) + " needs a token: log in (corral login) first",
                      {},
                      {}});
  }
  const auto forbidden = [&](const std::string& needs) {
    return fail(Error{ErrorCode::kForbidden,
                      std::string(what) + " needs " + needs + "; " + caller->user_name + " is " +
                          std::string(auth::role_name(caller->role)) + " on project " +
                          caller->project_name,
                      {},
                      {}});
  };
  switch (need.access) {
    case kPublic:
    case kAuthenticated:
      return {};
    case kProject:
      if (caller->cloud_admin() || auth::role_implies(caller->role, need.role)) return {};
      return forbidden("the role " + std::string(auth::role_name(need.role)) +
                       " (or one above it) on the project");
    case kCloudAdmin:
      if (caller->cloud_admin()) return {};
      return forbidden("the role admin on the admin project");
  }
  return forbidden("the role admin on the admin project");
}

bool can_see(const auth::Principal* caller, store::ProjectId project) {
  return caller != nullptr && (caller->cloud_admin() || caller->project == project);
}

bool can_see_network(const auth::Principal* caller, store::ProjectId project, bool shared) {
  return caller != nullptr && (shared || can_see(caller, project));
}

bool can_change_network(const auth::Principal* caller, store::ProjectId project, bool shared) {
  return can_see(caller, project) && (!shared || caller->cloud_admin());
}

}  // namespace corral::api
