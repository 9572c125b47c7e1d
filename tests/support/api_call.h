// One HTTP request to a test server with a bearer token, answered as parsed JSON: the calls
// the tenancy, quota and audit tests make as different users.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace corral::testing {

struct ApiReply {
  int status = 0;       // 0: no answer in time (or a stream that stays open)
  nlohmann::json body;  // discarded (is_discarded()) when the body is not JSON
  std::string text;     // the body as sent
};

// `token` empty: no Authorization header. `method`: GET, POST, PUT, PATCH or DELETE.
ApiReply api_call(const std::string& url, const std::string& token, const std::string& method,
                  const std::string& path, const nlohmann::json& body = nullptr, int timeout_s = 5,
                  const std::string& request_id = "");

// The error's message of a refusal ("" when the body has none).
std::string error_message(const ApiReply& reply);

}  // namespace corral::testing
