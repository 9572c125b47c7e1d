#include "lifecycle/volume_table.h"

#include <fmt/format.h>

#include "common/text.h"

namespace corral::lifecycle {
namespace {

using S = VolumeStatus;
using A = VolumeAction;
using AC = AttachmentChange;
using W = Attached;

constexpr VolumeOutcome go(S s) { return VolumeOutcome{Then::kStatus, s}; }
constexpr VolumeOutcome kSettled{Then::kSettled, S::kAvailable};
constexpr VolumeOutcome kUnchanged{Then::kUnchanged, S::kAvailable};

// Create applies to a new record only (kNewVolume), so it is not in the (status, action) matrix.
constexpr VolumeRow kCreateRow{
    A::kCreate,
    {S::kCreating},
    W::kNo,
    std::nullopt,
    AC::kKeep,
    go(S::kCreating),
    go(S::kAvailable),
    AC::kKeep,
    false,
    go(S::kError),
    AC::kKeep,
    false,
    "the backend makes the file (sparse, temp + rename): available, or error"};

// clang-format off
constexpr VolumeRow kRows[] = {
  // §3 line 54: attachment create -> reserved -> attaching -> in-use; §3 line 57: any failure
  // -> attachment_delete, "mark the volume as available".
  {A::kAttach, {S::kAvailable}, W::kNo, S::kReserved, AC::kRecord, go(S::kAttaching),
   go(S::kInUse), AC::kKeep, false, go(S::kAvailable), AC::kDrop, false,
   "claimed with its attachment (no second VM can take it), plugged, in-use; failure: available"},
  // §3 line 55: begin_detaching in-use -> detaching; §3 line 57: any error -> roll_detaching.
  {A::kDetach, {S::kInUse}, W::kYes, std::nullopt, AC::kKeep, go(S::kDetaching),
   go(S::kAvailable), AC::kDrop, false, go(S::kInUse), AC::kKeep, false,
   "unplugged (the guest must let go), available; failure: still in-use (roll_detaching)"},
  // Cinder extends available volumes, and in-use ones since 3.42. Corral extends detached
  // ones only: growing an attached volume needs QEMU's block_resize on the VM's host, which
  // is not built (the refusal below says so). It also retries from error_extending, which
  // Cinder does not: growing to a size is idempotent.
  {A::kExtend, {S::kAvailable, S::kErrorExtending}, W::kNo, std::nullopt,
   AC::kKeep, go(S::kExtending), kSettled, AC::kKeep, false, go(S::kErrorExtending), AC::kKeep,
   false, "grown (never shrunk): back to available; failure: error_extending"},
  // Cinder keeps the volume's status during a snapshot; the snapshot has its own status.
  {A::kSnapshot, {S::kAvailable, S::kInUse}, W::kEither, std::nullopt, AC::kKeep, kUnchanged,
   kUnchanged, AC::kKeep, false, kUnchanged, AC::kKeep, false,
   "a full copy; the volume keeps its status, the snapshot goes creating -> available | error"},
  // §3 line 53: delete from available, error, error_extending (not attached, no snapshots)
  // -> deleting, error_deleting on failure. Corral adds error_deleting: removing a file is
  // idempotent, so a failed delete is retried rather than left as a leak (§3 line 74).
  {A::kDelete, {S::kAvailable, S::kError, S::kErrorExtending, S::kErrorDeleting}, W::kNo,
   std::nullopt, AC::kKeep, go(S::kDeleting), go(S::kDeleting), AC::kKeep, true,
   go(S::kErrorDeleting), AC::kKeep, true,
   "the backend removes the file: forgotten; failure: error_deleting (delete again)"},
  // §3 line 58 / 66: on terminate a volume is detached unless delete_on_termination. The
  // VM's process is gone, so nothing is unplugged; the attachment goes.
  {A::kTerminateDetach, {S::kInUse}, W::kYes, std::nullopt, AC::kKeep, go(S::kDetaching),
   go(S::kAvailable), AC::kDrop, false, go(S::kInUse), AC::kKeep, false,
   "its VM terminated: available with its data (Nova/Azure default)"},
  {A::kTerminateDetach, {S::kErrorExtending}, W::kYes, std::nullopt, AC::kKeep, kUnchanged,
   kUnchanged, AC::kDrop, false, kUnchanged, AC::kKeep, false,
   "its VM terminated: detached, still error_extending (extend again or delete)"},
  {A::kTerminateDelete, {S::kInUse, S::kErrorExtending}, W::kYes, std::nullopt, AC::kDrop,
   go(S::kDeleting), go(S::kDeleting), AC::kKeep, true, go(S::kErrorDeleting), AC::kKeep, true,
   "its VM terminated with delete_on_termination: deleted; failure: error_deleting, detached"},
};

constexpr std::string_view kAttachedElsewhere =
    "it is attached to a VM; a volume attaches to one VM at a time";
constexpr std::string_view kFailed = "the volume failed; delete it";
constexpr std::string_view kAttachedNoDelete =
    "it is attached to a VM; detach it first (or terminate the VM with delete_on_termination)";
constexpr std::string_view kBusy = "an operation runs on the volume; wait for it to finish";

constexpr VolumeRefusal kRefusals[] = {
  {A::kCreate, {S::kCreating, S::kAvailable, S::kReserved, S::kAttaching, S::kInUse,
                S::kDetaching, S::kExtending, S::kDeleting, S::kError, S::kErrorDeleting,
                S::kErrorExtending}, W::kEither, "the volume already exists"},

  {A::kAttach, {S::kReserved, S::kAttaching, S::kInUse, S::kDetaching, S::kExtending,
                S::kErrorExtending}, W::kYes, kAttachedElsewhere},
  {A::kAttach, {S::kCreating}, W::kNo, "the volume is being created"},
  {A::kAttach, {S::kExtending}, W::kNo, "the volume is being extended"},
  {A::kAttach, {S::kDeleting}, W::kNo, "the volume is being deleted"},
  {A::kAttach, {S::kError, S::kErrorDeleting}, W::kNo, kFailed},
  {A::kAttach, {S::kErrorExtending}, W::kNo, "the last extend failed; extend again or delete it"},

  {A::kDetach, {S::kCreating, S::kAvailable, S::kExtending, S::kDeleting, S::kError,
                S::kErrorDeleting, S::kErrorExtending}, W::kNo, "the volume is not attached"},
  {A::kDetach, {S::kReserved, S::kAttaching}, W::kYes,
   "the volume is being attached; wait for it to finish"},
  {A::kDetach, {S::kDetaching}, W::kYes, "the volume is already being detached"},
  {A::kDetach, {S::kExtending}, W::kYes, "the volume is being extended; wait for it to finish"},
  {A::kDetach, {S::kErrorExtending}, W::kYes,
   "the last extend failed; extend again before detaching"},

  {A::kExtend, {S::kCreating}, W::kNo, "the volume is being created"},
  {A::kExtend, {S::kDeleting}, W::kNo, "the volume is being deleted"},
  {A::kExtend, {S::kReserved, S::kAttaching, S::kDetaching}, W::kYes,
   "the volume is being attached or detached; wait for it to finish"},
  {A::kExtend, {S::kExtending}, W::kEither, "the volume is already being extended"},
  {A::kExtend, {S::kError, S::kErrorDeleting}, W::kNo, kFailed},
  {A::kExtend, {S::kInUse, S::kErrorExtending}, W::kYes,
   "it is attached to a VM; detach it first (growing under a guest is not built)"},

  {A::kSnapshot, {S::kCreating, S::kDeleting}, W::kNo, kBusy},
  {A::kSnapshot, {S::kExtending}, W::kEither, kBusy},
  {A::kSnapshot, {S::kReserved, S::kAttaching, S::kDetaching}, W::kYes, kBusy},
  {A::kSnapshot, {S::kError, S::kErrorDeleting}, W::kNo, kFailed},
  {A::kSnapshot, {S::kErrorExtending}, W::kEither,
   "the last extend failed; extend again before a snapshot"},

  {A::kDelete, {S::kReserved, S::kAttaching, S::kInUse, S::kDetaching, S::kExtending,
                S::kErrorExtending}, W::kYes, kAttachedNoDelete},
  {A::kDelete, {S::kCreating}, W::kNo, "the volume is being created"},
  {A::kDelete, {S::kExtending}, W::kNo, "the volume is being extended"},
  {A::kDelete, {S::kDeleting}, W::kNo, "the volume is already being deleted"},

  {A::kTerminateDetach, {S::kCreating, S::kAvailable, S::kExtending, S::kDeleting, S::kError,
                         S::kErrorDeleting, S::kErrorExtending}, W::kNo,
   "the volume is not attached to a VM"},
  {A::kTerminateDetach, {S::kReserved, S::kAttaching, S::kDetaching, S::kExtending}, W::kYes,
   kBusy},
  {A::kTerminateDelete, {S::kCreating, S::kAvailable, S::kExtending, S::kDeleting, S::kError,
                         S::kErrorDeleting, S::kErrorExtending}, W::kNo,
   "the volume is not attached to a VM"},
  {A::kTerminateDelete, {S::kReserved, S::kAttaching, S::kDetaching, S::kExtending}, W::kYes,
   kBusy},
};
// clang-format on

bool applies(W when, bool attached) {
  switch (when) {
    case W::kEither:
      return true;
    case W::kNo:
      return !attached;
    case W::kYes:
      return attached;
  }
  return false;
}

bool change(AttachmentChange c, bool attached) {
  switch (c) {
    case AC::kKeep:
      return attached;
    case AC::kRecord:
      return true;
    case AC::kDrop:
      return false;
  }
  return attached;
}

S resolve(const VolumeOutcome& o, S current, bool attached) {
  switch (o.then) {
    case Then::kStatus:
      return o.status;
    case Then::kSettled:
      return attached ? S::kInUse : S::kAvailable;
    case Then::kUnchanged:
      return current;
  }
  return current;
}

std::string join(const std::vector<std::string>& names) {
  if (names.empty()) return "none";
  std::string out;
  for (const std::string& n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

}  // namespace

bool is_transient(VolumeStatus status) {
  switch (status) {
    case S::kCreating:
    case S::kReserved:
    case S::kAttaching:
    case S::kDetaching:
    case S::kExtending:
    case S::kDeleting:
      return true;
    case S::kAvailable:
    case S::kInUse:
    case S::kError:
    case S::kErrorDeleting:
    case S::kErrorExtending:
      return false;
  }
  return false;
}

bool is_consistent(const VolumeRecord& volume) {
  switch (volume.status) {
    case S::kCreating:
    case S::kAvailable:
    case S::kDeleting:
    case S::kError:
    case S::kErrorDeleting:
      return !volume.attached;
    case S::kReserved:
    case S::kAttaching:
    case S::kInUse:
    case S::kDetaching:
      return volume.attached;
    case S::kExtending:
    case S::kErrorExtending:
      return true;
  }
  return false;
}

std::span<const VolumeRow> volume_rows() { return kRows; }
std::span<const VolumeRefusal> volume_refusals() { return kRefusals; }

const VolumeRow* find_volume_row(const VolumeRecord& volume, VolumeAction action) {
  for (const VolumeRow& r : kRows) {
    if (r.action == action && r.from.contains(volume.status) && applies(r.when, volume.attached)) {
      return &r;
    }
  }
  return nullptr;
}

const VolumeRefusal* find_volume_refusal(const VolumeRecord& volume, VolumeAction action) {
  for (const VolumeRefusal& r : kRefusals) {
    if (r.action == action && r.from.contains(volume.status) && applies(r.when, volume.attached)) {
      return &r;
    }
  }
  return nullptr;
}

std::vector<VolumeAction> allowed_volume_actions(const VolumeRecord& volume) {
  std::vector<VolumeAction> out;
  for (VolumeAction a : kAllVolumeActions) {
    if (is_operator_action(a) && find_volume_row(volume, a) != nullptr) out.push_back(a);
  }
  return out;
}

Result<VolumeStep> begin_volume_action(std::uint64_t id, const VolumeRecord& volume,
                                       VolumeAction action, int snapshot_count) {
  const VolumeRow* row = nullptr;
  if (action == A::kCreate) {
    if (volume.status == kNewVolume.status && !volume.attached) row = &kCreateRow;
  } else {
    row = find_volume_row(volume, action);
  }
  if (row == nullptr) {
    const VolumeRefusal* refusal = find_volume_refusal(volume, action);
    std::vector<std::string> allowed;
    for (VolumeAction a : allowed_volume_actions(volume)) {
      allowed.emplace_back(volume_action_name(a));
    }
    return fail(Error{
        ErrorCode::kInvalidState,
        fmt::format("volume {} is {}; allowed: {} (cannot {}: {})", id,
                    volume_status_name(volume.status), join(allowed), volume_action_name(action),
                    refusal != nullptr ? refusal->reason : "no such transition"),
        std::string(volume_status_name(volume.status)), std::move(allowed)});
  }
  if (row->requires_no_snapshots && snapshot_count > 0) {
    return fail(Error{ErrorCode::kConflict,
                      fmt::format("cannot delete volume {}: it has {} snapshot(s); delete them "
                                  "first",
                                  id, snapshot_count),
                      std::string(volume_status_name(volume.status)),
                      {}});
  }
  VolumeStep step;
  step.row = row;
  step.record.attached = change(row->on_begin, volume.attached);
  step.record.status = row->claim.has_value()
                           ? *row->claim
                           : resolve(row->transient, volume.status, step.record.attached);
  return step;
}

VolumeRecord start_volume_driver(const VolumeRow& row, const VolumeRecord& claimed) {
  if (!row.claim.has_value() || claimed.status != *row.claim) return claimed;
  return VolumeRecord{resolve(row.transient, claimed.status, claimed.attached), claimed.attached};
}

VolumeStep finish_volume_action(const VolumeRow& row, const VolumeRecord& running, bool succeeded) {
  VolumeStep step;
  step.row = &row;
  const VolumeOutcome& outcome = succeeded ? row.success : row.failure;
  step.record.attached = change(succeeded ? row.on_success : row.on_failure, running.attached);
  step.record.status = resolve(outcome, running.status, step.record.attached);
  step.removed = succeeded && row.removes;
  return step;
}

const VolumeRow* find_running_row(VolumeAction action, VolumeStatus status) {
  if (action == A::kCreate) return status == S::kCreating ? &kCreateRow : nullptr;
  for (const VolumeRow& r : kRows) {
    if (r.action != action) continue;
    if (r.claim.has_value() && *r.claim == status) return &r;
    switch (r.transient.then) {
      case Then::kStatus:
        if (r.transient.status == status) return &r;
        break;
      case Then::kUnchanged:
        if (r.from.contains(status)) return &r;
        break;
      case Then::kSettled:
        break;
    }
  }
  return nullptr;
}

const VolumeRow& volume_create_row() { return kCreateRow; }

// ---- Crash recovery ------------------------------------------------------------------------

VolumeStep recover_volume(const VolumeRecord& volume, const VolumeTruth& truth) {
  VolumeStep step;
  step.record = volume;
  switch (volume.status) {
    case S::kCreating:
      // The file appears by rename, whole or not at all.
      step.record.status = truth.file_present ? S::kAvailable : S::kError;
      return step;
    case S::kReserved:
    case S::kAttaching:
    case S::kDetaching:
      // The device list is the truth: plugged -> in-use; not plugged -> available, the
      // attachment dropped (an attach did not happen, or a detach did).
      step.record.status = truth.device_present ? S::kInUse : S::kAvailable;
      step.record.attached = truth.device_present;
      return step;
    case S::kExtending:
      step.record.status = !truth.file_present  ? S::kErrorExtending
                           : truth.size_reached ? (volume.attached ? S::kInUse : S::kAvailable)
                                                : S::kErrorExtending;
      return step;
    case S::kDeleting:
      if (truth.file_present) {
        step.record.status = S::kErrorDeleting;  // delete again: removal is idempotent
      } else {
        step.removed = true;
      }
      return step;
    case S::kErrorDeleting:
      step.removed = !truth.file_present;  // the delete did finish
      return step;
    case S::kAvailable:
    case S::kInUse:
    case S::kError:
    case S::kErrorExtending:
      return step;  // settled: the record is the truth; the driver makes QEMU match it
  }
  return step;
}

std::vector<VolumeCrashPoint> volume_crash_points() {
  std::vector<VolumeCrashPoint> out;
  auto add = [&out](const VolumeRow& row, const VolumeRecord& before) {
    const Result<VolumeStep> begun = begin_volume_action(0, before, row.action, 0);
    if (!begun.has_value()) return;
    out.push_back({&row, before, begun->record});
    const VolumeRecord running = start_volume_driver(row, begun->record);
    if (running.status != begun->record.status) out.push_back({&row, before, running});
  };
  add(kCreateRow, kNewVolume);
  for (const VolumeRow& row : kRows) {
    for (VolumeStatus s : kAllVolumeStatuses) {
      for (bool attached : {false, true}) {
        const VolumeRecord before{s, attached};
        if (is_consistent(before) && row.from.contains(s) && applies(row.when, attached)) {
          add(row, before);
        }
      }
    }
  }
  return out;
}

// ---- Snapshots -----------------------------------------------------------------------------

SnapshotStatus finish_snapshot_create(bool succeeded) {
  return succeeded ? SnapshotStatus::kAvailable : SnapshotStatus::kError;
}

Result<SnapshotStatus> begin_snapshot_delete(std::uint64_t id, SnapshotStatus status) {
  switch (status) {
    case SnapshotStatus::kAvailable:
    case SnapshotStatus::kError:
    case SnapshotStatus::kErrorDeleting:
      return SnapshotStatus::kDeleting;
    case SnapshotStatus::kCreating:
    case SnapshotStatus::kDeleting:
      break;
  }
  return fail(Error{
      ErrorCode::kInvalidState,
      fmt::format("snapshot {} is {}; allowed: none (cannot delete: {})", id,
                  snapshot_status_name(status),
                  status == SnapshotStatus::kCreating ? "it is being created; wait for it to finish"
                                                      : "it is already being deleted"),
      std::string(snapshot_status_name(status)),
      {}});
}

SnapshotStep finish_snapshot_delete(bool succeeded) {
  return succeeded ? SnapshotStep{SnapshotStatus::kDeleting, true}
                   : SnapshotStep{SnapshotStatus::kErrorDeleting, false};
}

SnapshotStep recover_snapshot(SnapshotStatus status, bool file_present) {
  switch (status) {
    case SnapshotStatus::kCreating:
      return {file_present ? SnapshotStatus::kAvailable : SnapshotStatus::kError, false};
    case SnapshotStatus::kDeleting:
    case SnapshotStatus::kErrorDeleting:
      return file_present ? SnapshotStep{SnapshotStatus::kErrorDeleting, false}
                          : SnapshotStep{status, true};
    case SnapshotStatus::kAvailable:
    case SnapshotStatus::kError:
      return {status, false};
  }
  return {status, false};
}

}  // namespace corral::lifecycle
