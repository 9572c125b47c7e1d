// Microsoft.Network, read-only: a VM's network interfaces (its Corral NICs, named
// "vm<id>-nic<index>" as Corral's Azure view names them), its public IP address ("vm<id>-ip",
// the first NIC's address), the virtual networks (Corral's networks the caller sees, each with
// one subnet "default" of its range) and the network security groups (security_groups.cc).
// `az vm list -d` and `show -d` read a VM's NICs for its private addresses and MACs and its
// public IP for publicIps.
//
// Why a public IP is the first NIC's address: Corral puts no NAT in front of a VM; the address
// its first NIC has is the one it is reached at, which StratusLab's describe prints as the
// VM's public IP (seed 002) and Corral's VM shows as `ip`. So every VM with a NIC has one.
#include <cctype>
#include <charconv>

#include "compat/azure/front.h"

namespace corral::compat::azure::internal {

namespace {

std::string network_id(const Caller& caller, const Group& group, const std::string& name) {
  return resource_id_prefix(caller) + "/resourceGroups/" + group.name +
         "/providers/Microsoft.Network/virtualNetworks/" + name;
}

std::string public_ip_id(const Caller& caller, const Group& group, std::int64_t vm) {
  return resource_id_prefix(caller) + "/resourceGroups/" + group.name +
         "/providers/Microsoft.Network/publicIPAddresses/vm" + std::to_string(vm) + "-ip";
}

// "vm12-ip" -> 12.
std::optional<std::int64_t> parse_ip_name(const std::string& name) {
  if (!name.starts_with("vm") || !name.ends_with("-ip")) return std::nullopt;
  std::int64_t vm = 0;
  const char* b = name.data() + 2;
  const char* e = name.data() + name.size() - 3;
  if (auto [end, ec] = std::from_chars(b, e, vm); ec != std::errc{} || end != e || vm <= 0) {
    return std::nullopt;
  }
  return vm;
}

// "vm12-nic0" -> {12, 0}.
std::optional<std::pair<std::int64_t, int>> parse_nic_name(const std::string& name) {
  if (!name.starts_with("vm")) return std::nullopt;
  const std::size_t dash = name.find("-nic");
  if (dash == std::string::npos) return std::nullopt;
  std::int64_t vm = 0;
  int nic = -1;
  const char* b = name.data();
  if (auto [end, ec] = std::from_chars(b + 2, b + dash, vm); ec != std::errc{} || end != b + dash) {
    return std::nullopt;
  }
  if (auto [end, ec] = std::from_chars(b + dash + 4, b + name.size(), nic);
      ec != std::errc{} || end != b + name.size() || nic < 0) {
    return std::nullopt;
  }
  return std::pair{vm, nic};
}

// The NIC's NSG: its first security group other than the project's default (which is what
// a NIC without an NSG meets on Azure: the default rules), by name from `groups` (v1's list).
json nsg_ref(const Caller& caller, const Group& group, const json& nic, const json& groups) {
  for (const json& id : nic.value("security_groups", json::array())) {
    for (const json& g : groups) {
      if (g.value("id", 0L) == id && g.value("name", "") != "default") {
        return {{"id", nsg_id(caller, group, g.value("name", ""))}};
      }
    }
  }
  return nullptr;
}

json nic_json(const Caller& caller, const Group& group, const json& vm, const json& nic,
              const json& groups) {
  const std::string name = nic_name(vm.value("id", 0L), nic.value("nic", 0));
  const std::string id = nic_id(caller, group, name);
  std::string mac = nic.value("mac", "");
  for (char& c : mac) {
    if (c == ':') c = '-';
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  const std::string network = nic.value("network", "");
  json config = {{"privateIPAddress", nic.value("ip", "")},
                 {"privateIPAllocationMethod", "Dynamic"},
                 {"privateIPAddressVersion", "IPv4"},
                 {"primary", true},
                 {"subnet", {{"id", network_id(caller, group, network) + "/subnets/default"}}}};
  if (nic.value("nic", 0) == 0) {
    config["publicIPAddress"] = {{"id", public_ip_id(caller, group, vm.value("id", 0L))}};
  }
  json out = {
      {"id", id},
      {"name", name},
      {"type", "Microsoft.Network/networkInterfaces"},
      {"location", group.location},
      {"properties",
       {{"provisioningState", "Succeeded"},
        {"macAddress", mac},
        {"primary", nic.value("nic", 0) == 0},
        {"ipConfigurations", json::array({{{"id", id + "/ipConfigurations/ipconfig1"},
                                           {"name", "ipconfig1"},
                                           {"properties", std::move(config)}}})},
        {"virtualMachine",
         {{"id", resource_id_prefix(caller) + "/resourceGroups/" + group.name +
                     "/providers/Microsoft.Compute/virtualMachines/" + vm.value("name", "")}}}}}};
  if (json nsg = nsg_ref(caller, group, nic, groups); !nsg.is_null()) {
    out["properties"]["networkSecurityGroup"] = std::move(nsg);
  }
  return out;
}

json public_ip_json(const Caller& caller, const Group& group, const json& vm) {
  const std::int64_t id = vm.value("id", 0L);
  const std::string name = "vm" + std::to_string(id) + "-ip";
  return {{"id", public_ip_id(caller, group, id)},
          {"name", name},
          {"type", "Microsoft.Network/publicIPAddresses"},
          {"location", group.location},
          {"sku", {{"name", "Basic"}, {"tier", "Regional"}}},
          {"properties",
           {{"provisioningState", "Succeeded"},
            {"ipAddress", vm.value("ip", json(nullptr))},
            {"publicIPAddressVersion", "IPv4"},
            {"publicIPAllocationMethod", "Dynamic"},
            {"idleTimeoutInMinutes", 4},
            {"ipConfiguration",
             {{"id", nic_id(caller, group, nic_name(id, 0)) + "/ipConfigurations/ipconfig1"}}}}}};
}

json vnet_json(const Caller& caller, const Group& group, const json& n) {
  const std::string name = n.value("name", "");
  const std::string id = network_id(caller, group, name);
  const std::string cidr = n.value("cidr", "");
  return {{"id", id},
          {"name", name},
          {"type", "Microsoft.Network/virtualNetworks"},
          {"location", group.location},
          {"properties",
           {{"provisioningState", n.value("state", "") == "READY" ? "Succeeded" : "Updating"},
            {"addressSpace", {{"addressPrefixes", json::array({cidr})}}},
            {"subnets",
             json::array({{{"id", id + "/subnets/default"},
                           {"name", "default"},
                           {"properties",
                            {{"addressPrefix", cidr}, {"provisioningState", "Succeeded"}}}}})}}}};
}

// VM `id` (v1's body, no views) if it is live, the caller's, and in `group`.
std::optional<json> group_vm(api::ApiCaller& api, const Caller& caller, const Group& group,
                             std::int64_t id) {
  const api::InnerReply r = api.call(
      {"GET", "/v1/vms/" + std::to_string(id), {{"views", "none"}}, nullptr, caller.token});
  if (r.status != 200 || r.body.value("state", "") == "DONE") return std::nullopt;
  const json rg = r.body.value("resource_group_id", json(nullptr));
  if ((rg.is_number_integer() ? rg.get<std::int64_t>() : 0) != group.id) return std::nullopt;
  return r.body;
}

api::FrontReply not_found(const std::string& type, const std::string& name, const Group& group) {
  return arm_error(404, "ResourceNotFound",
                   "The Resource 'Microsoft.Network/" + type + "/" + name +
                       "' under resource group '" + group.name + "' was not found.");
}

}  // namespace

std::string nic_name(std::int64_t vm, int index) {
  return "vm" + std::to_string(vm) + "-nic" + std::to_string(index);
}

std::string nic_id(const Caller& caller, const Group& group, const std::string& name) {
  return resource_id_prefix(caller) + "/resourceGroups/" + group.name +
         "/providers/Microsoft.Network/networkInterfaces/" + name;
}

api::FrontReply network(const api::FrontRequest& req, api::ApiCaller& api, const Caller& caller,
                        const Group& group, const std::vector<std::string>& rest) {
  if (req.method != "GET" || rest.empty()) {
    return arm_error(405, "MethodNotAllowed",
                     "Microsoft.Network is read-only here: " + req.method + " " + req.path + ".");
  }
  if (iequals(rest[0], "networkInterfaces") && rest.size() == 2) {
    const auto parsed = parse_nic_name(rest[1]);
    const std::optional<json> vm =
        parsed ? group_vm(api, caller, group, parsed->first) : std::nullopt;
    if (!vm) return not_found("networkInterfaces", rest[1], group);
    const api::InnerReply groups =
        api.call({"GET", "/v1/security-groups", {}, nullptr, caller.token});
    for (const json& nic : vm->value("nics", json::array())) {
      if (nic.value("nic", -1) == parsed->second) {
        return arm_reply(200, nic_json(caller, group, *vm, nic,
                                       groups.body.value("security_groups", json::array())));
      }
    }
    return not_found("networkInterfaces", rest[1], group);
  }
  if (iequals(rest[0], "publicIPAddresses") && rest.size() == 2) {
    const std::optional<std::int64_t> id = parse_ip_name(rest[1]);
    const std::optional<json> vm = id ? group_vm(api, caller, group, *id) : std::nullopt;
    if (!vm || vm->value("nics", json::array()).empty()) {
      return not_found("publicIPAddresses", rest[1], group);
    }
    return arm_reply(200, public_ip_json(caller, group, *vm));
  }
  if (iequals(rest[0], "networkSecurityGroups") && rest.size() <= 2) {
    return security_groups(api, caller, group, rest);
  }
  if (iequals(rest[0], "virtualNetworks")) {
    const api::InnerReply r = api.call({"GET", "/v1/networks", {}, nullptr, caller.token});
    if (r.status != 200) return from_v1_error(r);
    json value = json::array();
    for (const json& n : r.body.value("networks", json::array())) {
      if (rest.size() == 2 && !iequals(n.value("name", ""), rest[1])) continue;
      value.push_back(vnet_json(caller, group, n));
    }
    if (rest.size() == 2) {
      if (value.empty()) return not_found("virtualNetworks", rest[1], group);
      return arm_reply(200, value[0]);
    }
    if (rest.size() == 1) return arm_reply(200, {{"value", std::move(value)}});
  }
  return arm_error(404, "InvalidResourceType",
                   "The resource type could not be found in the namespace 'Microsoft.Network': " +
                       req.path + ".");
}

}  // namespace corral::compat::azure::internal
