// Virtual networks as the engine's API shows them (issue 13): OpenNebula's virtual network
// with one IPv4 address range, Neutron's network with its one subnet. The engine's methods
// are in engine.h; the rows and states in store/types.h and lifecycle/net_table.h.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "store/types.h"

namespace corral::engine {

struct NetworkSpec {
  std::string name;  // [a-z0-9][a-z0-9._-]{0,62}, and not all digits (an id is all digits)
  std::string cidr;  // IPv4, e.g. "10.77.0.0/24"
  store::ProjectId project = store::kAdminProjectId;  // the owner
  // Every project sees it and attaches VMs to it (Neutron's shared network). Only the admin
  // project's networks are shared (kInvalidArgument otherwise); who may ask is the API's
  // policy (the cloud's admin).
  bool shared = false;
  std::string description{};  // at most kMaxNetworkDescription bytes
};

// PATCH: what changes (nullopt: unchanged). `shared` as at create.
struct NetworkUpdate {
  std::optional<bool> shared{};
  std::optional<std::string> description{};
};

inline constexpr std::size_t kMaxNetworkDescription = 1024;

// Whether VMs of `project` may have a NIC on `network`, and see it at all: their project's
// own networks and the shared ones. The engine refuses a NIC on any other (as if it did not
// exist); the API shows nothing else to the project.
inline bool network_usable_by(const store::NetworkRow& network, store::ProjectId project) {
  return network.shared || network.project == project;
}

// A NIC's address: OpenNebula's lease, Neutron's port's fixed IP.
struct NetworkLease {
  store::VmId vm = 0;
  int nic = 0;  // the VM's NIC index
  std::string ip;
  std::string mac;
  bool attached = true;  // false while the nic_attach that took it is still running
  friend bool operator==(const NetworkLease&, const NetworkLease&) = default;
};

struct NetworkDetail {
  store::NetworkRow row;
  std::string gateway;   // the range's first usable address, on the network's bridge
  std::size_t size = 0;  // addresses VMs can lease (the range less network, gateway, broadcast)
  std::vector<NetworkLease> leases;  // by address
};

}  // namespace corral::engine
