// A server's volumes and interfaces in Nova's words: os-volume_attachments over the VM's
// `volumes` and its disk_attach/disk_detach actions, os-interface over its `nics` and its
// nic_attach/nic_detach actions (GET /v1/vms/{id}, POST /v1/vms/{id}/actions). A port id is
// "<server>-<nic>": Corral's NICs have no id of their own beside their number in the VM.
#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "compat/openstack/front.h"

namespace corral::compat::openstack::internal {

using nlohmann::json;

namespace {

json volume_attachment(const json& v, const std::string& server) {
  const std::string id = std::to_string(v.value("id", 0));
  return {{"id", id},           {"volumeId", id},
          {"serverId", server}, {"device", v.value("guest_device", "")},
          {"tag", nullptr},     {"delete_on_termination", v.value("delete_on_termination", false)}};
}

json interface_attachment(const json& n, const std::string& server) {
  return {{"port_id", server + "-" + std::to_string(n.value("nic", 0))},
          {"net_id", std::to_string(n.value("network_id", 0))},
          {"mac_addr", n.value("mac", "")},
          {"port_state", "ACTIVE"},
          {"fixed_ips", json::array({{{"subnet_id", std::to_string(n.value("network_id", 0))},
                                      {"ip_address", n.value("ip", "")}}})},
          {"tag", nullptr}};
}

// The VM as v1 shows it (no views), or Nova's error.
struct VmOrError {
  json vm;
  std::optional<api::FrontReply> error;
};
VmOrError read_vm(api::ApiCaller& api, const std::string& token, const std::string& server) {
  const api::InnerReply r =
      api.call({"GET", "/v1/vms/" + server, {{"views", "none"}}, nullptr, token});
  if (r.status != 200) return {json(), from_v1_error(r, "", server)};
  return {r.body.value("vm", r.body), std::nullopt};
}

api::FrontReply act(api::ApiCaller& api, const std::string& token, const std::string& server,
                    const json& body, const std::string& nova_action) {
  const api::InnerReply r = api.call({"POST", "/v1/vms/" + server + "/actions", {}, body, token});
  if (r.status != 202) return from_v1_error(r, nova_action, server);
  return json_reply(202, nullptr);
}

}  // namespace

api::FrontReply volume_attachments(const api::FrontRequest& req, api::ApiCaller& api,
                                   const std::string& token, const std::string& server,
                                   const std::string& volume) {
  if (req.method == "GET") {
    const VmOrError read = read_vm(api, token, server);
    if (read.error) return *read.error;
    json list = json::array();
    for (const json& v : read.vm.value("volumes", json::array())) {
      json a = volume_attachment(v, server);
      if (!volume.empty() && a["id"] == volume) return json_reply(200, {{"volumeAttachment", a}});
      list.push_back(std::move(a));
    }
    if (!volume.empty()) {
      return nova_error(404, "Volume " + volume + " is not attached to server " + server + ".");
    }
    return json_reply(200, {{"volumeAttachments", list}});
  }
  if (req.method == "POST" && volume.empty()) {
    const json body = json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object() || !body.contains("volumeAttachment") ||
        !body["volumeAttachment"].is_object() || !body["volumeAttachment"].contains("volumeId") ||
        !body["volumeAttachment"]["volumeId"].is_string()) {
      return nova_error(400, "The request body needs volumeAttachment.volumeId");
    }
    const json& a = body["volumeAttachment"];
    json v1 = {{"action", "disk_attach"}, {"volume", a["volumeId"]}};
    if (a.contains("delete_on_termination") && a["delete_on_termination"].is_boolean()) {
      v1["delete_on_termination"] = a["delete_on_termination"];
    }
    api::FrontReply done = act(api, token, server, v1, "attach_volume");
    if (done.status != 202) return done;
    // The volume as the server now holds it (reserved from the moment it was accepted).
    const VmOrError read = read_vm(api, token, server);
    if (!read.error) {
      const std::string wanted = a["volumeId"].get<std::string>();
      for (const json& v : read.vm.value("volumes", json::array())) {
        if (std::to_string(v.value("id", 0)) == wanted || v.value("name", "") == wanted) {
          return json_reply(200, {{"volumeAttachment", volume_attachment(v, server)}});
        }
      }
    }
    return json_reply(200, {{"volumeAttachment",
                             {{"id", a["volumeId"]},
                              {"volumeId", a["volumeId"]},
                              {"serverId", server},
                              {"device", nullptr}}}});
  }
  if (req.method == "DELETE" && !volume.empty()) {
    return act(api, token, server, {{"action", "disk_detach"}, {"volume", volume}},
               "detach_volume");
  }
  return nova_error(405, "Method not allowed");
}

