// The agent's side of the fence guard (fence_guard_server.h): one connection, requests and
// replies of fence_protocol.h.
//
// Contract: connect_or_spawn() connects to the guard of `data_dir`, starting one first if none
// runs (`<corral_binary> fence-guard --data-dir D`, detached: its own session, not a child of
// the agent, so it outlives it; its log is D/fence-guard.log). Each call waits for the
// guard's reply, for at most ~2 s, and reconnects once if the connection broke (the guard
// restarted). Calls can block for seconds (a spawn, a busy machine): keep them off threads
// that must answer quickly. Not thread-safe: one owner.
#pragma once

#include <string>
#include <vector>

#include "agent/guard/fence_lease.h"
#include "agent/guard/fence_protocol.h"
#include "common/result.h"

namespace corral::agent::guard {

class FenceGuardClient {
 public:
  [[nodiscard]] static Result<FenceGuardClient> connect_or_spawn(
      const std::string& data_dir, const std::string& corral_binary,
      std::vector<std::string> extra_args = {});

  FenceGuardClient(FenceGuardClient&& other) noexcept;
  FenceGuardClient& operator=(FenceGuardClient&& other) noexcept;
  FenceGuardClient(const FenceGuardClient&) = delete;
  FenceGuardClient& operator=(const FenceGuardClient&) = delete;
  ~FenceGuardClient();

  // Replaces the lease: `vms` are stopped unless renewed within lease_ms (0: never).
  [[nodiscard]] Result<GuardStatus> renew(Millis lease_ms, const std::vector<FencedVm>& vms);
  [[nodiscard]] Result<GuardStatus> clear();
  [[nodiscard]] Result<GuardStatus> status();

 private:
  explicit FenceGuardClient(std::string data_dir) : data_dir_(std::move(data_dir)) {}
  [[nodiscard]] Result<GuardStatus> call(const GuardRequest& request);
  [[nodiscard]] Status connect();

  std::string data_dir_;
  int fd_ = -1;
};

// The identity of a running process (pid + start time), for renew(); nullopt if it is gone.
std::optional<FencedVm> fenced_vm(std::int64_t vm, pid_t pid);

}  // namespace corral::agent::guard
