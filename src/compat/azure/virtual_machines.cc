// Microsoft.Compute/virtualMachines (API 2020-06-01, the hybrid profile's) over /v1/vms: list
// (a subscription's or a group's), GET (with $expand=instanceView), instanceView, PUT (create),
// DELETE, and the power verbs start, powerOff, deallocate and restart as the v1 API's Azure
// vocabulary; and the status of the operations they start. A VM's ARM name is its Corral
// name; its group is the one it was created in ("default" for none). A DONE VM is gone, as a
// deleted one is on Azure.
#include <cstdio>
#include <expected>

#include "compat/azure/front.h"
#include "compat/azure/sizes.h"

namespace corral::compat::azure::internal {

namespace {

constexpr const char* kComputeApi = "2020-06-01";

std::string vm_path(const Caller& caller, const std::string& group, const std::string& name) {
  return resource_id_prefix(caller) + "/resourceGroups/" + group +
         "/providers/Microsoft.Compute/virtualMachines/" + name;
}

std::string operation_url(const api::FrontRequest& req, const Caller& caller,
                          const std::string& location, std::int64_t op) {
  return req.base_url + resource_id_prefix(caller) + "/providers/Microsoft.Compute/locations/" +
         location + "/operations/" + std::to_string(op) + "?api-version=" + kComputeApi;
}

// 202 (201 for a create) with ARM's long-running-operation headers: az polls
// Azure-AsyncOperation until it says Succeeded, then (POST) reads Location.
api::FrontReply accepted(const api::FrontRequest& req, const Caller& caller,
                         const std::string& location, std::int64_t op, int status = 202,
                         const json& body = nullptr) {
  api::FrontReply reply = arm_reply(status, body);
  const std::string url = operation_url(req, caller, location, op);
  reply.headers.emplace_back("Azure-AsyncOperation", url);
  reply.headers.emplace_back("Location", url + "&monitor=true");
  reply.headers.emplace_back("Retry-After", "1");
  return reply;
}

// The action of the VM's running operation ("" if none runs).
std::string running_action(const json& vm) {
  const json op = vm.value("operation", json(nullptr));
  return op.is_object() && op.value("status", "") == "running" ? op.value("action", "")
                                                               : std::string();
}

// The size the VM was last asked to have: Azure's GET shows the model it received even when
// a failed update left the effective one in force (seed 000:336-339).
std::string size_shown(const json& vm) {
  const json model = vm.value("model", json::object());
  const json requested = model.value("requested", json(nullptr));
  if (requested.is_object()) {
    return size_name(requested.value("vcpus", 1), requested.value("memory_mib", 0));
  }
  return size_name(vm.value("vcpus", 1), vm.value("memory_mib", 0));
}

json instance_view_json(const json& vm) {
  const json azure = vm["views"].value("azure", json::object());
  json statuses = azure.value("statuses", json::array());
  // A failed operation's error is the provisioning status's message (seed 000:340-341: "look
  // at the error message ... of the VM instance view").
  const json op = vm.value("operation", json(nullptr));
  if (!statuses.empty() && azure.value("provisioning_state", "") == "Failed" && op.is_object() &&
      op.value("error", json(nullptr)).is_string()) {
    statuses[0]["message"] = op["error"];
  }
  return {{"computerName", vm.value("name", "")},
          {"osName", "Linux"},
          {"hyperVGeneration", "V1"},
          {"statuses", std::move(statuses)}};
}

// A v1 VM (with its Azure view) as ARM's virtualMachine resource.
json vm_json(const Caller& caller, const Group& group, const json& vm, bool instance_view) {
  const std::string name = vm.value("name", "");
  const json azure = vm["views"].value("azure", json::object());
  const std::int64_t id = vm.value("id", 0L);
  char vm_id[40];
  std::snprintf(vm_id, sizeof vm_id, "c0000000-0000-0000-0000-%012lld", static_cast<long long>(id));
  json data_disks = json::array();
  if (azure.contains("storageProfile") && azure["storageProfile"].is_object()) {
    data_disks = azure["storageProfile"].value("dataDisks", json::array());
  }
  for (json& disk : data_disks) {
    disk["managedDisk"] = {{"id", resource_id_prefix(caller) + "/resourceGroups/" + group.name +
                                      "/providers/Microsoft.Compute/disks/" +
                                      disk.value("name", "")}};
  }
  // The view's NIC names ("vm3-nic0") as ARM ids under the VM's group (network.cc reads them).
  json interfaces = json::array();
  if (azure.contains("networkProfile") && azure["networkProfile"].is_object()) {
    for (const json& nic : azure["networkProfile"].value("networkInterfaces", json::array())) {
      json ref = nic;
      ref["id"] = nic_id(caller, group, nic.value("id", ""));
      interfaces.push_back(std::move(ref));
    }
  }
  json properties = {{"vmId", vm_id},
                     {"hardwareProfile", {{"vmSize", size_shown(vm)}}},
                     {"storageProfile",
                      {{"imageReference", image_reference(vm.value("image", ""))},
                       {"osDisk",
                        {{"osType", "Linux"},
                         {"name", name + "_OsDisk_1"},
                         {"createOption", "FromImage"},
                         {"caching", "ReadWrite"}}},
                       {"dataDisks", std::move(data_disks)}}},
                     {"osProfile",
                      {{"computerName", name},
                       {"adminUsername", "root"},
                       {"linuxConfiguration",
                        {{"disablePasswordAuthentication", true}, {"provisionVMAgent", false}}},
                       {"secrets", json::array()},
                       {"allowExtensionOperations", false}}},
                     {"networkProfile", {{"networkInterfaces", std::move(interfaces)}}},
                     {"provisioningState", azure.value("provisioning_state", "Succeeded")}};
  if (instance_view) properties["instanceView"] = instance_view_json(vm);
  return {{"id", vm_path(caller, group.name, name)},
          {"name", name},
          {"type", "Microsoft.Compute/virtualMachines"},
          {"location", group.location},
          {"tags", json::object()},
          {"properties", std::move(properties)}};
}

// Every live VM of the caller's project (all pages), with its Azure view.
std::optional<json> project_vms(api::ApiCaller& api, const Caller& caller, api::FrontReply& error) {
  json out = json::array();
  std::int64_t marker = 0;
  for (;;) {
    std::multimap<std::string, std::string> query = {{"views", "azure"}, {"limit", "1000"}};
    if (marker > 0) query.emplace("marker", std::to_string(marker));
    const api::InnerReply r = api.call({"GET", "/v1/vms", query, nullptr, caller.token});
    if (r.status != 200) {
      error = from_v1_error(r);
      return std::nullopt;
    }
    const json page = r.body.value("vms", json::array());
    for (const json& vm : page) {
      if (vm.value("state", "") != "DONE") out.push_back(vm);
    }
    if (page.size() < 1000) break;
    marker = page.back().value("id", 0L);
  }
  return out;
}

std::int64_t group_of(const json& vm) {
  const json g = vm.value("resource_group_id", json(nullptr));
  return g.is_number_integer() ? g.get<std::int64_t>() : 0;
}

// The live VM `name` in `group`, if the caller's project has it.
std::optional<json> find_vm(api::ApiCaller& api, const Caller& caller, const Group& group,
                            const std::string& name) {
  const api::InnerReply r =
      api.call({"GET", "/v1/vms", {{"name", name}, {"views", "azure"}}, nullptr, caller.token});
  if (r.status != 200) return std::nullopt;
  for (const json& vm : r.body.value("vms", json::array())) {
    if (vm.value("state", "") != "DONE" && group_of(vm) == group.id) return vm;
  }
  return std::nullopt;
}

api::FrontReply vm_not_found(const Group& group, const std::string& name) {
  return arm_error(404, "ResourceNotFound",
                   "The Resource 'Microsoft.Compute/virtualMachines/" + name +
                       "' under resource group '" + group.name + "' was not found.");
}

api::FrontReply list_vms(api::ApiCaller& api, const Caller& caller,
                         const std::optional<Group>& group) {
  api::FrontReply error;
  const std::optional<json> vms = project_vms(api, caller, error);
  if (!vms) return error;
  std::map<std::int64_t, Group> groups;
  for (Group& g : all_groups(api, caller)) groups[g.id] = std::move(g);
  json value = json::array();
  for (const json& vm : *vms) {
    const std::int64_t g = group_of(vm);
    if (group && g != group->id) continue;
    const auto it = groups.find(g);
    if (it == groups.end()) continue;
    value.push_back(vm_json(caller, it->second, vm, false));
  }
  return arm_reply(200, {{"value", std::move(value)}});
}

}  // namespace

std::expected<api::InnerReply, api::FrontReply> make_vm(
    api::ApiCaller& api, const Caller& caller, const Group& group, const std::string& name,
    const json& p, const std::vector<std::string>& networks,
    const std::vector<std::string>& security_groups) {
  const std::string size =
      p.value("hardwareProfile", json::object()).value("vmSize", std::string("Standard_B1s"));
  const std::optional<Model> model = parse_size(size);
  if (!model) {
    return std::unexpected(
        arm_error(400, "InvalidParameter",
                  "The value '" + size + "' of parameter 'vmSize' is not a size this cloud " +
                      "offers (Standard_B1ls ... Standard_D4s_v3, or Corral_<n>vCPU_<m>MiB)."));
  }
  const json storage = p.value("storageProfile", json::object());
  const std::optional<std::string> image =
      image_of(storage.value("imageReference", json::object()));
  if (!image) {
    return std::unexpected(
        arm_error(400, "InvalidParameter",
                  "The value of parameter 'imageReference' is invalid: give publisher, offer, "
                  "sku and version (Corral:Images:<image>:latest for an image of this cloud) "
                  "or an image id."));
  }
  json v1 = {{"name", name},
             {"image", *image},
             {"vcpus", model->vcpus},
             {"memory_mib", model->memory_mib}};
  if (group.id != 0) v1["resource_group"] = group.name;
  if (!networks.empty()) v1["networks"] = networks;
  if (!networks.empty() && !security_groups.empty()) v1["security_groups"] = security_groups;
  json keys = json::array();
  const json os = p.value("osProfile", json::object());
  const json ssh = os.value("linuxConfiguration", json::object()).value("ssh", json::object());
  for (const json& k : ssh.value("publicKeys", json::array())) {
    if (k.is_object() && k.contains("keyData") && k["keyData"].is_string()) {
      keys.push_back(k["keyData"]);
    }
  }
  if (!keys.empty()) v1["ssh_keys"] = std::move(keys);
  const api::InnerReply r = api.call({"POST", "/v1/vms", {}, v1, caller.token});
  if (r.status != 202) {
    if (r.status == 409) {
      return std::unexpected(arm_error(
          409, "Conflict", "A VM named '" + name + "' exists in this cloud: VM names are unique."));
    }
    return std::unexpected(from_v1_error(r));
  }
  return r;
}

namespace {

// A PUT's body: its `properties` object, or ARM's 400.
std::expected<json, api::FrontReply> vm_properties(const api::FrontRequest& req) {
  json body = json::parse(req.body, nullptr, false);
  if (!body.is_object() || !body.contains("properties") || !body["properties"].is_object()) {
    return std::unexpected(
        arm_error(400, "InvalidRequestContent",
                  "The request content was invalid: a virtual machine needs 'properties'."));
  }
  return std::move(body["properties"]);
}

// PUT of a VM that does not exist: the model from hardwareProfile.vmSize and the image from
// storageProfile.imageReference, the keys from osProfile.
api::FrontReply create_vm(const api::FrontRequest& req, api::ApiCaller& api, const Caller& caller,
                          const Group& group, const std::string& name) {
  const std::expected<json, api::FrontReply> properties = vm_properties(req);
  if (!properties) return properties.error();
  const auto made = make_vm(api, caller, group, name, *properties, {});
  if (!made) return made.error();
  const std::int64_t id = made->body["vm"].value("id", 0L);
  const api::InnerReply got = api.call(
      {"GET", "/v1/vms/" + std::to_string(id), {{"views", "azure"}}, nullptr, caller.token});
  const json& vm = got.status == 200 ? got.body : made->body["vm"];
  return accepted(req, caller, group.location, made->body["operation"].value("id", 0L), 201,
                  vm_json(caller, group, vm, false));
}

// POST {vm}/{verb}: the v1 API's Azure verbs (GET /v1/states lists where each may start).
api::FrontReply act(const api::FrontRequest& req, api::ApiCaller& api, const Caller& caller,
                    const Group& group, const json& vm, const std::string& verb) {
  const std::string name = vm.value("name", "");
  json v1 = {{"action", verb}, {"vocabulary", "azure"}};
  if (verb == "powerOff") {
    v1["skipShutdown"] = iequals(query_value(req, "skipShutdown").value_or("false"), "true");
  }
  const std::string id = std::to_string(vm.value("id", 0L));
  const api::InnerReply r = api.call({"POST", "/v1/vms/" + id + "/actions", {}, v1, caller.token});
  if (r.status != 202) return from_v1_error(r, verb, name, group.name, running_action(vm));
  return accepted(req, caller, group.location, r.body["operation"].value("id", 0L));
}

// PUT of a VM that exists: Azure's update (seed 000:191). A new hardwareProfile.vmSize is the
// Azure vocabulary's `update`, Corral's resize (hot on a running VM, else at the next boot);
// if it fails the VM keeps its model and runs on, and GET shows the size asked for with the
// error in the instance view (seed 000:336-339). The image cannot change (Azure's
// PropertyChangeNotAllowed); anything else Corral does not keep (tags) is taken as given.
api::FrontReply update_vm(const api::FrontRequest& req, api::ApiCaller& api, const Caller& caller,
                          const Group& group, const json& vm) {
  const std::string name = vm.value("name", "");
  const std::expected<json, api::FrontReply> properties = vm_properties(req);
  if (!properties) return properties.error();
  const json& p = *properties;
  const json reference =
      p.value("storageProfile", json::object()).value("imageReference", json(nullptr));
  if (reference.is_object()) {
    const std::optional<std::string> image = image_of(reference);
    if (image && *image != vm.value("image", "")) {
      return arm_error(409, "PropertyChangeNotAllowed",
                       "Changing property 'imageReference' is not allowed.");
    }
  }
  const std::string size =
      p.value("hardwareProfile", json::object()).value("vmSize", std::string());
  if (size.empty() || iequals(size, size_shown(vm)))
    return arm_reply(200, vm_json(caller, group, vm, false));
  const std::optional<Model> model = parse_size(size);
  if (!model) {
    return arm_error(400, "InvalidParameter",
                     "The value '" + size +
                         "' of parameter 'vmSize' is not a size this cloud "
                         "offers (Standard_B1ls ... Standard_D4s_v3, or Corral_<n>vCPU_<m>MiB).");
  }
  const json v1 = {{"action", "update"},
                   {"vocabulary", "azure"},
                   {"vcpus", model->vcpus},
                   {"memory_mib", model->memory_mib}};
  const std::string id = std::to_string(vm.value("id", 0L));
  const api::InnerReply r = api.call({"POST", "/v1/vms/" + id + "/actions", {}, v1, caller.token});
  if (r.status != 202) return from_v1_error(r, "update", name, group.name, running_action(vm));
  const api::InnerReply got =
      api.call({"GET", "/v1/vms/" + id, {{"views", "azure"}}, nullptr, caller.token});
  return accepted(req, caller, group.location, r.body["operation"].value("id", 0L), 200,
                  vm_json(caller, group, got.status == 200 ? got.body : vm, false));
}

// GET .../locations/{loc}/operations/{id}: ARM's operation status; with monitor=true (the
// Location header's URL) 202 while it runs and 200 with no body once it ended.
api::FrontReply operation_status(const api::FrontRequest& req, api::ApiCaller& api,
                                 const Caller& caller, const std::string& op) {
  const api::InnerReply r = api.call({"GET", "/v1/operations/" + op, {}, nullptr, caller.token});
  if (r.status == 404 || r.status == 400) {
    return arm_error(404, "NotFound", "The operation '" + op + "' could not be found.");
  }
  if (r.status != 200) return from_v1_error(r);
  const std::string status = r.body.value("status", "");
  const bool monitor = query_value(req, "monitor").value_or("") == "true";
  if (monitor) {
    api::FrontReply reply = arm_reply(status == "running" ? 202 : 200, nullptr);
    if (status == "running") reply.headers.emplace_back("Retry-After", "1");
    return reply;
  }
  const char* arm_status = status == "running"     ? "InProgress"
                           : status == "succeeded" ? "Succeeded"
                           : status == "canceled"  ? "Canceled"
                                                   : "Failed";
  json out = {
      {"name", op}, {"status", arm_status}, {"startTime", r.body.value("started_at", json())}};
  if (r.body.contains("finished_at") && !r.body["finished_at"].is_null()) {
    out["endTime"] = r.body["finished_at"];
  }
  if (std::string(arm_status) == "Failed" || std::string(arm_status) == "Canceled") {
    const json error = r.body.value("error", json(nullptr));
    out["error"] = {
        {"code", std::string(arm_status) == "Failed" ? "OperationFailed" : "OperationCanceled"},
        {"message", error.is_string() ? error.get<std::string>()
                                      : std::string("the operation did not succeed")}};
  }
  api::FrontReply reply = arm_reply(200, out);
  if (status == "running") reply.headers.emplace_back("Retry-After", "1");
  return reply;
}

}  // namespace

api::FrontReply compute(const api::FrontRequest& req, api::ApiCaller& api, const Caller& caller,
                        const std::optional<Group>& group, const std::vector<std::string>& rest) {
  const auto not_here = [&] {
    return arm_error(404, "InvalidResourceType",
                     "The resource type could not be found in the namespace "
                     "'Microsoft.Compute': " +
                         req.method + " " + req.path + ".");
  };
  if (rest.empty()) return not_here();
  // {s}/providers/Microsoft.Compute/locations/{loc}/operations/{id}
  if (!group && rest.size() == 4 && iequals(rest[0], "locations") &&
      iequals(rest[2], "operations") && req.method == "GET") {
    return operation_status(req, api, caller, rest[3]);
  }
  if (!iequals(rest[0], "virtualMachines")) return not_here();
  if (rest.size() == 1) {
    if (req.method != "GET") {
      return arm_error(405, "MethodNotAllowed", "The requested method is not allowed.");
    }
    return list_vms(api, caller, group);
  }
  if (!group) return not_here();
  const std::string& name = rest[1];
  std::optional<json> vm = find_vm(api, caller, *group, name);
  if (rest.size() == 2) {
    if (req.method == "GET") {
      if (!vm) return vm_not_found(*group, name);
      const bool expand = iequals(query_value(req, "$expand").value_or(""), "instanceView");
      return arm_reply(200, vm_json(caller, *group, *vm, expand));
    }
    if (req.method == "PUT") {
      if (!vm) return create_vm(req, api, caller, *group, name);
      return update_vm(req, api, caller, *group, *vm);
    }
    if (req.method == "DELETE") {
      if (!vm) return arm_reply(204, nullptr);
      return act(req, api, caller, *group, *vm, "delete");
    }
    return arm_error(405, "MethodNotAllowed", "The requested method is not allowed.");
  }
  if (rest.size() != 3) return not_here();
  if (!vm) return vm_not_found(*group, name);
  const std::string& what = rest[2];
  if (iequals(what, "instanceView") && req.method == "GET") {
    return arm_reply(200, instance_view_json(*vm));
  }
  if (req.method != "POST") return not_here();
  for (const char* verb : {"start", "powerOff", "deallocate", "restart"}) {
    if (iequals(what, verb)) return act(req, api, caller, *group, *vm, verb);
  }
  return not_here();
}

}  // namespace corral::compat::azure::internal
