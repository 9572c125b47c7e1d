// What Nova reports beside servers, from the v1 reports: instance actions from the audit log
// (GET /v1/vms/{id}/actions), os-simple-tenant-usage from the usage (GET /v1/usage, which
// carries Nova's body), os-quota-sets and limits from the project's quotas.
#include <map>
#include <string>
#include <string_view>

#include "compat/openstack/front.h"

namespace corral::compat::openstack::internal {

namespace {

using nlohmann::json;

// The audit log's verb (in the vocabulary the request used) as Nova's instance action name
// (nova/compute/instance_actions.py).
std::string nova_action_name(const std::string& verb) {
  static const std::map<std::string_view, std::string_view> kNames = {
      {"shutdown", "stop"},
      {"confirm_resize", "confirmResize"},
      {"revert_resize", "revertResize"},
      {"shelve_offload", "shelveOffload"},
      {"snapshot", "createImage"},
      {"backup", "createBackup"},
      {"live_migrate", "live-migration"},
      {"reset_state", "resetState"},
      {"set_admin_password", "changePassword"},
      {"terminate", "delete"},
      {"reboot_hard", "reboot"},
  };
  const auto it = kNames.find(verb);
  return it == kNames.end() ? verb : std::string(it->second);
}

json action_json(const json& entry, const std::string& server) {
  const std::string at = openstack_time(entry["at"]);
  return {
      {"action", nova_action_name(entry.value("verb", ""))},
      {"instance_uuid", server},
      {"request_id", entry.value("request_id", "")},
      {"user_id", entry.value("user", json("")).is_string() ? entry["user"] : json("")},
      {"project_id", entry.value("project", json("")).is_string() ? entry["project"] : json("")},
      {"start_time", at},
      {"updated_at", at},
      {"message", entry.value("outcome", "") == "failed" ? json("Error") : json(nullptr)}};
}

// Nova's times ("2026-12-01T00:00:00.000000", "2026-12-01 00:00:00") as v1 reads them.
std::string v1_time(std::string t) {
  if (t.size() > 10 && t[10] == ' ') t[10] = 'T';
  if (const std::size_t dot = t.find('.'); dot != std::string::npos) t = t.substr(0, dot);
  if (!t.empty() && t.back() != 'Z' && t.size() > 10) t += "Z";
  return t;
}

}  // namespace

api::FrontReply instance_actions(const api::FrontRequest& /*request*/, api::ApiCaller& api,
                                 const std::string& token, const std::string& server,
                                 const std::string& request_id) {
  const api::InnerReply r =
      api.call({"GET", "/v1/vms/" + server + "/actions", {{"limit", "1000"}}, nullptr, token});
  if (r.status != 200) return from_v1_error(r, "", server);
  // Nova records an action when the API accepts it; a refusal leaves none.
  json actions = json::array();
  for (const json& entry : r.body.value("actions", json::array())) {
    if (entry.value("outcome", "") == "refused") continue;
    if (entry.value("method", "GET") == "GET") continue;
    actions.push_back(action_json(entry, server));
  }
  if (request_id.empty()) {
    // Newest first, as Nova lists them.
    json newest_first = json::array();
    for (auto it = actions.rbegin(); it != actions.rend(); ++it) newest_first.push_back(*it);
    return json_reply(200, {{"instanceActions", newest_first}});
  }
  for (json& action : actions) {
    if (action["request_id"] == request_id) {
      action["events"] = json::array();
      return json_reply(200, {{"instanceAction", action}});
    }
  }
  return nova_error(404,
                    "Action " + request_id + " on instance " + server + " could not be found.");
}

api::FrontReply tenant_usage(const api::FrontRequest& request, api::ApiCaller& api,
                             const std::string& token, const std::vector<std::string>& rest) {
  std::multimap<std::string, std::string> query;
  if (const std::optional<std::string> start = query_value(request, "start")) {
    query.emplace("from", v1_time(*start));
  }
  if (const std::optional<std::string> end = query_value(request, "end")) {
    query.emplace("to", v1_time(*end));
  }
  if (rest.empty()) {
    query.emplace("all_projects", "true");
  } else {
    // The caller's own project is the default scope (naming it would ask an admin's right).
    const api::InnerReply who = api.call({"GET", "/v1/auth/token", {}, nullptr, token});
    const json project = who.status == 200 ? who.body["project"] : json::object();
    if (rest[0] != std::to_string(project.value("id", 0)) && rest[0] != project.value("name", "")) {
      query.emplace("project", rest[0]);
    }
  }
  api::InnerReply r = api.call({"GET", "/v1/usage", query, nullptr, token});
  if (r.status == 403 && rest.empty()) {  // not the cloud's admin: their own project
    query.erase("all_projects");
    r = api.call({"GET", "/v1/usage", query, nullptr, token});
  }
  if (r.status != 200) return from_v1_error(r);
  json usages = r.body.value("tenant_usages", json::array());
  const bool detailed = query_value(request, "detailed").value_or("0") == "1";
  for (json& u : usages) {
    u["start"] = openstack_time(u["start"]);
    u["stop"] = openstack_time(u["stop"]);
    if (!rest.empty() || detailed) {
      for (json& s : u["server_usages"]) {
        s["started_at"] = openstack_time(s["started_at"]);
        if (s.contains("ended_at")) {
          s["ended_at"] = s["ended_at"].is_string() && s["ended_at"] != ""
                              ? json(openstack_time(s["ended_at"]))
                              : json(nullptr);
        }
      }
    } else {
      u.erase("server_usages");
    }
  }
  if (rest.empty()) return json_reply(200, {{"tenant_usages", usages}});
  if (usages.empty()) {
    // A project with no VM in the window: Nova answers an empty object.
    return json_reply(200, {{"tenant_usage", json::object()}});
  }
  return json_reply(200, {{"tenant_usage", usages[0]}});
}

api::FrontReply quota_sets(const api::FrontRequest& /*request*/, api::ApiCaller& api,
                           const std::string& token, const std::vector<std::string>& rest) {
  if (rest.empty()) return nova_error(404, "a project id is needed: os-quota-sets/{project_id}");
  const api::InnerReply r =
      api.call({"GET", "/v1/projects/" + rest[0] + "/quotas", {}, nullptr, token});
  if (r.status != 200) return from_v1_error(r);
  const bool defaults = rest.size() == 2 && rest[1] == "defaults";
  const bool detail = rest.size() == 2 && rest[1] == "detail";
  json set = {{"id", rest[0]}};
  const json quotas = r.body.value("quotas", json::object());  // kept: items() would dangle
  for (const auto& [name, q] : quotas.items()) {
    if (!q["nova"].is_string()) continue;
    const json limit = q.at(defaults ? "default" : "limit");
    if (detail) {
      set[q["nova"].get<std::string>()] = {
          {"limit", limit}, {"in_use", q["in_use"]}, {"reserved", q["reserved"]}};
    } else {
      set[q["nova"].get<std::string>()] = limit;
    }
  }
  return json_reply(200, {{"quota_set", set}});
}

api::FrontReply limits(const api::FrontRequest& /*request*/, api::ApiCaller& api,
                       const std::string& token) {
  const api::InnerReply who = api.call({"GET", "/v1/auth/token", {}, nullptr, token});
  if (who.status != 200) return from_v1_error(who);
  const std::string project = std::to_string(who.body["project"].value("id", 0));
  const api::InnerReply r =
      api.call({"GET", "/v1/projects/" + project + "/quotas", {}, nullptr, token});
  if (r.status != 200) return from_v1_error(r);
  const json quotas = r.body.value("quotas", json::object());
  const auto limit = [&](const char* name) {
    return quotas.contains(name) ? quotas[name].value("limit", -1L) : -1L;
  };
  const auto used = [&](const char* name) {
    return quotas.contains(name) ? quotas[name].value("in_use", 0L) : 0L;
  };
  return json_reply(200, {{"limits",
                           {{"rate", json::array()},
                            {"absolute",
                             {{"maxTotalInstances", limit("vms")},
                              {"maxTotalCores", limit("vcpus")},
                              {"maxTotalRAMSize", limit("memory_mib")},
                              {"maxServerGroups", limit("server_groups")},
                              {"maxServerGroupMembers", limit("server_group_members")},
                              {"totalInstancesUsed", used("vms")},
                              {"totalCoresUsed", used("vcpus")},
                              {"totalRAMUsed", used("memory_mib")},
                              {"totalServerGroupsUsed", used("server_groups")}}}}}});
}

}  // namespace corral::compat::openstack::internal
