// Azure's view: provisioning state x power state as instance-view statuses, and billing,
// exactly seed 000.
#include "lifecycle/views.h"

namespace corral::lifecycle {
namespace {

using S = State;
using A = Action;
using P = Phase;

AzurePower power_at_rest(const VmRecord& r) {
  switch (r.state) {
    case S::kInit:
    case S::kPending:
    case S::kHold:
      return AzurePower::kStarting;  // seed 000: a VM being created is "starting"
    case S::kRunning:
    case S::kPaused:  // Azure has no pause: the VM still holds (and bills) its host
    case S::kRescued:
      return AzurePower::kRunning;
    case S::kResized:
      return r.power == Power::kRunning ? AzurePower::kRunning : AzurePower::kStopped;
    case S::kSuspended:
    case S::kPoweroff:
    case S::kShelved:
    case S::kSoftDeleted:
      return AzurePower::kStopped;
    case S::kHibernated:
    case S::kDeallocated:
      return AzurePower::kDeallocated;
    case S::kUnknown:
      return AzurePower::kUnknown;
    case S::kFailed:
      return (r.power == Power::kRunning || r.power == Power::kPaused) ? AzurePower::kRunning
                                                                       : AzurePower::kStopped;
    case S::kDone:
      return AzurePower::kNone;
  }
  return AzurePower::kUnknown;
}

AzurePower power_in_flight(const VmRecord& r, const Operation& op, Phase phase) {
  const bool from_off = op.origin != S::kRunning && op.origin != S::kPaused;
  switch (op.action) {
    case A::kCreate:
      return AzurePower::kStarting;
    case A::kDeploy:
      return (phase == P::kOsProvisioning || phase == P::kOsProvisioned) ? AzurePower::kRunning
                                                                         : AzurePower::kStarting;
    case A::kStart:
    case A::kResume:
    case A::kRestore:
    case A::kRescue:
    case A::kUnrescue:
      return AzurePower::kStarting;
    case A::kRebootHard:
      return from_off ? AzurePower::kStarting : AzurePower::kRunning;
    case A::kShutdown:
    case A::kShutdownHard:
    case A::kSuspend:
    case A::kSoftDelete:
    case A::kShelve:
      return phase == P::kUpload ? AzurePower::kStopped : AzurePower::kStopping;
    case A::kDeallocate:
    case A::kDeallocateHard:
    case A::kHibernate:
      return AzurePower::kDeallocating;
    case A::kShelveOffload:
      if (phase == P::kEpilog) return AzurePower::kDeallocating;
      return phase == P::kUpload ? AzurePower::kStopped : AzurePower::kStopping;
    case A::kTerminate:
    case A::kTerminateHard:
    case A::kRecoverDelete:
    case A::kRecoverRecreate:
      if (phase == P::kShutdown || phase == P::kPowerOff) return AzurePower::kStopping;
      return AzurePower::kDeallocating;
    case A::kReboot:
    case A::kPause:
    case A::kUnpause:
    case A::kMigrate:
    case A::kLiveMigrate:
    case A::kResize:
    case A::kResizeMigrate:
    case A::kConfirmResize:
    case A::kRevertResize:
    case A::kRebuild:
    case A::kSetAdminPassword:
    case A::kSnapshot:
    case A::kBackup:
    case A::kDiskAttach:
    case A::kDiskDetach:
    case A::kNicAttach:
    case A::kNicDetach:
    case A::kDiskSnapshot:
    case A::kDiskSnapshotRevert:
    case A::kDiskSnapshotDelete:
    case A::kDiskResize:
    case A::kCheckpoint:
    case A::kCheckpointRevert:
    case A::kCheckpointDelete:
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
  VmRecord at_origin = r;
  at_origin.state = op.origin;
  return power_at_rest(at_origin);
}

AzureProvisioning provisioning(const VmRecord& r, Phase phase) {
  if (r.busy()) {
    const Action a = r.op->action;
    if (a == A::kCreate) return AzureProvisioning::kCreating;
    if (a == A::kDeploy) {
      if (phase == P::kOsProvisioning) return AzureProvisioning::kOsProvisioningInProgress;
      if (phase == P::kOsProvisioned) return AzureProvisioning::kOsProvisioningComplete;
      return AzureProvisioning::kCreating;
    }
    if (a == A::kTerminate || a == A::kTerminateHard || a == A::kRecoverDelete) {
      return AzureProvisioning::kDeleting;
    }
    return AzureProvisioning::kUpdating;  // seed 000: start, restart and the rest are updates
  }
  if (r.state == S::kDone) return AzureProvisioning::kDeleted;
  const OpStatus status = r.op.has_value() ? r.op->status : OpStatus::kSucceeded;
  if (status == OpStatus::kCanceled) return AzureProvisioning::kCanceled;
  if (status == OpStatus::kFailed || r.state == S::kFailed) return AzureProvisioning::kFailed;
  // Created but not yet placed and booted: creation is still in progress for Azure.
  if (r.state == S::kPending || r.state == S::kHold) return AzureProvisioning::kCreating;
  return AzureProvisioning::kSucceeded;
}

AzureStatus provisioning_status(AzureProvisioning p) {
  switch (p) {
    case AzureProvisioning::kCreating:
      return {"ProvisioningState/creating", "Info", "Creating", false};
    case AzureProvisioning::kUpdating:
      return {"ProvisioningState/updating", "Info", "Updating", false};
    case AzureProvisioning::kDeleting:
      return {"ProvisioningState/deleting", "Info", "Deleting", false};
    case AzureProvisioning::kSucceeded:
      return {"ProvisioningState/succeeded", "Info", "Provisioning succeeded", true};
    case AzureProvisioning::kFailed:
      return {"ProvisioningState/failed", "Info", "Provisioning failed", true};
    case AzureProvisioning::kCanceled:
      return {"ProvisioningState/canceled", "Info", "Provisioning canceled", true};
    case AzureProvisioning::kOsProvisioningInProgress:
      return {"ProvisioningState/OSProvisioningInprogress", "Info", "OS Provisioning In progress",
              false};
    case AzureProvisioning::kOsProvisioningComplete:
      return {"ProvisioningState/OSProvisioningComplete", "Info", "OS Provisioning Complete",
              false};
    // Azure forgets a deleted VM (404); Corral keeps it for accounting, like OpenNebula.
    case AzureProvisioning::kDeleted:
      return {"ProvisioningState/deleted", "Info", "Deleted", true};
  }
  return {};
}

AzureStatus power_status(AzurePower p) {
  switch (p) {
    case AzurePower::kNone:
      return {};
    case AzurePower::kStarting:
      return {"PowerState/starting", "Info", "VM starting", false};
    case AzurePower::kRunning:
      return {"PowerState/running", "Info", "VM running", false};
    case AzurePower::kStopping:
      return {"PowerState/stopping", "Info", "VM stopping", false};
    case AzurePower::kStopped:
      return {"PowerState/stopped", "Info", "VM stopped", false};
    case AzurePower::kDeallocating:
      return {"PowerState/deallocating", "Info", "VM deallocating", false};
    case AzurePower::kDeallocated:
      return {"PowerState/deallocated", "Info", "VM deallocated", false};
    case AzurePower::kUnknown:
      return {"PowerState/unknown", "Info", "VM status unknown", false};
  }
  return {};
}

}  // namespace

std::string_view azure_power_name(AzurePower power) {
  switch (power) {
    case AzurePower::kNone:
      return "";
    case AzurePower::kStarting:
      return "starting";
    case AzurePower::kRunning:
      return "running";
    case AzurePower::kStopping:
      return "stopping";
    case AzurePower::kStopped:
      return "stopped";
    case AzurePower::kDeallocating:
      return "deallocating";
    case AzurePower::kDeallocated:
      return "deallocated";
    case AzurePower::kUnknown:
      return "unknown";
  }
  return "?";
}

std::string_view azure_provisioning_name(AzureProvisioning state) {
  switch (state) {
    case AzureProvisioning::kCreating:
      return "Creating";
    case AzureProvisioning::kUpdating:
      return "Updating";
    case AzureProvisioning::kDeleting:
      return "Deleting";
    case AzureProvisioning::kSucceeded:
      return "Succeeded";
    case AzureProvisioning::kFailed:
      return "Failed";
    case AzureProvisioning::kCanceled:
      return "Canceled";
    case AzureProvisioning::kOsProvisioningInProgress:
      return "OSProvisioningInprogress";
    case AzureProvisioning::kOsProvisioningComplete:
      return "OSProvisioningComplete";
    case AzureProvisioning::kDeleted:
      return "Deleted";
  }
  return "?";
}

std::string_view billing_name(Billing billing) {
  switch (billing) {
    case Billing::kNotBilled:
      return "not_billed";
    case Billing::kBilledHardwareAndSoftware:
      return "hardware_and_software";
    case Billing::kBilledHardwareOnly:
      return "hardware_only";
  }
  return "?";
}

std::string_view billing_display(Billing billing) {
  switch (billing) {
    case Billing::kNotBilled:
      return "Not billed";
    case Billing::kBilledHardwareAndSoftware:
      return "Billed (Hardware + Software)";
    case Billing::kBilledHardwareOnly:
      return "Billed (Hardware only)";
  }
  return "?";
}

// Seed 000, "Power State" table, Billing column.
Billing billing_of(AzurePower power) {
  switch (power) {
    case AzurePower::kNone:
    case AzurePower::kStarting:
    case AzurePower::kDeallocated:
      return Billing::kNotBilled;
    case AzurePower::kRunning:
    case AzurePower::kStopping:
      return Billing::kBilledHardwareAndSoftware;
    case AzurePower::kStopped:
    case AzurePower::kDeallocating:
    case AzurePower::kUnknown:  // not in seed 000: the host is still held, as when stopped
      return Billing::kBilledHardwareOnly;
  }
  return Billing::kBilledHardwareOnly;
}

AzureStatus azure_provisioning_status(AzureProvisioning state) {
  return provisioning_status(state);
}

AzureStatus azure_power_status(AzurePower power) { return power_status(power); }

const std::array<AzureProvisioning, 9> kAllAzureProvisioning = {
    AzureProvisioning::kCreating,
    AzureProvisioning::kUpdating,
    AzureProvisioning::kDeleting,
    AzureProvisioning::kSucceeded,
    AzureProvisioning::kFailed,
    AzureProvisioning::kCanceled,
    AzureProvisioning::kOsProvisioningInProgress,
    AzureProvisioning::kOsProvisioningComplete,
    AzureProvisioning::kDeleted};

const std::array<AzurePower, 7> kAllAzurePowers = {
    AzurePower::kStarting, AzurePower::kRunning,      AzurePower::kStopping,
    AzurePower::kStopped,  AzurePower::kDeallocating, AzurePower::kDeallocated,
    AzurePower::kUnknown};

AzureView azure_view(const VmRecord& record) {
  AzureView view;
  const Phase phase = record.op.has_value() ? current_phase(*record.op) : Phase::kNone;
  view.provisioning = provisioning(record, phase);
  view.power = record.busy() ? power_in_flight(record, *record.op, phase) : power_at_rest(record);
  view.billing = billing_of(view.power);
  view.statuses[0] = provisioning_status(view.provisioning);
  view.status_count = 1;
  if (view.power != AzurePower::kNone)
    view.statuses[view.status_count++] = power_status(view.power);
  return view;
}

}  // namespace corral::lifecycle
