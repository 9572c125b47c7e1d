// The one mapping from an error to an HTTP response.
//
// Contract: every error the API returns — a corral::Error from the engine, the lifecycle or
// request validation, or a failure only HTTP knows (a wrong method) — becomes a status, a
// JSON body {"error": {"code", "message", ...}} and headers here, and nowhere else.
// Codes are ErrorCode's stable names (error_code_name) plus "method_not_allowed".
// kInvalidState bodies add "state" and "allowed_actions" (in the caller's vocabulary).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "common/result.h"

namespace corral::api {

// The path exists but not with this method (HTTP 405, with an Allow header).
struct MethodNotAllowed {
  std::string method;
  std::string path;
  std::vector<std::string> allowed;  // e.g. {"GET", "DELETE"}
};

using Failure = std::variant<Error, MethodNotAllowed>;

struct HttpError {
  int status = 500;
  nlohmann::json body;                                       // {"error": {...}}
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers (Allow, Retry-After)
};

[[nodiscard]] HttpError to_http(const Failure& failure);

}  // namespace corral::api
