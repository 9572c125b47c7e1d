// A VM's configuration, the model Azure calls the VM's configuration. Its own header so the
// operation parameters (store/op_params.h) can name it without the rows.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace corral::store {

struct VmModel {
  int vcpus = 1;
  int memory_mib = 128;
  std::string image;
  friend bool operator==(const VmModel&, const VmModel&) = default;
};

// One of a VM's network interfaces (issue 13): OpenNebula's NIC, Neutron's port. Its address
// is a lease on the network, fixed while the NIC exists; the MAC is 02:00 + the address's four
// bytes (OpenNebula's rule), so DHCP's static hosts file and the MAC say the same thing.
struct Nic {
  int index = 0;             // the VM's NIC number (OpenNebula's NIC_ID), 0-7
  std::int64_t network = 0;  // the network's id
  std::string ip;
  std::string mac;
  // Its security groups' ids (docs/security-groups.md), in the order given; a NIC stored
  // before groups existed (no such JSON key) reads back as {kDefaultSecurityGroupId}.
  std::vector<std::int64_t> security_groups;
  friend bool operator==(const Nic&, const Nic&) = default;
};
inline constexpr int kMaxNics = 8;
// The group every cluster has (Neutron's "default"), made by the engine at start.
inline constexpr std::int64_t kDefaultSecurityGroupId = 1;
inline constexpr int kMaxSecurityGroupsPerNic = 8;

}  // namespace corral::store
