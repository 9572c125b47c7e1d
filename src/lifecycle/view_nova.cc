// Nova's view: vm_state x task_state x power_state, and the API status (_STATE_MAP).
#include "lifecycle/views.h"

namespace corral::lifecycle {
namespace {

using V = NovaVmState;
using T = NovaTaskState;
using S = State;
using A = Action;
using P = Phase;

V vm_state_at_rest(State state) {
  switch (state) {
    case S::kInit:
    case S::kPending:
    case S::kHold:
      return V::kBuilding;
    case S::kRunning:
    case S::kUnknown:
      return V::kActive;  // Nova: active with power_state NOSTATE
    case S::kPaused:
      return V::kPaused;
    case S::kSuspended:
      return V::kSuspended;
    case S::kPoweroff:
      return V::kStopped;
    case S::kHibernated:
    case S::kDeallocated:
      return V::kShelvedOffloaded;
    case S::kShelved:
      return V::kShelved;
    case S::kRescued:
      return V::kRescued;
    case S::kResized:
      return V::kResized;
    case S::kSoftDeleted:
      return V::kSoftDeleted;
    case S::kFailed:
      return V::kError;
    case S::kDone:
      return V::kDeleted;
  }
  return V::kError;
}

// The task_state of a running operation: one per compute API, named after its verb.
T task_of(const Operation& op, Phase phase) {
  const State o = op.origin;
  const bool offloaded = o == S::kDeallocated || o == S::kHibernated || o == S::kShelved;
  switch (op.action) {
    case A::kCreate:
      return T::kScheduling;
    case A::kDeploy:
      if (phase == P::kProlog) return T::kBlockDeviceMapping;
      if (phase == P::kBoot) return T::kSpawning;
      return T::kNone;  // spawned: Nova says active while the guest boots
    case A::kShutdown:
    case A::kShutdownHard:
      return T::kPoweringOff;
    case A::kStart:
      return offloaded ? T::kUnshelving : T::kPoweringOn;
    case A::kReboot:
      return T::kRebooting;
    case A::kRebootHard:
      return T::kRebootingHard;
    case A::kPause:
      return T::kPausing;
    case A::kUnpause:
      return T::kUnpausing;
    case A::kSuspend:
      return T::kSuspending;
    case A::kResume:
      return offloaded ? T::kUnshelving : T::kResuming;
    case A::kHibernate:
      return phase == P::kSave ? T::kSuspending : T::kShelvingOffloading;
    case A::kDeallocate:
    case A::kDeallocateHard:
      return phase == P::kEpilog ? T::kShelvingOffloading : T::kPoweringOff;
    case A::kTerminate:
    case A::kTerminateHard:
    case A::kRecoverDelete:
      return T::kDeleting;
    case A::kRecoverRecreate:
      return T::kRebuilding;
    case A::kMigrate:
      // The source's copy goes last: Nova's (auto-)confirm, which sets no task_state.
      if (phase == P::kCleanup) return T::kNone;
      return (phase == P::kSave || phase == P::kProlog) ? T::kResizeMigrating : T::kResizeFinish;
    case A::kLiveMigrate:
      return T::kMigrating;
    case A::kResize:
      return T::kResizePrep;
    case A::kResizeMigrate:
      if (phase == P::kProlog) return T::kResizeMigrated;  // the disk is on the target
      return phase == P::kBoot ? T::kResizeFinish : T::kResizeMigrating;
    case A::kConfirmResize:
      return T::kNone;  // Nova confirms on the migration, no task_state
    case A::kRevertResize:
      return T::kResizeReverting;
    case A::kRescue:
      return T::kRescuing;
    case A::kUnrescue:
      return T::kUnrescuing;
    case A::kRebuild:
      return phase == P::kBoot ? T::kRebuildSpawning : T::kRebuilding;
    case A::kSetAdminPassword:
      return T::kUpdatingPassword;
    case A::kSnapshot:
      return phase == P::kUpload ? T::kImageUploading : T::kImageSnapshot;
    case A::kBackup:
      return phase == P::kUpload ? T::kImageUploading : T::kImageBackup;
    case A::kShelve:
    case A::kShelveOffload:
      if (phase == P::kEpilog) return T::kShelvingOffloading;
      return phase == P::kUpload ? T::kShelvingImageUploading : T::kShelving;
    case A::kSoftDelete:
      return T::kSoftDeleting;
    case A::kRestore:
      return T::kRestoring;
    case A::kDiskSnapshot:
    case A::kDiskSnapshotRevert:
    case A::kDiskSnapshotDelete:
    case A::kCheckpoint:
    case A::kCheckpointRevert:
    case A::kCheckpointDelete:
      return T::kImageSnapshot;
    // Nova attaches volumes and interfaces and grows disks without a task_state.
    case A::kDiskAttach:
    case A::kDiskDetach:
    case A::kNicAttach:
    case A::kNicDetach:
    case A::kDiskResize:
    // Instant and meta actions never leave an operation running.
    case A::kHold:
    case A::kRelease:
    case A::kResched:
    case A::kUnresched:
    case A::kCancel:
    case A::kRecoverRetry:
    case A::kRecoverSuccess:
    case A::kRecoverFailure:
    case A::kResetState:
    case A::kObservedLost:
    case A::kObservedPoweroff:
    case A::kObservedRunning:
    case A::kObservedPower:
      return T::kNone;
  }
  return T::kNone;
}

template <std::size_t N>
bool is_one_of(T t, const std::array<T, N>& set) {
  for (T x : set) {
    if (x == t) return true;
  }
  return false;
}

}  // namespace

const std::array<NovaVmState, 12> kAllNovaVmStates = {
    V::kActive,  V::kBuilding,    V::kPaused,  V::kSuspended, V::kStopped, V::kRescued,
    V::kResized, V::kSoftDeleted, V::kDeleted, V::kError,     V::kShelved, V::kShelvedOffloaded};

const std::array<NovaTaskState, 43> kAllNovaTaskStates = {
    T::kNone,
    T::kScheduling,
    T::kBlockDeviceMapping,
    T::kNetworking,
    T::kSpawning,
    T::kImageSnapshot,
    T::kImageSnapshotPending,
    T::kImagePendingUpload,
    T::kImageUploading,
    T::kImageBackup,
    T::kUpdatingPassword,
    T::kResizePrep,
    T::kResizeMigrating,
    T::kResizeMigrated,
    T::kResizeFinish,
    T::kResizeReverting,
    T::kResizeConfirming,
    T::kRebooting,
    T::kRebootPending,
    T::kRebootStarted,
    T::kRebootingHard,
    T::kRebootPendingHard,
    T::kRebootStartedHard,
    T::kPausing,
    T::kUnpausing,
    T::kSuspending,
    T::kResuming,
    T::kPoweringOff,
    T::kPoweringOn,
    T::kRescuing,
    T::kUnrescuing,
    T::kRebuilding,
    T::kRebuildBlockDeviceMapping,
    T::kRebuildSpawning,
    T::kMigrating,
    T::kDeleting,
    T::kSoftDeleting,
    T::kRestoring,
    T::kShelving,
    T::kShelvingImagePendingUpload,
    T::kShelvingImageUploading,
    T::kShelvingOffloading,
    T::kUnshelving,
};

std::string_view nova_vm_state_name(NovaVmState state) {
  switch (state) {
    case V::kActive:
      return "active";
    case V::kBuilding:
      return "building";
    case V::kPaused:
      return "paused";
    case V::kSuspended:
      return "suspended";
    case V::kStopped:
      return "stopped";
    case V::kRescued:
      return "rescued";
    case V::kResized:
      return "resized";
    case V::kSoftDeleted:
      return "soft-delete";
    case V::kDeleted:
      return "deleted";
    case V::kError:
      return "error";
    case V::kShelved:
      return "shelved";
    case V::kShelvedOffloaded:
      return "shelved_offloaded";
  }
  return "?";
}

std::string_view nova_task_state_name(NovaTaskState state) {
  switch (state) {
    case T::kNone:
      return "";
    case T::kScheduling:
      return "scheduling";
    case T::kBlockDeviceMapping:
      return "block_device_mapping";
    case T::kNetworking:
      return "networking";
    case T::kSpawning:
      return "spawning";
    case T::kImageSnapshot:
      return "image_snapshot";
    case T::kImageSnapshotPending:
      return "image_snapshot_pending";
    case T::kImagePendingUpload:
      return "image_pending_upload";
    case T::kImageUploading:
      return "image_uploading";
    case T::kImageBackup:
      return "image_backup";
    case T::kUpdatingPassword:
      return "updating_password";
    case T::kResizePrep:
      return "resize_prep";
    case T::kResizeMigrating:
      return "resize_migrating";
    case T::kResizeMigrated:
      return "resize_migrated";
    case T::kResizeFinish:
      return "resize_finish";
    case T::kResizeReverting:
      return "resize_reverting";
    case T::kResizeConfirming:
      return "resize_confirming";
    case T::kRebooting:
      return "rebooting";
    case T::kRebootPending:
      return "reboot_pending";
    case T::kRebootStarted:
      return "reboot_started";
    case T::kRebootingHard:
      return "rebooting_hard";
    case T::kRebootPendingHard:
      return "reboot_pending_hard";
    case T::kRebootStartedHard:
      return "reboot_started_hard";
    case T::kPausing:
      return "pausing";
    case T::kUnpausing:
      return "unpausing";
    case T::kSuspending:
      return "suspending";
    case T::kResuming:
      return "resuming";
    case T::kPoweringOff:
      return "powering-off";
    case T::kPoweringOn:
      return "powering-on";
    case T::kRescuing:
      return "rescuing";
    case T::kUnrescuing:
      return "unrescuing";
    case T::kRebuilding:
      return "rebuilding";
    case T::kRebuildBlockDeviceMapping:
      return "rebuild_block_device_mapping";
    case T::kRebuildSpawning:
      return "rebuild_spawning";
    case T::kMigrating:
      return "migrating";
    case T::kDeleting:
      return "deleting";
    case T::kSoftDeleting:
      return "soft-deleting";
    case T::kRestoring:
      return "restoring";
    case T::kShelving:
      return "shelving";
    case T::kShelvingImagePendingUpload:
      return "shelving_image_pending_upload";
    case T::kShelvingImageUploading:
      return "shelving_image_uploading";
    case T::kShelvingOffloading:
      return "shelving_offloading";
    case T::kUnshelving:
      return "unshelving";
  }
  return "?";
}

std::string_view nova_power_state_name(int power_state) {
  switch (power_state) {
    case 0:
      return "NOSTATE";
    case 1:
      return "Running";
    case 3:
      return "Paused";
    case 4:
      return "Shutdown";
    case 6:
      return "Crashed";
    case 7:
      return "Suspended";
    default:
      return "NOSTATE";  // an int from the wire, not an enum
  }
}

// nova/api/openstack/common.py _STATE_MAP (see shared/reference/nova.md §5).
std::string_view nova_status(NovaVmState vm_state, NovaTaskState task) {
  constexpr std::array kReboot = {T::kRebooting, T::kRebootPending, T::kRebootStarted};
  constexpr std::array kHardReboot = {T::kRebootingHard, T::kRebootPendingHard,
                                      T::kRebootStartedHard};
  constexpr std::array kRebuild = {T::kRebuilding, T::kRebuildBlockDeviceMapping,
                                   T::kRebuildSpawning};
  constexpr std::array kResize = {T::kResizePrep, T::kResizeMigrating, T::kResizeMigrated,
                                  T::kResizeFinish};
  switch (vm_state) {
    case V::kActive:
      if (is_one_of(task, kReboot)) return "REBOOT";
      if (is_one_of(task, kHardReboot)) return "HARD_REBOOT";
      if (task == T::kUpdatingPassword) return "PASSWORD";
      if (is_one_of(task, kRebuild)) return "REBUILD";
      if (task == T::kMigrating) return "MIGRATING";
      if (is_one_of(task, kResize)) return "RESIZE";
      return "ACTIVE";
    case V::kBuilding:
      return "BUILD";
    case V::kStopped:
      if (is_one_of(task, kResize)) return "RESIZE";
      if (is_one_of(task, kRebuild)) return "REBUILD";
      return "SHUTOFF";
    case V::kResized:
      return task == T::kResizeReverting ? "REVERT_RESIZE" : "VERIFY_RESIZE";
    case V::kPaused:
      return task == T::kMigrating ? "MIGRATING" : "PAUSED";
    case V::kSuspended:
      return "SUSPENDED";
    case V::kRescued:
      return "RESCUE";
    case V::kError:
      return is_one_of(task, kRebuild) ? "REBUILD" : "ERROR";
    case V::kDeleted:
      return "DELETED";
    case V::kSoftDeleted:
      return "SOFT_DELETED";
    case V::kShelved:
      return "SHELVED";
    case V::kShelvedOffloaded:
      return "SHELVED_OFFLOADED";
  }
  return "UNKNOWN";
}

NovaView nova_view(const VmRecord& record) {
  NovaView view;
  view.power_state = static_cast<int>(record.power);
  if (record.busy()) {
    const Operation& op = *record.op;
    const Phase phase = current_phase(op);
    view.task_state = task_of(op, phase);
    // vm_state changes only when a task ends; creation is "building" until spawned.
    if (op.action == A::kCreate) {
      view.vm_state = V::kBuilding;
    } else if (op.action == A::kDeploy) {
      const bool spawned = phase == P::kOsProvisioning || phase == P::kOsProvisioned;
      view.vm_state = spawned ? V::kActive : V::kBuilding;
      // Spawned is active / 1 to Nova (nova.md:26, _update_instance_after_spawn): the guest
      // runs while its OS provisions (seed 000:276), whatever the record's power still says.
      if (spawned) view.power_state = static_cast<int>(Power::kRunning);
    } else {
      view.vm_state = vm_state_at_rest(op.origin);
    }
  } else {
    view.vm_state = vm_state_at_rest(record.state);
    // A VM waiting for a host is being scheduled.
    if (record.state == S::kPending) view.task_state = T::kScheduling;
  }
  view.status = nova_status(view.vm_state, view.task_state);
  return view;
}

}  // namespace corral::lifecycle
