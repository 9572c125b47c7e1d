// The columns golden table's rows (data only; checked by columns_golden.cc). For every row of
// the transition table and every origin it allows: where each phase runs (the VM's host, or
// the source or target of a move), the power the VM has once each phase succeeds (what the
// engine sends the driver as power_after; the last one is the power the row ends with), and
// the row's effects (table.h Effect). Written from Nova's power_state column (reference
// nova.md:13, 24-55; seed 004:15-31), OpenNebula's states (seed 001; reference opennebula.md)
// and libvirt's and OpenNebula's migration steps (reference hosts-migration.md) — not from
// table.cc.
#pragma once

#include <string_view>

namespace corral::lifecycle::golden::column_rows {

// One golden entry: an action from an explicit set of origins (never a wildcard), idle or
// pre-empting. `path` is "<phase>@<side>:<power> ...", side one of host, source, target, power
// a power name (running, paused, shutdown, nostate) or `same` (the phase leaves the power it
// found), followed by `+removes` when the phase removes the VM's copy on its side (its files
// go, that host's driver forgets the VM: table.h PhaseStep::removes_copy). An instant row has no
// phases: "-> <power>". `effects` is a space-separated list of effect names, or "-".
struct Row {
  std::string_view action;
  std::string_view origins;
  std::string_view path;
  std::string_view effects;
  std::string_view source;
  bool preempting = false;
};
inline constexpr bool kPreempting = true;

// clang-format off
inline constexpr Row kRows[] = {
  {"create", "INIT", "init@host:same clone@host:same", "-",
   "reference nova.md:26 (create: power=0 until placed); seed 001:41 (a new VM is pending, on no host)"},
  {"deploy", "PENDING HOLD", "prolog@host:same boot@host:running os_provisioning@host:same os_provisioned@host:same",
   "places_vm",
   "reference nova.md:26 (active / 1, manager.py:2224); reference opennebula.md:17 (PENDING->PROLOG->BOOT->RUNNING on the host the scheduler picked)"},
  {"hold", "PENDING", "-> same", "-", "reference opennebula.md:18 (DB only)"},
  {"release", "HOLD", "-> same", "-", "reference opennebula.md:18 (DB only)"},

  {"shutdown", "RUNNING UNKNOWN", "shutdown@host:shutdown", "-", "reference nova.md:31 (stop: stopped / 4)"},
  {"shutdown_hard", "RUNNING PAUSED RESCUED UNKNOWN", "power_off@host:shutdown", "-",
   "reference nova.md:31 (stopped / 4); reference opennebula.md:22 (--hard: destroy)"},
  {"shutdown_hard", "FAILED", "power_off@host:same", "-",
   "reference nova.md:31 (stopped / 4; a failed VM at rest is already 4: Corral's choice, nova_rows.h)"},
  {"shutdown_hard", "RUNNING UNKNOWN", "power_off@host:shutdown", "-",
   "reference nova.md:31; reference opennebula.md:22 (--hard from SHUTDOWN_POWEROFF)", kPreempting},

  {"start", "POWEROFF SHELVED UNKNOWN", "boot@host:running", "-",
   "reference nova.md:32 (start: active / 1), nova.md:52 (unshelve: active / 1)"},
  {"start", "DEALLOCATED", "schedule@host:same prolog@host:same boot@host:running", "-",
   "reference nova.md:52 (unshelve of shelved_offloaded: scheduled, then active / 1); the schedule phase places it (not an effect)"},
  {"reboot", "RUNNING", "reboot@host:same", "-", "reference nova.md:37 (active / 1)"},
  {"reboot_hard", "RUNNING", "reset@host:same", "-", "reference nova.md:38 (active / 1)"},
  {"reboot_hard", "PAUSED", "reset@host:running", "-", "reference nova.md:38 (active / 1), nova.md:7 (from PAUSED)"},
  {"reboot_hard", "SUSPENDED POWEROFF", "boot@host:running", "-",
   "reference nova.md:38 (active / 1), nova.md:7 (from STOPPED, SUSPENDED)"},
  {"reboot_hard", "FAILED", "boot@host:running", "-", "reference nova.md:38 (active / 1), nova.md:7 (from ERROR)"},

  {"pause", "RUNNING", "pause@host:paused", "-", "reference nova.md:33 (paused / 3)"},
  {"unpause", "PAUSED", "unpause@host:running", "-", "reference nova.md:34 (active / 1)"},
  {"suspend", "RUNNING PAUSED", "save@host:shutdown", "-",
   "reference nova.md:35 (suspended / driver value, 4 on libvirt), nova.md:13 (managedSave: 4, not 7); seed 004:25 (a valid memory snapshot, no process)"},
  {"resume", "SUSPENDED", "restore@host:running", "-", "reference nova.md:36 (active / 1)"},
  {"resume", "HIBERNATED", "schedule@host:same prolog@host:same restore@host:running", "-",
   "reference opennebula.md:21 (STOPPED->PENDING, then the deploy path: PROLOG_RESUME->BOOT_STOPPED->RUNNING)"},

  {"hibernate", "RUNNING PAUSED", "save@host:shutdown epilog@host:same", "-",
   "reference opennebula.md:19 (SAVE_STOP->EPILOG_STOP->STOPPED: no process, files off the host)"},
  {"hibernate", "SUSPENDED", "epilog@host:same", "-", "reference opennebula.md:19 (SUSPENDED->EPILOG_STOP->STOPPED)"},
  {"deallocate", "RUNNING UNKNOWN", "shutdown@host:shutdown epilog@host:same", "-",
   "reference opennebula.md:23 (SHUTDOWN_UNDEPLOY->EPILOG_UNDEPLOY); seed 000:128 (deallocated: stopped, resources released)"},
  {"deallocate", "SUSPENDED POWEROFF SHELVED", "epilog@host:same", "-",
   "reference opennebula.md:23 (POWEROFF->EPILOG_UNDEPLOY); no process to stop"},
  {"deallocate_hard", "RUNNING PAUSED UNKNOWN", "power_off@host:shutdown epilog@host:same", "-",
   "reference opennebula.md:23 (undeploy --hard)"},
  {"deallocate_hard", "RUNNING UNKNOWN", "power_off@host:shutdown epilog@host:same", "-",
   "reference opennebula.md:23 (--hard also from SHUTDOWN_UNDEPLOY)", kPreempting},

  // Deletion: the last phase removes the files and the VM is gone (Nova: deleted / 0).
  {"terminate", "RUNNING RESCUED RESIZED UNKNOWN", "shutdown@host:shutdown epilog@host:nostate",
   "deletes_files ends_vm",
   "reference opennebula.md:24 (SHUTDOWN->EPILOG->DONE); reference nova.md:27 (deleted / 0)"},
  {"terminate", "PAUSED", "power_off@host:shutdown epilog@host:nostate", "deletes_files ends_vm",
   "reference opennebula.md:24; reference nova.md:27 (deleted / 0)"},
  {"terminate", "SUSPENDED POWEROFF HIBERNATED DEALLOCATED SHELVED SOFT_DELETED", "epilog@host:nostate",
   "deletes_files ends_vm", "reference opennebula.md:24 (SUSPENDED|POWEROFF|STOPPED|UNDEPLOYED->EPILOG->DONE); reference nova.md:27"},
  {"terminate", "PENDING HOLD", "-> same", "ends_vm",
   "reference opennebula.md:24 (PENDING|HOLD->DONE directly: no files were placed)"},
  {"terminate", "FAILED", "cleanup@host:nostate", "deletes_files ends_vm",
   "reference opennebula.md:24 (*_FAILURE->CLEANUP_DELETE->DONE)"},
  {"terminate_hard", "RUNNING PAUSED RESCUED RESIZED UNKNOWN", "power_off@host:shutdown epilog@host:nostate",
   "deletes_files ends_vm", "reference opennebula.md:24 (--hard: CANCEL, then EPILOG); reference nova.md:30 (force_delete)"},
  {"terminate_hard", "SUSPENDED POWEROFF HIBERNATED DEALLOCATED SHELVED SOFT_DELETED", "epilog@host:nostate",
   "deletes_files ends_vm", "reference opennebula.md:24"},
  {"terminate_hard", "PENDING HOLD", "-> same", "ends_vm", "reference opennebula.md:24 (directly to DONE)"},
  {"terminate_hard", "FAILED", "cleanup@host:nostate", "deletes_files ends_vm", "reference opennebula.md:24 (CLEANUP_DELETE)"},
  {"terminate_hard", "INIT PENDING HOLD UNKNOWN", "cleanup@host:same", "deletes_files ends_vm",
   "reference nova.md:27 (delete pre-empts any task); these origins have no power yet (nova.md:26: 0)", kPreempting},
  {"terminate_hard", "RUNNING PAUSED SUSPENDED POWEROFF HIBERNATED DEALLOCATED SHELVED RESCUED RESIZED SOFT_DELETED FAILED",
   "cleanup@host:nostate", "deletes_files ends_vm", "reference nova.md:27 (delete pre-empts any task; deleted / 0)", kPreempting},

  // Moves: the source saves and sends, the target receives and boots (libvirt v3: Src
  // Begin/Perform/Confirm, Dst Prepare/Finish, reference hosts-migration.md:146-150).
  {"migrate", "RUNNING", "save@source:shutdown prolog@target:same restore@target:running cleanup@source:same+removes", "moves_vm",
   "reference hosts-migration.md:106 (SAVE_MIGRATE->PROLOG_MIGRATE->BOOT_MIGRATE->RUNNING on the new host), hosts-migration.md:112 (a failed save keeps it RUNNING on the source); seed 001:125 (PROLOG_MIGRATE's transfers leave no copy on the source: Corral removes it last, once the target holds the VM)"},
  {"migrate", "POWEROFF", "prolog@target:same cleanup@source:same+removes", "moves_vm",
   "reference hosts-migration.md:108 (PROLOG_MIGRATE_POWEROFF); seed 001:389 (the files move: none stay on the source)"},
  {"migrate", "SUSPENDED", "prolog@target:same cleanup@source:same+removes", "moves_vm",
   "reference hosts-migration.md:109 (PROLOG_MIGRATE_SUSPEND); seed 001:405 (the saved VM moves: nothing stays on the source)"},
  {"migrate", "UNKNOWN", "prolog@target:same boot@target:running", "moves_vm",
   "reference hosts-migration.md:110 (PROLOG_MIGRATE_UNKNOWN->BOOT: the source is lost, nothing runs there)"},
  {"live_migrate", "RUNNING PAUSED",
   "prepare_migrate@target:same migrate@source:same finish_migrate@target:same cleanup@source:same+removes", "moves_vm",
   "reference hosts-migration.md:147-150 (libvirt v3: Dst Prepare, Src Perform, Dst Finish, Src Confirm), hosts-migration.md:121 (virsh migrate --live runs on the source), hosts-migration.md:132 (pre_live_migration on the destination); reference nova.md:48 (unchanged, on the new host)"},
  {"resched", "RUNNING POWEROFF UNKNOWN", "-> same", "-", "reference opennebula.md:28 (only sets the RESCHED flag)"},
  {"unresched", "RUNNING POWEROFF UNKNOWN", "-> same", "-", "reference opennebula.md:28"},

  {"resize", "RUNNING", "resize@host:same", "applies_model",
   "reference opennebula.md:37 (RUNNING->HOTPLUG_RESIZE->RUNNING: the new size is the VM's)"},
  {"resize", "PENDING HOLD POWEROFF DEALLOCATED", "-> same", "applies_model",
   "reference opennebula.md:37 (PENDING|HOLD|UNDEPLOYED|POWEROFF: DB only)"},
  // Nova's resize across hosts: resize_migrating on the source, resize_migrated and
  // resize_finish on the destination; the source's images stay (seed 004:30) until confirm
  // removes them there, or revert removes the destination's and goes back.
  {"resize_migrate", "RUNNING", "resize@source:same prolog@target:same boot@target:same", "applies_model moves_vm",
   "reference nova.md:41 (resize_prep, resize_migrating, resize_migrated, resize_finish; resized, powered on unless it was stopped); seed 004:30 (RESIZED: stopped on the source, running on the destination, images at both)"},
  {"resize_migrate", "POWEROFF", "resize@source:same prolog@target:same", "applies_model moves_vm",
   "reference nova.md:41 (stopped stays off); seed 004:30"},
  {"confirm_resize", "RESIZED", "confirm@source:same+removes", "-",
   "reference nova.md:42 (active, or stopped if power=4: the power decides, it is not changed); seed 004:30 (confirm: the source's images go)"},
  {"revert_resize", "RESIZED", "cleanup@target:same+removes resize@source:same", "applies_model restores_model",
   "reference nova.md:43 (back to the old flavor: the destination's copy destroyed, then the source's started); seed 004:30"},
  {"rescue", "RUNNING", "rescue@host:same", "-", "reference nova.md:39 (rescued / 1)"},
  {"rescue", "POWEROFF FAILED", "rescue@host:running", "-", "reference nova.md:39 (from stopped, error: rescued / 1)"},
  {"unrescue", "RESCUED", "unrescue@host:same", "-", "reference nova.md:40 (active / 1)"},
  {"rebuild", "RUNNING", "rebuild@host:shutdown boot@host:running", "applies_model",
   "reference nova.md:46 (rebuilding: the guest is re-created, then rebuild_spawning; active / 1)"},
  {"rebuild", "POWEROFF", "rebuild@host:same", "applies_model", "reference nova.md:46 (if it was stopped: stopped)"},
  {"set_admin_password", "RUNNING", "set_password@host:same", "-", "reference nova.md:47 (unchanged)"},

  {"snapshot", "RUNNING PAUSED SUSPENDED POWEROFF HIBERNATED DEALLOCATED", "snapshot@host:same upload@host:same", "-",
   "reference nova.md:44 (createImage: unchanged)"},
  {"backup", "RUNNING POWEROFF", "backup@host:same upload@host:same", "-", "reference nova.md:45 (unchanged)"},
  {"shelve", "RUNNING PAUSED", "shelve@host:shutdown upload@host:same", "-", "reference nova.md:50 (shelved / 4)"},
  {"shelve", "SUSPENDED", "shelve@host:same upload@host:same", "-",
   "reference nova.md:50 (shelved / 4; a suspended VM is 4 already, nova.md:13)"},
  {"shelve", "POWEROFF", "upload@host:same", "-", "reference nova.md:50 (shelved / 4)"},
  {"shelve_offload", "RUNNING PAUSED", "shelve@host:shutdown upload@host:same epilog@host:same", "-",
   "reference nova.md:50 (shelving_offloading -> shelved_offloaded, host nulled)"},
  {"shelve_offload", "SUSPENDED", "shelve@host:same upload@host:same epilog@host:same", "-", "reference nova.md:50, nova.md:13"},
  {"shelve_offload", "POWEROFF", "upload@host:same epilog@host:same", "-", "reference nova.md:50"},
  {"shelve_offload", "SHELVED", "epilog@host:same", "-", "reference nova.md:51 (shelved -> shelved_offloaded)"},
  {"soft_delete", "RUNNING", "soft_delete@host:shutdown", "-", "reference nova.md:28 (soft-delete; power falls back to off)"},
  {"soft_delete", "POWEROFF", "soft_delete@host:same", "-", "reference nova.md:28"},
  {"restore", "SOFT_DELETED", "boot@host:running", "-", "reference nova.md:29 (active / 1)"},

  {"disk_attach", "RUNNING POWEROFF", "hotplug@host:same", "-", "reference opennebula.md:29 (back to the origin)"},
  {"disk_detach", "RUNNING POWEROFF", "hotplug@host:same", "-", "reference opennebula.md:30"},
  {"nic_attach", "RUNNING POWEROFF", "hotplug@host:same", "-", "reference opennebula.md:31"},
  {"nic_detach", "RUNNING POWEROFF", "hotplug@host:same", "-", "reference opennebula.md:31"},
  {"disk_snapshot", "RUNNING SUSPENDED POWEROFF", "snapshot@host:same", "-", "reference opennebula.md:33 (->origin)"},
  {"disk_snapshot_revert", "SUSPENDED POWEROFF", "snapshot@host:same", "-", "reference opennebula.md:33"},
  {"disk_snapshot_delete", "RUNNING SUSPENDED POWEROFF", "snapshot@host:same", "-", "reference opennebula.md:33"},
  {"disk_resize", "RUNNING POWEROFF DEALLOCATED", "resize@host:same", "-",
   "reference opennebula.md:34 (->origin); a disk is not the model (vcpus, memory, image)"},
  {"checkpoint", "RUNNING", "snapshot@host:same", "-", "reference opennebula.md:32 (HOTPLUG_SNAPSHOT->RUNNING)"},
  {"checkpoint_revert", "RUNNING", "snapshot@host:same", "-", "reference opennebula.md:32"},
  {"checkpoint_delete", "RUNNING", "snapshot@host:same", "-", "reference opennebula.md:32"},

  // recover delete and recreate clean up whatever is on the host (reference opennebula.md:50
  // --delete, :51 --recreate: same cleanup, then PENDING keeping the ID).
  {"recover_delete", "PENDING HOLD UNKNOWN", "cleanup@host:same", "deletes_files ends_vm",
   "reference opennebula.md:50 (--delete: cleanup, DONE); no power known before (nova.md:26)"},
  {"recover_delete", "RUNNING PAUSED SUSPENDED POWEROFF HIBERNATED DEALLOCATED SHELVED RESCUED RESIZED SOFT_DELETED FAILED",
   "cleanup@host:nostate", "deletes_files ends_vm", "reference opennebula.md:50; reference nova.md:27 (deleted / 0)"},
  {"recover_delete", "INIT PENDING HOLD UNKNOWN", "cleanup@host:same", "deletes_files ends_vm",
   "reference opennebula.md:24", kPreempting},
  {"recover_delete", "RUNNING PAUSED SUSPENDED POWEROFF HIBERNATED DEALLOCATED SHELVED RESCUED RESIZED SOFT_DELETED FAILED",
   "cleanup@host:nostate", "deletes_files ends_vm", "reference opennebula.md:24; nova.md:27", kPreempting},
  {"recover_recreate", "RUNNING PAUSED SUSPENDED POWEROFF HIBERNATED DEALLOCATED SHELVED RESCUED RESIZED SOFT_DELETED FAILED",
   "cleanup@host:nostate", "deletes_files",
   "reference opennebula.md:51 (cleanup, then PENDING, same ID); power 0 as a new VM (nova.md:26)"},
  {"recover_recreate", "UNKNOWN", "cleanup@host:same", "deletes_files", "reference opennebula.md:51 (PENDING again); reference nova.md:26 (power 0)"},
  {"recover_recreate", "INIT PENDING HOLD UNKNOWN", "cleanup@host:same", "deletes_files", "reference opennebula.md:51 (PENDING again); reference nova.md:26 (power 0)", kPreempting},
  {"recover_recreate", "RUNNING PAUSED SUSPENDED POWEROFF HIBERNATED DEALLOCATED SHELVED RESCUED RESIZED SOFT_DELETED FAILED",
   "cleanup@host:nostate", "deletes_files", "reference opennebula.md:51 (PENDING again); reference nova.md:26 (power 0)", kPreempting},

  // What the hypervisor reports: the drift policy records it (drift.h); no phase, no effect.
  {"observed_lost", "RUNNING RESCUED RESIZED", "-> nostate", "-", "reference opennebula.md:53-55 (UNKNOWN); seed 004:16 (NOSTATE)"},
  {"observed_poweroff", "RUNNING PAUSED RESCUED RESIZED UNKNOWN", "-> shutdown", "-",
   "reference nova.md:13 (SHUTDOWN and SHUTOFF->4)"},
  {"observed_running", "PAUSED SUSPENDED POWEROFF UNKNOWN", "-> running", "-", "reference opennebula.md:57 (RUNNING again)"},
  {"observed_power", "PENDING HOLD RUNNING PAUSED SUSPENDED POWEROFF HIBERNATED DEALLOCATED SHELVED RESCUED RESIZED SOFT_DELETED UNKNOWN FAILED",
   "-> same", "-", "Corral's choice: the state is kept; the engine notes the observed power itself (apply.cc handle_power)"},
};
// clang-format on

}  // namespace corral::lifecycle::golden::column_rows
