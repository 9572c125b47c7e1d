// Volumes and their snapshots as data: the third state machine, in the form of host_table.h.
//
// A volume is (VolumeStatus, attached): Cinder's status (reference network-volumes.md §3 line 51)
// and whether an attachment to a VM is recorded (Cinder's attachment record, §3 line 54). Each
// row says: this action, from these statuses (attached, detached or either), first claims the
// volume (attach only: `reserved`, recorded with the attachment in one store write so a second
// VM cannot take it), then shows a transient status while the driver works, then a status on
// success and one on failure. Every view (Cinder's status and attach_status, OpenNebula's
// ImageState, Azure's diskState, StratusLab's listing) is derived from the record, never stored.
//
// Invariants (checked by volume_table_test.cc): every consistent (status, attached, action) has
// exactly one row or one refusal; no success or failure is transient; every transient status has
// a crash-recovery rule that ends in a settled status (nothing stays `attaching` forever); numbers
// are stable (persisted by the store, published by the API).
//
// Pure: no I/O. The VM's power, the device list and the backend's files are inputs.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "lifecycle/views.h"

namespace corral::lifecycle {

// Cinder's volume statuses that Corral uses (cinder/objects/fields.py, §3 line 51). Cinder keeps
// them as strings; Corral persists these numbers: never renumber. A deleted volume is removed.
// Not used: managing, maintenance, restoring-backup, awaiting-transfer, backing-up, downloading,
// uploading, retyping (Corral has no import, migration between backends, backup or transfer).
enum class VolumeStatus : std::uint8_t {
  kCreating = 0,
  kAvailable = 1,
  kReserved = 2,  // claimed by a VM's attach; the driver has not started
  kAttaching = 3,
  kInUse = 4,
  kDetaching = 5,
  kExtending = 6,
  kDeleting = 7,
  kError = 8,  // "A volume creation error occurred" (or its file is gone)
  kErrorDeleting = 9,
  kErrorExtending = 10,
};
inline constexpr VolumeStatus kAllVolumeStatuses[] = {
    VolumeStatus::kCreating,      VolumeStatus::kAvailable,     VolumeStatus::kReserved,
    VolumeStatus::kAttaching,     VolumeStatus::kInUse,         VolumeStatus::kDetaching,
    VolumeStatus::kExtending,     VolumeStatus::kDeleting,      VolumeStatus::kError,
    VolumeStatus::kErrorDeleting, VolumeStatus::kErrorExtending};

// Stable numbers (published on /v1/events).
enum class VolumeAction : std::uint8_t {
  kCreate = 1,    // only on kNewVolume; refused on any existing record
  kAttach = 2,    // to a running VM (hotplug, HOTPLUG 17) or one without a process (33)
  kDetach = 3,    // HOTPLUG 17 / HOTPLUG_EPILOG_POWEROFF 34
  kExtend = 4,    // grow only (Cinder os-extend; `corral volume resize`)
  kSnapshot = 5,  // the volume keeps its status; the snapshot has its own (SnapshotStatus)
  kDelete = 6,
  // The owning VM is terminated (engine, not operator): detach, or delete when the attachment
  // says delete_on_termination (default false, as Nova and Azure, §3 lines 58 and 66).
  kTerminateDetach = 7,
  kTerminateDelete = 8,
};
inline constexpr VolumeAction kAllVolumeActions[] = {
    VolumeAction::kCreate,          VolumeAction::kAttach,         VolumeAction::kDetach,
    VolumeAction::kExtend,          VolumeAction::kSnapshot,       VolumeAction::kDelete,
    VolumeAction::kTerminateDetach, VolumeAction::kTerminateDelete};

constexpr bool is_operator_action(VolumeAction a) {
  switch (a) {
    case VolumeAction::kCreate:
    case VolumeAction::kAttach:
    case VolumeAction::kDetach:
    case VolumeAction::kExtend:
    case VolumeAction::kSnapshot:
    case VolumeAction::kDelete:
      return true;
    case VolumeAction::kTerminateDetach:
    case VolumeAction::kTerminateDelete:
      return false;
  }
  return false;
}

// The action a VM's terminate applies to each volume attached to it. terminate_delete is refused
// (kConflict) while the volume has snapshots: the engine then detaches it instead, so the data
// stays reachable rather than the VM's terminate failing.
constexpr VolumeAction terminate_action(bool delete_on_termination) {
  return delete_on_termination ? VolumeAction::kTerminateDelete : VolumeAction::kTerminateDetach;
}

class VolumeStatusSet {
 public:
  constexpr VolumeStatusSet() = default;
  constexpr VolumeStatusSet(std::initializer_list<VolumeStatus> statuses) {
    for (VolumeStatus s : statuses) bits_ |= bit(s);
  }
  constexpr bool contains(VolumeStatus s) const { return (bits_ & bit(s)) != 0; }
  constexpr bool empty() const { return bits_ == 0; }

