#include "cli/failure.h"

#include <fmt/core.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <utility>

namespace corral::cli {

int exit_code(FailureKind kind) {
  switch (kind) {
    case FailureKind::kRefused:
    case FailureKind::kNotReached:
      return 1;
    case FailureKind::kUsage:
      return 2;
    case FailureKind::kUnreachable:
      return 3;
  }
  return 1;
}

ErrorCode parse_error_code(std::string_view name) {
  for (int i = 1; i <= static_cast<int>(kLastErrorCode); ++i) {
    const auto code = static_cast<ErrorCode>(i);
    if (error_code_name(code) == name) return code;
  }
  return ErrorCode::kInternal;
}

Failure api_failure(int http_status, std::string_view body) {
  Failure failure;
  failure.kind = FailureKind::kRefused;
  failure.http_status = http_status;
  failure.error.code = http_status == 404 ? ErrorCode::kNotFound : ErrorCode::kInternal;
  const nlohmann::json parsed = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  const bool shaped = parsed.is_object() && parsed.contains("error") && parsed["error"].is_object();
  if (!shaped) {
    std::string text(body.substr(0, 200));
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    failure.error.message =
        fmt::format("the server answered HTTP {}{}{}", http_status, text.empty() ? "" : ": ", text);
    return failure;
  }
  const nlohmann::json& error = parsed["error"];
  if (error.contains("code") && error["code"].is_string()) {
    failure.error.code = parse_error_code(error["code"].get<std::string>());
  }
  if (error.contains("message") && error["message"].is_string()) {
    failure.error.message = error["message"].get<std::string>();
  }
  if (failure.error.message.empty()) {
    failure.error.message = fmt::format("the server answered HTTP {} ({})", http_status,
                                        error_code_name(failure.error.code));
  }
  if (error.contains("state") && error["state"].is_string()) {
    failure.error.state = error["state"].get<std::string>();
  }
  if (error.contains("allowed_actions") && error["allowed_actions"].is_array()) {
    for (const nlohmann::json& verb : error["allowed_actions"]) {
      if (verb.is_string()) failure.error.allowed_actions.push_back(verb.get<std::string>());
    }
  }
  return failure;
}

Failure usage_failure(std::string message) {
  Failure failure;
  failure.kind = FailureKind::kUsage;
  failure.error = Error::invalid_argument(std::move(message));
  return failure;
}

Failure not_reached_failure(std::string message) {
  Failure failure;
  failure.kind = FailureKind::kNotReached;
  failure.error = Error{ErrorCode::kConflict, std::move(message), {}, {}};
  return failure;
}

Failure unreachable_failure(std::string url, std::string reason, std::string hint) {
  Failure failure;
  failure.kind = FailureKind::kUnreachable;
  failure.error = Error{ErrorCode::kUnavailable, std::move(reason), {}, {}};
  failure.url = std::move(url);
  failure.hint = std::move(hint);
  return failure;
}

std::string format_failure(std::string_view command, const Failure& failure) {
  switch (failure.kind) {
    case FailureKind::kUnreachable:
      return fmt::format("{}: cannot reach the server at {}: {}\nhint: {}\n", command, failure.url,
                         failure.error.message,
                         failure.hint.empty() ? kServerHint : std::string_view(failure.hint));
    case FailureKind::kUsage:
      return fmt::format("{}: {}\nRun with --help for more information.\n", command,
                         failure.error.message);
    case FailureKind::kNotReached:
      return fmt::format("{}: {}\n", command, failure.error.message);
    case FailureKind::kRefused:
      break;
  }
  std::string out = fmt::format("{}: {}\n", command, failure.error.message);
  if (failure.error.code == ErrorCode::kInvalidState) {
    if (!failure.error.state.empty()) out += fmt::format("state: {}\n", failure.error.state);
    std::string allowed;
    for (const std::string& verb : failure.error.allowed_actions) {
      allowed += (allowed.empty() ? "" : ", ") + verb;
    }
    out += fmt::format("allowed: {}\n", allowed.empty() ? "(none)" : allowed);
  }
  return out;
}

int report(std::string_view command, const CliResult<void>& result) {
  if (result) return 0;
  std::fflush(stdout);
  fmt::print(stderr, "{}", format_failure(command, result.error()));
  return exit_code(result.error().kind);
}

}  // namespace corral::cli
