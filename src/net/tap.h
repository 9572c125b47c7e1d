// A tap device for a VM's NIC, made in the calling thread's network namespace (run it inside
// in_netns()) and handed to QEMU as an open descriptor, as libvirt does: QEMU itself stays in
// the machine's namespace (QMP, the serial port and live migration need it there).
//
// Contract: the tap is not persistent: it disappears when the last descriptor of it closes
// (QEMU's, once the agent has handed it over and closed its own), so a VM that ends leaves
// no tap behind. A tap of that name that already exists (a VM whose QEMU still runs) is an
// error (kConflict), never shared.
#pragma once

#include <string>

#include "common/result.h"

namespace corral::net {

// Opens /dev/net/tun as tap `name` (IFF_TAP | IFF_NO_PI, close-on-exec). The caller attaches
// it to a bridge and sets it up (links.h).
[[nodiscard]] Result<int> open_tap(const std::string& name);

}  // namespace corral::net
