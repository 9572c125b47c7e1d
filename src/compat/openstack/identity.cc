// Keystone v3, the subset the clients use: the version document, password authentication
// scoped to a project (Corral's login), token validation and revocation, and project lists.
#include <string>

#include "compat/openstack/front.h"

namespace corral::compat::openstack::internal {

namespace {

using nlohmann::json;

const json kDomain = {{"id", "default"}, {"name", "Default"}};

json version_doc(const std::string& base) {
  return {{"id", "v3.14"},
          {"status", "stable"},
          {"updated", "2020-04-07T00:00:00Z"},
          {"links", json::array({{{"rel", "self"}, {"href", base + "/identity/v3/"}}})},
          {"media-types", json::array({{{"base", "application/json"},
                                        {"type", "application/vnd.openstack.identity-v3+json"}}})}};
}

api::FrontReply keystone_error(int status, const std::string& message) {
  const char* title = status == 401   ? "Unauthorized"
                      : status == 403 ? "Forbidden"
                      : status == 404 ? "Not Found"
                                      : "Bad Request";
  return json_reply(status,
                    {{"error", {{"code", status}, {"message", message}, {"title", title}}}});
}

// A v1 failure as Keystone says it; the message is Corral's.
api::FrontReply keystone_from_v1(const api::InnerReply& r) {
  std::string message = "error";
  if (r.body.is_object() && r.body.contains("error")) {
    message = r.body["error"].value("message", message);
  }
  return keystone_error(r.status, message);
}

json endpoint(const std::string& type, const std::string& name, const std::string& url) {
  return {{"type", type},
          {"name", name},
          {"id", type},
          {"endpoints", json::array({{{"id", type + "-public"},
                                      {"interface", "public"},
                                      {"region", "RegionOne"},
                                      {"region_id", "RegionOne"},
                                      {"url", url}}})}};
}

// A v1 principal (POST /v1/auth/tokens, GET /v1/auth/token) as Keystone's token body.
json token_body(const json& principal, const std::string& base) {
  const std::string expires = principal["expires_at"].is_string()
                                  ? openstack_time(principal["expires_at"])
                                  : std::string("2099-01-01T00:00:00Z");
  const std::string role = principal.value("role", "member");
  json roles = json::array({{{"id", role}, {"name", role}}});
  if (role == "admin" || role == "manager") roles.push_back({{"id", "member"}, {"name", "member"}});
  if (role != "reader") roles.push_back({{"id", "reader"}, {"name", "reader"}});
  return {{"token",
           {{"methods", json::array({"password"})},
            {"expires_at", expires},
            {"issued_at", expires},
            {"audit_ids", json::array({std::to_string(principal.value("token_id", 0))})},
            {"user",
             {{"id", std::to_string(principal["user"].value("id", 0))},
              {"name", principal["user"].value("name", "")},
              {"domain", kDomain},
              {"password_expires_at", nullptr}}},
            {"project",
             {{"id", std::to_string(principal["project"].value("id", 0))},
              {"name", principal["project"].value("name", "")},
              {"domain", kDomain}}},
            {"is_domain", false},
            {"roles", roles},
            {"catalog", json::array({endpoint("compute", "nova", base + "/compute/v2.1"),
                                     endpoint("image", "glance", base + "/image"),
                                     endpoint("identity", "keystone", base + "/identity/v3")})}}}};
}

api::FrontReply issue_token(const api::FrontRequest& req, api::ApiCaller& api) {
  const json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return keystone_error(400, "the request body is not a JSON object");
  }
  const json* identity = nullptr;
  if (body.contains("auth") && body["auth"].is_object() && body["auth"].contains("identity")) {
    identity = &body["auth"]["identity"];
  }
  if (identity == nullptr || !identity->is_object() || !identity->contains("password")) {
    return keystone_error(400, "only password authentication is supported: auth.identity.password");
  }
  const json& user = (*identity)["password"].value("user", json::object());
  std::string user_name = user.value("name", "");
  if (user_name.empty() && user.contains("id") && user["id"].is_string()) {
    user_name = user["id"].get<std::string>();
  }
  const std::string password = user.value("password", "");
  if (user_name.empty() || password.empty()) {
    return keystone_error(400, "auth.identity.password.user needs a name (or id) and a password");
  }
  json login = {{"user", user_name}, {"password", password}};
  if (body["auth"].contains("scope") && body["auth"]["scope"].is_object()) {
    const json& scope = body["auth"]["scope"];
    if (scope.contains("project") && scope["project"].is_object()) {
      const json& project = scope["project"];
      if (project.contains("name") && project["name"].is_string()) {
        login["project"] = project["name"];
      } else if (project.contains("id") && project["id"].is_string()) {
        login["project"] = project["id"];
      }
    }
  }
  const api::InnerReply r = api.call({"POST", "/v1/auth/tokens", {}, login, ""});
  if (r.status != 201) {
    if (r.status == 401 || r.status == 403 || r.status == 404) {
      return keystone_error(401, "The request you have made requires authentication.");
    }
    return keystone_from_v1(r);
  }
  api::FrontReply reply = json_reply(201, token_body(r.body, req.base_url));
  reply.headers.emplace_back("X-Subject-Token", r.body.value("token", ""));
  return reply;
}

}  // namespace

