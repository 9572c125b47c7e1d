// The names and views of lifecycle/volume_table.h: Cinder's, OpenNebula's, Azure's and
// StratusLab's words for a volume record (derived, never stored).
#include <fmt/format.h>

#include "common/text.h"
#include "lifecycle/volume_table.h"

namespace corral::lifecycle {
namespace {
using S = VolumeStatus;
using A = VolumeAction;
}  // namespace

std::string_view volume_status_name(VolumeStatus status) {
  switch (status) {
    case S::kCreating:
      return "creating";
    case S::kAvailable:
      return "available";
    case S::kReserved:
      return "reserved";
    case S::kAttaching:
      return "attaching";
    case S::kInUse:
      return "in-use";
    case S::kDetaching:
      return "detaching";
    case S::kExtending:
      return "extending";
    case S::kDeleting:
      return "deleting";
    case S::kError:
      return "error";
    case S::kErrorDeleting:
      return "error_deleting";
    case S::kErrorExtending:
      return "error_extending";
  }
  return "?";
}

std::optional<VolumeStatus> parse_volume_status(std::string_view name) {
  for (VolumeStatus s : kAllVolumeStatuses) {
    if (iequals(name, volume_status_name(s))) return s;
  }
  return std::nullopt;
}

std::string_view volume_action_name(VolumeAction action) {
  switch (action) {
    case A::kCreate:
      return "create";
    case A::kAttach:
      return "attach";
    case A::kDetach:
      return "detach";
    case A::kExtend:
      return "extend";
    case A::kSnapshot:
      return "snapshot";
    case A::kDelete:
      return "delete";
    case A::kTerminateDetach:
      return "terminate_detach";
    case A::kTerminateDelete:
      return "terminate_delete";
  }
  return "?";
}

std::optional<VolumeAction> parse_volume_action(std::string_view name) {
  if (iequals(name, "resize")) return A::kExtend;  // `corral volume resize`
  for (VolumeAction a : kAllVolumeActions) {
    if (iequals(name, volume_action_name(a))) return a;
  }
  return std::nullopt;
}

std::string_view snapshot_status_name(SnapshotStatus status) {
  switch (status) {
    case SnapshotStatus::kCreating:
      return "creating";
    case SnapshotStatus::kAvailable:
      return "available";
    case SnapshotStatus::kDeleting:
      return "deleting";
    case SnapshotStatus::kError:
      return "error";
    case SnapshotStatus::kErrorDeleting:
      return "error_deleting";
  }
  return "?";
}

std::string_view cinder_attach_status(const VolumeRecord& volume) {
  switch (volume.status) {
    case S::kReserved:
      return "reserved";
    case S::kAttaching:
      return "attaching";
    case S::kCreating:
    case S::kAvailable:
    case S::kInUse:
    case S::kDetaching:  // still attached until finish_detach (§3 line 54)
    case S::kExtending:
    case S::kDeleting:
    case S::kError:
    case S::kErrorDeleting:
    case S::kErrorExtending:
      break;
  }
  return volume.attached ? "attached" : "detached";
}

OpenNebulaImageView opennebula_image_view(const VolumeRecord& volume) {
  // Image.h:131 numbers (§3 line 60).
  constexpr OpenNebulaImageView kReady{1, "READY", "READY"};
  constexpr OpenNebulaImageView kLocked{4, "LOCKED", "LOCKED"};
  constexpr OpenNebulaImageView kError{5, "ERROR", "ERROR"};
  constexpr OpenNebulaImageView kDelete{7, "DELETE", "DELETE"};
  constexpr OpenNebulaImageView kUsedPers{8, "USED_PERS", "USED"};
  constexpr OpenNebulaImageView kLockedUsedPers{10, "LOCKED_USED_PERS", "LOCKED_USED"};
  switch (volume.status) {
    case S::kCreating:
      return kLocked;  // the datastore is still writing it
    case S::kAvailable:
      return kReady;
    case S::kReserved:
    case S::kAttaching:
    case S::kInUse:
    case S::kDetaching:
      return kUsedPers;  // acquired by one VM (§3 line 61: READY -> USED_PERS)
    case S::kExtending:
      return volume.attached ? kLockedUsedPers : kLocked;
    case S::kDeleting:
      return kDelete;
    case S::kError:
    case S::kErrorDeleting:
    case S::kErrorExtending:
      return kError;
  }
  return kError;
}

std::string_view azure_disk_state(const VolumeRecord& volume, AzurePower vm_power) {
  if (!volume.attached) return "Unattached";
  switch (vm_power) {
    case AzurePower::kDeallocating:
    case AzurePower::kDeallocated:
      return "Reserved";  // "attached to a stopped-deallocated VM"
    case AzurePower::kNone:
    case AzurePower::kStarting:
    case AzurePower::kRunning:
    case AzurePower::kStopping:
    case AzurePower::kStopped:  // stopped but allocated: Azure still shows the disk Attached
    case AzurePower::kUnknown:
      return "Attached";
  }
  return "Attached";
}

StratusLabVolumeView stratuslab_volume_view(const VolumeRecord& volume, std::uint64_t vm) {
  const std::uint64_t shown = volume.attached ? vm : 0;
  switch (volume.status) {
    case S::kAvailable:
      return {"available", 0};
    case S::kInUse:
      return {"in use", shown};
    case S::kCreating:
    case S::kReserved:
    case S::kAttaching:
    case S::kDetaching:
    case S::kExtending:
    case S::kDeleting:
      return {"busy", shown};
    case S::kError:
    case S::kErrorDeleting:
    case S::kErrorExtending:
      return {"error", shown};
  }
  return {"error", shown};
}

}  // namespace corral::lifecycle
