// OpenNebula's view: STATE x LCM_STATE with numbers and short aliases, exactly seed 001.
#include "lifecycle/views.h"

namespace corral::lifecycle {
namespace {

using L = LcmState;
using S = State;
using A = Action;
using P = Phase;

// The view of a VM at rest in a stable state.
OpenNebulaView at_rest(State state, Power power) {
  auto active = [](LcmState lcm) { return OpenNebulaView{OneState::kActive, lcm, {}}; };
  auto plain = [](OneState s) { return OpenNebulaView{s, L::kLcmInit, {}}; };
  switch (state) {
    case S::kPending:
      return plain(OneState::kPending);
    case S::kHold:
      return plain(OneState::kHold);
    case S::kRunning:
    case S::kRescued:
      return active(L::kRunning);
    case S::kResized:
      return power == Power::kRunning ? active(L::kRunning) : plain(OneState::kPoweroff);
    // OpenNebula has no pause; its nearest state keeps the VM on the host, not running.
    case S::kPaused:
    case S::kSuspended:
      return plain(OneState::kSuspended);
    case S::kPoweroff:
    case S::kShelved:
    case S::kSoftDeleted:
      return plain(OneState::kPoweroff);
    case S::kHibernated:
      return plain(OneState::kStopped);
    case S::kDeallocated:
      return plain(OneState::kUndeployed);
    case S::kUnknown:
      return active(L::kUnknown);
    case S::kDone:
      return plain(OneState::kDone);
    // Never shown from here: a VM is in INIT only while create runs (in_flight), and a FAILED
    // one shows the failure of its step (failed() below). Both reach here only from failed(),
    // when the record's last operation names no step (a drift record, reset_state): the
    // default view, which failure_of() turns into the generic failure.
    case S::kInit:
    case S::kFailed:
      break;
  }
  return OpenNebulaView{};
}

// The LCM state (or plain STATE) while `op` runs in `phase`.
OpenNebulaView in_flight(const Operation& op, Phase phase, Power power) {
  auto active = [](LcmState lcm) { return OpenNebulaView{OneState::kActive, lcm, {}}; };
  auto plain = [](OneState s) { return OpenNebulaView{s, L::kLcmInit, {}}; };
  const State o = op.origin;
  auto by_origin = [&](LcmState running, LcmState poweroff, LcmState suspended) {
    if (o == S::kPoweroff) return active(poweroff);
    if (o == S::kSuspended || o == S::kPaused) return active(suspended);
    return active(running);
  };
  switch (op.action) {
    case A::kCreate:
      return plain(phase == P::kClone ? OneState::kCloning : OneState::kInit);
    case A::kDeploy:
      if (phase == P::kProlog) return active(L::kProlog);
      if (phase == P::kBoot) return active(L::kBoot);
      return active(L::kRunning);  // the guest is booting: OpenNebula already says RUNNING
    case A::kShutdown:
    case A::kShutdownHard:
    case A::kSoftDelete:
      if (o == S::kPoweroff) return at_rest(o, power);
      return active(L::kShutdownPoweroff);
    case A::kStart:
      if (o == S::kDeallocated) {
        if (phase == P::kSchedule) return plain(OneState::kPending);
        return active(phase == P::kProlog ? L::kPrologUndeploy : L::kBootUndeploy);
      }
      return active(o == S::kUnknown ? L::kBootUnknown : L::kBootPoweroff);
    case A::kReboot:
      return active(L::kRunning);
    case A::kRebootHard:
      if (o == S::kFailed) return active(L::kBoot);
      return by_origin(L::kRunning, L::kBootPoweroff, L::kBootSuspended);
    case A::kPause:
    case A::kSuspend:
      return active(L::kSaveSuspend);
    case A::kUnpause:
      return active(L::kBootSuspended);
    case A::kResume:
      if (o == S::kHibernated) {
        if (phase == P::kSchedule) return plain(OneState::kPending);
        return active(phase == P::kProlog ? L::kPrologResume : L::kBootStopped);
      }
      return active(L::kBootSuspended);
    case A::kHibernate:
      return active(phase == P::kSave ? L::kSaveStop : L::kEpilogStop);
    case A::kDeallocate:
    case A::kDeallocateHard:
      return active(phase == P::kEpilog ? L::kEpilogUndeploy : L::kShutdownUndeploy);
    case A::kTerminate:
    case A::kTerminateHard:
      if (phase == P::kCleanup) return active(L::kCleanupDelete);
      return active(phase == P::kEpilog ? L::kEpilog : L::kShutdown);
    case A::kRecoverDelete:
      return active(L::kCleanupDelete);
    case A::kRecoverRecreate:
      return active(L::kCleanupResubmit);
    case A::kMigrate:
      if (o == S::kPoweroff) return active(L::kPrologMigratePoweroff);
      if (o == S::kSuspended) return active(L::kPrologMigrateSuspend);
      if (o == S::kUnknown) {
        return active(phase == P::kProlog ? L::kPrologMigrateUnknown : L::kBoot);
      }
      if (phase == P::kSave) return active(L::kSaveMigrate);
      return active(phase == P::kProlog ? L::kPrologMigrate : L::kBootMigrate);
    case A::kLiveMigrate:
      return active(L::kMigrate);
    case A::kResize:
    case A::kRevertResize:
      return active(L::kHotplugResize);
    case A::kResizeMigrate:
      return active(phase == P::kBoot ? L::kBoot : L::kHotplugResize);
    case A::kConfirmResize:
      return at_rest(S::kResized, power);
    case A::kRescue:
      return active(o == S::kPoweroff ? L::kBootPoweroff : L::kBoot);
    case A::kUnrescue:
      return active(L::kBoot);
    case A::kRebuild:  // a new disk is copied in, then booted
      return active(phase == P::kRebuild ? L::kProlog : L::kBoot);
    case A::kSetAdminPassword:
      return active(L::kRunning);
    case A::kSnapshot:  // OpenNebula disk-saveas
      if (o == S::kDeallocated) return active(L::kHotplugSaveasUndeployed);
      if (o == S::kHibernated) return active(L::kHotplugSaveasStopped);
      return by_origin(L::kHotplugSaveas, L::kHotplugSaveasPoweroff, L::kHotplugSaveasSuspended);
    case A::kBackup:
      return active(o == S::kPoweroff ? L::kBackupPoweroff : L::kBackup);
    case A::kShelve:
    case A::kShelveOffload:
      if (phase == P::kEpilog) return active(L::kEpilogUndeploy);
      if (phase == P::kUpload) return active(L::kHotplugSaveasPoweroff);
      return active(L::kShutdownPoweroff);
    case A::kRestore:
      return active(L::kBootPoweroff);
    case A::kDiskAttach:
      return active(o == S::kPoweroff ? L::kHotplugPrologPoweroff : L::kHotplug);
    case A::kDiskDetach:
      return active(o == S::kPoweroff ? L::kHotplugEpilogPoweroff : L::kHotplug);
    case A::kNicAttach:
    case A::kNicDetach:
      return active(o == S::kPoweroff ? L::kHotplugNicPoweroff : L::kHotplugNic);
    case A::kDiskSnapshot:
      return by_origin(L::kDiskSnapshot, L::kDiskSnapshotPoweroff, L::kDiskSnapshotSuspended);
    case A::kDiskSnapshotRevert:  // from POWEROFF or SUSPENDED only (seed 001 has no running one)
      return active(o == S::kSuspended ? L::kDiskSnapshotRevertSuspended
                                       : L::kDiskSnapshotRevertPoweroff);
    case A::kDiskSnapshotDelete:
      return by_origin(L::kDiskSnapshotDelete, L::kDiskSnapshotDeletePoweroff,
                       L::kDiskSnapshotDeleteSuspended);
    case A::kDiskResize:
      if (o == S::kDeallocated) return active(L::kDiskResizeUndeployed);
      return active(o == S::kPoweroff ? L::kDiskResizePoweroff : L::kDiskResize);
    case A::kCheckpoint:
    case A::kCheckpointRevert:
    case A::kCheckpointDelete:
      return active(L::kHotplugSnapshot);
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
      break;
  }
  return at_rest(o, power);
}

// OpenNebula keeps a *_FAILURE state only for steps that cannot roll back by themselves
// (reference opennebula.md:44); seed 001 names each "Failure during a <step>".
struct FailurePair {
  LcmState in_progress;
  LcmState failure;
};
constexpr FailurePair kFailures[] = {
    {L::kProlog, L::kPrologFailure},
    {L::kBootMigrate, L::kBootMigrateFailure},
    {L::kPrologMigrate, L::kPrologMigrateFailure},
    {L::kEpilog, L::kEpilogFailure},
    {L::kEpilogStop, L::kEpilogStopFailure},
    {L::kEpilogUndeploy, L::kEpilogUndeployFailure},
    {L::kPrologMigratePoweroff, L::kPrologMigratePoweroffFailure},
    {L::kPrologMigrateSuspend, L::kPrologMigrateSuspendFailure},
    {L::kBootUndeploy, L::kBootUndeployFailure},
    {L::kBootStopped, L::kBootStoppedFailure},
    {L::kPrologResume, L::kPrologResumeFailure},
    {L::kPrologUndeploy, L::kPrologUndeployFailure},
    {L::kPrologMigrateUnknown, L::kPrologMigrateUnknownFailure},
    // Corral's choice: a delete's cleanup that failed left files on the host, as a failed
    // EPILOG does (OpenNebula's delete does not wait for its cleanup: reference opennebula.md:50).
    {L::kCleanupDelete, L::kEpilogFailure},
    {L::kCleanupResubmit, L::kEpilogFailure},
    // Corral's choice: a live migration that failed with the source not known intact left the
    // VM running on neither host, as a failed BOOT_MIGRATE does (seed 001:341); OpenNebula
    // itself always rolls a live migration back (reference opennebula.md:27).
    {L::kMigrate, L::kBootMigrateFailure},
};

// BOOT itself, and every step OpenNebula rolls back (SAVE_SUSPEND, BOOT_SUSPENDED,
// HOTPLUG_RESIZE...) but Corral may stop in FAILED (the origin not known intact), show the
// generic BOOT_FAILURE: the VM is not known to run. Not listed above, so that no entry
// repeats the default.
LcmState failure_of(LcmState in_progress) {
  for (const FailurePair& f : kFailures) {
    if (f.in_progress == in_progress) return f.failure;
  }
  return L::kBootFailure;
}

// A VM in FAILED shows the *_FAILURE of the step that failed; a failed creation, CLONING_FAILURE.
OpenNebulaView failed(const VmRecord& record) {
  const std::optional<Operation>& op = record.op;
  if (op.has_value() && op->action == A::kCreate) {
    return {OneState::kCloningFailure, L::kLcmInit, {}};
  }
  // The model always keeps the failed operation; without one there is no step to name.
  const LcmState step =
      op.has_value() ? in_flight(*op, current_phase(*op), record.power).lcm_state : LcmState{};
  return {OneState::kActive, failure_of(step), {}};
}

OpenNebulaView with_alias(OpenNebulaView v) {
  v.short_alias =
      v.state == OneState::kActive ? lcm_state_alias(v.lcm_state) : one_state_alias(v.state);
  return v;
}

struct LcmInfo {
  LcmState state;
  std::string_view name;
  std::string_view alias;
};

// Seed 001, "List of States", LCM_STATE rows: number, name, short alias.
constexpr LcmInfo kLcmInfo[] = {
    {L::kLcmInit, "LCM_INIT", "init"},
    {L::kProlog, "PROLOG", "prol"},
    {L::kBoot, "BOOT", "boot"},
    {L::kRunning, "RUNNING", "runn"},
    {L::kMigrate, "MIGRATE", "migr"},
    {L::kSaveStop, "SAVE_STOP", "save"},
    {L::kSaveSuspend, "SAVE_SUSPEND", "save"},
    {L::kSaveMigrate, "SAVE_MIGRATE", "save"},
    {L::kPrologMigrate, "PROLOG_MIGRATE", "migr"},
    {L::kPrologResume, "PROLOG_RESUME", "prol"},
    {L::kEpilogStop, "EPILOG_STOP", "epil"},
    {L::kEpilog, "EPILOG", "epil"},
    {L::kShutdown, "SHUTDOWN", "shut"},
    {L::kCleanupResubmit, "CLEANUP_RESUBMIT", "clea"},
    {L::kUnknown, "UNKNOWN", "unkn"},
    {L::kHotplug, "HOTPLUG", "hotp"},
    {L::kShutdownPoweroff, "SHUTDOWN_POWEROFF", "shut"},
    {L::kBootUnknown, "BOOT_UNKNOWN", "boot"},
    {L::kBootPoweroff, "BOOT_POWEROFF", "boot"},
    {L::kBootSuspended, "BOOT_SUSPENDED", "boot"},
    {L::kBootStopped, "BOOT_STOPPED", "boot"},
    {L::kCleanupDelete, "CLEANUP_DELETE", "clea"},
    {L::kHotplugSnapshot, "HOTPLUG_SNAPSHOT", "snap"},
    {L::kHotplugNic, "HOTPLUG_NIC", "hotp"},
    {L::kHotplugSaveas, "HOTPLUG_SAVEAS", "hotp"},
    {L::kHotplugSaveasPoweroff, "HOTPLUG_SAVEAS_POWEROFF", "hotp"},
    {L::kHotplugSaveasSuspended, "HOTPLUG_SAVEAS_SUSPENDED", "hotp"},
    {L::kShutdownUndeploy, "SHUTDOWN_UNDEPLOY", "shut"},
    {L::kEpilogUndeploy, "EPILOG_UNDEPLOY", "epil"},
    {L::kPrologUndeploy, "PROLOG_UNDEPLOY", "prol"},
    {L::kBootUndeploy, "BOOT_UNDEPLOY", "boot"},
    {L::kHotplugPrologPoweroff, "HOTPLUG_PROLOG_POWEROFF", "hotp"},
    {L::kHotplugEpilogPoweroff, "HOTPLUG_EPILOG_POWEROFF", "hotp"},
    {L::kBootMigrate, "BOOT_MIGRATE", "boot"},
    {L::kBootFailure, "BOOT_FAILURE", "fail"},
    {L::kBootMigrateFailure, "BOOT_MIGRATE_FAILURE", "fail"},
    {L::kPrologMigrateFailure, "PROLOG_MIGRATE_FAILURE", "fail"},
    {L::kPrologFailure, "PROLOG_FAILURE", "fail"},
    {L::kEpilogFailure, "EPILOG_FAILURE", "fail"},
    {L::kEpilogStopFailure, "EPILOG_STOP_FAILURE", "fail"},
    {L::kEpilogUndeployFailure, "EPILOG_UNDEPLOY_FAILURE", "fail"},
    {L::kPrologMigratePoweroff, "PROLOG_MIGRATE_POWEROFF", "migr"},
    {L::kPrologMigratePoweroffFailure, "PROLOG_MIGRATE_POWEROFF_FAILURE", "fail"},
    {L::kPrologMigrateSuspend, "PROLOG_MIGRATE_SUSPEND", "migr"},
    {L::kPrologMigrateSuspendFailure, "PROLOG_MIGRATE_SUSPEND_FAILURE", "fail"},
    {L::kBootUndeployFailure, "BOOT_UNDEPLOY_FAILURE", "fail"},
    {L::kBootStoppedFailure, "BOOT_STOPPED_FAILURE", "fail"},
    {L::kPrologResumeFailure, "PROLOG_RESUME_FAILURE", "fail"},
    {L::kPrologUndeployFailure, "PROLOG_UNDEPLOY_FAILURE", "fail"},
    {L::kDiskSnapshotPoweroff, "DISK_SNAPSHOT_POWEROFF", "snap"},
    {L::kDiskSnapshotRevertPoweroff, "DISK_SNAPSHOT_REVERT_POWEROFF", "snap"},
    {L::kDiskSnapshotDeletePoweroff, "DISK_SNAPSHOT_DELETE_POWEROFF", "snap"},
    {L::kDiskSnapshotSuspended, "DISK_SNAPSHOT_SUSPENDED", "snap"},
    {L::kDiskSnapshotRevertSuspended, "DISK_SNAPSHOT_REVERT_SUSPENDED", "snap"},
    {L::kDiskSnapshotDeleteSuspended, "DISK_SNAPSHOT_DELETE_SUSPENDED", "snap"},
    {L::kDiskSnapshot, "DISK_SNAPSHOT", "snap"},
    {L::kDiskSnapshotDelete, "DISK_SNAPSHOT_DELETE", "snap"},
    {L::kPrologMigrateUnknown, "PROLOG_MIGRATE_UNKNOWN", "migr"},
    {L::kPrologMigrateUnknownFailure, "PROLOG_MIGRATE_UNKNOWN_FAILURE", "fail"},
    {L::kDiskResize, "DISK_RESIZE", "dsrz"},
    {L::kDiskResizePoweroff, "DISK_RESIZE_POWEROFF", "dsrz"},
    {L::kDiskResizeUndeployed, "DISK_RESIZE_UNDEPLOYED", "dsrz"},
    {L::kHotplugNicPoweroff, "HOTPLUG_NIC_POWEROFF", "hotp"},
    {L::kHotplugResize, "HOTPLUG_RESIZE", "hotp"},
    {L::kHotplugSaveasUndeployed, "HOTPLUG_SAVEAS_UNDEPLOYED", "hotp"},
    {L::kHotplugSaveasStopped, "HOTPLUG_SAVEAS_STOPPED", "hotp"},
    {L::kBackup, "BACKUP", "back"},
    {L::kBackupPoweroff, "BACKUP_POWEROFF", "back"},
};
static_assert(std::size(kLcmInfo) == 68);

const LcmInfo* lcm_info(LcmState state) {
  for (const LcmInfo& info : kLcmInfo) {
    if (info.state == state) return &info;
  }
  return nullptr;
}

}  // namespace

const std::array<OneState, 11> kAllOneStates = {
    OneState::kInit,       OneState::kPending,   OneState::kHold,          OneState::kActive,
    OneState::kStopped,    OneState::kSuspended, OneState::kDone,          OneState::kPoweroff,
    OneState::kUndeployed, OneState::kCloning,   OneState::kCloningFailure};

const std::array<LcmState, 68> kAllLcmStates = [] {
  std::array<LcmState, 68> all{};
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = kLcmInfo[i].state;
  return all;
}();

std::string_view one_state_name(OneState state) {
  switch (state) {
    case OneState::kInit:
      return "INIT";
    case OneState::kPending:
      return "PENDING";
    case OneState::kHold:
      return "HOLD";
    case OneState::kActive:
      return "ACTIVE";
    case OneState::kStopped:
      return "STOPPED";
    case OneState::kSuspended:
      return "SUSPENDED";
    case OneState::kDone:
      return "DONE";
    case OneState::kPoweroff:
      return "POWEROFF";
    case OneState::kUndeployed:
      return "UNDEPLOYED";
    case OneState::kCloning:
      return "CLONING";
    case OneState::kCloningFailure:
      return "CLONING_FAILURE";
  }
  return "?";
}

std::string_view one_state_alias(OneState state) {
  switch (state) {
    case OneState::kInit:
      return "init";
    case OneState::kPending:
      return "pend";
    case OneState::kHold:
      return "hold";
    case OneState::kActive:
      return "";
    case OneState::kStopped:
      return "stop";
    case OneState::kSuspended:
      return "susp";
    case OneState::kDone:
      return "done";
    case OneState::kPoweroff:
      return "poff";
    case OneState::kUndeployed:
      return "unde";
    case OneState::kCloning:
      return "clon";
    case OneState::kCloningFailure:
      return "fail";
  }
  return "?";
}

std::string_view lcm_state_name(LcmState state) {
  const LcmInfo* info = lcm_info(state);
  return info == nullptr ? "?" : info->name;
}

std::string_view lcm_state_alias(LcmState state) {
  const LcmInfo* info = lcm_info(state);
  return info == nullptr ? "?" : info->alias;
}

OpenNebulaView opennebula_view(const VmRecord& record) {
  if (record.busy()) {
    return with_alias(in_flight(*record.op, current_phase(*record.op), record.power));
  }
  if (record.state == S::kFailed) return with_alias(failed(record));
  return with_alias(at_rest(record.state, record.power));
}

}  // namespace corral::lifecycle
