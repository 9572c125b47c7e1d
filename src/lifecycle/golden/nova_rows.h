// The Nova golden table's rows (data only), written from shared/reference/nova.md and seeds
// 003/004; nova_golden.cc holds them against the model.
//
// Reading the rows. A row matches a moment by outcome, action, origin and phase (empty sets
// match any); the first matching row is the moment's, and every row must be the first match of
// some moment. Values: kSame is "as the origin at rest" (vm_state, task_state, power_state),
// which is how nova.md:20 "leaves vm_state alone" and nova.md:21 "puts vm_state back" read;
// kIdle is task_state NULL (nova.md:9). The status is not written per row: it comes from the
// status map (kStatusRows, nova.md:160-170) applied to (vm_state, task_state).
//
// A cancel (Azure's; Nova has none) ends a phase by its failure rule with nothing vouched for
// (types.h Integrity::kUnknown), so every failure row covers failed and canceled alike. A row
// marked DISPUTED follows the canonical rule where nova.md says otherwise for Nova alone.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string_view>

#include "lifecycle/golden/golden.h"

namespace corral::lifecycle::golden::nova {

using A = Action;
using P = Phase;
using S = State;

constexpr std::uint8_t bit(Outcome o) {
  return static_cast<std::uint8_t>(1U << static_cast<unsigned>(o));
}
constexpr std::uint8_t kRest = bit(Outcome::kAtRest);
constexpr std::uint8_t kRun = bit(Outcome::kRunning);
constexpr std::uint8_t kFail = bit(Outcome::kFailed) | bit(Outcome::kCanceled);
constexpr std::uint8_t kIntact = bit(Outcome::kFailedIntact);
constexpr std::uint8_t kDone = bit(Outcome::kSucceeded);
constexpr std::uint8_t kUndoFail = bit(Outcome::kUndoFailed);

constexpr std::string_view kSame = "=";  // vm_state (task_state) as the origin's at rest
constexpr int kSamePower = -1;           // power_state as the origin's at rest
constexpr std::string_view kIdle = "";   // task_state NULL

// A set of phases (empty: any phase).
class Phases {
 public:
  constexpr Phases() = default;
  constexpr Phases(std::initializer_list<Phase> phases) {
    for (Phase p : phases) bits_ |= std::uint64_t{1} << static_cast<unsigned>(p);
  }
  constexpr bool matches(Phase p) const {
    return bits_ == 0 || (bits_ & (std::uint64_t{1} << static_cast<unsigned>(p))) != 0;
  }

