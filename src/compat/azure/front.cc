// Dispatch by path, and what the Azure front end's parts share: ids, errors, paths.
#include "compat/azure/front.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace corral::compat::azure {

using nlohmann::json;

namespace {
constexpr std::string_view kSubscriptionPrefix = "00000000-0000-0000-0000-";
}  // namespace

std::string subscription_id(std::int64_t project) {
  std::string digits = std::to_string(project);
  if (digits.size() < 12) digits.insert(0, 12 - digits.size(), '0');
  return std::string(kSubscriptionPrefix) + digits;
}

std::optional<std::int64_t> project_of_subscription(const std::string& id) {
  if (id.size() != kSubscriptionPrefix.size() + 12 || !id.starts_with(kSubscriptionPrefix)) {
    return std::nullopt;
  }
  std::int64_t project = 0;
  const char* begin = id.data() + kSubscriptionPrefix.size();
  const auto [end, ec] = std::from_chars(begin, id.data() + id.size(), project);
  if (ec != std::errc{} || end != id.data() + id.size() || project <= 0) return std::nullopt;
  return project;
}

std::vector<std::string> AzureFrontEnd::prefixes() const {
  return {"/adfs", "/metadata", "/tenants", "/subscriptions"};
}

api::FrontReply AzureFrontEnd::handle(const api::FrontRequest& request, api::ApiCaller& api) {
  using internal::iequals;
  const std::vector<std::string> parts = internal::segments_after(request.path, "");
  if (parts.empty() || !iequals(parts[0], "subscriptions") || parts.size() < 3) {
    return internal::identity(request, api);  // also GET /subscriptions[/{id}]
  }
  internal::Caller caller;
  if (std::optional<api::FrontReply> refused =
          internal::check_caller(request, api, parts[1], caller)) {
    return *refused;
  }
  const std::vector<std::string> rest(parts.begin() + 2, parts.end());
  if (iequals(rest[0], "resourcegroups")) {
    // {s}/resourceGroups/{rg}/providers/Microsoft.Compute|Microsoft.Network/...
    if (rest.size() >= 4 && iequals(rest[2], "providers") &&
        (iequals(rest[3], "Microsoft.Compute") || iequals(rest[3], "Microsoft.Network") ||
         iequals(rest[3], "Microsoft.Resources"))) {
      std::optional<internal::Group> group = internal::find_group(api, caller, rest[1]);
      if (!group) {
        return internal::arm_error(404, "ResourceGroupNotFound",
                                   "Resource group '" + rest[1] + "' could not be found.");
      }
      const std::vector<std::string> under(rest.begin() + 4, rest.end());
      if (iequals(rest[3], "Microsoft.Network")) {
        return internal::network(request, api, caller, *group, under);
      }
      if (iequals(rest[3], "Microsoft.Resources")) {
        return internal::deployments(request, api, caller, *group, under, deployments_);
      }
      return internal::compute(request, api, caller, group, under);
    }
    return internal::resource_groups(request, api, caller, rest);
  }
  if (rest.size() == 2 && iequals(rest[0], "operationresults") && request.method == "GET") {
    return internal::operation_result(api, caller, rest[1]);
  }
  if (rest.size() == 1 && iequals(rest[0], "locations") && request.method == "GET") {
    return internal::locations(api, caller);
  }
  if (rest.size() >= 2 && iequals(rest[0], "providers") && iequals(rest[1], "Microsoft.Compute")) {
    return internal::compute(request, api, caller, std::nullopt,
                             std::vector<std::string>(rest.begin() + 2, rest.end()));
  }
  return internal::arm_error(404, "InvalidResourceType",
                             "The resource type could not be found in the namespace for " +
                                 request.method + " " + request.path + ".");
}

namespace internal {

api::FrontReply arm_reply(int status, const json& body) {
  api::FrontReply reply;
  reply.status = status;
  if (!body.is_null()) {
    reply.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  }
  return reply;
}

api::FrontReply arm_error(int status, const std::string& code, const std::string& message) {
  return arm_reply(status, {{"error", {{"code", code}, {"message", message}}}});
}

api::FrontReply from_v1_error(const api::InnerReply& r, const std::string& verb,
                              const std::string& vm, const std::string& group,
                              const std::string& running) {
  const json error = r.body.is_object() && r.body.contains("error") && r.body["error"].is_object()
                         ? r.body["error"]
                         : json::object();
  const std::string code = error.value("code", "");
  const std::string message = error.value("message", "error");
  if (r.status == 404 && !vm.empty()) {
    return arm_error(404, "ResourceNotFound",
                     "The Resource 'Microsoft.Compute/virtualMachines/" + vm +
                         "' under resource group '" + group + "' was not found.");
  }
  if (r.status == 409 && code == "invalid_state") {
    // Another operation running is ARM's Conflict; a state the verb cannot start from is
    // OperationNotAllowed. Either way the allowed verbs are Azure's (the request's vocabulary).
    std::string allowed;
    for (const json& a : error.value("allowed_actions", json::array())) {
      if (!a.is_string()) continue;
      allowed += (allowed.empty() ? "" : ", ") + a.get<std::string>();
    }
    const std::string tail = allowed.empty() ? std::string(" Nothing is allowed now.")
                                             : " Allowed now: " + allowed + ".";
    if (!running.empty()) {
      return arm_error(409, "Conflict",
                       "Operation '" + verb + "' is not allowed on VM '" + vm +
                           "' since another operation ('" + running + "') is in progress." + tail);
    }
    // The Azure view's state is "<provisioning>, <power>": Azure's message names the power.
    const std::string state = error.value("state", "?");
    const std::size_t comma = state.find(", ");
    const std::string power = comma == std::string::npos ? state : state.substr(comma + 2);
    return arm_error(409, "OperationNotAllowed",
                     "Operation '" + verb + "' is not allowed on VM '" + vm + "' since the VM is " +
                         power + "." + tail);
  }
  if (r.status == 409 && code == "locked") return arm_error(409, "ScopeLocked", message);
  if (r.status == 409) return arm_error(409, "Conflict", message);
  if (r.status == 403 && code == "quota_exceeded") {
    return arm_error(409, "OperationNotAllowed",
                     "Operation could not be completed as it results in exceeding approved "
                     "quota: " +
                         message);
  }
  if (r.status == 401) return arm_error(401, "InvalidAuthenticationToken", message);
  if (r.status == 403) return arm_error(403, "AuthorizationFailed", message);
  if (r.status == 404) return arm_error(404, "NotFound", message);
  if (r.status == 429) return arm_error(429, "TooManyRequests", message);
  if (r.status == 400) return arm_error(400, "InvalidParameter", message);
  return arm_error(r.status >= 500 ? r.status : 500, "InternalServerError", message);
}

bool iequals(const std::string& a, const std::string& b) {
  return std::ranges::equal(a, b, [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

std::vector<std::string> segments_after(const std::string& path, const std::string& prefix) {
  return api::path_segments(path, prefix);
}

std::optional<std::string> query_value(const api::FrontRequest& request, const std::string& key) {
  for (const auto& [name, value] : request.query) {
    if (iequals(name, key)) return value;
  }
  return std::nullopt;
}

std::string bearer_token(const api::FrontRequest& request) {
  const std::string header = request.header("authorization");
  if (header.size() > 7 && iequals(header.substr(0, 7), "Bearer ")) return header.substr(7);
  return "";
}

std::string resource_id_prefix(const Caller& caller) {
  return "/subscriptions/" + caller.subscription;
}

}  // namespace internal
}  // namespace corral::compat::azure