api::FrontReply interfaces(const api::FrontRequest& req, api::ApiCaller& api,
                           const std::string& token, const std::string& server,
                           const std::string& port) {
  if (req.method == "GET") {
    const VmOrError read = read_vm(api, token, server);
    if (read.error) return *read.error;
    json list = json::array();
    for (const json& n : read.vm.value("nics", json::array())) {
      json a = interface_attachment(n, server);
      if (!port.empty() && a["port_id"] == port) {
        return json_reply(200, {{"interfaceAttachment", a}});
      }
      list.push_back(std::move(a));
    }
    if (!port.empty()) return nova_error(404, "Port " + port + " is not attached");
    return json_reply(200, {{"interfaceAttachments", list}});
  }
  if (req.method == "POST" && port.empty()) {
    const json body = json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object() || !body.contains("interfaceAttachment") ||
        !body["interfaceAttachment"].is_object() ||
        !body["interfaceAttachment"].contains("net_id") ||
        !body["interfaceAttachment"]["net_id"].is_string()) {
      return nova_error(400,
                        "The request body needs interfaceAttachment.net_id (ports are not "
                        "supported)");
    }
    const json& a = body["interfaceAttachment"];
    json v1 = {{"action", "nic_attach"}, {"network", a["net_id"]}};
    if (a.contains("fixed_ips") && a["fixed_ips"].is_array() && !a["fixed_ips"].empty() &&
        a["fixed_ips"][0].is_object() && a["fixed_ips"][0].contains("ip_address")) {
      v1["ip"] = a["fixed_ips"][0]["ip_address"];
    }
    const VmOrError before = read_vm(api, token, server);
    if (before.error) return *before.error;
    api::FrontReply done = act(api, token, server, v1, "interface_attach");
    if (done.status != 202) return done;
    // The new NIC: the one the VM did not have before.
    const VmOrError after = read_vm(api, token, server);
    const std::size_t had = before.vm.value("nics", json::array()).size();
    if (!after.error && after.vm.value("nics", json::array()).size() > had) {
      return json_reply(
          200, {{"interfaceAttachment", interface_attachment(after.vm["nics"].back(), server)}});
    }
    return json_reply(200, {{"interfaceAttachment", {{"net_id", a["net_id"]}}}});
  }
  if (req.method == "DELETE" && !port.empty()) {
    const std::string prefix = server + "-";
    const std::string nic = port.starts_with(prefix) ? port.substr(prefix.size()) : "";
    if (nic.empty() || nic.size() > 4 || !std::ranges::all_of(nic, ::isdigit)) {
      return nova_error(404, "Port " + port + " is not attached");
    }
    return act(api, token, server, {{"action", "nic_detach"}, {"nic", std::stoi(nic)}},
               "interface_detach");
  }
  return nova_error(405, "Method not allowed");
}

api::FrontReply networks_route(const api::FrontRequest& req, api::ApiCaller& api,
                               const std::string& token, const std::string& network) {
  if (req.method != "GET") return nova_error(405, "Method not allowed");
  const api::InnerReply r = api.call({"GET", "/v1/networks", {}, nullptr, token});
  if (r.status != 200) return from_v1_error(r);
  json list = json::array();
  for (const json& n : r.body.value("networks", json::array())) {
    const json nova = {{"id", std::to_string(n.value("id", 0))},
                       {"label", n.value("name", "")},
                       {"cidr", n.value("cidr", json(nullptr))},
                       {"gateway", n.value("gateway", json(nullptr))}};
    if (!network.empty() && (nova["id"] == network || nova["label"] == network)) {
      return json_reply(200, {{"network", nova}});
    }
    list.push_back(nova);
  }
  if (!network.empty()) return nova_error(404, "Network " + network + " could not be found.");
  return json_reply(200, {{"networks", list}});
}

}  // namespace corral::compat::openstack::internal
