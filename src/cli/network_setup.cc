#include "cli/network_setup.h"

#include <mutex>

namespace corral::cli {

std::string cluster8_of(const std::string& ca_fingerprint) {
  return net::FabricNames::for_ca(ca_fingerprint).cluster8;
}

std::function<Result<int>(store::VmId, const driver::NicSpec&)> tap_opener(net::FabricNames names,
                                                                           std::string host) {
  struct Shared {
    Shared(net::FabricNames n, const std::string& h) : node(std::move(n), h) {}
    std::mutex mu;
    net::HostNode node;
  };
  auto shared = std::make_shared<Shared>(std::move(names), host);
  return [shared](store::VmId vm, const driver::NicSpec& nic) -> Result<int> {
    std::lock_guard lock(shared->mu);
    return shared->node.open_tap(vm, nic.index, nic.network);
  };
}

}  // namespace corral::cli
