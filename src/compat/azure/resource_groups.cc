// Microsoft.Resources/resourceGroups over /v1/resource-groups: PUT (create, or replace the
// tags), GET, HEAD (az group exists), list, DELETE (with the group's VMs, as Azure's: a
// long-running operation until the last is gone). "default" holds the project's VMs made
// without a group (by the CLI, v1 or OpenStack's API): it always exists and cannot be made or
// deleted, so every VM of the subscription has an ARM id.
#include <charconv>
#include <set>

#include "compat/azure/front.h"

namespace corral::compat::azure::internal {

namespace {

json group_json(const Caller& caller, const std::string& name, const std::string& location,
                const json& tags) {
  return {{"id", resource_id_prefix(caller) + "/resourceGroups/" + name},
          {"name", name},
          {"type", "Microsoft.Resources/resourceGroups"},
          {"location", location},
          {"tags", tags.is_object() ? tags : json::object()},
          {"properties", {{"provisioningState", "Succeeded"}}}};
}

json default_group_json(const Caller& caller) {
  return group_json(caller, kDefaultGroup, kDefaultLocation, json::object());
}

json v1_group_json(const Caller& caller, const json& g) {
  json out = group_json(caller, g.value("name", ""), g.value("location", ""),
                        g.value("tags", json::object()));
  if (g.value("deleting", false)) out["properties"]["provisioningState"] = "Deleting";
  return out;
}

constexpr std::string_view kDeleteToken = "rgdelete";

api::FrontReply not_found(const std::string& name) {
  return arm_error(404, "ResourceGroupNotFound",
                   "Resource group '" + name + "' could not be found.");
}

}  // namespace

std::vector<Group> all_groups(api::ApiCaller& api, const Caller& caller) {
  std::vector<Group> out = {{0, kDefaultGroup, kDefaultLocation}};
  const api::InnerReply r = api.call({"GET", "/v1/resource-groups", {}, nullptr, caller.token});
  if (r.status != 200) return out;
  for (const json& g : r.body.value("resource_groups", json::array())) {
    out.push_back({g.value("id", 0L), g.value("name", ""), g.value("location", "")});
  }
  return out;
}

std::optional<Group> find_group(api::ApiCaller& api, const Caller& caller,
                                const std::string& name) {
  if (iequals(name, kDefaultGroup)) return Group{0, kDefaultGroup, kDefaultLocation};
  const api::InnerReply r =
      api.call({"GET", "/v1/resource-groups/" + name, {}, nullptr, caller.token});
  if (r.status != 200) return std::nullopt;
  const json& g = r.body["resource_group"];
  return Group{g.value("id", 0L), g.value("name", ""), g.value("location", "")};
}

api::FrontReply locations(api::ApiCaller& api, const Caller& caller) {
  std::set<std::string> names = {kDefaultLocation};
  for (const Group& g : all_groups(api, caller)) names.insert(g.location);
  json value = json::array();
  for (const std::string& name : names) {
    value.push_back({{"id", resource_id_prefix(caller) + "/locations/" + name},
                     {"name", name},
                     {"displayName", name},
                     {"regionalDisplayName", name},
                     {"metadata", {{"regionType", "Physical"}, {"regionCategory", "Other"}}}});
  }
  return arm_reply(200, {{"value", std::move(value)}});
}

api::FrontReply resource_groups(const api::FrontRequest& req, api::ApiCaller& api,
                                const Caller& caller, const std::vector<std::string>& rest) {
  if (rest.size() == 1) {
    if (req.method != "GET") {
      return arm_error(405, "MethodNotAllowed", "The requested method is not allowed.");
    }
    const api::InnerReply r = api.call({"GET", "/v1/resource-groups", {}, nullptr, caller.token});
    if (r.status != 200) return from_v1_error(r);
    json groups = json::array({default_group_json(caller)});
    for (const json& g : r.body.value("resource_groups", json::array())) {
      groups.push_back(v1_group_json(caller, g));
    }
    return arm_reply(200, {{"value", std::move(groups)}});
  }
  if (rest.size() != 2) {
    return arm_error(404, "InvalidResourceType",
                     "The resource type could not be found: " + req.method + " " + req.path + ".");
  }
  const std::string& name = rest[1];
  const std::string path = "/v1/resource-groups/" + name;
  if (iequals(name, kDefaultGroup)) {
    if (req.method == "GET") return arm_reply(200, default_group_json(caller));
    if (req.method == "HEAD") return arm_reply(204, nullptr);
    if (req.method == "PUT") return arm_reply(200, default_group_json(caller));
    return arm_error(409, "OperationNotAllowed",
                     "The resource group 'default' holds the VMs made without one: it cannot "
                     "be deleted.");
  }
  if (req.method == "GET" || req.method == "HEAD") {
    const api::InnerReply r = api.call({"GET", path, {}, nullptr, caller.token});
    if (r.status == 404) return req.method == "HEAD" ? arm_reply(404, nullptr) : not_found(name);
    if (r.status != 200) return from_v1_error(r);
    if (req.method == "HEAD") return arm_reply(204, nullptr);
    return arm_reply(200, v1_group_json(caller, r.body["resource_group"]));
  }
  if (req.method == "PUT" || req.method == "PATCH") {
    const json body = req.body.empty() ? json::object() : json::parse(req.body, nullptr, false);
    if (!body.is_object()) {
      return arm_error(400, "InvalidRequestContent", "The request content is not a JSON object.");
    }
    json v1 = json::object();
    if (body.contains("location")) v1["location"] = body["location"];
    if (body.contains("tags")) v1["tags"] = body["tags"];
    if (req.method == "PATCH" && !body.contains("tags")) {
      // PATCH keeps what it does not name.
      const api::InnerReply now = api.call({"GET", path, {}, nullptr, caller.token});
      if (now.status == 404) return not_found(name);
      if (now.status == 200) v1["tags"] = now.body["resource_group"].value("tags", json::object());
    }
    const api::InnerReply r = api.call({"PUT", path, {}, v1, caller.token});
    if (r.status == 409) {
      const api::InnerReply now = api.call({"GET", path, {}, nullptr, caller.token});
      const bool deleting =
          now.status == 200 && now.body["resource_group"].value("deleting", false);
      return arm_error(409, deleting ? "ResourceGroupBeingDeleted" : "InvalidResourceGroupLocation",
                       r.body["error"].value("message", "conflict"));
    }
    if (r.status != 200 && r.status != 201) return from_v1_error(r);
    return arm_reply(r.status, v1_group_json(caller, r.body["resource_group"]));
  }
  if (req.method == "DELETE") {
    // Azure's group delete takes its VMs with it: 202 until the last is gone, polled at
    // {s}/operationresults/rgdelete<id> (Location).
    const api::InnerReply r =
        api.call({"DELETE", path, {{"with_vms", "true"}}, nullptr, caller.token});
    if (r.status == 404) return arm_reply(204, nullptr);  // ARM: deleting nothing is 204
    if (r.status == 409 && r.body["error"].value("code", "") == "locked") {
      return arm_error(409, "ScopeLocked", r.body["error"].value("message", "locked"));
    }
    if (r.status == 202) {
      api::FrontReply reply = arm_reply(202, nullptr);
      reply.headers.emplace_back("Location",
                                 req.base_url + resource_id_prefix(caller) + "/operationresults/" +
                                     std::string(kDeleteToken) +
                                     std::to_string(r.body["resource_group"].value("id", 0L)) +
                                     "?api-version=2019-10-01");
      reply.headers.emplace_back("Retry-After", "1");
      return reply;
    }
    if (r.status != 200) return from_v1_error(r);
    return arm_reply(200, nullptr);
  }
  return arm_error(405, "MethodNotAllowed", "The requested method is not allowed.");
}

api::FrontReply operation_result(api::ApiCaller& api, const Caller& caller,
                                 const std::string& token) {
  std::int64_t id = 0;
  if (token.starts_with(kDeleteToken)) {
    const std::string digits = token.substr(kDeleteToken.size());
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
    if (ec != std::errc{} || end != digits.data() + digits.size()) id = 0;
  }
  if (id <= 0) {
    return arm_error(404, "NotFound", "The operation '" + token + "' could not be found.");
  }
  const api::InnerReply r = api.call({"GET", "/v1/resource-groups", {}, nullptr, caller.token});
  if (r.status != 200) return from_v1_error(r);
  for (const json& g : r.body.value("resource_groups", json::array())) {
    if (g.value("id", 0L) == id) {
      api::FrontReply reply = arm_reply(202, nullptr);
      reply.headers.emplace_back("Retry-After", "1");
      return reply;
    }
  }
  return arm_reply(200, nullptr);
}

}  // namespace corral::compat::azure::internal