api::FrontReply identity(const api::FrontRequest& req, api::ApiCaller& api) {
  const std::vector<std::string> parts = segments_after(req.path, "/identity");
  if (parts.empty() && req.method == "GET") {
    return json_reply(300, {{"versions", {{"values", json::array({version_doc(req.base_url)})}}}});
  }
  if (parts.empty() || parts[0] != "v3") return keystone_error(404, "no such endpoint");
  const std::string caller = req.header("x-auth-token");
  if (parts.size() == 1 && req.method == "GET") {
    return json_reply(200, {{"version", version_doc(req.base_url)}});
  }
  if (parts.size() == 3 && parts[1] == "auth" && parts[2] == "tokens") {
    if (req.method == "POST") return issue_token(req, api);
    const std::string subject = req.header("x-subject-token");
    if (subject.empty()) return keystone_error(400, "X-Subject-Token is missing");
    if (req.method == "GET" || req.method == "HEAD") {
      // Validation: the subject token itself is asked who it is (a caller may validate their
      // own; Keystone lets any service validate any, Corral does not expose others' tokens).
      const api::InnerReply r = api.call({"GET", "/v1/auth/token", {}, nullptr, subject});
      if (r.status != 200) return keystone_error(404, "Could not find token.");
      api::FrontReply reply = json_reply(200, token_body(r.body, req.base_url));
      reply.headers.emplace_back("X-Subject-Token", subject);
      return reply;
    }
    if (req.method == "DELETE") {
      const api::InnerReply r = api.call({"DELETE", "/v1/auth/token", {}, nullptr, subject});
      if (r.status != 200) return keystone_error(404, "Could not find token.");
      return json_reply(204, nullptr);
    }
  }
  const bool user_projects = parts.size() == 4 && parts[1] == "users" && parts[3] == "projects";
  const bool auth_projects = parts.size() == 3 && parts[1] == "auth" && parts[2] == "projects";
  if (req.method == "GET" &&
      ((parts.size() == 2 && parts[1] == "projects") || user_projects || auth_projects)) {
    const api::InnerReply r = api.call({"GET", "/v1/projects", {}, nullptr, caller});
    if (r.status != 200) return keystone_from_v1(r);
    json projects = json::array();
    for (const json& p : r.body.value("projects", json::array())) {
      projects.push_back({{"id", std::to_string(p.value("id", 0))},
                          {"name", p.value("name", "")},
                          {"domain_id", "default"},
                          {"description", p.value("description", "")},
                          {"enabled", p.value("enabled", true)},
                          {"is_domain", false},
                          {"parent_id", "default"}});
    }
    return json_reply(200, {{"projects", projects}});
  }
  return keystone_error(404, "no such endpoint: " + req.method + " " + req.path);
}

}  // namespace corral::compat::openstack::internal
