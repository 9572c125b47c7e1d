// Which numbers are stable numbers of the persisted lifecycle enums, for RowReader::enumerator:
// a row holding any other number is corrupt (or written by a newer corral) and is reported.
#pragma once

#include <algorithm>

#include "lifecycle/host_types.h"
#include "lifecycle/model.h"
#include "store/sqlite_util.h"
#include "store/types.h"

namespace corral::store::sqlite {

inline bool known(lifecycle::State s) {
  return std::ranges::find(lifecycle::kAllStates, s) != lifecycle::kAllStates.end();
}
inline bool known(lifecycle::Action a) {
  return std::ranges::find(lifecycle::kAllActions, a) != lifecycle::kAllActions.end();
}
inline bool known(lifecycle::Phase p) {
  return std::ranges::find(lifecycle::kAllPhases, p) != lifecycle::kAllPhases.end();
}
inline bool known(lifecycle::Power p) {
  switch (p) {
    case lifecycle::Power::kNoState:
    case lifecycle::Power::kRunning:
    case lifecycle::Power::kPaused:
    case lifecycle::Power::kShutdown:
    case lifecycle::Power::kCrashed:
    case lifecycle::Power::kSuspended:
      return true;
  }
  return false;
}
inline bool known(lifecycle::OpStatus s) {
  switch (s) {
    case lifecycle::OpStatus::kRunning:
    case lifecycle::OpStatus::kSucceeded:
    case lifecycle::OpStatus::kFailed:
    case lifecycle::OpStatus::kCanceled:
      return true;
  }
  return false;
}

inline bool known(lifecycle::NetworkState s) {
  return std::ranges::find(lifecycle::kAllNetworkStates, s) !=
         std::end(lifecycle::kAllNetworkStates);
}

inline bool known(lifecycle::VolumeStatus s) {
  return std::ranges::find(lifecycle::kAllVolumeStatuses, s) !=
         std::end(lifecycle::kAllVolumeStatuses);
}
inline bool known(lifecycle::SnapshotStatus s) {
  return std::ranges::find(lifecycle::kAllSnapshotStatuses, s) !=
         std::end(lifecycle::kAllSnapshotStatuses);
}
inline bool known(VolumeJob j) {
  switch (j) {
    case VolumeJob::kNone:
    case VolumeJob::kCreate:
    case VolumeJob::kExtend:
    case VolumeJob::kSnapshot:
    case VolumeJob::kDeleteSnapshot:
    case VolumeJob::kDelete:
      return true;
  }
  return false;
}

inline bool known(lifecycle::HostState s) {
  switch (s) {
    case lifecycle::HostState::kInit:
    case lifecycle::HostState::kMonitored:
    case lifecycle::HostState::kError:
    case lifecycle::HostState::kDisabled:
    case lifecycle::HostState::kOffline:
      return true;
  }
  return false;  // a retired number (1, 5, 6, 7) or one from a newer corral
}

inline bool known(GroupPolicy p) {
  switch (p) {
    case GroupPolicy::kAffinity:
    case GroupPolicy::kAntiAffinity:
    case GroupPolicy::kSoftAffinity:
    case GroupPolicy::kSoftAntiAffinity:
      return true;
  }
  return false;
}

inline bool known(lifecycle::LockedBy b) {
  switch (b) {
    case lifecycle::LockedBy::kNone:
    case lifecycle::LockedBy::kOwner:
    case lifecycle::LockedBy::kAdmin:
      return true;
  }
  return false;
}

// Reads an enum column, validated by the known() above.
template <typename E>
E read_enum(RowReader& r) {
  return r.enumerator<E>(known);
}

}  // namespace corral::store::sqlite