 private:
  static constexpr std::uint16_t bit(VolumeStatus s) {
    return static_cast<std::uint16_t>(1u << static_cast<unsigned>(s));
  }
  std::uint16_t bits_ = 0;
};

// Which records a row applies to, by their attachment.
enum class Attached : std::uint8_t { kEither = 0, kNo = 1, kYes = 2 };

// Where a row leaves the status.
enum class Then : std::uint8_t {
  kStatus = 0,     // the row's status
  kSettled = 1,    // in-use if an attachment is recorded, else available
  kUnchanged = 2,  // as it was (a snapshot leaves its volume alone)
};
struct VolumeOutcome {
  Then then = Then::kStatus;
  VolumeStatus status = VolumeStatus::kAvailable;  // for Then::kStatus
};

// What a row does to the attachment record.
enum class AttachmentChange : std::uint8_t { kKeep = 0, kRecord = 1, kDrop = 2 };

struct VolumeRow {
  VolumeAction action = VolumeAction::kCreate;
  VolumeStatusSet from;
  Attached when = Attached::kEither;
  std::optional<VolumeStatus> claim;  // shown once the request is accepted (attach: reserved)
  AttachmentChange on_begin = AttachmentChange::kKeep;  // when the request is accepted
  VolumeOutcome transient;                              // while the driver works
  VolumeOutcome success;
  AttachmentChange on_success = AttachmentChange::kKeep;
  bool removes = false;  // success forgets the volume (delete)
  VolumeOutcome failure;
  AttachmentChange on_failure = AttachmentChange::kKeep;
  bool requires_no_snapshots = false;  // refused (kConflict) while snapshots exist
  std::string_view note;
};

struct VolumeRefusal {
  VolumeAction action = VolumeAction::kCreate;
  VolumeStatusSet from;
  Attached when = Attached::kEither;
  std::string_view reason;
};

struct VolumeRecord {
  VolumeStatus status = VolumeStatus::kCreating;
  bool attached = false;  // an attachment to a VM is recorded
};

// Whether (status, attached) can exist: available is never attached, in-use always is, and so on.
bool is_consistent(const VolumeRecord& volume);
bool is_transient(VolumeStatus status);

std::span<const VolumeRow> volume_rows();
std::span<const VolumeRefusal> volume_refusals();
const VolumeRow* find_volume_row(const VolumeRecord& volume, VolumeAction action);
const VolumeRefusal* find_volume_refusal(const VolumeRecord& volume, VolumeAction action);
std::vector<VolumeAction> allowed_volume_actions(const VolumeRecord& volume);  // operator's

// A new volume's record: creating, detached. Create is begun on it (and only on it: on every
// existing record create is a refusal); its row is outside volume_rows().
inline constexpr VolumeRecord kNewVolume{VolumeStatus::kCreating, false};
const VolumeRow& volume_create_row();

struct VolumeStep {
  VolumeRecord record;
  bool removed = false;
  const VolumeRow* row = nullptr;
};

// Accepts `action` on volume `id`: the record as the request leaves it (claim status if the row
// has one, else the transient). A refusal is kInvalidState: "volume 7 is in-use; allowed: detach,
// extend, snapshot (cannot attach: …)", with the state and the allowed actions in the Error;
// delete with snapshots is kConflict.
[[nodiscard]] Result<VolumeStep> begin_volume_action(std::uint64_t id, const VolumeRecord& volume,
                                                     VolumeAction action, int snapshot_count);
// The driver starts: a claimed volume shows the row's transient (reserved -> attaching).
VolumeRecord start_volume_driver(const VolumeRow& row, const VolumeRecord& claimed);
// The driver finished: the row's success or failure.
VolumeStep finish_volume_action(const VolumeRow& row, const VolumeRecord& running, bool succeeded);
// The row of an action whose volume is in `status` because of it (claim or transient): what an
// engine that persisted (volume, action) finds again after a restart.
const VolumeRow* find_running_row(VolumeAction action, VolumeStatus status);

// ---- Crash recovery ------------------------------------------------------------------------

// What the driver and the backend say is true when a restarted controller finds a volume.
struct VolumeTruth {
  // The volume's device is plugged in its VM's QEMU (qom-list). False when the VM has no process:
  // a cold attach or detach is then a record change only, and nothing was plugged.
  bool device_present = false;
  bool file_present = true;  // the backend has the volume's file
  bool size_reached = true;  // extending: the file already has the requested size
};

// The settled record a restart gives a volume: transient statuses end by the truth (attaching:
// device present -> in-use, absent -> available, its attachment dropped; detaching: present ->
// in-use as Cinder's roll_detaching, absent -> available; …); a settled status stays unless its
// file is gone (error). Never returns a transient status.
VolumeStep recover_volume(const VolumeRecord& volume, const VolumeTruth& truth);

// Every place a crash can stop an action, generated from the rows (for the engine's crash matrix,
// as the VM table's crash tests are): a consistent record a row starts from, and each record the
// action persists before the driver reports (the claim, then the transient). recover_volume of
// `at_crash` gives the row's success or its failure, whatever the truth, never a third outcome
// (checked by volume_table_test.cc).
struct VolumeCrashPoint {
  const VolumeRow* row = nullptr;
  VolumeRecord before;
  VolumeRecord at_crash;
};
std::vector<VolumeCrashPoint> volume_crash_points();

// ---- Snapshots -----------------------------------------------------------------------------

// Cinder's snapshot statuses (creating, available, deleting, error, error_deleting). Stable.
enum class SnapshotStatus : std::uint8_t {
  kCreating = 0,
  kAvailable = 1,
  kDeleting = 2,
  kError = 3,
  kErrorDeleting = 4,
};
inline constexpr SnapshotStatus kAllSnapshotStatuses[] = {
    SnapshotStatus::kCreating, SnapshotStatus::kAvailable, SnapshotStatus::kDeleting,
    SnapshotStatus::kError, SnapshotStatus::kErrorDeleting};

struct SnapshotStep {
  SnapshotStatus status = SnapshotStatus::kCreating;
  bool removed = false;
};
// A new snapshot is `creating`; then available, or error when the copy failed.
SnapshotStatus finish_snapshot_create(bool succeeded);
// Delete is allowed from available, error and error_deleting (the backend's remove is
// idempotent); refused (kInvalidState) while creating or deleting.
[[nodiscard]] Result<SnapshotStatus> begin_snapshot_delete(std::uint64_t id, SnapshotStatus status);
SnapshotStep finish_snapshot_delete(bool succeeded);
// A restart: creating -> available when the file is there (created by rename: whole or absent),
// else error; deleting -> removed when the file is gone, else error_deleting.
SnapshotStep recover_snapshot(SnapshotStatus status, bool file_present);

// ---- Names and views -----------------------------------------------------------------------

std::string_view volume_status_name(VolumeStatus status);  // Cinder's: "in-use", "error_deleting"
std::optional<VolumeStatus> parse_volume_status(std::string_view name);
std::string_view volume_action_name(VolumeAction action);  // "extend", "terminate_detach"
std::optional<VolumeAction> parse_volume_action(std::string_view name);  // also "resize"
std::string_view snapshot_status_name(SnapshotStatus status);

// Cinder's volume attach_status (VolumeAttachStatus, §3 line 52): "attached", "attaching",
// "reserved", "detached".
std::string_view cinder_attach_status(const VolumeRecord& volume);

// OpenNebula's ImageState of a persistent DATABLOCK image (§3 lines 60-61): number and the name
// `oneimage` shows (USED_PERS 8 is shown "USED", LOCKED_USED_PERS 10 "LOCKED_USED").
struct OpenNebulaImageView {
  int state = 0;
  std::string_view name;   // Image.h's name: "USED_PERS"
  std::string_view shown;  // what oneimage prints: "USED"
};
inline constexpr int kOpenNebulaDatablock = 2;  // ImageType DATABLOCK
OpenNebulaImageView opennebula_image_view(const VolumeRecord& volume);

// Azure's diskState (§3 line 65): Unattached; Attached while the VM is allocated; Reserved when
// its VM is (being) deallocated. `vm_power` is the owning VM's Azure power state (views.h).
std::string_view azure_disk_state(const VolumeRecord& volume, AzurePower vm_power);

// StratusLab lists volumes with the VM using them (§3 line 68: one VM at a time, not deletable
// while in use). `vm` is the attachment's VM id (0 when detached).
struct StratusLabVolumeView {
  std::string_view state;  // "available", "in use", "busy", "error"
  std::uint64_t vm = 0;    // shown beside the volume when in use
};
StratusLabVolumeView stratuslab_volume_view(const VolumeRecord& volume, std::uint64_t vm);

}  // namespace corral::lifecycle
