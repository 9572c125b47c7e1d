// The fence guard's protocol, version 1: one JSON object per line over a unix socket
// (<agent data dir>/fence-guard.sock), a reply line for each request.
//   {"v":1,"op":"renew","lease_ms":6000,"vms":[{"vm":7,"pid":1234,"start_time":5678}]}
//   {"v":1,"op":"clear"}
//   {"v":1,"op":"status"}
// Replies: {"ok":true,"armed":B,"lease_ms":N,"remaining_ms":N,"vms":[...],"fenced":N} or
// {"ok":false,"error":"..."}. A line that is not such a request gets an error reply; the
// guard never stops on bad input.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "agent/guard/fence_lease.h"
#include "common/result.h"

namespace corral::agent::guard {

inline constexpr int kProtocolVersion = 1;
inline constexpr std::size_t kMaxLineBytes = 1 << 20;

enum class GuardOp : std::uint8_t { kRenew = 0, kClear = 1, kStatus = 2 };

struct GuardRequest {
  GuardOp op = GuardOp::kStatus;
  Millis lease_ms = 0;
  std::vector<FencedVm> vms;
};

struct GuardStatus {
  bool armed = false;
  Millis lease_ms = 0;
  Millis remaining_ms = 0;  // until the lease runs out (armed only)
  std::vector<FencedVm> vms;
  int fenced = 0;  // processes the guard has stopped since it started
};

[[nodiscard]] Result<GuardRequest> parse_request(std::string_view line);
std::string render_request(const GuardRequest& request);
std::string render_status(const GuardStatus& status);
std::string render_error(std::string_view message);
// A reply line: the status, or the guard's error.
[[nodiscard]] Result<GuardStatus> parse_reply(std::string_view line);

}  // namespace corral::agent::guard