 private:
  std::uint64_t bits_ = 0;
};

struct Row {
  std::uint8_t outcomes;
  ActionSet actions;  // empty: any action (rest rows)
  StateSet origins;   // empty: any origin
  Phases phases;      // empty: any phase
  std::string_view vm;
  std::string_view task;
  int power;
  std::string_view source;
};

// clang-format off
constexpr Row kRows[] = {
  // ---- At rest ----------------------------------------------------------------------------------
  {kRest, {}, {S::kInit, S::kPending}, {}, "building", "scheduling", 0,
   "reference nova.md:26: create sets vm=building, task=scheduling, power=0 until placed"},
  {kRest, {}, {S::kHold}, {}, "building", kIdle, 0,
   "Corral's choice: Nova has no hold; not built yet (building, power 0 as nova.md:26) and not "
   "being scheduled"},
  {kRest, {}, {S::kRunning}, {}, "active", kIdle, 1,
   "seed 004:22 ACTIVE; reference nova.md:12 power 1 RUNNING"},
  {kRest, {}, {S::kPaused}, {}, "paused", kIdle, 3, "reference nova.md:33: paused / 3"},
  {kRest, {}, {S::kSuspended}, {}, "suspended", kIdle, 4,
   "reference nova.md:35, nova.md:13: suspended, libvirt managedSave reports 4"},
  {kRest, {}, {S::kPoweroff}, {}, "stopped", kIdle, 4, "reference nova.md:31: stopped / 4"},
  {kRest, {}, {S::kShelved}, {}, "shelved", kIdle, 4, "reference nova.md:50: shelved / 4"},
  {kRest, {}, {S::kDeallocated}, {}, "shelved_offloaded", kIdle, 4,
   "reference nova.md:50-51: powered off to shelve, then offloaded: shelved_offloaded"},
  {kRest, {}, {S::kHibernated}, {}, "shelved_offloaded", kIdle, 4,
   "Corral's choice: Nova has no hibernate; memory and disks off the host is nearest to "
   "shelved_offloaded (nova.md:51)"},
  {kRest, {}, {S::kRescued}, {}, "rescued", kIdle, 1, "reference nova.md:39: rescued / 1"},
  {kRest, {}, {S::kResized}, {}, "resized", kIdle, 1,
   "reference nova.md:41: resized, powered on unless it was stopped (the record at rest is on)"},
  {kRest, {}, {S::kSoftDeleted}, {}, "soft-delete", kIdle, 4,
   "reference nova.md:28: soft-delete, power falls back to off"},
  {kRest, {}, {S::kUnknown}, {}, "active", kIdle, 0,
   "reference nova.md:84: active and the VM not found (NOSTATE) is only a warning"},
  {kRest, {}, {S::kFailed}, {}, "error", kIdle, 4,
   "reference nova.md:21 (ERROR); power 4: Corral's choice, the record at rest is a failed boot "
   "(model.h)"},
  {kRest, {}, {S::kDone}, {}, "deleted", kIdle, 0, "reference nova.md:27: deleted / 0"},

  // ---- Running: vm_state stays until the task ends (seed 004:20, nova.md:20) --------------------
  {kRun, {A::kCreate}, {}, {}, "building", "scheduling", 0,
   "reference nova.md:26: API sets building/scheduling/0"},
  {kRun, {A::kDeploy}, {}, {P::kProlog}, "building", "block_device_mapping", 0,
   "reference nova.md:26: compute runs networking, block_device_mapping, spawning"},
  {kRun, {A::kDeploy}, {}, {P::kBoot}, "building", "spawning", 0, "reference nova.md:26"},
  {kRun, {A::kDeploy}, {}, {}, "active", kIdle, 1,
   "reference nova.md:26: spawned is active / 1; seed 000:276: the VM runs while its OS "
   "provisions"},
  {kRun, {A::kShutdown, A::kShutdownHard}, {}, {}, kSame, "powering-off", kSamePower,
   "reference nova.md:31"},
  {kRun, {A::kStart}, {S::kShelved, S::kDeallocated}, {}, kSame, "unshelving", kSamePower,
   "reference nova.md:52 (unshelve is start there, vocabulary.h)"},
  {kRun, {A::kStart}, {}, {}, kSame, "powering-on", kSamePower, "reference nova.md:32"},
  {kRun, {A::kReboot}, {}, {}, kSame, "rebooting", kSamePower, "reference nova.md:37"},
  {kRun, {A::kRebootHard}, {}, {}, kSame, "rebooting_hard", kSamePower, "reference nova.md:38"},
  {kRun, {A::kPause}, {}, {}, kSame, "pausing", kSamePower, "reference nova.md:33"},
  {kRun, {A::kUnpause}, {}, {}, kSame, "unpausing", kSamePower, "reference nova.md:34"},
  {kRun, {A::kSuspend}, {}, {}, kSame, "suspending", kSamePower, "reference nova.md:35"},
  {kRun, {A::kResume}, {S::kHibernated}, {}, kSame, "unshelving", kSamePower,
   "reference nova.md:52 (unshelve is resume from HIBERNATED, vocabulary.h)"},
  {kRun, {A::kResume}, {}, {}, kSame, "resuming", kSamePower, "reference nova.md:36"},
  {kRun, {A::kHibernate}, {}, {P::kSave}, kSame, "suspending", kSamePower,
   "Corral's choice: saving memory is Nova's suspend (nova.md:35)"},
  {kRun, {A::kHibernate, A::kDeallocate, A::kDeallocateHard}, {}, {P::kEpilog}, kSame,
   "shelving_offloading", kSamePower,
   "Corral's choice: moving off the host is Nova's offload (nova.md:51)"},
  {kRun, {A::kDeallocate, A::kDeallocateHard}, {}, {}, kSame, "powering-off", kSamePower,
   "Corral's choice: powering off first is Nova's stop (nova.md:31)"},
  {kRun, {A::kTerminate, A::kTerminateHard, A::kRecoverDelete}, {}, {}, kSame, "deleting",
   kSamePower, "reference nova.md:27 (delete), nova.md:30 (force_delete)"},
  {kRun, {A::kRecoverRecreate}, {}, {}, kSame, "rebuilding", kSamePower,
   "Corral's choice: recreating elsewhere is nearest Nova's evacuate, which runs the rebuild "
   "tasks (nova.md:49)"},
  {kRun, {A::kMigrate}, {}, {P::kCleanup}, kSame, kIdle, kSamePower,
   "Corral's choice: removing the source's copy is Nova's confirm of the cold migrate (seed "
   "004:30: the images exist at both until then), which sets no task_state (nova.md:42)"},
  {kRun, {A::kMigrate}, {}, {P::kRestore, P::kBoot}, kSame, "resize_finish", kSamePower,
   "Corral's choice: Nova's cold migrate runs the resize tasks (nova.md:41)"},
  {kRun, {A::kMigrate}, {}, {}, kSame, "resize_migrating", kSamePower,
   "Corral's choice: Nova's cold migrate runs the resize tasks (nova.md:41)"},
  {kRun, {A::kLiveMigrate}, {}, {}, kSame, "migrating", kSamePower, "reference nova.md:48"},
  {kRun, {A::kResize}, {}, {}, kSame, "resize_prep", kSamePower,
   "Corral's choice: Nova has no in-place resize; its first resize task (nova.md:41)"},
  {kRun, {A::kResizeMigrate}, {}, {P::kProlog}, kSame, "resize_migrated", kSamePower,
   "reference nova.md:41 (resize_migrated: the disk is on the destination)"},
  {kRun, {A::kResizeMigrate}, {}, {P::kBoot}, kSame, "resize_finish", kSamePower,
   "reference nova.md:41"},
  {kRun, {A::kResizeMigrate}, {}, {}, kSame, "resize_migrating", kSamePower,
   "reference nova.md:41"},
  {kRun, {A::kConfirmResize}, {}, {}, kSame, kIdle, kSamePower,
   "reference nova.md:42: no task_state"},
  {kRun, {A::kRevertResize}, {}, {}, kSame, "resize_reverting", kSamePower, "reference nova.md:43"},
  {kRun, {A::kRescue}, {}, {}, kSame, "rescuing", kSamePower, "reference nova.md:39"},
  {kRun, {A::kUnrescue}, {}, {}, kSame, "unrescuing", kSamePower, "reference nova.md:40"},
  {kRun, {A::kRebuild}, {}, {P::kBoot}, kSame, "rebuild_spawning", kSamePower,
   "reference nova.md:46"},
  {kRun, {A::kRebuild}, {}, {}, kSame, "rebuilding", kSamePower, "reference nova.md:46"},
  {kRun, {A::kSetAdminPassword}, {}, {}, kSame, "updating_password", kSamePower,
   "reference nova.md:47"},
  {kRun, {A::kSnapshot, A::kBackup}, {}, {P::kUpload}, kSame, "image_uploading", kSamePower,
   "reference nova.md:44-45"},
  {kRun, {A::kSnapshot}, {}, {}, kSame, "image_snapshot", kSamePower, "reference nova.md:44"},
  {kRun, {A::kBackup}, {}, {}, kSame, "image_backup", kSamePower, "reference nova.md:45"},
  {kRun, {A::kShelve, A::kShelveOffload}, {}, {P::kEpilog}, kSame, "shelving_offloading",
   kSamePower, "reference nova.md:50-51"},
  {kRun, {A::kShelve, A::kShelveOffload}, {}, {P::kUpload}, kSame, "shelving_image_uploading",
   kSamePower, "reference nova.md:50"},
  {kRun, {A::kShelve, A::kShelveOffload}, {}, {}, kSame, "shelving", kSamePower,
   "reference nova.md:50"},
  {kRun, {A::kSoftDelete}, {}, {}, kSame, "soft-deleting", kSamePower, "reference nova.md:28"},
  {kRun, {A::kRestore}, {}, {}, kSame, "restoring", kSamePower, "reference nova.md:29"},
  {kRun,
   {A::kDiskSnapshot, A::kDiskSnapshotRevert, A::kDiskSnapshotDelete, A::kCheckpoint,
    A::kCheckpointRevert, A::kCheckpointDelete},
   {}, {}, kSame, "image_snapshot", kSamePower,
   "Corral's choice: Nova has no disk snapshot or checkpoint; its snapshot task (nova.md:44)"},
  {kRun, {A::kDiskAttach, A::kDiskDetach, A::kNicAttach, A::kNicDetach, A::kDiskResize}, {}, {},
   kSame, kIdle, kSamePower,
   "Corral's choice: Nova attaches volumes and interfaces with no task_state (none in nova.md:9)"},

  // ---- Failed or canceled -----------------------------------------------------------------------
  {kFail, {A::kCreate}, {}, {}, "error", kIdle, kSamePower,
   "reference nova.md:26: BuildAbortException: ERROR"},
  {kFail, {A::kDeploy}, {}, {P::kOsProvisioning, P::kOsProvisioned}, "active", kIdle, 1,
   "seed 000:290: OS provisioning failed, the VM stays deployed (Nova: spawned is active / 1, "
   "nova.md:26)"},
  {kFail, {A::kDeploy}, {}, {}, "error", kIdle, kSamePower,
   "reference nova.md:26: NoValidHost, BuildAbortException: ERROR"},
  {kUndoFail, {A::kLiveMigrate}, {}, {}, "error", kIdle, kSamePower,
   "reference nova.md:48 (unexpected error: ERROR); hosts-migration.md:135 (a late driver "
   "exception: migration error, instance ERROR, 'almost certainly too late to rollback')"},
  {kFail, {A::kLiveMigrate}, {}, {}, kSame, kIdle, kSamePower,
   "reference nova.md:48 (rollback: task None, vm_state unchanged); hosts-migration.md:135 "
   "(_rollback_live_migration: the instance stays on the source, the migration failed or "
   "cancelled)"},
  {kFail, {A::kSuspend}, {}, {}, "error", kIdle, kSamePower, "reference nova.md:35 E(active)"},
  {kUndoFail, {A::kResizeMigrate}, {}, {}, "error", kIdle, kSamePower,
   "reference nova.md:41 (E: else ERROR; migration.status=error)"},
  {kFail, {A::kResizeMigrate}, {}, {}, kSame, kIdle, kSamePower,
   "reference nova.md:41 (E: previous vm_state for rollback, task None)"},
  {kFail, {A::kResume}, {S::kHibernated}, {P::kSchedule}, kSame, kIdle, kSamePower,
   "reference nova.md:52: unshelve R (no host found: nothing changed)"},
  {kFail, {A::kResume}, {}, {}, "error", kIdle, kSamePower,
   "reference nova.md:36 E(suspended); from HIBERNATED seed 003:34 unshelve -> error (the seed "
   "wins over nova.md:52 R)"},
  {kFail, {A::kStart}, {S::kDeallocated}, {P::kSchedule}, kSame, kIdle, kSamePower,
   "reference nova.md:52: unshelve R (no host found: nothing changed)"},
  {kFail, {A::kStart}, {S::kDeallocated}, {}, "error", kIdle, kSamePower,
   "seed 003:34: unshelve -> error (the seed wins over nova.md:52 R)"},
  {kFail, {A::kStart}, {}, {}, kSame, kIdle, kSamePower,
   "reference nova.md:32 R; nova.md:52 R (unshelve)"},
  {kFail, {A::kConfirmResize, A::kRevertResize}, {}, {}, "error", kIdle, kSamePower,
   "reference nova.md:42-43: E: ERROR"},
  {kFail, {A::kRebuild}, {}, {}, "error", kIdle, kSamePower, "reference nova.md:46: else ERROR"},
  {kFail, {A::kRecoverRecreate}, {}, {}, "error", kIdle, kSamePower,
   "reference nova.md:49: evacuate fails as rebuild, ERROR (nova.md:46)"},
  {kFail, {A::kTerminate, A::kTerminateHard, A::kRecoverDelete}, {}, {P::kEpilog, P::kCleanup},
   "error", kIdle, kSamePower,
   "reference nova.md:27 (delete sets ERROR), nova.md:30; opennebula.md:24 EPILOG_FAILURE"},
  {kFail, {A::kTerminate}, {}, {}, kSame, kIdle, kSamePower,
   "reference opennebula.md:24: a failed shutdown leaves it RUNNING"},
  {kFail, {A::kTerminateHard}, {}, {}, kSame, kIdle, kSamePower,
   "reference opennebula.md:24 (! RUNNING). DISPUTED: nova.md:27 says delete's failure sets "
   "ERROR"},
  {kFail, {A::kHibernate}, {}, {P::kEpilog}, "error", kIdle, kSamePower,
   "reference opennebula.md:19: EPILOG_STOP_FAILURE"},
  {kFail, {A::kHibernate}, {}, {}, kSame, kIdle, kSamePower,
   "reference opennebula.md:19: save -> RUNNING"},
  {kFail, {A::kDeallocate, A::kDeallocateHard}, {}, {P::kEpilog}, "error", kIdle, kSamePower,
   "reference opennebula.md:23: EPILOG_UNDEPLOY_FAILURE"},
  {kFail, {A::kDeallocate, A::kDeallocateHard}, {}, {}, kSame, kIdle, kSamePower,
   "reference opennebula.md:23: a failed shutdown leaves it RUNNING"},
  {kFail, {A::kMigrate}, {}, {P::kCleanup}, kSame, kIdle, kSamePower,
   "DISPUTED: nova.md:42 puts a VM whose confirm failed in ERROR; the canonical keep-target "
   "rule leaves it as it was on the target (it runs there; seed 004:30: the source's images "
   "are what is left), the operation failed"},
  {kFail, {A::kMigrate}, {}, {P::kSave}, kSame, kIdle, kSamePower,
   "reference opennebula.md:26: SAVE_MIGRATE -> RUNNING on the source"},
  {kFail, {A::kMigrate}, {}, {}, "error", kIdle, kSamePower,
   "reference opennebula.md:26: prolog/boot -> matching *_FAILURE"},
  {kFail, {A::kShelveOffload}, {}, {P::kEpilog}, "error", kIdle, kSamePower,
   "seed 003:32-33: shelve -> error, shelve_offload -> error (the seed wins over nova.md:50-51 "
   "R)"},
  {kFail, {A::kShelve, A::kShelveOffload}, {}, {}, kSame, kIdle, kSamePower,
   "reference nova.md:50: R"},
  {kFail, {A::kShutdown, A::kShutdownHard}, {}, {}, kSame, kIdle, kSamePower,
   "reference nova.md:31: R (stop from error stays error)"},
  {kFail, {A::kReboot, A::kRebootHard}, {}, {}, "error", kIdle, kSamePower,
   "reference nova.md:37-38: ERROR unless the guest still runs (the intact row below)"},
  {kFail, {A::kRescue, A::kUnrescue}, {}, {}, "error", kIdle, kSamePower,
   "reference nova.md:39: ERROR + InstanceNotRescuable; nova.md:40: E: ERROR"},
  {kFail,
   {A::kPause, A::kUnpause, A::kSoftDelete, A::kRestore, A::kSetAdminPassword, A::kSnapshot,
    A::kBackup},
   {}, {}, kSame, kIdle, kSamePower,
   "reference nova.md:33, 34, 28, 29, 47, 44, 45: R, the task reverted"},
  {kFail,
   {A::kResize, A::kDiskAttach, A::kDiskDetach, A::kNicAttach, A::kNicDetach, A::kDiskSnapshot,
    A::kDiskSnapshotRevert, A::kDiskSnapshotDelete, A::kDiskResize, A::kCheckpoint,
    A::kCheckpointRevert, A::kCheckpointDelete},
   {}, {}, kSame, kIdle, kSamePower,
   "reference opennebula.md:36: hotplug/snapshot/resize failures return to origin"},

  // ---- Failed, the driver reporting the origin intact -------------------------------------------
  {kIntact, {}, {}, {}, kSame, kIdle, kSamePower,
   "reference nova.md:21: InstanceFaultRollback puts vm_state back, task None"},

  // ---- Succeeded --------------------------------------------------------------------------------
  {kDone, {A::kCreate, A::kRelease}, {}, {}, "building", "scheduling", 0,
   "reference nova.md:26: building, waiting for the scheduler"},
  {kDone, {A::kRecoverRecreate}, {}, {}, "building", "scheduling", 0,
   "Corral's choice: recreated from scratch, it waits for the scheduler like a new VM "
   "(nova.md:26)"},
  {kDone, {A::kHold}, {}, {}, "building", kIdle, 0, "Corral's choice: as HOLD at rest"},
  {kDone, {A::kMigrate}, {S::kPoweroff, S::kSuspended}, {}, kSame, kSame, kSamePower,
   "reference opennebula.md:26: POWEROFF and SUSPENDED stay so on the new host"},
  {kDone,
   {A::kDeploy, A::kStart, A::kRestore, A::kUnpause, A::kResume, A::kUnrescue, A::kReboot,
    A::kRebootHard, A::kConfirmResize, A::kRevertResize, A::kMigrate, A::kObservedRunning},
   {}, {}, "active", kIdle, 1,
   "reference nova.md:26, 32, 29, 34, 36, 40, 37, 38, 42, 43: active / 1; opennebula.md:26 "
   "(migrate)"},
  {kDone, {A::kShutdown, A::kShutdownHard, A::kObservedPoweroff}, {}, {}, "stopped", kIdle, 4,
   "reference nova.md:31: stopped / 4; nova.md:81: a guest that shut itself down is stopped"},
  {kDone, {A::kPause}, {}, {}, "paused", kIdle, 3, "reference nova.md:33: paused / 3"},
  {kDone, {A::kSuspend}, {}, {}, "suspended", kIdle, 4,
   "reference nova.md:35, nova.md:13: suspended / 4"},
  {kDone, {A::kShelveOffload, A::kDeallocate, A::kDeallocateHard, A::kHibernate}, {}, {},
   "shelved_offloaded", kIdle, 4, "reference nova.md:50-51 (hibernate and deallocate as at rest)"},
  {kDone, {A::kShelve}, {}, {}, "shelved", kIdle, 4, "reference nova.md:50: shelved / 4"},
  {kDone, {A::kTerminate, A::kTerminateHard, A::kRecoverDelete}, {}, {}, "deleted", kIdle, 0,
   "reference nova.md:27, 30: deleted / 0"},
  {kDone, {A::kResizeMigrate}, {}, {}, "resized", kIdle, kSamePower,
   "reference nova.md:41: resized; powered on unless it was stopped"},
  {kDone, {A::kRescue}, {}, {}, "rescued", kIdle, 1, "reference nova.md:39: rescued / 1"},
  {kDone, {A::kSoftDelete}, {}, {}, "soft-delete", kIdle, 4, "reference nova.md:28"},
  {kDone, {A::kObservedLost}, {}, {}, "active", kIdle, 0,
   "reference nova.md:84: not found is only a warning; power NOSTATE"},
  {kDone, {A::kRebuild, A::kLiveMigrate, A::kSetAdminPassword, A::kSnapshot, A::kBackup}, {}, {},
   kSame, kSame, kSamePower,
   "reference nova.md:46 (stopped stays stopped), 48, 47, 44, 45: unchanged"},
  {kDone,
   {A::kResize, A::kResched, A::kUnresched, A::kDiskAttach, A::kDiskDetach, A::kNicAttach,
    A::kNicDetach, A::kDiskSnapshot, A::kDiskSnapshotRevert, A::kDiskSnapshotDelete, A::kDiskResize,
    A::kCheckpoint, A::kCheckpointRevert, A::kCheckpointDelete},
   {}, {}, kSame, kSame, kSamePower, "reference opennebula.md:27-37: these return to their origin"},
  {kDone, {A::kObservedPower}, {}, {}, kSame, kSame, kSamePower,
   "reference nova.md:79: the power sync copies power_state, vm_state kept"},
};
// clang-format on

// nova/api/openstack/common.py _STATE_MAP: first row whose vm_state and task_state match.
struct StatusRow {
  std::string_view vm;
  std::string_view tasks;  // space-separated task_states; "*" for every other
  std::string_view status;
  std::string_view source;
};
constexpr std::string_view kRebootTasks = "rebooting reboot_pending reboot_started";
constexpr std::string_view kHardRebootTasks =
    "rebooting_hard reboot_pending_hard reboot_started_hard";
constexpr std::string_view kRebuildTasks =
    "rebuilding rebuild_block_device_mapping rebuild_spawning";
constexpr std::string_view kResizeTasks =
    "resize_prep resize_migrating resize_migrated resize_finish";
constexpr StatusRow kStatusRows[] = {
    {"active", kRebootTasks, "REBOOT", "reference nova.md:165"},
    {"active", kHardRebootTasks, "HARD_REBOOT", "reference nova.md:165"},
    {"active", "updating_password", "PASSWORD", "reference nova.md:165"},
    {"active", kRebuildTasks, "REBUILD", "reference nova.md:165"},
    {"active", "migrating", "MIGRATING", "reference nova.md:165"},
    {"active", kResizeTasks, "RESIZE", "reference nova.md:165"},
    {"stopped", kResizeTasks, "RESIZE", "reference nova.md:166"},
    {"stopped", kRebuildTasks, "REBUILD", "reference nova.md:166"},
    {"resized", "resize_reverting", "REVERT_RESIZE", "reference nova.md:167"},
    {"paused", "migrating", "MIGRATING", "reference nova.md:168"},
    {"error", kRebuildTasks, "REBUILD", "reference nova.md:169"},
    {"active", "*", "ACTIVE", "reference nova.md:162"},
    {"building", "*", "BUILD", "reference nova.md:162"},
    {"stopped", "*", "SHUTOFF", "reference nova.md:162"},
    {"resized", "*", "VERIFY_RESIZE", "reference nova.md:162"},
    {"paused", "*", "PAUSED", "reference nova.md:162"},
    {"suspended", "*", "SUSPENDED", "reference nova.md:162"},
    {"rescued", "*", "RESCUE", "reference nova.md:162"},
    {"error", "*", "ERROR", "reference nova.md:162"},
    {"deleted", "*", "DELETED", "reference nova.md:162"},
    {"soft-delete", "*", "SOFT_DELETED", "reference nova.md:162"},
    {"shelved", "*", "SHELVED", "reference nova.md:162"},
    {"shelved_offloaded", "*", "SHELVED_OFFLOADED", "reference nova.md:162"},
};

// Nova's names (reference nova.md:6, nova.md:9; NULL, idle, shows as "").
constexpr std::string_view kVmStateNames =
    "active building paused suspended stopped rescued resized soft-delete deleted error shelved "
    "shelved_offloaded";
constexpr std::string_view kTaskStateNames =
    "scheduling block_device_mapping networking spawning image_snapshot image_snapshot_pending "
    "image_pending_upload image_uploading image_backup updating_password resize_prep "
    "resize_migrating resize_migrated resize_finish resize_reverting resize_confirming rebooting "
    "reboot_pending reboot_started rebooting_hard reboot_pending_hard reboot_started_hard pausing "
    "unpausing suspending resuming powering-off powering-on rescuing unrescuing rebuilding "
    "rebuild_block_device_mapping rebuild_spawning migrating deleting soft-deleting restoring "
    "shelving shelving_image_pending_upload shelving_image_uploading shelving_offloading "
    "unshelving";

struct PowerName {
  int number;
  std::string_view name;
  std::string_view source;
};
constexpr PowerName kPowerNames[] = {
    {0, "NOSTATE", "reference nova.md:12-13"},
    {1, "Running", "reference nova.md:12-13"},
    {3, "Paused", "reference nova.md:12-13"},
    {4, "Shutdown", "reference nova.md:12-13"},
    {6, "Crashed", "reference nova.md:12-13"},
    {7, "Suspended", "reference nova.md:12-13"},
    {2, "NOSTATE",
     "Corral's choice: nova.md:12 says 2 is unused; a number with no state names none"},
    {5, "NOSTATE", "Corral's choice: nova.md:12 says 5 is unused"},
    {8, "NOSTATE", "Corral's choice: no such power_state (nova.md:12)"},
};

// Seed 003: "verb -> error" edges no failure reaches, each with the source that says so.
struct EdgeException {
  std::string_view verb;
  std::string_view source;
};
constexpr EdgeException kErrorEdgeExceptions[] = {
    {"soft_delete", "reference nova.md:28: R, the task reverted, vm_state left alone"},
    {"restore", "reference nova.md:29: R"},
    {"pause", "reference nova.md:33: R"},
    {"unpause", "reference nova.md:34: R"},
    {"start", "reference nova.md:32: R"},
    {"snapshot", "reference nova.md:44: R; image deleted"},
    {"backup", "reference nova.md:45: R"},
    {"set_admin_password", "reference nova.md:47: task cleared; 409/501 to the caller"},
};
// Verbs of seed 003 whose failure can end in error though the seed draws no edge there.
constexpr EdgeException kUndrawnErrorEdges[] = {
    {"delete", "reference nova.md:27: delete's failure sets ERROR (terminate_instance:3441)"},
    {"unrescue", "reference nova.md:40: E: ERROR"},
};

// Seed 004's names against the code's, where the code follows newer Nova.
struct NameException {
  std::string_view seed;  // "" when seed 004 has no such entry
  std::string_view code;
  std::string_view source;
};
constexpr NameException kVmStatusExceptions[] = {
    {"INITIALIZED", "building",
     "reference nova.md:6: Nova kept building (seed 004:21 itself says it was BUILDING)"},
    {"SOFT_DELETED", "soft-delete", "reference nova.md:6: SOFT_DELETED's value is soft-delete"},
    {"HARD_DELETED", "deleted", "reference nova.md:6: Nova calls it deleted"},
    {"", "shelved", "reference nova.md:6: shelving came after seed 004 (2014)"},
    {"", "shelved_offloaded", "reference nova.md:6: shelving came after seed 004 (2014)"},
};
constexpr NameException kPowerStatusExceptions[] = {
    {"", "Paused", "reference nova.md:12: 3 PAUSED"},
    {"", "Crashed", "reference nova.md:12: 6 CRASHED"},
    {"", "Suspended", "reference nova.md:12: 7 SUSPENDED"},
};
constexpr int kNovaPowerNumbers[] = {0, 1, 3, 4, 6, 7};  // reference nova.md:12

}  // namespace corral::lifecycle::golden::nova
