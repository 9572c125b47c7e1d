#include "lifecycle/lock.h"

#include <algorithm>
#include <iterator>

namespace corral::lifecycle {

namespace {

// The actions a lock leaves open. Nova's @check_instance_lock guards every action that
// changes an instance but createImage (a snapshot reads the disk: nova.md, "snapshot =
// createImage; no lock check"); reset_state is the admin's alone, who passes any lock.
constexpr Action kOpenWhileLocked[] = {Action::kSnapshot};

}  // namespace

std::string_view locked_by_name(LockedBy by) {
  switch (by) {
    case LockedBy::kNone:
      return "";
    case LockedBy::kOwner:
      return "owner";
    case LockedBy::kAdmin:
      return "admin";
  }
  return "";
}

bool lock_blocks(Action action) {
  return std::find(std::begin(kOpenWhileLocked), std::end(kOpenWhileLocked), action) ==
         std::end(kOpenWhileLocked);
}

}  // namespace corral::lifecycle
