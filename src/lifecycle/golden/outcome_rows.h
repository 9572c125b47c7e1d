// The outcomes golden table's rows (data only; checked by outcomes_golden.cc). For every row
// of the transition table and every origin it allows: the phases in order, where a failure (and
// a cancel) of each ends, and where success ends. Written from OpenNebula's *_FAILURE states
// (seed 001) and transitions (reference opennebula.md), Nova's failure column (reference
// nova.md:24-55) and Azure's OS provisioning (seed 000) — not from table.cc.
#pragma once

#include <string_view>

namespace corral::lifecycle::golden::outcome_rows {

// One golden entry: an action from an explicit set of origins (never a wildcard, so that an
// origin added to or dropped from the table is caught), idle or pre-empting.
// `path` is "<phase>:<end> ... -> <success end>", a failure's <end> being
//   origin     roll back: back where the operation started (a step that undoes itself)
//   FAILED     fail-stop: OpenNebula's *_FAILURE, Nova's ERROR
//   target     keep target: the VM reached the target, the operation failed (Azure OS provisioning)
//   if-intact  back to the origin if the driver reports it intact, else FAILED (Nova's E,
//              reference nova.md:21); a cancel or a deadline knows nothing of the origin: FAILED
//   undo       the row's undo phases (`undo`, "<phase>@<side>[+removes] ...", +removes when the
//              phase removes the VM's copy on that side) run first, in order; then
//              back to the origin, the op failed (or canceled); a failed undo phase: FAILED
// and the success end a state name, `origin`, or `by-power` (RUNNING if powered on, else
// POWEROFF). An instant row has no phases: "-> HOLD". A failure's op status is `failed`, a
// cancel's `canceled` (seed 000:264-267), whatever the end.
struct Row {
  std::string_view action;
  std::string_view origins;
  std::string_view path;
  std::string_view source;
  bool preempting = false;     // replaces a running operation that started from the origin
  std::string_view undo = {};  // the undo phases a failure marked `undo` runs, in order
};
inline constexpr bool kPreempting = true;

// clang-format off
inline constexpr Row kRows[] = {
  {"create", "INIT", "init:FAILED clone:FAILED -> PENDING",
   "seed 001:649-653 (CLONING_FAILURE); seed 001:41 (a VM starts in pending); reference nova.md:26 (a failed build is ERROR)"},
  {"deploy", "PENDING HOLD",
   "prolog:FAILED boot:FAILED os_provisioning:target os_provisioned:target -> RUNNING",
   "seed 001:353 PROLOG_FAILURE, seed 001:329 BOOT_FAILURE, reference opennebula.md:17; seed 000:290 (OS provisioning fails while the VM is deployed and billed)"},
  {"hold", "PENDING", "-> HOLD", "reference opennebula.md:18; seed 001:49"},
  {"release", "HOLD", "-> PENDING", "reference opennebula.md:18"},

  {"shutdown", "RUNNING", "shutdown:origin -> POWEROFF",
   "seed 001:189 (SHUTDOWN_POWEROFF: on timeout changed to running); reference opennebula.md:22 (! RUNNING); reference nova.md:31 (stop: R)"},
  {"shutdown", "UNKNOWN", "shutdown:origin -> POWEROFF",
   "reference opennebula.md:22 (RUNNING|UNKNOWN->SHUTDOWN_POWEROFF); Corral's choice: a failure returns to UNKNOWN, OpenNebula assumes RUNNING (opennebula.md:44) though nothing was seen running"},
  {"shutdown_hard", "RUNNING UNKNOWN", "power_off:origin -> POWEROFF",
   "reference opennebula.md:22 (poweroff --hard: same path, ! RUNNING)"},
  {"shutdown_hard", "PAUSED RESCUED", "power_off:origin -> POWEROFF",
   "Corral's choice: a guest that cannot answer ACPI is powered off; a failed power-off undoes nothing, as opennebula.md:22"},
  {"shutdown_hard", "FAILED", "power_off:FAILED -> POWEROFF",
   "reference nova.md:31 (stop from error; R keeps vm_state error); seed 003:20 (error -> stop)"},
  {"shutdown_hard", "RUNNING UNKNOWN", "power_off:origin -> POWEROFF",
   "reference opennebula.md:22 (--hard also from SHUTDOWN_POWEROFF), opennebula.md:102 (#2586)", kPreempting},

  {"start", "POWEROFF UNKNOWN", "boot:origin -> RUNNING",
   "reference opennebula.md:21 (BOOT_POWEROFF ! POWEROFF, BOOT_UNKNOWN ! UNKNOWN), opennebula.md:44; reference nova.md:32 (start: R)"},
  {"start", "SHELVED", "boot:origin -> RUNNING", "reference nova.md:52 (unshelve: R)"},
  {"start", "DEALLOCATED", "schedule:origin prolog:FAILED boot:FAILED -> RUNNING",
   "reference nova.md:52 (unshelve of shelved_offloaded: R); seed 001:441 PROLOG_UNDEPLOY_FAILURE, seed 001:417 BOOT_UNDEPLOY_FAILURE, reference opennebula.md:17"},

  {"reboot", "RUNNING", "reboot:if-intact -> RUNNING",
   "reference nova.md:37 (guest still RUNNING: back to ACTIVE, otherwise ERROR); seed 003:30 (reboot -> error); opennebula.md:25 (failure only logged: the intact case)"},
  {"reboot_hard", "RUNNING PAUSED", "reset:if-intact -> RUNNING",
   "reference nova.md:38 (HARD: same as SOFT), nova.md:7 (ALLOW_HARD_REBOOT)"},
  {"reboot_hard", "POWEROFF SUSPENDED", "boot:if-intact -> RUNNING",
   "reference nova.md:38 (same as SOFT), nova.md:7 (ALLOW_HARD_REBOOT)"},
  {"reboot_hard", "FAILED", "boot:FAILED -> RUNNING",
   "reference nova.md:7 (hard reboot from ERROR), nova.md:38, nova.md:192"},

  {"pause", "RUNNING", "pause:origin -> PAUSED", "reference nova.md:33 (R)"},
  {"unpause", "PAUSED", "unpause:origin -> RUNNING", "reference nova.md:34 (R)"},
  {"suspend", "RUNNING", "save:if-intact -> SUSPENDED",
   "reference nova.md:35 (E(active)); opennebula.md:20 (! RUNNING)"},
  {"suspend", "PAUSED", "save:if-intact -> SUSPENDED",
   "Corral's choice: a paused VM's memory is saved as it stands; a failure as from RUNNING (nova.md:35)"},
  {"resume", "SUSPENDED", "restore:if-intact -> RUNNING",
   "reference nova.md:36 (E(suspended)); opennebula.md:21 (BOOT_SUSPENDED ! SUSPENDED)"},
  {"resume", "HIBERNATED", "schedule:origin prolog:FAILED restore:FAILED -> RUNNING",
   "reference opennebula.md:21 (STOPPED->PENDING, then PROLOG_RESUME->BOOT_STOPPED); seed 001:433 PROLOG_RESUME_FAILURE, seed 001:425 BOOT_STOPPED_FAILURE; no host found keeps the vm_state (nova.md:41, NoValidHost)"},

  {"hibernate", "RUNNING", "save:origin epilog:FAILED -> HIBERNATED",
   "reference opennebula.md:19 (stop: save ! RUNNING, epilog -> EPILOG_STOP_FAILURE); seed 001:369"},
  {"hibernate", "PAUSED", "save:origin epilog:FAILED -> HIBERNATED",
   "Corral's choice: as from RUNNING (opennebula.md:19); seed 001:369"},
  {"hibernate", "SUSPENDED", "epilog:FAILED -> HIBERNATED",
   "reference opennebula.md:19 (SUSPENDED->EPILOG_STOP->STOPPED); seed 001:369 EPILOG_STOP_FAILURE"},

  {"deallocate", "RUNNING UNKNOWN", "shutdown:origin epilog:FAILED -> DEALLOCATED",
   "reference opennebula.md:23 (undeploy: ! RUNNING / EPILOG_UNDEPLOY_FAILURE); seed 001:277, seed 001:377"},
  {"deallocate", "POWEROFF", "epilog:FAILED -> DEALLOCATED",
   "reference opennebula.md:23 (POWEROFF->EPILOG_UNDEPLOY); seed 001:377 EPILOG_UNDEPLOY_FAILURE"},
  {"deallocate", "SUSPENDED SHELVED", "epilog:FAILED -> DEALLOCATED",
   "Corral's choice: Azure deallocates a stopped VM (seed 000:128); the epilog as from POWEROFF, seed 001:377"},
  {"deallocate_hard", "RUNNING UNKNOWN", "power_off:origin epilog:FAILED -> DEALLOCATED",
   "reference opennebula.md:23 (undeploy --hard); seed 001:377"},
  {"deallocate_hard", "PAUSED", "power_off:origin epilog:FAILED -> DEALLOCATED",
   "Corral's choice: a paused guest cannot answer ACPI; seed 001:377"},
  {"deallocate_hard", "RUNNING UNKNOWN", "power_off:origin epilog:FAILED -> DEALLOCATED",
   "reference opennebula.md:23 (--hard also from SHUTDOWN_UNDEPLOY); seed 001:377", kPreempting},

  {"terminate", "RUNNING UNKNOWN", "shutdown:origin epilog:FAILED -> DONE",
   "reference opennebula.md:24 (SHUTDOWN->EPILOG->DONE, ! RUNNING / EPILOG_FAILURE); seed 001:157, seed 001:361"},
  {"terminate", "RESCUED RESIZED", "shutdown:origin epilog:FAILED -> DONE",
   "Corral's choice: a VM on its host shuts down first, as from RUNNING (opennebula.md:24); Nova deletes any vm_state (nova.md:27)"},
  {"terminate", "PAUSED", "power_off:origin epilog:FAILED -> DONE",
   "Corral's choice: a paused guest cannot answer ACPI; then as opennebula.md:24; seed 001:361"},
  {"terminate", "SUSPENDED POWEROFF HIBERNATED DEALLOCATED", "epilog:FAILED -> DONE",
   "reference opennebula.md:24 (SUSPENDED|POWEROFF|STOPPED|UNDEPLOYED->EPILOG->DONE); seed 001:361"},
  {"terminate", "SHELVED SOFT_DELETED", "epilog:FAILED -> DONE",
   "reference nova.md:27 (delete from any vm_state); the epilog as opennebula.md:24, seed 001:361"},
  {"terminate", "PENDING HOLD", "-> DONE", "reference opennebula.md:24 (PENDING|HOLD->DONE directly)"},
  {"terminate", "FAILED", "cleanup:FAILED -> DONE",
   "reference opennebula.md:24 (*_FAILURE->CLEANUP_DELETE->DONE)"},
  {"terminate_hard", "RUNNING UNKNOWN", "power_off:origin epilog:FAILED -> DONE",
   "reference opennebula.md:24 (--hard uses CANCEL; ! RUNNING / EPILOG_FAILURE); seed 001:361"},
  {"terminate_hard", "RESCUED RESIZED PAUSED", "power_off:origin epilog:FAILED -> DONE",
   "reference nova.md:27 (delete from any vm_state); the steps as opennebula.md:24"},
  {"terminate_hard", "SUSPENDED POWEROFF HIBERNATED DEALLOCATED", "epilog:FAILED -> DONE",
   "reference opennebula.md:24; seed 001:361"},
  {"terminate_hard", "SHELVED SOFT_DELETED", "epilog:FAILED -> DONE",
   "reference nova.md:27 (delete from any vm_state); seed 001:361"},
  {"terminate_hard", "PENDING HOLD", "-> DONE", "reference opennebula.md:24"},
  {"terminate_hard", "FAILED", "cleanup:FAILED -> DONE", "reference opennebula.md:24"},
  {"terminate_hard",
   "INIT PENDING HOLD RUNNING PAUSED SUSPENDED POWEROFF HIBERNATED DEALLOCATED SHELVED RESCUED RESIZED SOFT_DELETED UNKNOWN FAILED",
   "cleanup:FAILED -> DONE",
   "reference nova.md:69-71 (delete pre-empts any task), opennebula.md:50 (DRIVER_CANCEL, cleanup, DONE); Corral's choice: a failed cleanup leaves the VM half removed: FAILED",
   kPreempting},

  {"migrate", "RUNNING", "save:origin prolog:FAILED restore:FAILED cleanup:target -> RUNNING",
   "reference opennebula.md:26 (SAVE_MIGRATE->RUNNING on source; prolog/boot -> *_FAILURE); seed 001:345, seed 001:337; Corral's choice: the source's copy goes last, once BOOT_MIGRATE (seed 001:325) got the VM running on the target, so a failed removal fails the operation with the VM RUNNING there (seed 001:85)"},
  {"migrate", "POWEROFF", "prolog:FAILED cleanup:target -> POWEROFF",
   "reference opennebula.md:26; seed 001:393 PROLOG_MIGRATE_POWEROFF_FAILURE; Corral's choice: a failed removal of the source's copy leaves the VM POWEROFF on the target (seed 001:389: the files already moved)"},
  {"migrate", "SUSPENDED", "prolog:FAILED cleanup:target -> SUSPENDED",
   "reference opennebula.md:26; seed 001:409 PROLOG_MIGRATE_SUSPEND_FAILURE; Corral's choice: a failed removal of the source's copy leaves the VM SUSPENDED on the target (seed 001:405: the saved VM already moved)"},
  {"migrate", "UNKNOWN", "prolog:FAILED boot:FAILED -> RUNNING",
   "reference opennebula.md:26; seed 001:521 PROLOG_MIGRATE_UNKNOWN_FAILURE, seed 001:329 (no source cleanup: the source host is presumed lost)"},
  {"live_migrate", "RUNNING PAUSED",
   "prepare_migrate:undo migrate:undo finish_migrate:undo cleanup:target -> origin",
   "reference opennebula.md:27 (! RUNNING on source); nova.md:48 (active, paused; rollback: task None); hosts-migration.md:117 (on failure RUNNING on the source), hosts-migration.md:135 (_rollback_live_migration: failed or cancelled, and rollback_live_migration_at_destination), hosts-migration.md:147-150 (libvirt v3: Prepare, Perform, Finish kills the target's VM if failed, Confirm resumes the source's if failed)",
   false, "cleanup@target+removes abort_migrate@source"},
  {"resched", "RUNNING UNKNOWN POWEROFF", "-> origin", "reference opennebula.md:28 (a flag only)"},
  {"unresched", "RUNNING UNKNOWN POWEROFF", "-> origin", "reference opennebula.md:28"},
  {"resize", "RUNNING", "resize:origin -> origin",
   "reference opennebula.md:37 (HOTPLUG_RESIZE), opennebula.md:36 (failures return to origin)"},
  {"resize", "POWEROFF PENDING HOLD DEALLOCATED", "-> origin", "reference opennebula.md:37 (DB only)"},
  {"resize_migrate", "RUNNING", "resize:undo prolog:undo boot:undo -> RESIZED",
   "reference nova.md:41 (E: previous vm_state for rollback, else ERROR); hosts-migration.md:135 (the destination's copy rolled back first, then the source); Corral's choice: the undo phases refuse what is not safe, then FAILED (Nova's ERROR)",
   false, "cleanup@target+removes abort_migrate@source"},
  {"resize_migrate", "POWEROFF", "resize:undo prolog:undo -> RESIZED",
   "reference nova.md:41 (powered on unless it was stopped; E: previous vm_state for rollback, else ERROR)",
   false, "cleanup@target+removes"},
  {"confirm_resize", "RESIZED", "confirm:FAILED -> by-power",
   "reference nova.md:42 (active, or stopped if power=4; E: ERROR)"},
  {"revert_resize", "RESIZED", "cleanup:FAILED resize:FAILED -> by-power", "reference nova.md:43 (E: ERROR)"},
  {"rescue", "RUNNING POWEROFF", "rescue:FAILED -> RESCUED",
   "reference nova.md:39 (ERROR + InstanceNotRescuable)"},
  {"rescue", "FAILED", "rescue:FAILED -> RESCUED", "reference nova.md:39; seed 003:21 (error -> rescue)"},
  {"unrescue", "RESCUED", "unrescue:FAILED -> RUNNING", "reference nova.md:40 (E: ERROR)"},
  {"rebuild", "RUNNING", "rebuild:if-intact boot:FAILED -> origin",
   "reference nova.md:46 (E(orig vm_state) for a claim failure, else ERROR)"},
  {"rebuild", "POWEROFF", "rebuild:if-intact -> origin",
   "reference nova.md:46 (if it was stopped: stopped)"},
  {"set_admin_password", "RUNNING", "set_password:origin -> origin",
   "reference nova.md:47 (task cleared; unchanged)"},
  {"snapshot", "RUNNING POWEROFF PAUSED SUSPENDED", "snapshot:origin upload:origin -> origin",
   "reference nova.md:44 (R; unchanged)"},
  {"snapshot", "DEALLOCATED HIBERNATED", "snapshot:origin upload:origin -> origin",
   "reference opennebula.md:35 (disk-saveas from UNDEPLOYED|STOPPED -> origin), opennebula.md:36"},
  {"backup", "RUNNING POWEROFF", "backup:origin upload:origin -> origin",
   "reference opennebula.md:39, opennebula.md:36; nova.md:45 (R)"},
  {"shelve", "RUNNING PAUSED SUSPENDED", "shelve:origin upload:origin -> SHELVED",
   "reference nova.md:50 (R)"},
  {"shelve", "POWEROFF", "upload:origin -> SHELVED", "reference nova.md:50 (R)"},
  {"shelve_offload", "RUNNING PAUSED SUSPENDED",
   "shelve:origin upload:origin epilog:FAILED -> DEALLOCATED",
   "reference nova.md:50 (R, then offloaded); seed 003:32 (shelve -> error); seed 001:377"},
  {"shelve_offload", "POWEROFF", "upload:origin epilog:FAILED -> DEALLOCATED",
   "reference nova.md:50; seed 003:32; seed 001:377"},
  {"shelve_offload", "SHELVED", "epilog:FAILED -> DEALLOCATED",
   "reference nova.md:51; seed 003:33 (shelve_offload -> error); seed 001:377"},
  {"soft_delete", "RUNNING POWEROFF", "soft_delete:origin -> SOFT_DELETED", "reference nova.md:28 (R)"},
  {"restore", "SOFT_DELETED", "boot:origin -> RUNNING", "reference nova.md:29 (R)"},
  {"disk_attach", "RUNNING POWEROFF", "hotplug:origin -> origin",
   "reference opennebula.md:29, opennebula.md:36"},
  {"disk_detach", "RUNNING POWEROFF", "hotplug:origin -> origin",
   "reference opennebula.md:30, opennebula.md:36"},
  {"nic_attach", "RUNNING POWEROFF", "hotplug:origin -> origin",
   "reference opennebula.md:31, opennebula.md:36"},
  {"nic_detach", "RUNNING POWEROFF", "hotplug:origin -> origin",
   "reference opennebula.md:31, opennebula.md:36"},
  {"disk_snapshot", "RUNNING POWEROFF SUSPENDED", "snapshot:origin -> origin",
   "reference opennebula.md:33, opennebula.md:36"},
  {"disk_snapshot_revert", "POWEROFF SUSPENDED", "snapshot:origin -> origin",
   "reference opennebula.md:33; seed 001:481 (DISK_SNAPSHOT_REVERT_SUSPENDED)"},
  {"disk_snapshot_delete", "RUNNING POWEROFF SUSPENDED", "snapshot:origin -> origin",
   "reference opennebula.md:33, opennebula.md:36"},
  {"disk_resize", "RUNNING POWEROFF DEALLOCATED", "resize:origin -> origin",
   "reference opennebula.md:34, opennebula.md:36"},
  {"checkpoint", "RUNNING", "snapshot:origin -> origin", "reference opennebula.md:32 (HOTPLUG_SNAPSHOT)"},
  {"checkpoint_revert", "RUNNING", "snapshot:origin -> origin", "reference opennebula.md:32"},
  {"checkpoint_delete", "RUNNING", "snapshot:origin -> origin", "reference opennebula.md:32"},

  {"recover_delete",
   "PENDING HOLD RUNNING PAUSED SUSPENDED POWEROFF HIBERNATED DEALLOCATED SHELVED RESCUED RESIZED SOFT_DELETED UNKNOWN FAILED",
   "cleanup:FAILED -> DONE",
   "reference opennebula.md:50 (--delete, any state: cleanup, DONE); Corral's choice: the cleanup is awaited and a failed one stops in FAILED"},
  {"recover_delete",
   "INIT PENDING HOLD RUNNING PAUSED SUSPENDED POWEROFF HIBERNATED DEALLOCATED SHELVED RESCUED RESIZED SOFT_DELETED UNKNOWN FAILED",
   "cleanup:FAILED -> DONE",
   "reference opennebula.md:50 (DRIVER_CANCEL to the running action, cleanup, DONE)", kPreempting},
  {"recover_recreate",
   "RUNNING PAUSED SUSPENDED POWEROFF HIBERNATED DEALLOCATED SHELVED RESCUED RESIZED SOFT_DELETED UNKNOWN FAILED",
   "cleanup:FAILED -> PENDING",
   "reference opennebula.md:51 (CLEANUP_RESUBMIT->PENDING); Corral's choice: not from PENDING or HOLD, where nothing was placed"},
  {"recover_recreate",
   "INIT PENDING HOLD RUNNING PAUSED SUSPENDED POWEROFF HIBERNATED DEALLOCATED SHELVED RESCUED RESIZED SOFT_DELETED UNKNOWN FAILED",
   "cleanup:FAILED -> PENDING", "reference opennebula.md:51 (same cleanup, then PENDING)", kPreempting},
};
// clang-format on

}  // namespace corral::lifecycle::golden::outcome_rows
