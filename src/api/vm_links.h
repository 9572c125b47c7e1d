// What a VM's JSON shows of the resources it links to (issue 13): its NICs' networks and the
// volumes attached to it, in Corral's words and in every vocabulary's:
// - Nova: `addresses` {"<network>": [{"version", "addr", "OS-EXT-IPS:type",
//   "OS-EXT-IPS-MAC:mac_addr"}]} and `os-extended-volumes:volumes_attached`;
// - OpenNebula: the template's `NIC` and `DISK` lists;
// - Azure: `networkProfile`, `storageProfile.dataDisks`, and `az vm show -d`'s `privateIps`
//   and `macAddresses`;
// - StratusLab: the `ip` of describe's host/ip column.
//
// Contract: the rendering functions are pure functions of the VM and the links given, and
// there is one of each: vm_json builds its document from them and the streaming writer
// (vm_writer.h) writes their text, so the two cannot disagree. A NIC whose network is not in
// the links (none given) shows a null network name.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "store/types.h"

namespace corral::api {

struct VmLinks {
  std::map<std::int64_t, std::string> network_names;  // by network id
  // The volumes attached or being attached or detached, by VM, in slot order.
  std::map<store::VmId, std::vector<store::VolumeRow>> volumes;

  const std::string* network_name(std::int64_t network) const;  // null: unknown
  const std::vector<store::VolumeRow>& volumes_of(store::VmId vm) const;
};

// The VM object's `nics`: OpenNebula's NIC list in Corral's words (nic, network_id, network,
// ip, mac, security_groups).
nlohmann::json nics_json(const store::Vm& vm, const VmLinks& links);

// The VM object's `volumes`: [{"id", "name", "slot", "size_mib", "status",
// "delete_on_termination", "serial", "guest_device"}] (the guest's /dev/disk/by-id name).
nlohmann::json attached_volumes_json(const store::Vm& vm, const VmLinks& links);

// The members each vocabulary's view gains, as an object to merge into that view.
nlohmann::json nova_links(const store::Vm& vm, const VmLinks& links);
nlohmann::json opennebula_links(const store::Vm& vm, const VmLinks& links);
nlohmann::json azure_links(const store::Vm& vm, const VmLinks& links);
nlohmann::json stratuslab_links(const store::Vm& vm);

}  // namespace corral::api
