// The four vocabularies' views of a canonical record.
//
// Contract: each view is a pure function of the VmRecord; nothing in a view is stored.
// Views render into small structs of enums and static strings (no allocation), so the API
// can render every record in every vocabulary on every read. Sources: seed 001 (OpenNebula),
// seeds 003/004 and Nova's _STATE_MAP (Nova), seed 000 (Azure), seed 002 (StratusLab).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "lifecycle/model.h"

namespace corral::lifecycle {

// ---- OpenNebula (seed 001) --------------------------------------------------------------

enum class OneState : std::uint8_t {
  kInit = 0,
  kPending = 1,
  kHold = 2,
  kActive = 3,
  kStopped = 4,
  kSuspended = 5,
  kDone = 6,
  kPoweroff = 8,
  kUndeployed = 9,
  kCloning = 10,
  kCloningFailure = 11,
};

enum class LcmState : std::uint8_t {
  kLcmInit = 0,
  kProlog = 1,
  kBoot = 2,
  kRunning = 3,
  kMigrate = 4,
  kSaveStop = 5,
  kSaveSuspend = 6,
  kSaveMigrate = 7,
  kPrologMigrate = 8,
  kPrologResume = 9,
  kEpilogStop = 10,
  kEpilog = 11,
  kShutdown = 12,
  kCleanupResubmit = 15,
  kUnknown = 16,
  kHotplug = 17,
  kShutdownPoweroff = 18,
  kBootUnknown = 19,
  kBootPoweroff = 20,
  kBootSuspended = 21,
  kBootStopped = 22,
  kCleanupDelete = 23,
  kHotplugSnapshot = 24,
  kHotplugNic = 25,
  kHotplugSaveas = 26,
  kHotplugSaveasPoweroff = 27,
  kHotplugSaveasSuspended = 28,
  kShutdownUndeploy = 29,
  kEpilogUndeploy = 30,
  kPrologUndeploy = 31,
  kBootUndeploy = 32,
  kHotplugPrologPoweroff = 33,
  kHotplugEpilogPoweroff = 34,
  kBootMigrate = 35,
  kBootFailure = 36,
  kBootMigrateFailure = 37,
  kPrologMigrateFailure = 38,
  kPrologFailure = 39,
  kEpilogFailure = 40,
  kEpilogStopFailure = 41,
  kEpilogUndeployFailure = 42,
  kPrologMigratePoweroff = 43,
  kPrologMigratePoweroffFailure = 44,
  kPrologMigrateSuspend = 45,
  kPrologMigrateSuspendFailure = 46,
  kBootUndeployFailure = 47,
  kBootStoppedFailure = 48,
  kPrologResumeFailure = 49,
  kPrologUndeployFailure = 50,
  kDiskSnapshotPoweroff = 51,
  kDiskSnapshotRevertPoweroff = 52,
  kDiskSnapshotDeletePoweroff = 53,
  kDiskSnapshotSuspended = 54,
  kDiskSnapshotRevertSuspended = 55,
  kDiskSnapshotDeleteSuspended = 56,
  kDiskSnapshot = 57,
  kDiskSnapshotDelete = 59,
  kPrologMigrateUnknown = 60,
  kPrologMigrateUnknownFailure = 61,
  kDiskResize = 62,
  kDiskResizePoweroff = 63,
  kDiskResizeUndeployed = 64,
  kHotplugNicPoweroff = 65,
  kHotplugResize = 66,
  kHotplugSaveasUndeployed = 67,
  kHotplugSaveasStopped = 68,
  kBackup = 69,
  kBackupPoweroff = 70,
};

struct OpenNebulaView {
  OneState state = OneState::kInit;
  LcmState lcm_state = LcmState::kLcmInit;
  std::string_view short_alias;  // what `onevm list` shows in STAT
};

std::string_view one_state_name(OneState state);
std::string_view one_state_alias(OneState state);  // "" for ACTIVE (the LCM alias is shown)
std::string_view lcm_state_name(LcmState state);
std::string_view lcm_state_alias(LcmState state);
extern const std::array<OneState, 11> kAllOneStates;
extern const std::array<LcmState, 68> kAllLcmStates;

OpenNebulaView opennebula_view(const VmRecord& record);

// ---- OpenStack Nova (seeds 003, 004; nova/api/openstack/common.py _STATE_MAP) ------------

enum class NovaVmState : std::uint8_t {
  kActive,
  kBuilding,
  kPaused,
  kSuspended,
  kStopped,
  kRescued,
  kResized,
  kSoftDeleted,
  kDeleted,
  kError,
  kShelved,
  kShelvedOffloaded,
};

enum class NovaTaskState : std::uint8_t {
  kNone,
  kScheduling,
  kBlockDeviceMapping,
  kNetworking,
  kSpawning,
  kImageSnapshot,
  kImageSnapshotPending,
  kImagePendingUpload,
  kImageUploading,
  kImageBackup,
  kUpdatingPassword,
  kResizePrep,
  kResizeMigrating,
  kResizeMigrated,
  kResizeFinish,
  kResizeReverting,
  kResizeConfirming,
  kRebooting,
  kRebootPending,
  kRebootStarted,
  kRebootingHard,
  kRebootPendingHard,
  kRebootStartedHard,
  kPausing,
  kUnpausing,
  kSuspending,
  kResuming,
  kPoweringOff,
  kPoweringOn,
  kRescuing,
  kUnrescuing,
  kRebuilding,
  kRebuildBlockDeviceMapping,
  kRebuildSpawning,
  kMigrating,
  kDeleting,
  kSoftDeleting,
  kRestoring,
  kShelving,
  kShelvingImagePendingUpload,
  kShelvingImageUploading,
  kShelvingOffloading,
  kUnshelving,
};

struct NovaView {
  NovaVmState vm_state = NovaVmState::kBuilding;
  NovaTaskState task_state = NovaTaskState::kNone;
  int power_state = 0;
  std::string_view status;  // the API "status" (_STATE_MAP)
};

std::string_view nova_vm_state_name(NovaVmState state);      // "shelved_offloaded"
std::string_view nova_task_state_name(NovaTaskState state);  // "powering-off"; "" for none
std::string_view nova_power_state_name(int power_state);     // "Running" (as openstackclient)
std::string_view nova_status(NovaVmState vm_state, NovaTaskState task_state);
extern const std::array<NovaVmState, 12> kAllNovaVmStates;
extern const std::array<NovaTaskState, 43> kAllNovaTaskStates;  // None first

NovaView nova_view(const VmRecord& record);

// ---- Azure (seed 000) ----------------------------------------------------------------------

enum class AzurePower : std::uint8_t {
  kNone,
  kStarting,
  kRunning,
  kStopping,
  kStopped,
  kDeallocating,
  kDeallocated,
  kUnknown,
};

enum class AzureProvisioning : std::uint8_t {
  kCreating,
  kUpdating,
  kDeleting,
  kSucceeded,
  kFailed,
  kCanceled,
  kOsProvisioningInProgress,
  kOsProvisioningComplete,
  kDeleted,
};

enum class Billing : std::uint8_t {
  kNotBilled,
  kBilledHardwareAndSoftware,
  kBilledHardwareOnly,
};

struct AzureStatus {
  std::string_view code;            // "PowerState/running"
  std::string_view level;           // "Info"
  std::string_view display_status;  // "VM running"
  bool timed = false;               // carries "time" (the operation's end) when rendered
};

struct AzureView {
  AzureProvisioning provisioning = AzureProvisioning::kCreating;
  AzurePower power = AzurePower::kNone;
  Billing billing = Billing::kNotBilled;
  std::array<AzureStatus, 2> statuses{};
  std::uint8_t status_count = 0;
};

std::string_view azure_power_name(AzurePower power);                // "deallocated"
std::string_view azure_provisioning_name(AzureProvisioning state);  // "Succeeded"
std::string_view billing_name(Billing billing);                     // "hardware_only"
std::string_view billing_display(Billing billing);                  // "Billed (Hardware only)"
Billing billing_of(AzurePower power);
// The status lines the view renders for a provisioning state and a power state
// ({} for AzurePower::kNone), as in AzureView::statuses.
AzureStatus azure_provisioning_status(AzureProvisioning state);
AzureStatus azure_power_status(AzurePower power);
extern const std::array<AzureProvisioning, 9> kAllAzureProvisioning;
extern const std::array<AzurePower, 7> kAllAzurePowers;  // without kNone

AzureView azure_view(const VmRecord& record);

// ---- StratusLab (seed 002) -----------------------------------------------------------------

enum class SlState : std::uint8_t { kPending, kProlog, kBoot, kRunning, kFailed, kUnknown, kDone };

struct StratusLabView {
  SlState state = SlState::kPending;
};

std::string_view sl_state_name(SlState state);  // "Running"
extern const std::array<SlState, 7> kAllSlStates;

StratusLabView stratuslab_view(const VmRecord& record);

// ---- All four ----------------------------------------------------------------------------

struct Views {
  OpenNebulaView opennebula;
  NovaView nova;
  AzureView azure;
  StratusLabView stratuslab;
};

Views render_views(const VmRecord& record);

// The state's name in a vocabulary, as a person would read it ("RUNNING", "stopped",
// "VM deallocated", "Unknown"; canonical for corral).
std::string vocabulary_state_label(const VmRecord& record, Vocabulary vocabulary);

}  // namespace corral::lifecycle
