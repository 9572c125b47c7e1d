#include "api/vm_links.h"

#include <algorithm>
#include <string>
#include <utility>

#include "lifecycle/volume_table.h"

namespace corral::api {
namespace {

using nlohmann::json;

json network_of(const store::Nic& n, const VmLinks& links) {
  const std::string* name = links.network_name(n.network);
  return name != nullptr ? json(*name) : json(nullptr);
}

// Nova's and the guest's name of a volume: the virtio serial QEMU gives it.
std::string serial_of(const store::VolumeRow& v) { return "vol" + std::to_string(v.id); }

// Azure writes MACs upper case with dashes (az vm show -d: "02-00-0A-4D-00-02").
std::string azure_mac(std::string mac) {
  std::ranges::replace(mac, ':', '-');
  std::ranges::transform(mac, mac.begin(), [](unsigned char c) {
    return static_cast<char>(c >= 'a' && c <= 'f' ? c - 'a' + 'A' : c);
  });
  return mac;
}

std::string joined(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : ",") + p;
  return out;
}

}  // namespace

const std::string* VmLinks::network_name(std::int64_t network) const {
  const auto it = network_names.find(network);
  return it == network_names.end() ? nullptr : &it->second;
}

const std::vector<store::VolumeRow>& VmLinks::volumes_of(store::VmId vm) const {
  static const std::vector<store::VolumeRow> kNone;
  const auto it = volumes.find(vm);
  return it == volumes.end() ? kNone : it->second;
}

json nics_json(const store::Vm& vm, const VmLinks& links) {
  json out = json::array();
  for (const store::Nic& n : vm.nics) {
    out.push_back({{"nic", n.index},
                   {"network_id", n.network},
                   {"network", network_of(n, links)},
                   {"ip", n.ip},
                   {"mac", n.mac},
                   {"security_groups", n.security_groups}});
  }
  return out;
}

json attached_volumes_json(const store::Vm& vm, const VmLinks& links) {
  json out = json::array();
  for (const store::VolumeRow& v : links.volumes_of(vm.id)) {
    out.push_back({{"id", v.id},
                   {"name", v.name},
                   {"slot", v.slot},
                   {"size_mib", v.size_mib},
                   {"status", std::string(lifecycle::volume_status_name(v.status))},
                   {"delete_on_termination", v.delete_on_termination},
                   {"serial", serial_of(v)},
                   {"guest_device", "/dev/disk/by-id/virtio-" + serial_of(v)}});
  }
  return out;
}

json nova_links(const store::Vm& vm, const VmLinks& links) {
  // Nova keys addresses by network name; a NIC on a network it cannot name keeps its id.
  json addresses = json::object();
  for (const store::Nic& n : vm.nics) {
    const std::string* name = links.network_name(n.network);
    addresses[name != nullptr ? *name : std::to_string(n.network)].push_back(
        {{"version", 4},
         {"addr", n.ip},
         {"OS-EXT-IPS:type", "fixed"},
         {"OS-EXT-IPS-MAC:mac_addr", n.mac}});
  }
  // Nova's volume ids are strings (UUIDs there).
  json attached = json::array();
  for (const store::VolumeRow& v : links.volumes_of(vm.id)) {
    attached.push_back(
        {{"id", std::to_string(v.id)}, {"delete_on_termination", v.delete_on_termination}});
  }
  return {{"addresses", std::move(addresses)},
          {"os-extended-volumes:volumes_attached", std::move(attached)}};
}

json opennebula_links(const store::Vm& vm, const VmLinks& links) {
  json nics = json::array();
  for (const store::Nic& n : vm.nics) {
    std::vector<std::string> groups;
    groups.reserve(n.security_groups.size());
    for (std::int64_t g : n.security_groups) groups.push_back(std::to_string(g));
    nics.push_back({{"NIC_ID", n.index},
                    {"NETWORK", network_of(n, links)},
                    {"NETWORK_ID", n.network},
                    {"IP", n.ip},
                    {"MAC", n.mac},
                    {"SECURITY_GROUPS", joined(groups)}});
  }
  // DISK_ID 0 is the VM's own disk in OpenNebula, so a volume in slot s is DISK_ID s + 1.
  json disks = json::array();
  for (const store::VolumeRow& v : links.volumes_of(vm.id)) {
    disks.push_back({{"DISK_ID", v.slot + 1},
                     {"IMAGE", v.name},
                     {"IMAGE_ID", v.id},
                     {"SIZE", v.size_mib},
                     {"PERSISTENT", "YES"},
                     {"TYPE", "BLOCK"}});
  }
  return {{"NIC", std::move(nics)}, {"DISK", std::move(disks)}};
}

json azure_links(const store::Vm& vm, const VmLinks& links) {
  json interfaces = json::array();
  std::vector<std::string> ips;
  std::vector<std::string> macs;
  for (const store::Nic& n : vm.nics) {
    interfaces.push_back(
        {{"id", "vm" + std::to_string(vm.id) + "-nic" + std::to_string(n.index)},
         {"properties", {{"primary", &n == &vm.nics.front()}, {"deleteOption", "Delete"}}}});
    ips.push_back(n.ip);
    macs.push_back(azure_mac(n.mac));
  }
  json data_disks = json::array();
  for (const store::VolumeRow& v : links.volumes_of(vm.id)) {
    data_disks.push_back({{"lun", v.slot},
                          {"name", v.name},
                          {"diskSizeGB", (v.size_mib + 1023) / 1024},
                          {"createOption", "Attach"},
                          {"deleteOption", v.delete_on_termination ? "Delete" : "Detach"},
                          {"managedDisk", {{"id", "disks/" + v.name}}}});
  }
  return {{"networkProfile", {{"networkInterfaces", std::move(interfaces)}}},
          {"storageProfile", {{"dataDisks", std::move(data_disks)}}},
          {"privateIps", joined(ips)},
          {"macAddresses", joined(macs)}};
}

json stratuslab_links(const store::Vm& vm) {
  return {{"ip", vm.nics.empty() ? json(nullptr) : json(vm.nics.front().ip)}};
}

}  // namespace corral::api
