#include "api/errors.h"

#include <string_view>

namespace corral::api {
namespace {

struct Mapping {
  int status;
  std::string_view fallback_message;  // when the error carries none
};

Mapping mapping_of(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidState:
      return {409, "the action is not allowed in the VM's current state"};
    case ErrorCode::kUnknownAction:
      return {400, "unknown action"};
    case ErrorCode::kInvalidArgument:
      return {400, "invalid request"};
    case ErrorCode::kNotFound:
      return {404, "not found"};
    case ErrorCode::kConflict:
      return {409, "another operation holds the VM; retry when it has finished"};
    case ErrorCode::kUnavailable:
      return {503, "corral cannot serve this now; retry later"};
    case ErrorCode::kInternal:
      return {500, "internal error"};
    case ErrorCode::kTooLarge:
      return {413, "the request is too large"};
    case ErrorCode::kRateLimited:
      return {429, "too many requests; retry later"};
    case ErrorCode::kUnauthenticated:
      return {401, "authentication required: log in (corral login) or send a token"};
    case ErrorCode::kForbidden:
      return {403, "your role does not allow this"};
    case ErrorCode::kQuotaExceeded:
      return {403, "the project's quota would be exceeded"};
    case ErrorCode::kLocked:
      return {409, "the VM is locked: unlock it first (or ask the cloud's admin)"};
  }
  return {500, "internal error"};
}

HttpError from_error(const Error& error) {
  const Mapping m = mapping_of(error.code);
  HttpError out;
  out.status = m.status;
  nlohmann::json body = {
      {"code", std::string(error_code_name(error.code))},
      {"message", error.message.empty() ? std::string(m.fallback_message) : error.message},
  };
  if (error.code == ErrorCode::kInvalidState) {
    body["state"] = error.state;
    body["allowed_actions"] = error.allowed_actions;
  }
  if (error.code == ErrorCode::kQuotaExceeded && error.quota) {
    body["quota"] = {{"resource", error.quota->resource},
                     {"requested", error.quota->requested},
                     {"used", error.quota->used},
                     {"limit", error.quota->limit}};
  }
  out.body = {{"error", std::move(body)}};
  if (error.code == ErrorCode::kUnauthenticated) {
    // RFC 6750: a 401 names the scheme the client should use.
    out.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"corral\"");
  }
  if (error.code == ErrorCode::kUnavailable || error.code == ErrorCode::kRateLimited) {
    out.headers.emplace_back("Retry-After", "1");
  }
  return out;
}

HttpError from_method(const MethodNotAllowed& wrong) {
  HttpError out;
  out.status = 405;
  std::string allow;
  for (const std::string& m : wrong.allowed) allow += (allow.empty() ? "" : ", ") + m;
  out.body = {{"error",
               {{"code", "method_not_allowed"},
                {"message", wrong.method + " is not allowed on " + wrong.path +
                                (allow.empty() ? std::string() : " (allowed: " + allow + ")")},
                {"allowed_methods", wrong.allowed}}}};
  out.headers.emplace_back("Allow", allow);
  return out;
}

}  // namespace

HttpError to_http(const Failure& failure) {
  if (const auto* error = std::get_if<Error>(&failure)) return from_error(*error);
  return from_method(std::get<MethodNotAllowed>(failure));
}

}  // namespace corral::api
