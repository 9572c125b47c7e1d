// Virtual networks as the engine's API shows them (issue 13): OpenNebula's virtual network
// with one IPv4 address range, Neutron's network with its one subnet. The engine's methods
// are in engine.h; the rows and states in store/types.h and lifecycle/net_table.h.
#pragma once

#include <string>
#include <vector>

#include "store/types.h"

namespace corral::engine {

struct NetworkSpec {
  std::string name;  // [a-z0-9][a-z0-9._-]{0,62}, and not all digits (an id is all digits)
  std::string cidr;  // IPv4, e.g. "10.77.0.0/24"
};

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
