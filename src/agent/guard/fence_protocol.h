// The fence guard's wire protocol, v1: one JSON object per line over a unix stream socket
// (<data-dir>/fence-guard.sock). Each request line gets exactly one reply line.
//
// Requests:
//   {"v":1,"op":"renew","lease_ms":6000,"vms":[{"vm":"web-1","pid":4242,"start_time":81234}]}
//   {"v":1,"op":"clear"}        disarm: the VMs were stopped or handed over on purpose
//   {"v":1,"op":"status"}
//   {"v":1,"op":"shutdown"}     the guard exits WITHOUT fencing (tests, uninstall)
// Replies:
//   {"v":1,"ok":true}                                  renew, clear, shutdown
//   {"v":1,"ok":true,"status":{"pid":..,"armed":..,"lease_ms":..,"remaining_ms":..|null,
//                              "vms":[..],"fenced_total":..}}   status
//   {"v":1,"ok":false,"error":"message"}
//
// Contract: parsing never throws and rejects (with a message) anything that is not exactly
// the shape above: wrong version, unknown op, wrong types, out-of-range numbers, more than
// kMaxVms VMs, a VM id longer than kMaxVmIdBytes, lines longer than kMaxLineBytes (the
// reader enforces that one before parsing). Unknown extra keys are ignored (forward
// compatibility within v1).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "agent/guard/fence_lease.h"
#include "common/result.h"

namespace corral::agent::guard {

inline constexpr int kProtocolVersion = 1;
inline constexpr std::size_t kMaxLineBytes = 1 << 20;
inline constexpr std::size_t kMaxVms = 4096;
inline constexpr std::size_t kMaxVmIdBytes = 256;
inline constexpr Millis kMaxLeaseMs = 24LL * 3600 * 1000;
// Linux's PID_MAX_LIMIT (2^22).
inline constexpr std::int64_t kMaxPid = 4'194'304;

struct RenewRequest {
  Millis lease_ms = 0;
  std::vector<FencedVm> vms;
  bool operator==(const RenewRequest&) const = default;
};
struct ClearRequest {
  bool operator==(const ClearRequest&) const = default;
};
struct StatusRequest {
  bool operator==(const StatusRequest&) const = default;
};
struct ShutdownRequest {
  bool operator==(const ShutdownRequest&) const = default;
};
using Request = std::variant<RenewRequest, ClearRequest, StatusRequest, ShutdownRequest>;

struct GuardStatus {
  pid_t pid = 0;  // the guard process
  bool armed = false;
  Millis lease_ms = 0;
  std::optional<Millis> remaining_ms;  // nullopt when not armed
  std::vector<FencedVm> vms;
  std::uint64_t fenced_total = 0;  // VM processes this guard has killed since it started
  bool operator==(const GuardStatus&) const = default;
};

struct Reply {
  bool ok = false;
  std::string error;                  // set when !ok
  std::optional<GuardStatus> status;  // set on a status reply
  bool operator==(const Reply&) const = default;
};

// One line each, without the trailing '\n'.
std::string encode_request(const Request& request);
std::string encode_reply(const Reply& reply);

Result<Request> parse_request(std::string_view line);
Result<Reply> parse_reply(std::string_view line);

}  // namespace corral::agent::guard
