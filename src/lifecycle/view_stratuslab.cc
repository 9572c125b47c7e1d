// StratusLab's view: the seven common states of seed 002 (Pending, Prolog, Boot, Running,
// Failed, Unknown, Done), and the per-vocabulary state label used in errors and tables.
#include <string>

#include "lifecycle/views.h"

namespace corral::lifecycle {
namespace {

using S = State;

SlState at_rest(State state) {
  switch (state) {
    case S::kInit:
    case S::kPending:
    case S::kHold:
      return SlState::kPending;
    case S::kRunning:
    case S::kPaused:
    case S::kRescued:
    case S::kResized:
      return SlState::kRunning;
    // Seed 002: "Unknown — machine is stopped, but still has resources allocated!"
    case S::kSuspended:
    case S::kPoweroff:
    case S::kHibernated:
    case S::kDeallocated:
    case S::kShelved:
    case S::kSoftDeleted:
    case S::kUnknown:
      return SlState::kUnknown;
    case S::kFailed:
      return SlState::kFailed;
    case S::kDone:
      return SlState::kDone;
  }
  return SlState::kUnknown;
}

}  // namespace

const std::array<SlState, 7> kAllSlStates = {SlState::kPending, SlState::kProlog, SlState::kBoot,
                                             SlState::kRunning, SlState::kFailed, SlState::kUnknown,
                                             SlState::kDone};

std::string_view sl_state_name(SlState state) {
  switch (state) {
    case SlState::kPending:
      return "Pending";
    case SlState::kProlog:
      return "Prolog";
    case SlState::kBoot:
      return "Boot";
    case SlState::kRunning:
      return "Running";
    case SlState::kFailed:
      return "Failed";
    case SlState::kUnknown:
      return "Unknown";
    case SlState::kDone:
      return "Done";
  }
  return "?";
}

StratusLabView stratuslab_view(const VmRecord& record) {
  if (!record.busy()) return {at_rest(record.state)};
  const Phase phase = current_phase(*record.op);
  switch (phase) {
    case Phase::kInit:
    case Phase::kClone:
    case Phase::kSchedule:
      return {SlState::kPending};
    case Phase::kProlog:
      return {SlState::kProlog};
    case Phase::kBoot:
      return {SlState::kBoot};
    case Phase::kRestore:
      // Restoring memory is booting the VM for a StratusLab user.
      return {record.op->action == Action::kMigrate ? SlState::kRunning : SlState::kBoot};
    case Phase::kOsProvisioning:
    case Phase::kOsProvisioned:
      return {SlState::kRunning};
    case Phase::kNone:
    case Phase::kShutdown:
    case Phase::kPowerOff:
    case Phase::kSave:
    case Phase::kEpilog:
    case Phase::kMigrate:
    case Phase::kReboot:
    case Phase::kReset:
    case Phase::kPause:
    case Phase::kUnpause:
    case Phase::kResize:
    case Phase::kRescue:
    case Phase::kUnrescue:
    case Phase::kRebuild:
    case Phase::kSetPassword:
    case Phase::kSnapshot:
    case Phase::kUpload:
    case Phase::kBackup:
    case Phase::kShelve:
    case Phase::kHotplug:
    case Phase::kCleanup:
    case Phase::kConfirm:
    case Phase::kSoftDelete:
    case Phase::kPrepareMigrate:
    case Phase::kFinishMigrate:
    case Phase::kAbortMigrate:
      break;
  }
  return {at_rest(record.op->origin)};
}

Views render_views(const VmRecord& record) {
  return Views{opennebula_view(record), nova_view(record), azure_view(record),
               stratuslab_view(record)};
}

std::string vocabulary_state_label(const VmRecord& record, Vocabulary vocabulary) {
  switch (vocabulary) {
    case Vocabulary::kCorral: {
      std::string label(state_name(record.state));
      if (record.busy()) {
        label += " (" + std::string(action_name(record.op->action)) + ": " +
                 std::string(phase_name(current_phase(*record.op))) + ")";
      }
      return label;
    }
    case Vocabulary::kOpenNebula: {
      const OpenNebulaView v = opennebula_view(record);
      if (v.state == OneState::kActive) {
        return "ACTIVE/" + std::string(lcm_state_name(v.lcm_state)) + " (" +
               std::string(v.short_alias) + ")";
      }
      return std::string(one_state_name(v.state)) + " (" + std::string(v.short_alias) + ")";
    }
    case Vocabulary::kNova: {
      const NovaView v = nova_view(record);
      std::string label(nova_vm_state_name(v.vm_state));
      if (v.task_state != NovaTaskState::kNone) {
        label += " (task " + std::string(nova_task_state_name(v.task_state)) + ")";
      }
      return label;
    }
    case Vocabulary::kAzure: {
      const AzureView v = azure_view(record);
      std::string label(azure_provisioning_name(v.provisioning));
      if (v.power != AzurePower::kNone) label += ", " + std::string(azure_power_name(v.power));
      return label;
    }
    case Vocabulary::kStratusLab:
      return std::string(sl_state_name(stratuslab_view(record).state));
  }
  return {};
}

}  // namespace corral::lifecycle
