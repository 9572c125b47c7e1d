// The vocabulary golden table's rows (see vocabulary_golden.cc, the only includer): each
// vocabulary's verbs as their sources say, every row with its citation. Data only.
#pragma once

#include <array>
#include <string_view>

#include "lifecycle/types.h"

namespace corral::lifecycle::golden::vocabulary_rows {

using S = State;
using A = Action;
using V = Vocabulary;

inline constexpr StateSet kLive = StateSet::all_live();
inline constexpr StateSet kAnyOrigin = StateSet::all_live().with(S::kInit);
inline constexpr ActionSet kAnyRunning = ActionSet::all();
// The running operations a delete may cut short: any but a delete already running.
inline constexpr ActionSet kAnyButDelete =
    ActionSet::all().without(A::kTerminateHard).without(A::kRecoverDelete);

// ---- Variants ----------------------------------------------------------------------------

// A verb whose parameter selects among variants; the first is what no parameter means.
// Verbs not listed have one variant, "".
struct VariantRow {
  V vocabulary;
  std::string_view verb;
  std::array<std::string_view, 5> variants;
  std::string_view cite;
};
inline constexpr VariantRow kVariants[] = {
    {V::kNova,
     "reboot",
     {"SOFT", "HARD"},
     "reference nova.md:37-38 (reboot type SOFT or HARD); Corral's choice: SOFT when no type "
     "is given, the gentler one"},
    {V::kNova,
     "shelve",
     {"true", "false"},
     "reference nova.md:50, :105 (shelved_offload_time=0, the default, offloads at once); "
     "Corral's choice: the parameter offload=false keeps it shelved on its host"},
    {V::kOpenNebula,
     "recover",
     {"success", "failure", "retry", "delete", "recreate"},
     "reference opennebula.md:40 (one.vm.recover op); Corral's choice: success when no op is "
     "given"},
    {V::kAzure,
     "powerOff",
     {"false", "true"},
     "reference azure-cli.md:63 (POST powerOff?skipShutdown=false; --skip-shutdown -> true)"},
};

// ---- Nova: seed 003's "state -> verb" edges, mapped to canonical states --------------------

// Seed 003's vm_state nodes -> the canonical states at rest Corral shows as that vm_state.
struct NovaStateRow {
  std::string_view name;
  StateSet states;
  std::string_view cite;
};
inline constexpr NovaStateRow kNovaStates[] = {
    {"building",
     {S::kInit, S::kPending, S::kHold},
     "seed 004:21 (BUILDING: created in the database, not built yet)"},
    {"active", {S::kRunning}, "seed 004:22 (ACTIVE: VM is running)"},
    {"paused", {S::kPaused}, "seed 004:24"},
    {"suspended", {S::kSuspended}, "seed 004:25"},
    {"stopped", {S::kPoweroff}, "seed 004:26 (STOPPED: not running, the image on disk)"},
    {"rescued", {S::kRescued}, "seed 004:23"},
    {"resized", {S::kResized}, "seed 004:30"},
    {"soft_deleted", {S::kSoftDeleted}, "seed 004:27"},
    {"deleted", {S::kDone}, "seed 004:28"},
    {"error", {S::kFailed}, "seed 004:31"},
    {"shelved", {S::kShelved}, "reference nova.md:50 (shelved, power 4, still on its host)"},
    {"shelved_offloaded",
     {S::kHibernated, S::kDeallocated},
     "reference nova.md:50 (offloaded: host and node nulled); Corral's choice: HIBERNATED, "
     "whose memory left the host with its disks, shows as offloaded too"},
};

// Where the seed's edges are not the whole story.
struct NovaException {
  bool add;  // add the states, or take them away
  std::string_view verb;
  std::string_view variant;  // "" = every variant of the verb
  StateSet states;
  std::string_view cite;
};
inline constexpr NovaException kNovaExceptions[] = {
    {true, "delete", "", kLive,
     "reference nova.md:27, :69 (delete: any vm_state, any task_state); the seed draws seven"},
    {true,
     "stop",
     "",
     {S::kUnknown},
     "reference nova.md:84, :31: Nova keeps a VM it cannot see 'active' (power NOSTATE), and "
     "os-stop accepts active; Corral's choice: of active's verbs only stop (and delete) reach "
     "UNKNOWN, as OpenNebula's poweroff does (opennebula.md:22)"},
    {false,
     "reboot",
     "SOFT",
     {S::kPaused, S::kPoweroff, S::kSuspended, S::kFailed},
     "reference nova.md:7, :37 (ALLOW_SOFT_REBOOT = [ACTIVE]); the seed draws reboot's states "
     "for both types"},
    {true, "reset_state", "", kLive,
     "reference nova.md:54 (os-resetState: no state check, admin); not drawn in the seed"},
};

// What each Nova verb does, by the state it is given in (the first row that matches).
struct NovaAction {
  std::string_view verb;
  std::string_view variant;
  StateSet states;
  A action;
  std::string_view cite;
};
inline constexpr NovaAction kNovaActions[] = {
    {"create", "", {S::kInit}, A::kCreate, "reference nova.md:26 (POST /servers: vm building)"},
    {"create", "", kLive, A::kDeploy,
     "reference nova.md:26 (compute: networking, block_device_mapping, spawning -> active); "
     "Corral's choice: create on a building VM the scheduler placed spawns it"},
    {"delete", "", kLive, A::kTerminateHard,
     "reference nova.md:27 (deleting -> deleted, power 0: no clean-shutdown wait, unlike "
     "nova.md:31's stop)"},
    {"soft_delete", "", kLive, A::kSoftDelete, "reference nova.md:28"},
    {"restore", "", kLive, A::kRestore, "reference nova.md:29"},
    {"pause", "", kLive, A::kPause, "reference nova.md:33"},
    {"unpause", "", kLive, A::kUnpause, "reference nova.md:34"},
    {"suspend", "", kLive, A::kSuspend, "reference nova.md:35"},
    {"resume", "", kLive, A::kResume, "reference nova.md:36"},
    {"start", "", kLive, A::kStart, "reference nova.md:32"},
    {"stop",
     "",
     {S::kFailed},
     A::kShutdownHard,
     "Corral's choice: an errored VM's guest is not trusted to answer ACPI; the table powers a "
     "FAILED VM off hard"},
    {"stop", "", kLive, A::kShutdown,
     "reference nova.md:31 (os-stop: clean shutdown by ACPI, then destroy)"},
    {"rescue", "", kLive, A::kRescue, "reference nova.md:39"},
    {"unrescue", "", kLive, A::kUnrescue, "reference nova.md:40"},
    {"resize", "", kLive, A::kResizeMigrate, "reference nova.md:41 (ends resized, VERIFY_RESIZE)"},
    {"confirm_resize", "", kLive, A::kConfirmResize, "reference nova.md:42"},
    {"revert_resize", "", kLive, A::kRevertResize, "reference nova.md:43"},
    {"snapshot", "", kLive, A::kSnapshot, "reference nova.md:44 (createImage)"},
    {"backup", "", kLive, A::kBackup, "reference nova.md:45 (createBackup)"},
    {"rebuild", "", kLive, A::kRebuild, "reference nova.md:46"},
    {"set_admin_password", "", kLive, A::kSetAdminPassword, "reference nova.md:47"},
    {"reboot", "SOFT", kLive, A::kReboot, "reference nova.md:37"},
    {"reboot", "HARD", kLive, A::kRebootHard, "reference nova.md:38"},
    {"live_migrate", "", kLive, A::kLiveMigrate, "reference nova.md:48"},
    {"shelve", "true", kLive, A::kShelveOffload,
     "reference nova.md:50 (shelving, then shelving_offloading -> shelved_offloaded)"},
    {"shelve", "false", kLive, A::kShelve, "reference nova.md:50 (shelved, power 4)"},
    {"shelve_offload", "", kLive, A::kShelveOffload, "reference nova.md:51"},
    {"unshelve",
     "",
     {S::kHibernated},
     A::kResume,
     "Corral's choice: a HIBERNATED VM (shown as shelved_offloaded) comes back with its saved "
     "memory"},
    {"unshelve", "", kLive, A::kStart, "reference nova.md:52 (unshelving, spawning -> active)"},
    {"reset_state", "", kLive, A::kResetState, "reference nova.md:54"},
};

// ---- OpenNebula, Azure, StratusLab: rows written from their sources ------------------------

struct VerbRow {
  V vocabulary;
  std::string_view verb;
  std::string_view variant;
  StateSet at_rest;
  A action;
  std::string_view cite;
};

// OpenNebula's canonical-only states (PAUSED, SHELVED, SOFT_DELETED, RESCUED, RESIZED) have no
// row in its reference; OpenNebula shows them as SUSPENDED, POWEROFF, POWEROFF, RUNNING and
// RUNNING (seed 001's nearest states), and the rows naming them say so.
inline constexpr StateSet kOneCanonicalOnly = {S::kPaused, S::kShelved, S::kSoftDeleted,
                                               S::kRescued, S::kResized};
// opennebula.md:24: terminate's non-transient states (INIT and CLONING are create running).
inline constexpr StateSet kOneTerminate = {S::kRunning,  S::kUnknown,    S::kSuspended,
                                           S::kPoweroff, S::kHibernated, S::kDeallocated,
                                           S::kPending,  S::kHold,       S::kFailed};

// clang-format off
inline constexpr VerbRow kRows[] = {
  // ---- OpenNebula (reference opennebula.md, section 1's transition table) ----
  {V::kOpenNebula, "deploy", "", {S::kPending, S::kHold}, A::kDeploy, "reference opennebula.md:17 (PENDING|HOLD -> PROLOG -> BOOT -> RUNNING)"},
  {V::kOpenNebula, "deploy", "", {S::kHibernated}, A::kResume, "reference opennebula.md:17 (after stop: PROLOG_RESUME -> BOOT_STOPPED)"},
  {V::kOpenNebula, "deploy", "", {S::kDeallocated}, A::kStart, "reference opennebula.md:17 (after undeploy: PROLOG_UNDEPLOY -> BOOT_UNDEPLOY)"},
  {V::kOpenNebula, "hold", "", {S::kPending}, A::kHold, "reference opennebula.md:18"},
  {V::kOpenNebula, "release", "", {S::kHold}, A::kRelease, "reference opennebula.md:18"},
  {V::kOpenNebula, "stop", "", {S::kRunning, S::kSuspended}, A::kHibernate, "reference opennebula.md:19"},
  {V::kOpenNebula, "suspend", "", {S::kRunning}, A::kSuspend, "reference opennebula.md:20"},
  {V::kOpenNebula, "resume", "", {S::kSuspended}, A::kResume, "reference opennebula.md:21 (SUSPENDED -> BOOT_SUSPENDED)"},
  {V::kOpenNebula, "resume", "", {S::kHibernated}, A::kResume, "reference opennebula.md:21 (STOPPED -> PENDING, then the deploy path)"},
  {V::kOpenNebula, "resume", "", {S::kDeallocated}, A::kStart, "reference opennebula.md:21 (UNDEPLOYED -> PENDING, then the deploy path)"},
  {V::kOpenNebula, "resume", "", {S::kPoweroff, S::kUnknown}, A::kStart, "reference opennebula.md:21 (BOOT_POWEROFF, BOOT_UNKNOWN)"},
  {V::kOpenNebula, "resume", "", {S::kShelved}, A::kStart, "Corral's choice: SHELVED shows as POWEROFF, which resume boots (opennebula.md:21)"},
  {V::kOpenNebula, "resume", "", {S::kPaused}, A::kUnpause, "Corral's choice: PAUSED shows as SUSPENDED, which resume runs again (opennebula.md:21)"},
  {V::kOpenNebula, "resume", "", {S::kSoftDeleted}, A::kRestore, "Corral's choice: SOFT_DELETED shows as POWEROFF; resume brings it back"},
  {V::kOpenNebula, "poweroff", "", {S::kRunning, S::kUnknown}, A::kShutdown, "reference opennebula.md:22"},
  {V::kOpenNebula, "poweroff-hard", "", {S::kRunning, S::kUnknown}, A::kShutdownHard, "reference opennebula.md:22 (--hard: the same path with CANCEL)"},
  {V::kOpenNebula, "undeploy", "", {S::kRunning, S::kUnknown, S::kPoweroff}, A::kDeallocate, "reference opennebula.md:23"},
  {V::kOpenNebula, "undeploy-hard", "", {S::kRunning, S::kUnknown}, A::kDeallocateHard, "reference opennebula.md:23"},
  {V::kOpenNebula, "undeploy-hard", "", {S::kPoweroff}, A::kDeallocate, "reference opennebula.md:23 (POWEROFF -> EPILOG_UNDEPLOY: nothing to power off, hard or not)"},
  {V::kOpenNebula, "terminate", "", kOneTerminate, A::kTerminate, "reference opennebula.md:24"},
  {V::kOpenNebula, "terminate", "", kOneCanonicalOnly, A::kTerminate, "Corral's choice: shown as SUSPENDED, POWEROFF or RUNNING, where terminate applies (opennebula.md:24)"},
  {V::kOpenNebula, "terminate-hard", "", kOneTerminate, A::kTerminateHard, "reference opennebula.md:24"},
  {V::kOpenNebula, "terminate-hard", "", kOneCanonicalOnly, A::kTerminateHard, "Corral's choice: shown as SUSPENDED, POWEROFF or RUNNING, where terminate applies (opennebula.md:24)"},
  {V::kOpenNebula, "reboot", "", {S::kRunning}, A::kReboot, "reference opennebula.md:25 (RUNNING only)"},
  {V::kOpenNebula, "reboot-hard", "", {S::kRunning}, A::kRebootHard, "reference opennebula.md:25 (RUNNING only)"},
  {V::kOpenNebula, "migrate", "", {S::kRunning, S::kPoweroff, S::kSuspended, S::kUnknown}, A::kMigrate, "reference opennebula.md:26"},
  {V::kOpenNebula, "migrate-live", "", {S::kRunning}, A::kLiveMigrate, "reference opennebula.md:27; Corral's choice: refused elsewhere rather than silently made cold"},
  {V::kOpenNebula, "resched", "", {S::kRunning, S::kUnknown, S::kPoweroff}, A::kResched, "reference opennebula.md:28"},
  {V::kOpenNebula, "unresched", "", {S::kRunning, S::kUnknown, S::kPoweroff}, A::kUnresched, "reference opennebula.md:28"},
  {V::kOpenNebula, "disk-attach", "", {S::kRunning, S::kPoweroff}, A::kDiskAttach, "reference opennebula.md:29"},
  {V::kOpenNebula, "disk-detach", "", {S::kRunning, S::kPoweroff}, A::kDiskDetach, "reference opennebula.md:30"},
  {V::kOpenNebula, "nic-attach", "", {S::kRunning, S::kPoweroff}, A::kNicAttach, "reference opennebula.md:31"},
  {V::kOpenNebula, "nic-detach", "", {S::kRunning, S::kPoweroff}, A::kNicDetach, "reference opennebula.md:31"},
  {V::kOpenNebula, "snapshot-create", "", {S::kRunning}, A::kCheckpoint, "reference opennebula.md:32"},
  {V::kOpenNebula, "snapshot-revert", "", {S::kRunning}, A::kCheckpointRevert, "reference opennebula.md:32"},
  {V::kOpenNebula, "snapshot-delete", "", {S::kRunning}, A::kCheckpointDelete, "reference opennebula.md:32 (from POWEROFF only with a KEEP_SNAPSHOTS driver, untested there: not followed)"},
  {V::kOpenNebula, "disk-snapshot-create", "", {S::kRunning, S::kPoweroff, S::kSuspended}, A::kDiskSnapshot, "reference opennebula.md:33"},
  {V::kOpenNebula, "disk-snapshot-revert", "", {S::kPoweroff}, A::kDiskSnapshotRevert, "reference opennebula.md:33 (revert: POWEROFF only)"},
  {V::kOpenNebula, "disk-snapshot-delete", "", {S::kRunning, S::kPoweroff, S::kSuspended}, A::kDiskSnapshotDelete, "reference opennebula.md:33"},
  {V::kOpenNebula, "disk-resize", "", {S::kRunning, S::kPoweroff, S::kDeallocated}, A::kDiskResize, "reference opennebula.md:34"},
  {V::kOpenNebula, "disk-saveas", "", {S::kRunning, S::kPoweroff, S::kSuspended, S::kDeallocated, S::kHibernated}, A::kSnapshot, "reference opennebula.md:35"},
  {V::kOpenNebula, "disk-saveas", "", {S::kPaused}, A::kSnapshot, "Corral's choice: PAUSED shows as SUSPENDED, where disk-saveas applies (opennebula.md:35)"},
  {V::kOpenNebula, "resize", "", {S::kRunning, S::kPoweroff, S::kPending, S::kHold, S::kDeallocated}, A::kResize, "reference opennebula.md:37"},
  {V::kOpenNebula, "backup", "", {S::kRunning, S::kPoweroff}, A::kBackup, "reference opennebula.md:39"},
  {V::kOpenNebula, "recover", "success", {S::kFailed}, A::kRecoverSuccess, "reference opennebula.md:47 (from a *_FAILURE state)"},
  {V::kOpenNebula, "recover", "failure", {S::kFailed}, A::kRecoverFailure, "reference opennebula.md:47-48"},
  {V::kOpenNebula, "recover", "retry", {S::kFailed}, A::kRecoverRetry, "reference opennebula.md:49 (*_FAILURE -> back to the in-progress state)"},
  {V::kOpenNebula, "recover", "delete", kLive, A::kRecoverDelete, "reference opennebula.md:50 (any state)"},
  {V::kOpenNebula, "recover", "recreate", kLive.without(S::kPending).without(S::kHold), A::kRecoverRecreate, "reference opennebula.md:51 (the same cleanup as delete, then PENDING); Corral's choice: not from PENDING or HOLD, where nothing was placed to clean up"},

  // ---- Azure (seed 000; reference azure-cli.md:63-65 for the calls). Canonical states show as
  // Azure power states: Stopped = POWEROFF, SUSPENDED, SHELVED, SOFT_DELETED; Deallocated =
  // HIBERNATED, DEALLOCATED; Running = RUNNING, PAUSED, RESCUED, RESIZED (the view).
  {V::kAzure, "start", "", {S::kPoweroff, S::kShelved, S::kDeallocated}, A::kStart, "seed 000:103-104, :151 (Stopped keeps the host, Deallocated does not; start leaves both: 000:191-192)"},
  {V::kAzure, "start", "", {S::kSuspended, S::kHibernated}, A::kResume, "Corral's choice: a VM shown Stopped or Deallocated whose memory was saved starts from it"},
  {V::kAzure, "start", "", {S::kSoftDeleted}, A::kRestore, "Corral's choice: SOFT_DELETED shows as Stopped; start brings it back"},
  {V::kAzure, "powerOff", "false", {S::kRunning}, A::kShutdown, "seed 000:80 (Stopping: stopped from the client); reference azure-libvirt-qmp.md:11 (graceful shutdown first)"},
  {V::kAzure, "powerOff", "false", {S::kUnknown}, A::kShutdown, "Corral's choice: as OpenNebula's poweroff from UNKNOWN (opennebula.md:22)"},
  {V::kAzure, "powerOff", "true", {S::kRunning}, A::kShutdownHard, "reference azure-cli.md:63 (skipShutdown=true)"},
  {V::kAzure, "powerOff", "true", {S::kUnknown, S::kPaused}, A::kShutdownHard, "Corral's choice: a VM shown unknown, or running but paused, can be powered off without a shutdown"},
  {V::kAzure, "restart", "", {S::kRunning}, A::kReboot, "seed 000:191-192 (restart is an update of a running VM)"},
  {V::kAzure, "deallocate", "", {S::kRunning, S::kPoweroff}, A::kDeallocate, "seed 000:128, :196 (deallocating a running or stopped VM releases its host)"},
  {V::kAzure, "deallocate", "", {S::kUnknown, S::kSuspended, S::kShelved}, A::kDeallocate, "Corral's choice: shown unknown or Stopped; the table deallocates them"},
  {V::kAzure, "deallocate", "", {S::kPaused}, A::kDeallocateHard, "Corral's choice: a paused guest cannot shut down, so its power is cut"},
  {V::kAzure, "update", "", {S::kRunning, S::kPoweroff, S::kPending, S::kHold, S::kDeallocated}, A::kResize, "seed 000:191 (Update: a new model for an existing VM); :336-339 (a failed update leaves the VM running with its original model); reference azure-cli.md (az vm resize PUTs the VM with a new vmSize)"},
  {V::kAzure, "delete", "", kLive, A::kTerminateHard, "seed 000:194 (Delete a VM, in any state)"},

  // ---- StratusLab (seed 002) ----
  {V::kStratusLab, "run", "", {S::kInit}, A::kCreate, "seed 002:14, :48-51 (stratus-run-instance)"},
  {V::kStratusLab, "kill", "", kLive, A::kTerminateHard, "seed 002:153-157, :166-168 (kill releases a stopped VM and forcibly stops and removes a running one)"},
};
// clang-format on

// ---- During a running operation ----------------------------------------------------------

// A verb accepted while an operation runs: the running action and the state it started from.
struct DuringRow {
  V vocabulary;
  std::string_view verb;
  std::string_view variant;
  ActionSet running;
  StateSet origins;
  A action;
  std::string_view cite;
};

// clang-format off
inline constexpr DuringRow kDuring[] = {
  {V::kNova, "delete", "", kAnyButDelete, kAnyOrigin, A::kTerminateHard, "seed 004:35 (only a hard delete pre-empts other tasks); reference nova.md:69-74 (any task_state, even building; a second delete is ignored)"},
  {V::kNova, "reset_state", "", kAnyRunning, kAnyOrigin, A::kResetState, "reference nova.md:54 (no check)"},
  {V::kOpenNebula, "poweroff-hard", "", {A::kShutdown}, {S::kRunning, S::kUnknown}, A::kShutdownHard, "reference opennebula.md:22 (--hard also from SHUTDOWN_POWEROFF)"},
  {V::kOpenNebula, "undeploy-hard", "", {A::kDeallocate}, {S::kRunning, S::kUnknown}, A::kDeallocateHard, "reference opennebula.md:23 (--hard also from SHUTDOWN_UNDEPLOY); Corral's choice: in its epilog too, which the verb rule cannot tell apart"},
  {V::kOpenNebula, "terminate", "", {A::kCreate}, {S::kInit}, A::kTerminateHard, "reference opennebula.md:24 (INIT|CLONING* -> DONE directly)"},
  {V::kOpenNebula, "terminate-hard", "", {A::kCreate}, {S::kInit}, A::kTerminateHard, "reference opennebula.md:24 (INIT|CLONING* -> DONE directly)"},
  {V::kOpenNebula, "terminate-hard", "", {A::kTerminate}, kAnyOrigin, A::kTerminateHard, "reference opennebula.md:24 (--hard also from SHUTDOWN); Corral's choice: in terminate's epilog too, which the verb rule cannot tell apart"},
  {V::kOpenNebula, "recover", "success", kAnyRunning, kAnyOrigin, A::kRecoverSuccess, "reference opennebula.md:47 (any ACTIVE state); Corral's choice: during create too"},
  {V::kOpenNebula, "recover", "failure", kAnyRunning, kAnyOrigin, A::kRecoverFailure, "reference opennebula.md:47 (any ACTIVE state); Corral's choice: during create too"},
  {V::kOpenNebula, "recover", "retry", kAnyRunning, kAnyOrigin, A::kRecoverRetry, "reference opennebula.md:49 (in progress: re-send)"},
  {V::kOpenNebula, "recover", "delete", kAnyButDelete, kAnyOrigin, A::kRecoverDelete, "reference opennebula.md:50 (any state); Corral's choice: a delete already running is left to finish"},
  {V::kOpenNebula, "recover", "recreate", kAnyButDelete, kAnyOrigin, A::kRecoverRecreate, "reference opennebula.md:51; Corral's choice: a delete already running is left to finish"},
  {V::kAzure, "powerOff", "true", {A::kShutdown}, {S::kRunning, S::kUnknown}, A::kShutdownHard, "Corral's choice: skipShutdown cuts a hung graceful powerOff short, as OpenNebula's --hard (opennebula.md:22)"},
  {V::kAzure, "delete", "", kAnyButDelete, kAnyOrigin, A::kTerminateHard, "seed 000:194; Corral's choice: a delete pre-empts any other operation, as Nova's (seed 004:35)"},
  {V::kStratusLab, "kill", "", kAnyButDelete, kAnyOrigin, A::kTerminateHard, "seed 002:166-168 (forcibly stop and remove); Corral's choice: whatever runs"},
};
// clang-format on

}  // namespace corral::lifecycle::golden::vocabulary_rows
