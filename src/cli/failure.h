// Why a client command failed, and the exit code and message that say so.
//
// Contract: every client command returns CliResult<T>; a Failure carries the API's error
// (code, message, and for invalid_state the state and allowed verbs) or a local reason.
// Exit codes: 0 ok, 1 refused (the API said no, or the command's goal was not reached),
// 2 usage (bad arguments), 3 unreachable (no answer from the server).
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

#include "common/result.h"

namespace corral::cli {

enum class FailureKind : std::uint8_t {
  kRefused,      // the API answered with an error (4xx/5xx) or something unreadable
  kNotReached,   // the command's goal was not reached (e.g. `vm wait` timed out)
  kUsage,        // bad arguments, found before anything was sent
  kUnreachable,  // no answer from the server
};

struct Failure {
  FailureKind kind = FailureKind::kRefused;
  Error error;          // for kRefused: as the API sent it; otherwise the message
  int http_status = 0;  // 0 when there was no response
  std::string url;      // for kUnreachable: the server's URL
  std::string hint;     // for kUnreachable: what to check ("": kServerHint)
};

template <typename T>
using CliResult = std::expected<T, Failure>;

inline std::unexpected<Failure> fail(Failure failure) {
  return std::unexpected<Failure>(std::move(failure));
}

inline constexpr std::string_view kServerHint = "is `corral server` running? (make run)";

int exit_code(FailureKind kind);

// The error code named by the API ("invalid_state"); kInternal if unknown.
ErrorCode parse_error_code(std::string_view name);

// A failure from an error response: parses {"error": {"code", "message", "state"?,
// "allowed_actions"?}}; falls back to the HTTP status when the body is not that shape.
Failure api_failure(int http_status, std::string_view body);
Failure usage_failure(std::string message);
Failure not_reached_failure(std::string message);
Failure unreachable_failure(std::string url, std::string reason, std::string hint = {});

// What a person reads on stderr: "<command>: <message>" and, for invalid_state, the lines
// "state: X" and "allowed: a, b, c"; for kUnreachable, the URL and a hint.
std::string format_failure(std::string_view command, const Failure& failure);

// Prints format_failure() to stderr and returns the exit code; 0 for success.
int report(std::string_view command, const CliResult<void>& result);

}  // namespace corral::cli
