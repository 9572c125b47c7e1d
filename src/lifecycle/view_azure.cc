// Azure's view: provisioning state x power state as instance-view statuses, and billing,
// exactly seed 000.
#include "lifecycle/views.h"

namespace corral::lifecycle {
namespace {

using AP = AzurePower;
using PS = AzureProvisioning;
using S = State;
using A = Action;
using P = Phase;

AzurePower power_at_rest(const VmRecord& r) {
  switch (r.state) {
    case S::kInit:
    case S::kPending:
    case S::kHold:
      return AP::kStarting;  // seed 000: a VM being created is "starting"
    case S::kRunning:
    case S::kPaused:  // Azure has no pause: the VM still holds (and bills) its host
    case S::kRescued:
      return AP::kRunning;
    case S::kResized:
      return r.power == Power::kRunning ? AP::kRunning : AP::kStopped;
    case S::kSuspended:
    case S::kPoweroff:
    case S::kShelved:
    case S::kSoftDeleted:
      return AP::kStopped;
    case S::kHibernated:
    case S::kDeallocated:
      return AP::kDeallocated;
    case S::kUnknown:
      return AP::kUnknown;
    case S::kFailed:
      return (r.power == Power::kRunning || r.power == Power::kPaused) ? AP::kRunning
                                                                       : AP::kStopped;
    case S::kDone:
      return AP::kNone;
  }
  return AP::kUnknown;
}

AzurePower power_in_flight(const VmRecord& r, const Operation& op, Phase phase) {
  const bool from_off = op.origin != S::kRunning && op.origin != S::kPaused;
  switch (op.action) {
    case A::kCreate:
      return AP::kStarting;
    case A::kDeploy:
      return (phase == P::kOsProvisioning || phase == P::kOsProvisioned) ? AP::kRunning
                                                                         : AP::kStarting;
    case A::kStart:
    case A::kResume:
    case A::kRestore:
    case A::kRescue:
    case A::kUnrescue:
      return AP::kStarting;
    case A::kRebootHard:
      return from_off ? AP::kStarting : AP::kRunning;
    case A::kShutdown:
    case A::kShutdownHard:
    case A::kSuspend:
    case A::kSoftDelete:
    case A::kShelve:
      return phase == P::kUpload ? AP::kStopped : AP::kStopping;
    case A::kDeallocate:
    case A::kDeallocateHard:
    case A::kHibernate:
      return AP::kDeallocating;
    case A::kShelveOffload:
      if (phase == P::kEpilog) return AP::kDeallocating;
      return phase == P::kUpload ? AP::kStopped : AP::kStopping;
    case A::kTerminate:
    case A::kTerminateHard:
    case A::kRecoverDelete:
    case A::kRecoverRecreate:
      if (phase == P::kShutdown || phase == P::kPowerOff) return AP::kStopping;
      return AP::kDeallocating;
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
    if (a == A::kCreate) return PS::kCreating;
    if (a == A::kDeploy) {
      if (phase == P::kOsProvisioning) return PS::kOsProvisioningInProgress;
      if (phase == P::kOsProvisioned) return PS::kOsProvisioningComplete;
      return PS::kCreating;
    }
    if (a == A::kTerminate || a == A::kTerminateHard || a == A::kRecoverDelete) {
      return PS::kDeleting;
    }
    return PS::kUpdating;  // seed 000: start, restart and the rest are updates
  }
  if (r.state == S::kDone) return PS::kDeleted;
  const OpStatus status = r.op.has_value() ? r.op->status : OpStatus::kSucceeded;
  if (status == OpStatus::kCanceled) return PS::kCanceled;
  if (status == OpStatus::kFailed || r.state == S::kFailed) return PS::kFailed;
  // Created but not yet placed and booted: creation is still in progress for Azure.
  if (r.state == S::kPending || r.state == S::kHold) return PS::kCreating;
  return PS::kSucceeded;
}

AzureStatus provisioning_status(AzureProvisioning p) {
  switch (p) {
    case PS::kCreating:
      return {"ProvisioningState/creating", "Info", "Creating", false};
    case PS::kUpdating:
      return {"ProvisioningState/updating", "Info", "Updating", false};
    case PS::kDeleting:
      return {"ProvisioningState/deleting", "Info", "Deleting", false};
    case PS::kSucceeded:
      return {"ProvisioningState/succeeded", "Info", "Provisioning succeeded", true};
    case PS::kFailed:
      return {"ProvisioningState/failed", "Info", "Provisioning failed", true};
    case PS::kCanceled:
      return {"ProvisioningState/canceled", "Info", "Provisioning canceled", true};
    case PS::kOsProvisioningInProgress:
      return {"ProvisioningState/OSProvisioningInprogress", "Info", "OS Provisioning In progress",
              false};
    case PS::kOsProvisioningComplete:
      return {"ProvisioningState/OSProvisioningComplete", "Info", "OS Provisioning Complete",
              false};
    // Azure forgets a deleted VM (404); Corral keeps it for accounting, like OpenNebula.
    case PS::kDeleted:
      return {"ProvisioningState/deleted", "Info", "Deleted", true};
  }
  return {};
}

AzureStatus power_status(AzurePower p) {
  switch (p) {
    case AP::kNone:
      return {};
    case AP::kStarting:
      return {"PowerState/starting", "Info", "VM starting", false};
    case AP::kRunning:
      return {"PowerState/running", "Info", "VM running", false};
    case AP::kStopping:
      return {"PowerState/stopping", "Info", "VM stopping", false};
    case AP::kStopped:
      return {"PowerState/stopped", "Info", "VM stopped", false};
    case AP::kDeallocating:
      return {"PowerState/deallocating", "Info", "VM deallocating", false};
    case AP::kDeallocated:
      return {"PowerState/deallocated", "Info", "VM deallocated", false};
    case AP::kUnknown:
      return {"PowerState/unknown", "Info", "VM status unknown", false};
  }
  return {};
}

}  // namespace

std::string_view azure_power_name(AzurePower power) {
  switch (power) {
    case AP::kNone:
      return "";
    case AP::kStarting:
      return "starting";
    case AP::kRunning:
      return "running";
    case AP::kStopping:
      return "stopping";
    case AP::kStopped:
      return "stopped";
    case AP::kDeallocating:
      return "deallocating";
    case AP::kDeallocated:
      return "deallocated";
    case AP::kUnknown:
      return "unknown";
  }
  return "?";
}

std::string_view azure_provisioning_name(AzureProvisioning state) {
  switch (state) {
    case PS::kCreating:
      return "Creating";
    case PS::kUpdating:
      return "Updating";
    case PS::kDeleting:
      return "Deleting";
    case PS::kSucceeded:
      return "Succeeded";
    case PS::kFailed:
      return "Failed";
    case PS::kCanceled:
      return "Canceled";
    case PS::kOsProvisioningInProgress:
      return "OSProvisioningInprogress";
    case PS::kOsProvisioningComplete:
      return "OSProvisioningComplete";
    case PS::kDeleted:
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
    case AP::kNone:
    case AP::kStarting:
    case AP::kDeallocated:
      return Billing::kNotBilled;
    case AP::kRunning:
    case AP::kStopping:
      return Billing::kBilledHardwareAndSoftware;
    case AP::kStopped:
    case AP::kDeallocating:
    case AP::kUnknown:  // not in seed 000: the host is still held, as when stopped
      return Billing::kBilledHardwareOnly;
  }
  return Billing::kBilledHardwareOnly;
}

AzureView azure_view(const VmRecord& record) {
  AzureView view;
  const Phase phase = record.op.has_value() ? current_phase(*record.op) : Phase::kNone;
  view.provisioning = provisioning(record, phase);
  view.power = record.busy() ? power_in_flight(record, *record.op, phase) : power_at_rest(record);
  view.billing = billing_of(view.power);
  view.statuses[0] = provisioning_status(view.provisioning);
  view.status_count = 1;
  if (view.power != AP::kNone) view.statuses[view.status_count++] = power_status(view.power);
  return view;
}

}  // namespace corral::lifecycle
