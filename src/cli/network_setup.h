// The networks' plumbing for `corral server` and `corral agent` with the qemu driver (src/net):
// the cluster's namespaces are named after its CA, so a controller and its agents agree on
// them without being told, and two clusters on one machine never share one.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "common/result.h"
#include "driver/driver.h"
#include "net/fabric.h"

namespace corral::cli {

// The first 8 hex digits of a CA fingerprint ("sha256:<hex>").
std::string cluster8_of(const std::string& ca_fingerprint);

// QemuConfig::open_tap for host `host`: a tap on the network's bridge in the host's namespace
// (net::HostNode), one call at a time.
std::function<Result<int>(store::VmId, const driver::NicSpec&)> tap_opener(net::FabricNames names,
                                                                           std::string host);

}  // namespace corral::cli
