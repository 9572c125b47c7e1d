// Nova's compute API v2.1 over the v1 API: version discovery, flavors, servers and their
// actions. The server body is the v1 VM's Nova view; nothing about state is decided here.
#include <algorithm>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <utility>

#include "compat/openstack/flavors.h"
#include "compat/openstack/front.h"

namespace corral::compat::openstack::internal {

using nlohmann::json;

api::FrontReply nova_error(int status, const std::string& message) {
  const char* kind = status == 404   ? "itemNotFound"
                     : status == 409 ? "conflictingRequest"
                     : status == 403 ? "forbidden"
                     : status == 401 ? "unauthorized"
                     : status == 429 ? "overLimit"
                     : status >= 500 ? "computeFault"
                                     : "badRequest";
  return json_reply(status, {{kind, {{"code", status}, {"message", message}}}});
}

std::string v1_message(const api::InnerReply& r) {
  if (r.body.is_object() && r.body.contains("error") && r.body["error"].is_object()) {
    return r.body["error"].value("message", "error");
  }
  return "error";
}

// A v1 failure as Nova says it. `action` (Nova's key, "os-stop") and `server` make a wrong
// state Nova's own sentence.
api::FrontReply from_v1_error(const api::InnerReply& r, const std::string& action,
                              const std::string& server) {
  const json error = r.body.is_object() ? r.body.value("error", json::object()) : json::object();
  const std::string code = error.value("code", "");
  if (r.status == 409 && code == "invalid_state" && !action.empty()) {
    return nova_error(409, "Cannot '" + action + "' instance " + server +
                               " while it is in vm_state " + error.value("state", "unknown"));
  }
  if (r.status == 409 && code == "locked" && !server.empty()) {
    return nova_error(409, "Instance " + server + " is locked");
  }
  if (r.status == 404 && !server.empty()) {
    return nova_error(404, "Instance " + server + " could not be found.");
  }
  if (r.status == 403 && code == "quota_exceeded") {
    return nova_error(403, "Quota exceeded: " + v1_message(r));
  }
  return nova_error(r.status, v1_message(r));
}

namespace {

constexpr const char* kMaxVersion = "2.79";

json version_doc(const std::string& base) {
  return {{"id", "v2.1"},
          {"status", "CURRENT"},
          {"version", kMaxVersion},
          {"min_version", "2.1"},
          {"updated", "2013-07-23T11:33:21Z"},
          {"links", json::array({{{"rel", "self"}, {"href", base + "/compute/v2.1/"}}})},
          {"media-types",
           json::array({{{"base", "application/json"},
                         {"type", "application/vnd.openstack.compute+json;version=2.1"}}})}};
}

json link(const std::string& base, const std::string& what, const std::string& id) {
  return json::array({{{"rel", "self"}, {"href", base + "/compute/v2.1/" + what + "/" + id}},
                      {{"rel", "bookmark"}, {"href", base + "/compute/" + what + "/" + id}}});
}

json flavor_json(const Flavor& f, const std::string& base, bool detail) {
  json out = {{"id", std::string(f.id)},
              {"name", std::string(f.name)},
              {"links", link(base, "flavors", std::string(f.id))},
              {"description", nullptr}};
  if (detail) {
    out["vcpus"] = f.vcpus;
    out["ram"] = f.memory_mib;
    out["disk"] = f.disk_gib;
    out["OS-FLV-EXT-DATA:ephemeral"] = 0;
    out["OS-FLV-DISABLED:disabled"] = false;
    out["swap"] = "";
    out["rxtx_factor"] = 1.0;
    out["os-flavor-access:is_public"] = true;
    out["extra_specs"] = json::object();
  }
  return out;
}

// A v1 VM (with its Nova view) as Nova's server body.
json server_json(const json& vm, const std::string& base, const std::string& project) {
  const std::string id = std::to_string(vm.value("id", 0));
  const json nova = vm["views"].value("nova", json::object());
  std::string custom;
  const Flavor flavor = flavor_of(vm.value("vcpus", 0), vm.value("memory_mib", 0), custom);
  json out = {
      {"id", id},
      {"name", vm.value("name", "")},
      {"status", nova.value("status", "UNKNOWN")},
      {"OS-EXT-STS:vm_state", nova.value("vm_state", json(nullptr))},
      {"OS-EXT-STS:task_state", nova.value("task_state", json(nullptr))},
      {"OS-EXT-STS:power_state", nova.value("power_state", 0)},
      {"OS-EXT-SRV-ATTR:host", vm.value("host", json(nullptr))},
      {"OS-EXT-SRV-ATTR:hypervisor_hostname", vm.value("host", json(nullptr))},
      {"OS-EXT-SRV-ATTR:instance_name", "corral-" + id},
      {"OS-EXT-AZ:availability_zone", "nova"},
      {"OS-DCF:diskConfig", "MANUAL"},
      {"OS-SRV-USG:launched_at", nullptr},
      {"OS-SRV-USG:terminated_at", nullptr},
      {"tenant_id", project},
      {"user_id", ""},
      {"created", openstack_time(vm["created_at"])},
      {"updated", openstack_time(vm["updated_at"])},
      {"hostId", vm.value("host", json(nullptr)).is_string() ? vm["host"].get<std::string>() : ""},
      {"progress", 0},
      {"key_name", nullptr},
      {"metadata", json::object()},
      {"tags", json::array()},
      {"locked", vm.value("lock", json(nullptr)).is_object()},
      {"locked_reason", vm.value("lock", json(nullptr)).is_object()
                            ? vm["lock"].value("reason", json(nullptr))
                            : json(nullptr)},
      {"description", nullptr},
      {"config_drive", ""},
      {"image",
       {{"id", vm.value("image", "")}, {"links", link(base, "images", vm.value("image", ""))}}},
      {"flavor",
       {{"id", std::string(flavor.id)},
        {"original_name", std::string(flavor.name)},
        {"vcpus", flavor.vcpus},
        {"ram", flavor.memory_mib},
        {"disk", flavor.disk_gib},
        {"ephemeral", 0},
        {"swap", 0},
        {"extra_specs", json::object()},
        {"links", link(base, "flavors", std::string(flavor.id))}}},
      {"addresses", nova.value("addresses", json::object())},
      {"os-extended-volumes:volumes_attached",
       nova.value("os-extended-volumes:volumes_attached", json::array())},
      {"security_groups", json::array({{{"name", "default"}}})},
      {"links", link(base, "servers", id)}};
  if (out["status"] == "ERROR") {
    const json op = vm.value("operation", json::object());
    const json error = op.is_object() ? op.value("error", json(nullptr)) : json(nullptr);
    out["fault"] = {{"code", 500},
                    {"created", openstack_time(vm["updated_at"])},
                    {"message", error.is_string()   ? error.get<std::string>()
                                : error.is_object() ? error.value("message", "error")
                                                    : std::string("error")}};
  }
  return out;
}

// The caller's project id (tenant_id in server bodies).
std::string caller_project(api::ApiCaller& api, const std::string& token) {
  const api::InnerReply who = api.call({"GET", "/v1/auth/token", {}, nullptr, token});
  if (who.status != 200) return "";
  return std::to_string(who.body["project"].value("id", 0));
}

// Every server the caller may list, with Nova's filters (name: a regular expression, as
// Nova's; status; changes-since), then Nova's marker and limit.
api::FrontReply list_servers(const api::FrontRequest& req, api::ApiCaller& api,
                             const std::string& token, bool detail) {
  std::multimap<std::string, std::string> query = {{"views", "nova"}, {"limit", "1000"}};
  const bool all =
      query_value(req, "all_tenants").has_value() || query_value(req, "all_projects").has_value();
  if (all) query.emplace("all_projects", "true");
  std::optional<std::regex> name;
  if (const std::optional<std::string> n = query_value(req, "name")) {
    try {
      name.emplace(*n);
    } catch (const std::regex_error&) {
      return nova_error(400, "Invalid regular expression in 'name'");
    }
  }
  const std::optional<std::string> status = query_value(req, "status");
  const std::optional<std::string> since = query_value(req, "changes-since");
  const std::optional<std::string> marker = query_value(req, "marker");
  const bool deleted = query_value(req, "deleted").value_or("") == "true";
  const std::optional<long> asked = query_limit(req, 1000);
  if (!asked) return nova_error(400, "limit must be a non-negative integer");
  const long limit = *asked;
  const std::string project = caller_project(api, token);
  json servers = json::array();
  bool past_marker = !marker.has_value();
  bool marker_seen = !marker.has_value();
  std::int64_t v1_marker = 0;
  for (;;) {
    std::multimap<std::string, std::string> page_query = query;
    if (v1_marker > 0) page_query.emplace("marker", std::to_string(v1_marker));
    const api::InnerReply r = api.call({"GET", "/v1/vms", page_query, nullptr, token});
    if (r.status != 200) return from_v1_error(r);
    for (const json& vm : r.body.value("vms", json::array())) {
      // A terminated VM is a deleted server: listed only when asked (Nova's deleted=true).
      if (vm.value("state", "") == "DONE" && !deleted) continue;
      const json body = server_json(vm, req.base_url, project);
      if (!past_marker) {
        if (body["id"] == *marker) past_marker = marker_seen = true;
        continue;
      }
      if (name && !std::regex_search(body["name"].get<std::string>(), *name)) continue;
      if (status && body["status"] != *status) continue;
      if (since && body["updated"].get<std::string>() < *since) continue;
      if (static_cast<long>(servers.size()) >= limit) break;
      servers.push_back(
          detail ? body
                 : json{{"id", body["id"]}, {"name", body["name"]}, {"links", body["links"]}});
    }
    if (r.body["next_marker"].is_null() || static_cast<long>(servers.size()) >= limit) break;
    v1_marker = r.body["next_marker"].get<std::int64_t>();
  }
  if (!marker_seen) return nova_error(400, "marker [" + *marker + "] not found");
  return json_reply(200, {{"servers", servers}});
}

api::FrontReply get_server(const api::FrontRequest& req, api::ApiCaller& api,
                           const std::string& token, const std::string& id) {
  if (id.empty() || id.size() > 18 || !std::ranges::all_of(id, ::isdigit)) {
    return nova_error(404, "Instance " + id + " could not be found.");
  }
  const api::InnerReply r = api.call({"GET", "/v1/vms/" + id, {{"views", "nova"}}, nullptr, token});
  if (r.status != 200) return from_v1_error(r, "", id);
  const json vm = r.body.value("vm", r.body);
  if (vm.value("state", "") == "DONE") {
    return nova_error(404, "Instance " + id + " could not be found.");
  }
  return json_reply(200, {{"server", server_json(vm, req.base_url, caller_project(api, token))}});
}

api::FrontReply create_server(const api::FrontRequest& req, api::ApiCaller& api,
                              const std::string& token) {
  const json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object() || !body.contains("server") ||
      !body["server"].is_object()) {
    return nova_error(400, "The request body needs a 'server' object");
  }
  const json& s = body["server"];
  if (!s.contains("name") || !s["name"].is_string()) return nova_error(400, "'name' is required");
  if (!s.contains("imageRef") || !s["imageRef"].is_string() || s["imageRef"] == "") {
    return nova_error(400, "'imageRef' is required (booting from a volume is not supported)");
  }
  const FlavorRef flavor = flavor_ref_of(s.contains("flavorRef") ? &s["flavorRef"] : nullptr);
  if (!flavor.size) return nova_error(400, "Flavor " + flavor.text + " could not be found.");
  const std::pair<int, int> size = *flavor.size;
  const long count = s.value("min_count", 1L);
  if (count != 1 || s.value("max_count", 1L) != 1) {
    return nova_error(400, "min_count and max_count other than 1 are not supported");
  }
  json create = {{"name", s["name"]},
                 {"image", s["imageRef"]},
                 {"vcpus", size.first},
                 {"memory_mib", size.second}};
  // Nova's networks: "none"; "auto" or none given (before 2.37): the network every project
  // may use, as Nova allocates on the one network there is (Corral's "default", when it
  // exists); else the networks named, by id or name ("port" is not supported).
  const json* nets = s.contains("networks") ? &s["networks"] : nullptr;
  // An empty list is the legacy (before 2.37) "let Nova decide", as the client sends it.
  if (nets == nullptr || *nets == "auto" || (nets->is_array() && nets->empty())) {
    if (api.call({"GET", "/v1/networks/default", {}, nullptr, token}).status == 200) {
      create["networks"] = json::array({"default"});
    }
  } else if (nets->is_array()) {
    json names = json::array();
    for (const json& n : *nets) {
      if (!n.is_object() || !n.contains("uuid") || !n["uuid"].is_string()) {
        return nova_error(400,
                          "Each network needs a 'uuid' (a network's id or name; ports are "
                          "not supported)");
      }
      names.push_back(n["uuid"]);
    }
    create["networks"] = std::move(names);
  } else if (*nets != "none") {
    return nova_error(400, "networks must be 'auto', 'none' or a list of networks");
  }
  if (s.contains("security_groups") && s["security_groups"].is_array() &&
      create.contains("networks")) {
    json groups = json::array();
    for (const json& g : s["security_groups"]) {
      if (g.is_object() && g.contains("name") && g["name"].is_string()) groups.push_back(g["name"]);
    }
    create["security_groups"] = std::move(groups);
  }
  const api::InnerReply r = api.call({"POST", "/v1/vms", {}, create, token});
  if (r.status != 202) return from_v1_error(r);
  const std::string id = std::to_string(r.body["vm"].value("id", 0));
  return json_reply(202, {{"server",
                           {{"id", id},
                            {"links", link(req.base_url, "servers", id)},
                            {"adminPass", ""},
                            {"OS-DCF:diskConfig", "MANUAL"},
                            {"security_groups", json::array({{{"name", "default"}}})}}}});
}

api::FrontReply servers(const api::FrontRequest& req, api::ApiCaller& api, const std::string& token,
                        const std::vector<std::string>& rest) {
  if (rest.empty()) {
    if (req.method == "GET") return list_servers(req, api, token, false);
    if (req.method == "POST") return create_server(req, api, token);
    return nova_error(405, "Method not allowed");
  }
  if (rest.size() == 1 && rest[0] == "detail" && req.method == "GET") {
    return list_servers(req, api, token, true);
  }
  const std::string& id = rest[0];
  if (rest.size() == 1) {
    if (req.method == "GET") return get_server(req, api, token, id);
    if (req.method == "DELETE") {
      const api::InnerReply r = api.call({"DELETE", "/v1/vms/" + id, {}, nullptr, token});
      if (r.status != 202) return from_v1_error(r, "delete", id);
      return json_reply(204, nullptr);
    }
    return nova_error(405, "Method not allowed");
  }
  if (rest.size() == 2 && rest[1] == "action" && req.method == "POST") {
    return server_action(req, api, token, id);
  }
  if (rest.size() >= 2 && rest.size() <= 3 &&
      (rest[1] == "os-volume_attachments" || rest[1] == "os-interface")) {
    const std::string item = rest.size() == 3 ? rest[2] : "";
    return rest[1] == "os-interface" ? interfaces(req, api, token, id, item)
                                     : volume_attachments(req, api, token, id, item);
  }
  if (rest.size() == 2 && rest[1] == "ips" && req.method == "GET") {
    const api::InnerReply r =
        api.call({"GET", "/v1/vms/" + id, {{"views", "nova"}}, nullptr, token});
    if (r.status != 200) return from_v1_error(r, "", id);
    const json vm = r.body.value("vm", r.body);
    const json nova = vm.value("views", json::object()).value("nova", json::object());
    return json_reply(200, {{"addresses", nova.value("addresses", json::object())}});
  }
  if (rest.size() >= 2 && rest[1] == "migrations" && rest.size() <= 3) {
    return server_migrations(req, api, token, id, rest.size() == 3 ? rest[2] : "");
  }
  if (rest.size() >= 2 && rest[1] == "os-instance-actions" && req.method == "GET") {
    return instance_actions(req, api, token, id, rest.size() == 3 ? rest[2] : "");
  }
  return nova_error(404, "no such endpoint: " + req.method + " " + req.path);
}

api::FrontReply flavors_route(const api::FrontRequest& req, const std::vector<std::string>& rest) {
  if (req.method != "GET") return nova_error(405, "Method not allowed");
  if (rest.empty() || rest[0] == "detail") {
    const bool detail = !rest.empty();
    json list = json::array();
    for (const Flavor& f : flavors()) list.push_back(flavor_json(f, req.base_url, detail));
    return json_reply(200, {{"flavors", list}});
  }
  std::optional<Flavor> flavor = find_flavor(rest[0]);
  std::string storage;
  if (!flavor) {
    if (const std::optional<std::pair<int, int>> size = custom_size(rest[0])) {
      flavor = flavor_of(size->first, size->second, storage);
    }
  }
  if (!flavor) return nova_error(404, "Flavor " + rest[0] + " could not be found.");
  if (rest.size() == 1)
    return json_reply(200, {{"flavor", flavor_json(*flavor, req.base_url, true)}});
  if (rest.size() == 2 && rest[1] == "os-extra_specs") {
    return json_reply(200, {{"extra_specs", json::object()}});
  }
  return nova_error(404, "no such endpoint: " + req.method + " " + req.path);
}

}  // namespace

