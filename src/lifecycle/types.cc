#include "lifecycle/types.h"

#include <algorithm>
#include <cctype>

#include "common/text.h"

namespace corral::lifecycle {

const std::array<State, kStateCount> kAllStates = {
    State::kInit,        State::kPending,   State::kHold,     State::kRunning,
    State::kPaused,      State::kSuspended, State::kPoweroff, State::kHibernated,
    State::kDeallocated, State::kShelved,   State::kRescued,  State::kResized,
    State::kSoftDeleted, State::kUnknown,   State::kFailed,   State::kDone,
};

const std::array<Action, kActionCount - 1> kAllActions = [] {
  std::array<Action, kActionCount - 1> all{};
  for (int i = 1; i < kActionCount; ++i) all[i - 1] = static_cast<Action>(i);
  return all;
}();

const std::array<Phase, kPhaseCount> kAllPhases = [] {
  std::array<Phase, kPhaseCount> all{};
  for (int i = 0; i < kPhaseCount; ++i) all[i] = static_cast<Phase>(i);
  return all;
}();

const std::array<Vocabulary, kVocabularyCount> kAllVocabularies = {
    Vocabulary::kCorral, Vocabulary::kOpenNebula, Vocabulary::kNova, Vocabulary::kAzure,
    Vocabulary::kStratusLab};

std::string_view state_name(State state) {
  switch (state) {
    case State::kInit:
      return "INIT";
    case State::kPending:
      return "PENDING";
    case State::kHold:
      return "HOLD";
    case State::kRunning:
      return "RUNNING";
    case State::kPaused:
      return "PAUSED";
    case State::kSuspended:
      return "SUSPENDED";
    case State::kPoweroff:
      return "POWEROFF";
    case State::kHibernated:
      return "HIBERNATED";
    case State::kDeallocated:
      return "DEALLOCATED";
    case State::kShelved:
      return "SHELVED";
    case State::kRescued:
      return "RESCUED";
    case State::kResized:
      return "RESIZED";
    case State::kSoftDeleted:
      return "SOFT_DELETED";
    case State::kUnknown:
      return "UNKNOWN";
    case State::kFailed:
      return "FAILED";
    case State::kDone:
      return "DONE";
  }
  return "?";
}

std::string_view action_name(Action action) {
  switch (action) {
    case Action::kCreate:
      return "create";
    case Action::kDeploy:
      return "deploy";
    case Action::kHold:
      return "hold";
    case Action::kRelease:
      return "release";
    case Action::kShutdown:
      return "shutdown";
    case Action::kShutdownHard:
      return "shutdown_hard";
    case Action::kStart:
      return "start";
    case Action::kReboot:
      return "reboot";
    case Action::kRebootHard:
      return "reboot_hard";
    case Action::kPause:
      return "pause";
    case Action::kUnpause:
      return "unpause";
    case Action::kSuspend:
      return "suspend";
    case Action::kResume:
      return "resume";
    case Action::kHibernate:
      return "hibernate";
    case Action::kDeallocate:
      return "deallocate";
    case Action::kDeallocateHard:
      return "deallocate_hard";
    case Action::kTerminate:
      return "terminate";
    case Action::kTerminateHard:
      return "terminate_hard";
    case Action::kMigrate:
      return "migrate";
    case Action::kLiveMigrate:
      return "live_migrate";
    case Action::kResched:
      return "resched";
    case Action::kUnresched:
      return "unresched";
    case Action::kResize:
      return "resize";
    case Action::kResizeMigrate:
      return "resize_migrate";
    case Action::kConfirmResize:
      return "confirm_resize";
    case Action::kRevertResize:
      return "revert_resize";
    case Action::kRescue:
      return "rescue";
    case Action::kUnrescue:
      return "unrescue";
    case Action::kRebuild:
      return "rebuild";
    case Action::kSetAdminPassword:
      return "set_admin_password";
    case Action::kSnapshot:
      return "snapshot";
    case Action::kBackup:
      return "backup";
    case Action::kShelve:
      return "shelve";
    case Action::kShelveOffload:
      return "shelve_offload";
    case Action::kSoftDelete:
      return "soft_delete";
    case Action::kRestore:
      return "restore";
    case Action::kDiskAttach:
      return "disk_attach";
    case Action::kDiskDetach:
      return "disk_detach";
    case Action::kNicAttach:
      return "nic_attach";
    case Action::kNicDetach:
      return "nic_detach";
    case Action::kDiskSnapshot:
      return "disk_snapshot";
    case Action::kDiskSnapshotRevert:
      return "disk_snapshot_revert";
    case Action::kDiskSnapshotDelete:
      return "disk_snapshot_delete";
    case Action::kDiskResize:
      return "disk_resize";
    case Action::kCheckpoint:
      return "checkpoint";
    case Action::kCheckpointRevert:
      return "checkpoint_revert";
    case Action::kCheckpointDelete:
      return "checkpoint_delete";
    case Action::kCancel:
      return "cancel";
    case Action::kRecoverRetry:
      return "recover_retry";
    case Action::kRecoverSuccess:
      return "recover_success";
    case Action::kRecoverFailure:
      return "recover_failure";
    case Action::kRecoverDelete:
      return "recover_delete";
    case Action::kRecoverRecreate:
      return "recover_recreate";
    case Action::kResetState:
      return "reset_state";
    case Action::kObservedLost:
      return "observed_lost";
    case Action::kObservedPoweroff:
      return "observed_poweroff";
    case Action::kObservedRunning:
      return "observed_running";
    case Action::kObservedPower:
      return "observed_power";
  }
  return "?";
}

std::string_view phase_name(Phase phase) {
  switch (phase) {
    case Phase::kNone:
      return "none";
    case Phase::kInit:
      return "init";
    case Phase::kClone:
      return "clone";
    case Phase::kSchedule:
      return "schedule";
    case Phase::kProlog:
      return "prolog";
    case Phase::kBoot:
      return "boot";
    case Phase::kOsProvisioning:
      return "os_provisioning";
    case Phase::kOsProvisioned:
      return "os_provisioned";
    case Phase::kShutdown:
      return "shutdown";
    case Phase::kPowerOff:
      return "power_off";
    case Phase::kSave:
      return "save";
    case Phase::kRestore:
      return "restore";
    case Phase::kEpilog:
      return "epilog";
    case Phase::kMigrate:
      return "migrate";
    case Phase::kReboot:
      return "reboot";
    case Phase::kReset:
      return "reset";
    case Phase::kPause:
      return "pause";
    case Phase::kUnpause:
      return "unpause";
    case Phase::kResize:
      return "resize";
    case Phase::kRescue:
      return "rescue";
    case Phase::kUnrescue:
      return "unrescue";
    case Phase::kRebuild:
      return "rebuild";
    case Phase::kSetPassword:
      return "set_password";
    case Phase::kSnapshot:
      return "snapshot";
    case Phase::kUpload:
      return "upload";
    case Phase::kBackup:
      return "backup";
    case Phase::kShelve:
      return "shelve";
    case Phase::kHotplug:
      return "hotplug";
    case Phase::kCleanup:
      return "cleanup";
    case Phase::kConfirm:
      return "confirm";
    case Phase::kSoftDelete:
      return "soft_delete";
    case Phase::kPrepareMigrate:
      return "prepare_migrate";
    case Phase::kFinishMigrate:
      return "finish_migrate";
    case Phase::kAbortMigrate:
      return "abort_migrate";
  }
  return "?";
}

std::string_view power_name(Power power) {
  switch (power) {
    case Power::kNoState:
      return "nostate";
    case Power::kRunning:
      return "running";
    case Power::kPaused:
      return "paused";
    case Power::kShutdown:
      return "shutdown";
    case Power::kCrashed:
      return "crashed";
    case Power::kSuspended:
      return "suspended";
  }
  return "?";
}

std::string_view op_status_name(OpStatus status) {
  switch (status) {
    case OpStatus::kRunning:
      return "running";
    case OpStatus::kSucceeded:
      return "succeeded";
    case OpStatus::kFailed:
      return "failed";
    case OpStatus::kCanceled:
      return "canceled";
  }
  return "?";
}

std::string_view failure_rule_name(FailureRule rule) {
  switch (rule) {
    case FailureRule::kRollback:
      return "rollback";
    case FailureRule::kFailStop:
      return "fail_stop";
    case FailureRule::kKeepTarget:
      return "keep_target";
    case FailureRule::kRollbackIfIntact:
      return "rollback_if_intact";
  }
  return "?";
}

std::string_view vocabulary_name(Vocabulary vocabulary) {
  switch (vocabulary) {
    case Vocabulary::kCorral:
      return "corral";
    case Vocabulary::kOpenNebula:
      return "opennebula";
    case Vocabulary::kNova:
      return "nova";
    case Vocabulary::kAzure:
      return "azure";
    case Vocabulary::kStratusLab:
      return "stratuslab";
  }
  return "?";
}

namespace {

template <typename Enum, std::size_t N, typename NameFn>
std::optional<Enum> parse_by_name(const std::array<Enum, N>& all, NameFn name,
                                  std::string_view text) {
  for (Enum value : all) {
    if (iequals(name(value), text)) return value;
  }
  return std::nullopt;
}

}  // namespace

std::optional<State> parse_state(std::string_view name) {
  return parse_by_name(kAllStates, state_name, name);
}

std::optional<Action> parse_action(std::string_view name) {
  return parse_by_name(kAllActions, action_name, name);
}

std::optional<Phase> parse_phase(std::string_view name) {
  return parse_by_name(kAllPhases, phase_name, name);
}

std::optional<Vocabulary> parse_vocabulary(std::string_view name) {
  return parse_by_name(kAllVocabularies, vocabulary_name, name);
}

}  // namespace corral::lifecycle
