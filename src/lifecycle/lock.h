// A VM's lock: Nova's lock/unlock (locked, locked_by owner|admin, locked_reason) and
// OpenNebula's `onevm lock` at its default level (USE: every action that changes the VM).
//
// Contract: pure. A locked VM refuses, to anyone but the cloud's admin, every action for which
// lock_blocks() is true, with ErrorCode::kLocked (HTTP 409); the admin's requests pass (Nova:
// an admin may act on a locked instance). A lock the admin set is lifted only by the admin
// (Nova's unlock_override policy); the owner's by a member of its project or the admin.
// LockedBy's numbers are persisted (store: vms.locked_by): stable, never reused.
#pragma once

#include <cstdint>
#include <string_view>

#include "lifecycle/types.h"

namespace corral::lifecycle {

enum class LockedBy : std::uint8_t {
  kNone = 0,
  kOwner = 1,  // a member of the VM's project locked it
  kAdmin = 2,  // the cloud's admin locked it
};

// "owner", "admin"; "" for kNone.
std::string_view locked_by_name(LockedBy by);

// Whether a lock stops `action` for a caller who is not the cloud's admin.
bool lock_blocks(Action action);

}  // namespace corral::lifecycle
