// Microsoft.Resources/deployments: the template `az vm create` PUTs (no ARM expressions: every
// name and id literal). Its virtual machine is made as a PUT of one would be; its virtual
// network becomes a Corral network (made if the project has none of that name, from the
// subnet's range), its network security group a Corral security group (security_groups.cc)
// and the NIC a NIC on that network in that group. Its public IP address is the first NIC's
// address (network.cc says why), so a public IP is taken only on the VM's first NIC.
// The deployment runs until the VM is provisioned: ARM's Running, then Succeeded or Failed.
#include <fmt/format.h>

#include <cctype>
#include <chrono>
#include <thread>

#include "compat/azure/front.h"

namespace corral::compat::azure::internal {

namespace {

std::string last_segment(const std::string& id, const std::string& after) {
  const std::vector<std::string> parts = segments_after(id, "");
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    if (iequals(parts[i], after)) return parts[i + 1];
  }
  return "";
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string registry_key(const Caller& caller, const Group& group, const std::string& name) {
  return std::to_string(caller.project) + "/" + lower(group.name) + "/" + lower(name);
}

// The deployment's state from its VM's: Running until it is provisioned.
std::string deployment_state(api::ApiCaller& api, const Caller& caller, std::int64_t vm,
                             std::string& error) {
  const api::InnerReply r = api.call(
      {"GET", "/v1/vms/" + std::to_string(vm), {{"views", "azure"}}, nullptr, caller.token});
  if (r.status != 200) return "Failed";
  const std::string provisioning = r.body["views"]["azure"].value("provisioning_state", "");
  if (provisioning == "Failed") {
    const json op = r.body.value("operation", json(nullptr));
    error = op.is_object() && op["error"].is_string() ? op["error"].get<std::string>()
                                                      : std::string("the VM failed");
    return "Failed";
  }
  if (provisioning == "Succeeded" && r.body.value("state", "") == "RUNNING") return "Succeeded";
  return "Running";
}

json deployment_json(const Caller& caller, const Group& group, const std::string& name,
                     const std::string& state, std::int64_t vm, const std::string& vm_name) {
  const std::string rg = resource_id_prefix(caller) + "/resourceGroups/" + group.name;
  return {{"id", rg + "/providers/Microsoft.Resources/deployments/" + name},
          {"name", name},
          {"type", "Microsoft.Resources/deployments"},
          {"properties",
           {{"provisioningState", state},
            {"mode", "Incremental"},
            {"correlationId", std::to_string(vm)},
            {"outputs", json::object()},
            {"outputResources",
             json::array(
                 {{{"id", rg + "/providers/Microsoft.Compute/virtualMachines/" + vm_name}}})}}}};
}

// A network is made asynchronously (LOCK_CREATE until its bridge and DHCP are up) and leases
// no address before it is READY; ARM's deployment makes the network and the VM in one
// request, so the VM waits for it here: a bounded wait (a local network is up in well under
// a second), then 409 naming the network's state.
std::optional<api::FrontReply> await_ready(api::ApiCaller& api, const Caller& caller,
                                           const std::string& network) {
  constexpr auto kPatience = std::chrono::seconds(30);
  const auto give_up = std::chrono::steady_clock::now() + kPatience;
  for (;;) {
    const api::InnerReply r =
        api.call({"GET", "/v1/networks/" + network, {}, nullptr, caller.token});
    if (r.status != 200) return from_v1_error(r);
    const std::string status = r.body["network"].value("state", "");
    if (status == "READY") return std::nullopt;
    if (status != "LOCK_CREATE" || std::chrono::steady_clock::now() > give_up) {
      return arm_error(
          409, "Conflict",
          fmt::format("virtual network '{}' is {}, not READY: its VMs cannot have addresses on it "
                      "yet.",
                      network, status));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

struct Wiring {
  std::vector<std::string> networks;         // Corral networks, one per NIC
  std::vector<std::string> security_groups;  // the NICs' NSGs as Corral groups
};

const json* find_resource(const json& resources, const std::string& type, const std::string& name) {
  for (const json& r : resources) {
    if (iequals(r.value("type", ""), type) && iequals(r.value("name", ""), name)) return &r;
  }
  return nullptr;
}

// Corral networks for the VM's NICs: each NIC resource's subnet names a virtual network; one
// the template also makes is made here unless the project has it. A NIC's NSG is the
// template's (made here) or one the project has.
std::expected<Wiring, api::FrontReply> networks_of(api::ApiCaller& api, const Caller& caller,
                                                   const json& vm, const json& resources) {
  Wiring wiring;
  std::vector<std::string>& out = wiring.networks;
  const json nics = vm["properties"]
                        .value("networkProfile", json::object())
                        .value("networkInterfaces", json::array());
  for (const json& ref : nics) {
    const std::string nic_name = last_segment(ref.value("id", ""), "networkInterfaces");
    const json* nic = find_resource(resources, "Microsoft.Network/networkInterfaces", nic_name);
    if (nic == nullptr) {
      return std::unexpected(arm_error(
          400, "InvalidTemplate",
          "network interface '" + nic_name + "' is not in the template (only new NICs are taken)"));
    }
    const json nic_props = (*nic).value("properties", json::object());
    const std::string nsg = last_segment(
        nic_props.value("networkSecurityGroup", json::object()).value("id", std::string()),
        "networkSecurityGroups");
    if (!nsg.empty()) {
      if (const json* made =
              find_resource(resources, "Microsoft.Network/networkSecurityGroups", nsg)) {
        const auto group = put_nsg(api, caller, *made);
        if (!group) return std::unexpected(group.error());
        wiring.security_groups.push_back(*group);
      } else {
        wiring.security_groups.push_back(lower(nsg));  // the project's, or v1 says it is not
      }
    }
    const json configs = nic_props.value("ipConfigurations", json::array());
    if (configs.empty()) continue;
    const json public_ip =
        configs[0].value("properties", json::object()).value("publicIPAddress", json(nullptr));
    if (public_ip.is_object() && !out.empty()) {
      return std::unexpected(arm_error(
          400, "InvalidTemplate",
          "network interface '" + nic_name +
              "' asks for a public IP address: here a VM's public IP is its first NIC's address"));
    }
    const std::string subnet_id = configs[0]
                                      .value("properties", json::object())
                                      .value("subnet", json::object())
                                      .value("id", std::string());
    const std::string vnet = last_segment(subnet_id, "virtualNetworks");
    const std::string subnet = last_segment(subnet_id, "subnets");
    const std::string network = lower(vnet);
    if (network.empty()) continue;
    const api::InnerReply have =
        api.call({"GET", "/v1/networks/" + network, {}, nullptr, caller.token});
    if (have.status == 404) {
      std::string cidr;
      if (const json* r = find_resource(resources, "Microsoft.Network/virtualNetworks", vnet)) {
        for (const json& s :
             r->value("properties", json::object()).value("subnets", json::array())) {
          if (iequals(s.value("name", ""), subnet)) {
            cidr = s.value("properties", json::object()).value("addressPrefix", "");
          }
        }
      }
      if (cidr.empty()) {
        std::string why = "virtual network '";
        why += vnet;
        why += "' is neither the project's nor made by the template with subnet '";
        why += subnet;
        why += "'";
        return std::unexpected(arm_error(400, "InvalidTemplate", why));
      }
      const api::InnerReply made =
          api.call({"POST", "/v1/networks", {}, {{"name", network}, {"cidr", cidr}}, caller.token});
      if (made.status != 201) return std::unexpected(from_v1_error(made));
    } else if (have.status != 200) {
      return std::unexpected(from_v1_error(have));
    }
    if (std::optional<api::FrontReply> late = await_ready(api, caller, network)) {
      return std::unexpected(*late);
    }
    out.push_back(network);
  }
  return wiring;
}

}  // namespace

api::FrontReply deployments(const api::FrontRequest& req, api::ApiCaller& api, const Caller& caller,
                            const Group& group, const std::vector<std::string>& rest,
                            Deployments& registry) {
  if (rest.size() < 2 || !iequals(rest[0], "deployments")) {
    return arm_error(404, "InvalidResourceType",
                     "The resource type could not be found in the namespace "
                     "'Microsoft.Resources': " +
                         req.path + ".");
  }
  const std::string& name = rest[1];
  const std::string key = registry_key(caller, group, name);
  if (req.method == "GET") {
    const std::optional<std::int64_t> vm = registry.get(key);
    if (!vm) {
      return arm_error(404, "DeploymentNotFound", "Deployment '" + name + "' could not be found.");
    }
    std::string error;
    const std::string state = deployment_state(api, caller, *vm, error);
    // .../deployments/{name}/operationStatuses/{vm}: the LRO's status.
    if (rest.size() == 4 && iequals(rest[2], "operationStatuses")) {
      json out = {{"status", state}};
      if (state == "Failed") out["error"] = {{"code", "DeploymentFailed"}, {"message", error}};
      api::FrontReply reply = arm_reply(200, out);
      if (state == "Running") reply.headers.emplace_back("Retry-After", "1");
      return reply;
    }
    const api::InnerReply got = api.call(
        {"GET", "/v1/vms/" + std::to_string(*vm), {{"views", "none"}}, nullptr, caller.token});
    return arm_reply(200,
                     deployment_json(caller, group, name, state, *vm, got.body.value("name", "")));
  }
  if (req.method != "PUT" || rest.size() != 2) {
    return arm_error(405, "MethodNotAllowed", "The requested method is not allowed.");
  }
  const json body = json::parse(req.body, nullptr, false);
  const json resources = body.is_object() ? body.value("properties", json::object())
                                                .value("template", json::object())
                                                .value("resources", json::array())
                                          : json::array();
  const json* vm = nullptr;
  for (const json& r : resources) {
    if (!r.is_object()) continue;
    if (iequals(r.value("type", ""), "Microsoft.Compute/virtualMachines")) {
      if (vm != nullptr) {
        return arm_error(400, "InvalidTemplate", "one virtual machine per deployment");
      }
      vm = &r;
    }
  }
  if (vm == nullptr || !(*vm).contains("properties") || !(*vm)["properties"].is_object()) {
    return arm_error(400, "InvalidTemplate",
                     "The template deploys no virtual machine (only az vm create's templates are "
                     "taken).");
  }
  const auto wiring = networks_of(api, caller, *vm, resources);
  if (!wiring) return wiring.error();
  const std::string vm_name = (*vm).value("name", "");
  const auto made = make_vm(api, caller, group, vm_name, (*vm)["properties"], wiring->networks,
                            wiring->security_groups);
  if (!made) return made.error();
  const std::int64_t id = made->body["vm"].value("id", 0L);
  registry.put(key, id);
  api::FrontReply reply =
      arm_reply(201, deployment_json(caller, group, name, "Running", id, vm_name));
  reply.headers.emplace_back("Azure-AsyncOperation",
                             req.base_url + resource_id_prefix(caller) + "/resourceGroups/" +
                                 group.name + "/providers/Microsoft.Resources/deployments/" + name +
                                 "/operationStatuses/" + std::to_string(id) +
                                 "?api-version=2019-10-01");
  reply.headers.emplace_back("Retry-After", "1");
  return reply;
}

}  // namespace corral::compat::azure::internal
