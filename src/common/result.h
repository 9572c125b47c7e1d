// Result<T> and Error: the one error type every module returns across its boundary.
//
// Contract: no exceptions cross a module boundary. A function that can fail returns
// Result<T> (std::expected<T, Error>) and is [[nodiscard]]. An Error carries a stable
// machine code, a message a person understands, and — for wrong-state errors — the current
// state and the actions allowed there, in the vocabulary the caller spoke. Errors become
// HTTP responses in exactly one function (api/), never anywhere else.
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace corral {

// Stable codes: they appear in API responses ("error.code"); never renumber or rename.
enum class ErrorCode : std::uint8_t {
  kInvalidState = 1,      // the action is not allowed in the current state (HTTP 409)
  kUnknownAction = 2,     // the verb does not exist in the vocabulary (HTTP 400)
  kInvalidArgument = 3,   // malformed or out-of-range input (HTTP 400)
  kNotFound = 4,          // no such VM / operation / host (HTTP 404)
  kConflict = 5,          // another operation holds the VM (HTTP 409)
  kUnavailable = 6,       // a dependency is down or overloaded (HTTP 503)
  kInternal = 7,          // a bug or an unexpected system failure (HTTP 500)
  kTooLarge = 8,          // request body or field too large (HTTP 413)
  kRateLimited = 9,       // too many requests (HTTP 429)
  kUnauthenticated = 10,  // no credentials, or ones that prove nothing (HTTP 401)
  kForbidden = 11,        // the caller's role does not allow the request (HTTP 403)
  kQuotaExceeded = 12,    // the project's quota would be exceeded (HTTP 403; Error::quota)
  kLocked = 13,  // the VM is locked (lifecycle/lock.h) and the caller is not the admin (409)
};
inline constexpr ErrorCode kLastErrorCode = ErrorCode::kLocked;

std::string_view error_code_name(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  // Set for kInvalidState: the current state and the verbs allowed there, both in the
  // vocabulary the request used.
  std::string state;
  std::vector<std::string> allowed_actions;
  // Set for kQuotaExceeded: which resource, how much the request asked for, how much the
  // project uses, and its limit (Nova: "Requested 4, but already used 20 of 20 cores").
  struct Quota {
    std::string resource;
    std::int64_t requested = 0;
    std::int64_t used = 0;
    std::int64_t limit = 0;
    friend bool operator==(const Quota&, const Quota&) = default;
  };
  std::optional<Quota> quota{};

  static Error invalid_argument(std::string message) {
    return Error{ErrorCode::kInvalidArgument, std::move(message), {}, {}};
  }
  static Error not_found(std::string message) {
    return Error{ErrorCode::kNotFound, std::move(message), {}, {}};
  }
  static Error internal(std::string message) {
    return Error{ErrorCode::kInternal, std::move(message), {}, {}};
  }
};

template <typename T>
using Result = std::expected<T, Error>;

using Status = std::expected<void, Error>;

inline std::unexpected<Error> fail(Error error) { return std::unexpected<Error>(std::move(error)); }

}  // namespace corral
