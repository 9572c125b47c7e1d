#include "compat/openstack/front.h"

#include <exception>
#include <string>

namespace corral::compat::openstack {

std::vector<std::string> OpenStackFrontEnd::prefixes() const {
  return {"/identity", "/compute", "/image"};
}

api::FrontReply OpenStackFrontEnd::handle(const api::FrontRequest& request, api::ApiCaller& api) {
  if (request.path.starts_with("/identity")) return internal::identity(request, api);
  if (request.path.starts_with("/compute")) return internal::compute(request, api);
  return internal::image(request, api);
}

namespace internal {

api::FrontReply json_reply(int status, const nlohmann::json& body) {
  api::FrontReply reply;
  reply.status = status;
  if (!body.is_null()) {
    reply.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  return reply;
}

std::vector<std::string> segments_after(const std::string& path, const std::string& prefix) {
  return api::path_segments(path, prefix);
}

std::optional<long> query_limit(const api::FrontRequest& request, long fallback) {
  const std::optional<std::string> text = query_value(request, "limit");
  if (!text) return fallback;
  long limit = -1;
  try {
    limit = std::stol(*text);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (limit < 0) return std::nullopt;
  return limit;
}

std::optional<std::string> query_value(const api::FrontRequest& request, const std::string& key) {
  const auto it = request.query.find(key);
  if (it == request.query.end()) return std::nullopt;
  return it->second;
}

std::string openstack_time(const nlohmann::json& corral_time) {
  if (!corral_time.is_string()) return "";
  std::string t = corral_time.get<std::string>();
  if (const std::size_t dot = t.find('.'); dot != std::string::npos) t = t.substr(0, dot) + "Z";
  return t;
}

}  // namespace internal
}  // namespace corral::compat::openstack