api::FrontReply compute(const api::FrontRequest& req, api::ApiCaller& api) {
  const std::vector<std::string> parts = segments_after(req.path, "/compute");
  if (parts.empty()) {
    return json_reply(200, {{"versions", json::array({version_doc(req.base_url)})}});
  }
  if (parts[0] != "v2.1") return nova_error(404, "no such endpoint: " + req.path);
  api::FrontReply reply;
  if (parts.size() == 1) {
    reply = json_reply(200, {{"version", version_doc(req.base_url)}});
  } else {
    const std::string token = req.header("x-auth-token");
    if (token.empty()) {
      return json_reply(401, {{"error",
                               {{"code", 401},
                                {"title", "Unauthorized"},
                                {"message",
                                 "The request you have made requires "
                                 "authentication."}}}});
    }
    const std::vector<std::string> rest(parts.begin() + 2, parts.end());
    if (parts[1] == "servers") {
      reply = servers(req, api, token, rest);
    } else if (parts[1] == "flavors") {
      reply = flavors_route(req, rest);
    } else if (parts[1] == "os-simple-tenant-usage" && req.method == "GET") {
      reply = tenant_usage(req, api, token, rest);
    } else if (parts[1] == "os-quota-sets" && req.method == "GET") {
      reply = quota_sets(req, api, token, rest);
    } else if (parts[1] == "limits" && req.method == "GET") {
      reply = limits(req, api, token);
    } else if (parts[1] == "os-services" || parts[1] == "os-hypervisors") {
      reply = hosts_route(req, api, token, parts[1], rest);
    } else if (parts[1] == "os-networks" && rest.size() <= 1) {
      reply = networks_route(req, api, token, rest.empty() ? "" : rest[0]);
    } else if (parts[1] == "os-migrations") {
      reply = migrations_route(req, api, token);
    } else {
      reply = nova_error(404, "no such endpoint: " + req.method + " " + req.path);
    }
  }
  // Microversions: the one asked for (up to the maximum) is the one answered.
  std::string asked = req.header("openstack-api-version");
  if (asked.starts_with("compute ")) asked = asked.substr(8);
  if (asked.empty()) asked = req.header("x-openstack-nova-api-version");
  if (asked.empty()) asked = "2.1";
  if (asked == "latest") asked = kMaxVersion;
  reply.headers.emplace_back("OpenStack-API-Version", "compute " + asked);
  reply.headers.emplace_back("X-OpenStack-Nova-API-Version", asked);
  reply.headers.emplace_back("Vary", "OpenStack-API-Version, X-OpenStack-Nova-API-Version");
  return reply;
}

}  // namespace corral::compat::openstack::internal
