// Golden table: OpenNebula's (STATE, LCM_STATE) and short alias at every moment of the model,
// written from seed 001 ("List of States") and reference opennebula.md, not from
// view_opennebula.cc, and held against opennebula_view() both ways.
//
// Three tables; in each the first row that matches a moment is its row:
// - kRunning: (actions, origins, phase) -> what OpenNebula shows while that phase runs;
// - kFailure: what a VM stopped in FAILED shows, keyed by what its failed step showed while it
//   ran (seed 001 describes each *_FAILURE as "Failure during a <step>");
// - kRest: a VM at rest in a canonical state, at rest or after an operation ended there.
// Every moment must have a row and agree with it; every row must be some moment's row. The seed's
// own list is pinned too: each STATE and LCM_STATE number, name and alias, both ways.
// States are named as seed 001 names them; their numbers come from the seed, so a renumbered
// or swapped enum value, name or alias in the view is caught as well.
#include <algorithm>
#include <string>
#include <unordered_map>
#include <vector>

#include "lifecycle/golden/golden.h"
#include "lifecycle/seed_text.h"
#include "lifecycle/views.h"

namespace corral::lifecycle::golden {
namespace {

using A = Action;
using S = State;
using P = Phase;

// What `onevm show` / `onevm list` show: STATE, LCM_STATE (LCM_INIT unless ACTIVE, seed
// 001:13) and the STAT alias (the LCM alias for ACTIVE, seed 001:5).
struct Shown {
  std::string_view state;
  std::string_view lcm;
  std::string_view alias;
};
constexpr Shown active(std::string_view lcm, std::string_view alias) {
  return {"ACTIVE", lcm, alias};
}
constexpr Shown plain(std::string_view state, std::string_view alias) {
  return {state, "LCM_INIT", alias};
}

constexpr StateSet kAny{};             // an empty origin set matches every origin
constexpr Phase kAnyPhase = P::kNone;  // running moments always have a phase

struct RunningRow {
  ActionSet actions;
  StateSet origins;
  Phase phase;
  Shown shown;
  std::string_view source;
};

// clang-format off
constexpr RunningRow kRunning[] = {
  {{A::kCreate}, kAny, P::kInit, plain("INIT", "init"), "seed 001:33 (right after VM creation)"},
  {{A::kCreate}, kAny, P::kClone, plain("CLONING", "clon"), "seed 001:645 (disk images' initial copy)"},

  {{A::kDeploy}, {S::kPending, S::kHold}, P::kProlog, active("PROLOG", "prol"), "reference opennebula.md:17; seed 001:69"},
  {{A::kDeploy}, {S::kPending, S::kHold}, P::kBoot, active("BOOT", "boot"), "reference opennebula.md:17; seed 001:77"},
  {{A::kDeploy}, {S::kPending, S::kHold}, P::kOsProvisioning, active("RUNNING", "runn"), "seed 001:85 (RUNNING includes the guest's booting)"},
  {{A::kDeploy}, {S::kPending, S::kHold}, P::kOsProvisioned, active("RUNNING", "runn"), "seed 001:85 (RUNNING includes the guest's booting)"},

  {{A::kShutdown, A::kShutdownHard}, {S::kRunning, S::kUnknown}, kAnyPhase, active("SHUTDOWN_POWEROFF", "shut"), "reference opennebula.md:22 (--hard: same path, also over a hung shutdown); seed 001:189"},
  {{A::kShutdownHard}, {S::kPaused, S::kRescued, S::kFailed}, P::kPowerOff, active("SHUTDOWN_POWEROFF", "shut"), "Corral's choice: the one power-off path OpenNebula has (reference opennebula.md:22), whatever the origin"},
  {{A::kSoftDelete}, {S::kRunning}, P::kSoftDelete, active("SHUTDOWN_POWEROFF", "shut"), "Corral's choice: soft delete powers the VM off (seed 001:189) and marks it"},
  {{A::kSoftDelete}, {S::kPoweroff}, P::kSoftDelete, plain("POWEROFF", "poff"), "Corral's choice: already off, the VM is only marked; it stays POWEROFF (seed 001:629)"},

  {{A::kStart}, {S::kPoweroff}, P::kBoot, active("BOOT_POWEROFF", "boot"), "reference opennebula.md:21; seed 001:205"},
  {{A::kStart}, {S::kShelved}, P::kBoot, active("BOOT_POWEROFF", "boot"), "Corral's choice: SHELVED shows as POWEROFF, so its boot is BOOT_POWEROFF (seed 001:205)"},
  {{A::kStart}, {S::kUnknown}, P::kBoot, active("BOOT_UNKNOWN", "boot"), "reference opennebula.md:21; seed 001:197"},
  {{A::kStart}, {S::kDeallocated}, P::kSchedule, plain("PENDING", "pend"), "reference opennebula.md:21 (UNDEPLOYED -> PENDING, then deploy); seed 001:41"},
  {{A::kStart}, {S::kDeallocated}, P::kProlog, active("PROLOG_UNDEPLOY", "prol"), "reference opennebula.md:17; seed 001:293"},
  {{A::kStart}, {S::kDeallocated}, P::kBoot, active("BOOT_UNDEPLOY", "boot"), "reference opennebula.md:17; seed 001:301"},

  {{A::kReboot, A::kRebootHard}, {S::kRunning}, kAnyPhase, active("RUNNING", "runn"), "reference opennebula.md:25 (reboot, reboot --hard: no state change)"},
  {{A::kRebootHard}, {S::kPoweroff}, P::kBoot, active("BOOT_POWEROFF", "boot"), "Corral's choice: a fresh boot from POWEROFF is OpenNebula's resume from POWEROFF (reference opennebula.md:21; seed 001:205)"},
  {{A::kRebootHard}, {S::kSuspended}, P::kBoot, active("BOOT_SUSPENDED", "boot"), "Corral's choice: a fresh boot from SUSPENDED, as OpenNebula's resume (reference opennebula.md:21; seed 001:213)"},
  {{A::kRebootHard}, {S::kPaused}, P::kReset, active("BOOT_SUSPENDED", "boot"), "Corral's choice: PAUSED shows as SUSPENDED; leaving it is BOOT_SUSPENDED (seed 001:213)"},
  {{A::kRebootHard}, {S::kFailed}, P::kBoot, active("BOOT", "boot"), "Corral's choice: as recover --retry from BOOT_FAILURE goes back to BOOT (reference opennebula.md:49)"},

  {{A::kPause}, {S::kRunning}, P::kPause, active("SAVE_SUSPEND", "save"), "Corral's choice: PAUSED shows as SUSPENDED, entered through SAVE_SUSPEND (seed 001:109)"},
  {{A::kUnpause}, {S::kPaused}, P::kUnpause, active("BOOT_SUSPENDED", "boot"), "Corral's choice: PAUSED shows as SUSPENDED; leaving it is BOOT_SUSPENDED (seed 001:213)"},
  {{A::kSuspend}, {S::kRunning}, P::kSave, active("SAVE_SUSPEND", "save"), "reference opennebula.md:20; seed 001:109"},
  {{A::kSuspend}, {S::kPaused}, P::kSave, active("SAVE_SUSPEND", "save"), "Corral's choice: saving a paused VM is the same save (reference opennebula.md:20; seed 001:109)"},
  {{A::kResume}, {S::kSuspended}, P::kRestore, active("BOOT_SUSPENDED", "boot"), "reference opennebula.md:21; seed 001:213"},
  {{A::kResume}, {S::kHibernated}, P::kSchedule, plain("PENDING", "pend"), "reference opennebula.md:21 (STOPPED -> PENDING, then deploy); seed 001:41"},
  {{A::kResume}, {S::kHibernated}, P::kProlog, active("PROLOG_RESUME", "prol"), "reference opennebula.md:17; seed 001:133"},
  {{A::kResume}, {S::kHibernated}, P::kRestore, active("BOOT_STOPPED", "boot"), "reference opennebula.md:17; seed 001:221"},

  {{A::kHibernate}, {S::kRunning, S::kPaused}, P::kSave, active("SAVE_STOP", "save"), "reference opennebula.md:19; seed 001:101"},
  {{A::kHibernate}, {S::kRunning, S::kPaused, S::kSuspended}, P::kEpilog, active("EPILOG_STOP", "epil"), "reference opennebula.md:19; seed 001:141"},

  {{A::kDeallocate}, {S::kRunning, S::kUnknown}, P::kShutdown, active("SHUTDOWN_UNDEPLOY", "shut"), "reference opennebula.md:23; seed 001:277"},
  {{A::kDeallocateHard}, {S::kRunning, S::kUnknown, S::kPaused}, P::kPowerOff, active("SHUTDOWN_UNDEPLOY", "shut"), "reference opennebula.md:23 (--hard, also over a hung undeploy); seed 001:277"},
  {{A::kDeallocate, A::kDeallocateHard}, {S::kRunning, S::kUnknown, S::kPaused, S::kPoweroff, S::kSuspended, S::kShelved}, P::kEpilog, active("EPILOG_UNDEPLOY", "epil"), "reference opennebula.md:23; seed 001:285"},

  {{A::kTerminate}, {S::kRunning, S::kUnknown, S::kRescued, S::kResized}, P::kShutdown, active("SHUTDOWN", "shut"), "reference opennebula.md:24; seed 001:157"},
  {{A::kTerminate, A::kTerminateHard}, {S::kRunning, S::kUnknown, S::kRescued, S::kResized, S::kPaused}, P::kPowerOff, active("SHUTDOWN", "shut"), "reference opennebula.md:24 (--hard uses CANCEL on the same path); seed 001:157"},
  {{A::kTerminate, A::kTerminateHard}, {S::kRunning, S::kUnknown, S::kRescued, S::kResized, S::kPaused, S::kSuspended, S::kPoweroff, S::kHibernated, S::kDeallocated, S::kShelved, S::kSoftDeleted}, P::kEpilog, active("EPILOG", "epil"), "reference opennebula.md:24; seed 001:149"},
  {{A::kTerminate}, {S::kFailed}, P::kCleanup, active("CLEANUP_DELETE", "clea"), "reference opennebula.md:24 (*_FAILURE -> CLEANUP_DELETE -> DONE); seed 001:229"},
  {{A::kTerminateHard, A::kRecoverDelete}, kAny, P::kCleanup, active("CLEANUP_DELETE", "clea"), "reference opennebula.md:24, :50 (recover --delete cancels what runs, CLEANUP_DELETE); seed 001:229"},
  {{A::kRecoverRecreate}, kAny, P::kCleanup, active("CLEANUP_RESUBMIT", "clea"), "reference opennebula.md:51; seed 001:165"},

  {{A::kMigrate}, {S::kRunning}, P::kSave, active("SAVE_MIGRATE", "save"), "reference opennebula.md:26; seed 001:117"},
  {{A::kMigrate}, {S::kRunning}, P::kProlog, active("PROLOG_MIGRATE", "migr"), "reference opennebula.md:26; seed 001:125"},
  {{A::kMigrate}, {S::kRunning}, P::kRestore, active("BOOT_MIGRATE", "boot"), "reference opennebula.md:26; seed 001:325"},
  {{A::kMigrate}, {S::kPoweroff}, P::kProlog, active("PROLOG_MIGRATE_POWEROFF", "migr"), "reference opennebula.md:26; seed 001:389"},
  {{A::kMigrate}, {S::kSuspended}, P::kProlog, active("PROLOG_MIGRATE_SUSPEND", "migr"), "reference opennebula.md:26; seed 001:405"},
  // The source's copy goes once the target holds the VM: still the migration's last state.
  {{A::kMigrate}, {S::kRunning}, P::kCleanup, active("BOOT_MIGRATE", "boot"), "Corral's choice: the source's files go at the end of the cold migration, before RUNNING (seed 001:325, then seed 001:85)"},
  {{A::kMigrate}, {S::kPoweroff}, P::kCleanup, active("PROLOG_MIGRATE_POWEROFF", "migr"), "Corral's choice: removing the source's files is part of the transfer (seed 001:389)"},
  {{A::kMigrate}, {S::kSuspended}, P::kCleanup, active("PROLOG_MIGRATE_SUSPEND", "migr"), "Corral's choice: removing the source's files is part of the transfer (seed 001:405)"},
  {{A::kMigrate}, {S::kUnknown}, P::kProlog, active("PROLOG_MIGRATE_UNKNOWN", "migr"), "reference opennebula.md:26; seed 001:517"},
  {{A::kMigrate}, {S::kUnknown}, P::kBoot, active("BOOT", "boot"), "reference opennebula.md:26 (UNKNOWN -> PROLOG_MIGRATE_UNKNOWN -> BOOT)"},
  {{A::kLiveMigrate}, {S::kRunning}, P::kMigrate, active("MIGRATE", "migr"), "reference opennebula.md:27; seed 001:93"},
  {{A::kLiveMigrate}, {S::kPaused}, P::kMigrate, active("MIGRATE", "migr"), "Corral's choice: a paused VM moves as a running one does (seed 001:93)"},
  // OpenNebula's MIGRATE spans the driver's premigrate on the target and postmigrate and the
  // source's network clean after virsh migrate (reference hosts-migration.md:117-124).
  {{A::kLiveMigrate}, {S::kRunning, S::kPaused}, P::kPrepareMigrate, active("MIGRATE", "migr"), "reference hosts-migration.md:117,119 (tm premigrate under MIGRATE); seed 001:93"},
  {{A::kLiveMigrate}, {S::kRunning, S::kPaused}, P::kFinishMigrate, active("MIGRATE", "migr"), "reference hosts-migration.md:117,123 (network post on the destination under MIGRATE); seed 001:93"},
  {{A::kLiveMigrate}, {S::kRunning, S::kPaused}, P::kCleanup, active("MIGRATE", "migr"), "reference hosts-migration.md:117,122,124 (network clean on the source, tm postmigrate, under MIGRATE); seed 001:93"},

  {{A::kResize}, {S::kRunning}, P::kResize, active("HOTPLUG_RESIZE", "hotp"), "reference opennebula.md:37; seed 001:565"},
  {{A::kResizeMigrate}, {S::kRunning, S::kPoweroff}, P::kResize, active("HOTPLUG_RESIZE", "hotp"), "Corral's choice: OpenNebula's one step that changes vCPUs and memory (seed 001:565)"},
  {{A::kResizeMigrate}, {S::kRunning, S::kPoweroff}, P::kProlog, active("HOTPLUG_RESIZE", "hotp"), "Corral's choice: OpenNebula resizes in place; its disk moving to the new host is still the resize (seed 001:565), whose failure it rolls back (reference opennebula.md:36)"},
  {{A::kRevertResize}, {S::kResized}, P::kCleanup, active("HOTPLUG_RESIZE", "hotp"), "Corral's choice: going back to the old size begins by removing the new host's copy (seed 001:565)"},
  {{A::kResizeMigrate}, {S::kRunning}, P::kBoot, active("BOOT", "boot"), "Corral's choice: the VM boots with its new size (seed 001:77)"},
  {{A::kConfirmResize}, {S::kResized}, P::kConfirm, active("RUNNING", "runn"), "Corral's choice: confirming drops the old size; the VM keeps running (seed 001:85)"},
  {{A::kRevertResize}, {S::kResized}, P::kResize, active("HOTPLUG_RESIZE", "hotp"), "Corral's choice: going back to the old size is a resize (seed 001:565)"},

  {{A::kRescue}, {S::kRunning, S::kFailed}, P::kRescue, active("BOOT", "boot"), "Corral's choice: the hypervisor creates the VM with the rescue image (seed 001:77)"},
  {{A::kRescue}, {S::kPoweroff}, P::kRescue, active("BOOT_POWEROFF", "boot"), "Corral's choice: as BOOT, from POWEROFF (seed 001:205)"},
  {{A::kUnrescue}, {S::kRescued}, P::kUnrescue, active("BOOT", "boot"), "Corral's choice: the VM is created again from its own disk (seed 001:77)"},
  {{A::kRebuild}, {S::kRunning, S::kPoweroff}, P::kRebuild, active("PROLOG", "prol"), "Corral's choice: a new disk image is transferred in (seed 001:69)"},
  {{A::kRebuild}, {S::kRunning}, P::kBoot, active("BOOT", "boot"), "Corral's choice: then the VM is created again (seed 001:77)"},
  {{A::kSetAdminPassword}, {S::kRunning}, P::kSetPassword, active("RUNNING", "runn"), "Corral's choice: the guest keeps running meanwhile (seed 001:85)"},

  {{A::kSnapshot}, {S::kRunning}, kAnyPhase, active("HOTPLUG_SAVEAS", "hotp"), "reference opennebula.md:35 (disk-saveas); seed 001:253"},
  {{A::kSnapshot}, {S::kPoweroff}, kAnyPhase, active("HOTPLUG_SAVEAS_POWEROFF", "hotp"), "reference opennebula.md:35; seed 001:261"},
  {{A::kSnapshot}, {S::kSuspended}, kAnyPhase, active("HOTPLUG_SAVEAS_SUSPENDED", "hotp"), "reference opennebula.md:35; seed 001:269"},
  {{A::kSnapshot}, {S::kPaused}, kAnyPhase, active("HOTPLUG_SAVEAS_SUSPENDED", "hotp"), "Corral's choice: PAUSED shows as SUSPENDED (seed 001:269)"},
  {{A::kSnapshot}, {S::kDeallocated}, kAnyPhase, active("HOTPLUG_SAVEAS_UNDEPLOYED", "hotp"), "reference opennebula.md:35; seed 001:573"},
  {{A::kSnapshot}, {S::kHibernated}, kAnyPhase, active("HOTPLUG_SAVEAS_STOPPED", "hotp"), "reference opennebula.md:35; seed 001:581"},
  {{A::kBackup}, {S::kRunning}, kAnyPhase, active("BACKUP", "back"), "reference opennebula.md:39; seed 001:589 (VM running)"},
  {{A::kBackup}, {S::kPoweroff}, kAnyPhase, active("BACKUP_POWEROFF", "back"), "reference opennebula.md:39; seed 001:597 (VM poweroff)"},

  {{A::kShelve, A::kShelveOffload}, {S::kRunning, S::kPaused, S::kSuspended}, P::kShelve, active("SHUTDOWN_POWEROFF", "shut"), "Corral's choice: shelving powers the VM off first (seed 001:189)"},
  {{A::kShelve, A::kShelveOffload}, {S::kRunning, S::kPaused, S::kSuspended, S::kPoweroff}, P::kUpload, active("HOTPLUG_SAVEAS_POWEROFF", "hotp"), "Corral's choice: a disk-saveas of the powered-off VM (seed 001:261)"},
  {{A::kShelveOffload}, {S::kRunning, S::kPaused, S::kSuspended, S::kPoweroff, S::kShelved}, P::kEpilog, active("EPILOG_UNDEPLOY", "epil"), "Corral's choice: releasing the host is undeploy's epilog (seed 001:285)"},
  {{A::kRestore}, {S::kSoftDeleted}, P::kBoot, active("BOOT_POWEROFF", "boot"), "Corral's choice: SOFT_DELETED shows as POWEROFF; its boot is BOOT_POWEROFF (seed 001:205)"},

  {{A::kDiskAttach, A::kDiskDetach}, {S::kRunning}, P::kHotplug, active("HOTPLUG", "hotp"), "reference opennebula.md:29-30; seed 001:181"},
  {{A::kDiskAttach}, {S::kPoweroff}, P::kHotplug, active("HOTPLUG_PROLOG_POWEROFF", "hotp"), "reference opennebula.md:29; seed 001:309"},
  {{A::kDiskDetach}, {S::kPoweroff}, P::kHotplug, active("HOTPLUG_EPILOG_POWEROFF", "hotp"), "reference opennebula.md:30; seed 001:317"},
  {{A::kNicAttach, A::kNicDetach}, {S::kRunning}, P::kHotplug, active("HOTPLUG_NIC", "hotp"), "reference opennebula.md:31; seed 001:245"},
  {{A::kNicAttach, A::kNicDetach}, {S::kPoweroff}, P::kHotplug, active("HOTPLUG_NIC_POWEROFF", "hotp"), "reference opennebula.md:31; seed 001:557"},
  {{A::kDiskSnapshot}, {S::kRunning}, P::kSnapshot, active("DISK_SNAPSHOT", "snap"), "reference opennebula.md:33; seed 001:501"},
  {{A::kDiskSnapshot}, {S::kPoweroff}, P::kSnapshot, active("DISK_SNAPSHOT_POWEROFF", "snap"), "reference opennebula.md:33; seed 001:453"},
  {{A::kDiskSnapshot}, {S::kSuspended}, P::kSnapshot, active("DISK_SNAPSHOT_SUSPENDED", "snap"), "reference opennebula.md:33; seed 001:477"},
  {{A::kDiskSnapshotRevert}, {S::kPoweroff}, P::kSnapshot, active("DISK_SNAPSHOT_REVERT_POWEROFF", "snap"), "reference opennebula.md:33; seed 001:461"},
  {{A::kDiskSnapshotRevert}, {S::kSuspended}, P::kSnapshot, active("DISK_SNAPSHOT_REVERT_SUSPENDED", "snap"), "seed 001:485 (the seed lists it; the reference's 'retired' loses)"},
  {{A::kDiskSnapshotDelete}, {S::kRunning}, P::kSnapshot, active("DISK_SNAPSHOT_DELETE", "snap"), "reference opennebula.md:33; seed 001:509"},
  {{A::kDiskSnapshotDelete}, {S::kPoweroff}, P::kSnapshot, active("DISK_SNAPSHOT_DELETE_POWEROFF", "snap"), "reference opennebula.md:33; seed 001:469"},
  {{A::kDiskSnapshotDelete}, {S::kSuspended}, P::kSnapshot, active("DISK_SNAPSHOT_DELETE_SUSPENDED", "snap"), "reference opennebula.md:33; seed 001:493"},
  {{A::kDiskResize}, {S::kRunning}, P::kResize, active("DISK_RESIZE", "dsrz"), "reference opennebula.md:34; seed 001:533 (alias dsrz: the seed wins over the reference's drsz)"},
  {{A::kDiskResize}, {S::kPoweroff}, P::kResize, active("DISK_RESIZE_POWEROFF", "dsrz"), "reference opennebula.md:34; seed 001:541"},
  {{A::kDiskResize}, {S::kDeallocated}, P::kResize, active("DISK_RESIZE_UNDEPLOYED", "dsrz"), "reference opennebula.md:34; seed 001:549"},
  {{A::kCheckpoint, A::kCheckpointRevert, A::kCheckpointDelete}, {S::kRunning}, P::kSnapshot, active("HOTPLUG_SNAPSHOT", "snap"), "reference opennebula.md:32 (snapshot-create/revert/delete); seed 001:237"},
};
// clang-format on

// A failed step that stops the VM in FAILED, by what the step showed while it ran.
struct FailureRow {
  std::string_view step_state;
  std::string_view step_lcm;
  Shown shown;
  std::string_view source;
};
constexpr FailureRow failing(std::string_view step_lcm, Shown shown, std::string_view source) {
  return {"ACTIVE", step_lcm, shown, source};
}

// clang-format off
constexpr FailureRow kFailure[] = {
  {"INIT", "LCM_INIT", plain("CLONING_FAILURE", "fail"), "Corral's choice: creation failed before its copy; CLONING_FAILURE is the only failure outside ACTIVE (seed 001:653)"},
  {"CLONING", "LCM_INIT", plain("CLONING_FAILURE", "fail"), "seed 001:653"},
  failing("PROLOG", active("PROLOG_FAILURE", "fail"), "seed 001:357; reference opennebula.md:17"),
  failing("BOOT", active("BOOT_FAILURE", "fail"), "seed 001:333; reference opennebula.md:17, :26"),
  failing("BOOT_MIGRATE", active("BOOT_MIGRATE_FAILURE", "fail"), "seed 001:341; reference opennebula.md:26"),
  failing("PROLOG_MIGRATE", active("PROLOG_MIGRATE_FAILURE", "fail"), "seed 001:349; reference opennebula.md:26"),
  failing("EPILOG", active("EPILOG_FAILURE", "fail"), "seed 001:365; reference opennebula.md:24"),
  failing("EPILOG_STOP", active("EPILOG_STOP_FAILURE", "fail"), "seed 001:373; reference opennebula.md:19"),
  failing("EPILOG_UNDEPLOY", active("EPILOG_UNDEPLOY_FAILURE", "fail"), "seed 001:381; reference opennebula.md:23"),
  failing("PROLOG_MIGRATE_POWEROFF", active("PROLOG_MIGRATE_POWEROFF_FAILURE", "fail"), "seed 001:397"),
  failing("PROLOG_MIGRATE_SUSPEND", active("PROLOG_MIGRATE_SUSPEND_FAILURE", "fail"), "seed 001:413"),
  failing("BOOT_UNDEPLOY", active("BOOT_UNDEPLOY_FAILURE", "fail"), "seed 001:421"),
  failing("BOOT_STOPPED", active("BOOT_STOPPED_FAILURE", "fail"), "seed 001:429"),
  failing("PROLOG_RESUME", active("PROLOG_RESUME_FAILURE", "fail"), "seed 001:437"),
  failing("PROLOG_UNDEPLOY", active("PROLOG_UNDEPLOY_FAILURE", "fail"), "seed 001:445"),
  failing("PROLOG_MIGRATE_UNKNOWN", active("PROLOG_MIGRATE_UNKNOWN_FAILURE", "fail"), "seed 001:525"),
  failing("CLEANUP_DELETE", active("EPILOG_FAILURE", "fail"), "Corral's choice: OpenNebula's delete does not wait for its cleanup (reference opennebula.md:50); a failed cleanup left files on the host as a failed EPILOG does (seed 001:365)"),
  failing("CLEANUP_RESUBMIT", active("EPILOG_FAILURE", "fail"), "Corral's choice: as CLEANUP_DELETE (reference opennebula.md:51; seed 001:365)"),
  // The steps below have no *_FAILURE: OpenNebula rolls them back (reference opennebula.md:44).
  // Corral stops in FAILED where the origin is not known intact (reference nova.md:21).
  failing("MIGRATE", active("BOOT_MIGRATE_FAILURE", "fail"), "Corral's choice: a live migration that left the VM on neither host is nearest a failed BOOT_MIGRATE (seed 001:341)"),
  failing("SAVE_SUSPEND", active("BOOT_FAILURE", "fail"), "Corral's choice: a save that left the VM not known to run; BOOT_FAILURE is the generic failure (seed 001:333)"),
  failing("BOOT_SUSPENDED", active("BOOT_FAILURE", "fail"), "Corral's choice: a BOOT* step with no failure of its own; the generic BOOT_FAILURE (seed 001:333)"),
  failing("BOOT_POWEROFF", active("BOOT_FAILURE", "fail"), "Corral's choice: a BOOT* step with no failure of its own; the generic BOOT_FAILURE (seed 001:333)"),
  failing("HOTPLUG_RESIZE", active("BOOT_FAILURE", "fail"), "Corral's choice: a resize that left the VM not known to run (seed 001:333)"),
  failing("RUNNING", active("BOOT_FAILURE", "fail"), "Corral's choice: a step shown RUNNING (reboot, confirm_resize) left the VM not known to run; the generic failure (seed 001:333)"),
  failing("SHUTDOWN_POWEROFF", active("BOOT_FAILURE", "fail"), "Corral's choice: a power-off of a failed VM failed; it stays failed (seed 001:333)"),
};
// clang-format on

enum class PowerIs : std::uint8_t { kEither, kOn, kOff };

struct RestRow {
  State state;
  PowerIs power;
  Shown shown;
  std::string_view source;
};

// clang-format off
constexpr RestRow kRest[] = {
  {S::kInit, PowerIs::kEither, plain("INIT", "init"), "seed 001:33"},
  {S::kPending, PowerIs::kEither, plain("PENDING", "pend"), "seed 001:41"},
  {S::kHold, PowerIs::kEither, plain("HOLD", "hold"), "seed 001:49"},
  {S::kRunning, PowerIs::kEither, active("RUNNING", "runn"), "seed 001:85"},
  {S::kPaused, PowerIs::kEither, plain("SUSPENDED", "susp"), "Corral's choice: OpenNebula has no pause; SUSPENDED keeps the VM on its host, not running (seed 001:613)"},
  {S::kSuspended, PowerIs::kEither, plain("SUSPENDED", "susp"), "seed 001:613"},
  {S::kPoweroff, PowerIs::kEither, plain("POWEROFF", "poff"), "seed 001:629"},
  {S::kHibernated, PowerIs::kEither, plain("STOPPED", "stop"), "seed 001:605"},
  {S::kDeallocated, PowerIs::kEither, plain("UNDEPLOYED", "unde"), "seed 001:637"},
  {S::kShelved, PowerIs::kEither, plain("POWEROFF", "poff"), "Corral's choice: powered off, files left on the host (seed 001:629)"},
  {S::kRescued, PowerIs::kEither, active("RUNNING", "runn"), "Corral's choice: the rescue image runs (seed 001:85)"},
  {S::kResized, PowerIs::kOn, active("RUNNING", "runn"), "Corral's choice: runs with its new size (seed 001:85)"},
  {S::kResized, PowerIs::kOff, plain("POWEROFF", "poff"), "Corral's choice: resized while powered off (seed 001:629)"},
  {S::kSoftDeleted, PowerIs::kEither, plain("POWEROFF", "poff"), "Corral's choice: powered off until reclaimed (seed 001:629)"},
  {S::kUnknown, PowerIs::kEither, active("UNKNOWN", "unkn"), "seed 001:173"},
  {S::kFailed, PowerIs::kEither, active("BOOT_FAILURE", "fail"), "seed 001:333 (record_at_rest: a deploy that failed in boot, model.h); Corral's choice: after a drift record replaced the failed step (observed_power), the generic failure"},
  {S::kDone, PowerIs::kEither, plain("DONE", "done"), "seed 001:621"},
};
// clang-format on

// ---- Seed 001's list, parsed once (source text, not derived from the model) -----------------

struct SeedIndex {
  std::vector<testing::OneSeedEntry> entries;
  std::unordered_map<std::string, const testing::OneSeedEntry*> states;  // by STATE name
  std::unordered_map<std::string, const testing::OneSeedEntry*> lcm;     // by LCM_STATE name
};

const SeedIndex& seed() {
  static const SeedIndex kIndex = [] {
    SeedIndex index;
    index.entries = testing::opennebula_seed_states();
    for (const testing::OneSeedEntry& e : index.entries) {
      (e.lcm ? index.lcm : index.states).emplace(e.name, &e);
    }
    return index;
  }();
  return kIndex;
}

const testing::OneSeedEntry* find_seed(bool lcm, std::string_view name) {
  const auto& map = lcm ? seed().lcm : seed().states;
  const auto it = map.find(std::string(name));
  return it == map.end() ? nullptr : it->second;
}

std::string show(const Shown& s, std::string_view source) {
  const testing::OneSeedEntry* state = find_seed(false, s.state);
  const testing::OneSeedEntry* lcm = find_seed(true, s.lcm);
  return std::string(s.state) + "/" + std::string(s.lcm) + " (" +
         (state ? std::to_string(state->number) : "?") + "/" +
         (lcm ? std::to_string(lcm->number) : "?") + ") '" + std::string(s.alias) + "' [" +
         std::string(source) + "]";
}

std::string show(const OpenNebulaView& v) {
  return std::string(one_state_name(v.state)) + "/" + std::string(lcm_state_name(v.lcm_state)) +
         " (" + std::to_string(static_cast<int>(v.state)) + "/" +
         std::to_string(static_cast<int>(v.lcm_state)) + ") '" + std::string(v.short_alias) + "'";
}

// A golden row must name states the seed lists, with the seed's alias (a typo in the table is
// a mismatch too).
void check_shown(const Shown& s, std::string_view source, Mismatches& out) {
  const testing::OneSeedEntry* state = find_seed(false, s.state);
  const testing::OneSeedEntry* lcm = find_seed(true, s.lcm);
  const bool is_active = s.state == "ACTIVE";
  std::string_view alias;
  if (state != nullptr && lcm != nullptr) alias = is_active ? lcm->alias : state->alias;
  if (state == nullptr || lcm == nullptr || (!is_active && s.lcm != "LCM_INIT") ||
      (is_active && s.lcm == "LCM_INIT") || alias != s.alias) {
    out.add("golden row " + show(s, source) +
            " does not name a seed 001 STATE/LCM_STATE pair with its alias");
  }
}

bool agrees(const Shown& s, const OpenNebulaView& v) {
  const testing::OneSeedEntry* state = find_seed(false, s.state);
  const testing::OneSeedEntry* lcm = find_seed(true, s.lcm);
  return state != nullptr && lcm != nullptr && static_cast<int>(v.state) == state->number &&
         static_cast<int>(v.lcm_state) == lcm->number && one_state_name(v.state) == s.state &&
         lcm_state_name(v.lcm_state) == s.lcm && v.short_alias == s.alias;
}

// Seed 001's list both ways: every entry's number has the seed's name and alias in the view,
// and the view's lists hold exactly the seed's numbers, once each.
void check_seed_list(Mismatches& out) {
  std::vector<int> seed_states;
  std::vector<int> seed_lcm;
  for (const testing::OneSeedEntry& e : seed().entries) {
    if (out.full()) return;
    const std::string at = "seed 001:" + std::to_string(e.line) + " " + e.name + " (" +
                           std::to_string(e.number) + ", '" + e.alias + "')";
    std::string_view name;
    std::string_view alias;
    if (e.lcm) {
      seed_lcm.push_back(e.number);
      name = lcm_state_name(static_cast<LcmState>(e.number));
      alias = lcm_state_alias(static_cast<LcmState>(e.number));
    } else {
      seed_states.push_back(e.number);
      name = one_state_name(static_cast<OneState>(e.number));
      alias = one_state_alias(static_cast<OneState>(e.number));
    }
    if (name != e.name || alias != e.alias) {
      out.add(at + ": the view names number " + std::to_string(e.number) + " " + std::string(name) +
              " '" + std::string(alias) + "'");
    }
  }
  auto same_numbers = [&](std::vector<int> from_seed, std::vector<int> in_view,
                          std::string_view what) {
    std::sort(from_seed.begin(), from_seed.end());
    std::sort(in_view.begin(), in_view.end());
    if (from_seed != in_view) {
      std::string line = std::string(what) + ": the view lists";
      for (int n : in_view) line += " " + std::to_string(n);
      line += "; seed 001 lists";
      for (int n : from_seed) line += " " + std::to_string(n);
      out.add(line);
    }
  };
  std::vector<int> view_states;
  for (OneState s : kAllOneStates) view_states.push_back(static_cast<int>(s));
  std::vector<int> view_lcm;
  for (LcmState s : kAllLcmStates) view_lcm.push_back(static_cast<int>(s));
  same_numbers(seed_states, view_states, "STATE numbers (kAllOneStates)");
  same_numbers(seed_lcm, view_lcm, "LCM_STATE numbers (kAllLcmStates)");
}

// "backup from POWEROFF, any phase" (for a row no moment reaches).
std::string describe(const RunningRow& r) {
  std::string s;
  for (Action a : kAllActions) {
    if (r.actions.contains(a)) s += (s.empty() ? "" : "/") + std::string(action_name(a));
  }
  s += " from";
  if (r.origins.empty()) s += " any state";
  for (State o : kAllStates) {
    if (r.origins.contains(o)) s += " " + std::string(state_name(o));
  }
  s += r.phase == kAnyPhase ? ", any phase" : ", " + std::string(phase_name(r.phase));
  return s;
}

bool matches(const RunningRow& r, Action action, State origin, Phase phase) {
  return r.actions.contains(action) && (r.origins.empty() || r.origins.contains(origin)) &&
         (r.phase == kAnyPhase || r.phase == phase);
}

const RunningRow* find_running(Action action, State origin, Phase phase) {
  for (const RunningRow& r : kRunning) {
    if (matches(r, action, origin, phase)) return &r;
  }
  return nullptr;
}

const FailureRow* find_failure(const Shown& step) {
  for (const FailureRow& f : kFailure) {
    if (f.step_state == step.state && f.step_lcm == step.lcm) return &f;
  }
  return nullptr;
}

const RestRow* find_rest(State state, Power power) {
  for (const RestRow& r : kRest) {
    const bool on = power == Power::kRunning;
    if (r.state == state && (r.power == PowerIs::kEither || (r.power == PowerIs::kOn) == on)) {
      return &r;
    }
  }
  return nullptr;
}

template <typename Row, std::size_t N>
std::size_t index_of(const Row (&rows)[N], const Row* row) {
  return static_cast<std::size_t>(row - rows);
}

}  // namespace

Mismatches check_opennebula(std::size_t limit) {
  Mismatches out(limit);
  if (seed().entries.empty()) {
    out.add("seed 001 could not be read: no STATE list to check against");
    return out;
  }
  for (const RunningRow& r : kRunning) check_shown(r.shown, r.source, out);
  for (const FailureRow& f : kFailure) check_shown(f.shown, f.source, out);
  for (const RestRow& r : kRest) check_shown(r.shown, r.source, out);
  check_seed_list(out);

  std::vector<bool> running_used(std::size(kRunning));
  std::vector<bool> failure_used(std::size(kFailure));
  std::vector<bool> rest_used(std::size(kRest));
  for (const Moment& m : moments()) {
    if (out.full()) return out;
    const OpenNebulaView v = opennebula_view(m.record);
    if (m.outcome == Outcome::kRunning) {
      const RunningRow* row = find_running(m.action, m.origin, m.phase);
      if (row == nullptr) {
        out.add(m.describe() + ": no golden row; the view shows " + show(v));
        continue;
      }
      running_used[index_of(kRunning, row)] = true;
      if (!agrees(row->shown, v)) {
        out.add(m.describe() + ": golden " + show(row->shown, row->source) + ", view " + show(v));
      }
    } else if (m.outcome != Outcome::kSucceeded && m.outcome != Outcome::kAtRest &&
               m.record.state == S::kFailed) {
      // Stopped in FAILED: the failure of the step, by what the step showed while it ran.
      const RunningRow* step = find_running(m.action, m.origin, m.phase);
      const FailureRow* row = step == nullptr ? nullptr : find_failure(step->shown);
      if (row == nullptr) {
        out.add(m.describe() + ": no golden failure row for the step (" +
                (step == nullptr ? std::string("no golden row for it running")
                                 : show(step->shown, step->source)) +
                "); the view shows " + show(v));
        continue;
      }
      failure_used[index_of(kFailure, row)] = true;
      if (!agrees(row->shown, v)) {
        out.add(m.describe() + ": golden " + show(row->shown, row->source) + " after " +
                std::string(step->shown.lcm) + ", view " + show(v));
      }
    } else {
      const RestRow* row = find_rest(m.record.state, m.record.power);
      if (row == nullptr) {
        out.add(m.describe() + ": no golden row for " + std::string(state_name(m.record.state)) +
                " at rest; the view shows " + show(v));
        continue;
      }
      rest_used[index_of(kRest, row)] = true;
      if (!agrees(row->shown, v)) {
        out.add(m.describe() + " (at rest in " + std::string(state_name(m.record.state)) +
                "): golden " + show(row->shown, row->source) + ", view " + show(v));
      }
    }
  }
  // The other way: a row no moment reaches (or only ever shadowed) says something the model
  // does not do.
  for (std::size_t i = 0; i < std::size(kRunning) && !out.full(); ++i) {
    if (!running_used[i]) {
      out.add("golden row " + describe(kRunning[i]) + " running -> " +
              show(kRunning[i].shown, kRunning[i].source) + " is no moment's row");
    }
  }
  for (std::size_t i = 0; i < std::size(kFailure) && !out.full(); ++i) {
    if (!failure_used[i]) {
      out.add("golden failure row after " + std::string(kFailure[i].step_lcm) + " -> " +
              show(kFailure[i].shown, kFailure[i].source) + " is no moment's row");
    }
  }
  for (std::size_t i = 0; i < std::size(kRest) && !out.full(); ++i) {
    if (!rest_used[i]) {
      out.add("golden rest row for " + std::string(state_name(kRest[i].state)) + " " +
              show(kRest[i].shown, kRest[i].source) + " is no moment's row");
    }
  }
  return out;
}

}  // namespace corral::lifecycle::golden
