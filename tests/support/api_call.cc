#include "support/api_call.h"

#include <httplib.h>

namespace corral::testing {

ApiReply api_call(const std::string& url, const std::string& token, const std::string& method,
                  const std::string& path, const nlohmann::json& body, int timeout_s,
                  const std::string& request_id) {
  httplib::Client c(url);
  c.set_connection_timeout(0, 500'000);
  c.set_read_timeout(timeout_s, 0);
  if (!token.empty()) c.set_bearer_token_auth(token);
  httplib::Headers headers;
  if (!request_id.empty()) headers.emplace("X-Request-Id", request_id);
  const std::string text = body.is_null() ? std::string() : body.dump();
  httplib::Result r = method == "GET"     ? c.Get(path, headers)
                      : method == "POST"  ? c.Post(path, headers, text, "application/json")
                      : method == "PUT"   ? c.Put(path, headers, text, "application/json")
                      : method == "PATCH" ? c.Patch(path, headers, text, "application/json")
                                          : c.Delete(path, headers);
  if (!r) return {};
  return {r->status, nlohmann::json::parse(r->body, nullptr, false), r->body};
}

std::string error_message(const ApiReply& reply) {
  const nlohmann::json& b = reply.body;
  if (!b.is_object() || !b.contains("error") || !b["error"].is_object()) return "";
  const nlohmann::json& m = b["error"]["message"];
  return m.is_string() ? m.get<std::string>() : std::string();
}

}  // namespace corral::testing
