// Who is calling: the ADFS-style OpenID configuration and client-credentials token that `az
// login --service-principal` uses (MSAL treats an authority ending in /adfs as ADFS and skips
// Microsoft's instance discovery), the cloud's metadata document `az cloud register` reads,
// and the subscriptions a token sees (its project's one).
#include <chrono>

#include "common/clock.h"
#include "compat/azure/front.h"

namespace corral::compat::azure::internal {

namespace {

// OAuth 2.0's error body (RFC 6749 5.2), which MSAL shows as "error_description".
api::FrontReply oauth_error(int status, const std::string& error, const std::string& why) {
  return arm_reply(status, {{"error", error}, {"error_description", why}});
}

json openid_configuration(const std::string& base) {
  const std::string adfs = base + "/adfs";
  return {{"issuer", adfs},
          {"authorization_endpoint", adfs + "/oauth2/authorize"},
          {"token_endpoint", adfs + "/oauth2/token"},
          {"token_endpoint_auth_methods_supported", json::array({"client_secret_post"})},
          {"grant_types_supported", json::array({"client_credentials"})},
          {"response_types_supported", json::array({"token"})},
          {"scopes_supported", json::array({"openid"})}};
}

// POST /adfs/oauth2/token, form-encoded (the server parsed it into `query`): the client
// credentials grant, the client a Corral user ("USER" or "USER@PROJECT"), the secret its
// password. The scope (the ARM audience) is not checked: the token is Corral's own.
api::FrontReply issue_token(const api::FrontRequest& req, api::ApiCaller& api) {
  const std::string grant = query_value(req, "grant_type").value_or("");
  if (grant != "client_credentials") {
    return oauth_error(400, "unsupported_grant_type",
                       "only the client_credentials grant is supported (az login "
                       "--service-principal)");
  }
  const std::string client = query_value(req, "client_id").value_or("");
  const std::string secret = query_value(req, "client_secret").value_or("");
  if (client.empty() || secret.empty()) {
    return oauth_error(400, "invalid_request", "client_id and client_secret are required");
  }
  json login = {{"password", secret}};
  if (const std::size_t at = client.rfind('@'); at != std::string::npos) {
    login["user"] = client.substr(0, at);
    login["project"] = client.substr(at + 1);
  } else {
    login["user"] = client;
  }
  const api::InnerReply r = api.call({"POST", "/v1/auth/tokens", {}, login, ""});
  if (r.status != 201) {
    if (r.status == 401 || r.status == 403 || r.status == 404) {
      return oauth_error(401, "invalid_client",
                         "the client id or secret is wrong, or the user holds no role on the "
                         "project (client_id: USER or USER@PROJECT; secret: the password)");
    }
    return oauth_error(r.status, "server_error",
                       "the login failed (HTTP " + std::to_string(r.status) + ")");
  }
  long expires_in = 3600;
  if (r.body.contains("expires_at") && r.body["expires_at"].is_string()) {
    if (const std::optional<Millis> at = parse_time(r.body["expires_at"].get<std::string>())) {
      const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
      expires_in = std::max<long>(1, static_cast<long>((*at - now) / 1000));
    }
  }
  // expires_in as an integer: az adds it to the request's time.
  return arm_reply(200, {{"token_type", "Bearer"},
                         {"access_token", r.body.value("token", "")},
                         {"expires_in", expires_in},
                         {"ext_expires_in", expires_in}});
}

// The metadata document `az cloud register --endpoint-resource-manager URL` reads when the
// AD endpoints are not given: the authority (ADFS) and the token's audience.
json metadata_endpoints(const std::string& base) {
  return {{"galleryEndpoint", base + "/"},
          {"graphEndpoint", base + "/graph/"},
          {"portalEndpoint", base + "/"},
          {"authentication",
           {{"loginEndpoint", base + "/adfs"}, {"audiences", json::array({base + "/"})}}}};
}

}  // namespace

json subscription_json(std::int64_t project, const std::string& name) {
  const std::string id = subscription_id(project);
  return {{"id", "/subscriptions/" + id},
          {"subscriptionId", id},
          {"tenantId", kTenantId},
          {"displayName", name},
          {"state", "Enabled"},
          {"subscriptionPolicies",
           {{"locationPlacementId", "Internal_2014-09-01"},
            {"quotaId", "Internal_2014-09-01"},
            {"spendingLimit", "Off"}}},
          {"authorizationSource", "RoleBased"}};
}

std::optional<api::FrontReply> check_caller(const api::FrontRequest& req, api::ApiCaller& api,
                                            const std::string& subscription, Caller& caller) {
  caller.token = bearer_token(req);
  const api::InnerReply who = api.call({"GET", "/v1/auth/token", {}, nullptr, caller.token});
  if (who.status != 200) {
    if (caller.token.empty()) {
      return arm_error(401, "AuthenticationFailed",
                       "Authentication failed. The 'Authorization' header is missing.");
    }
    return arm_error(401, "InvalidAuthenticationToken",
                     "The access token is invalid or expired: log in again (az login).");
  }
  caller.project = who.body["project"].value("id", 0L);
  caller.project_name = who.body["project"].value("name", "");
  if (project_of_subscription(subscription) != caller.project) {
    return arm_error(404, "SubscriptionNotFound",
                     "The subscription '" + subscription + "' could not be found.");
  }
  caller.subscription = subscription_id(caller.project);
  return std::nullopt;
}

api::FrontReply identity(const api::FrontRequest& req, api::ApiCaller& api) {
  const std::vector<std::string> parts = segments_after(req.path, "");
  const std::string& root = parts.empty() ? req.path : parts[0];
  if (iequals(root, "adfs")) {
    if (parts.size() == 3 && parts[1] == ".well-known" && parts[2] == "openid-configuration" &&
        req.method == "GET") {
      return arm_reply(200, openid_configuration(req.base_url));
    }
    if (parts.size() == 3 && iequals(parts[1], "oauth2") && iequals(parts[2], "token") &&
        req.method == "POST") {
      return issue_token(req, api);
    }
    return oauth_error(404, "invalid_request", "no such endpoint: " + req.method + " " + req.path);
  }
  if (iequals(root, "metadata") && parts.size() == 2 && iequals(parts[1], "endpoints")) {
    return arm_reply(200, metadata_endpoints(req.base_url));
  }
  if (req.method != "GET") {
    return arm_error(405, "MethodNotAllowed", "The requested method is not allowed.");
  }
  const std::string token = bearer_token(req);
  const api::InnerReply who = api.call({"GET", "/v1/auth/token", {}, nullptr, token});
  if (who.status != 200) {
    return arm_error(401, token.empty() ? "AuthenticationFailed" : "InvalidAuthenticationToken",
                     token.empty() ? "Authentication failed. The 'Authorization' header is missing."
                                   : "The access token is invalid or expired.");
  }
  const std::int64_t project = who.body["project"].value("id", 0L);
  const std::string name = who.body["project"].value("name", "");
  if (iequals(root, "tenants") && parts.size() == 1) {
    return arm_reply(200, {{"value", json::array({{{"id", std::string("/tenants/") + kTenantId},
                                                   {"tenantId", kTenantId}}})}});
  }
  if (iequals(root, "subscriptions") && parts.size() == 1) {
    return arm_reply(200, {{"value", json::array({subscription_json(project, name)})}});
  }
  if (iequals(root, "subscriptions") && parts.size() == 2) {
    if (project_of_subscription(parts[1]) != project) {
      return arm_error(404, "SubscriptionNotFound",
                       "The subscription '" + parts[1] + "' could not be found.");
    }
    return arm_reply(200, subscription_json(project, name));
  }
  return arm_error(404, "InvalidResourceType",
                   "The resource type could not be found: GET " + req.path + ".");
}

}  // namespace corral::compat::azure::internal
