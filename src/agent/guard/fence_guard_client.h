// The agent's side of the fence guard: connect to (or start) the guard of a data dir and
// keep its lease renewed.
//
// Contract:
// - connect_or_spawn() connects to <data-dir>/fence-guard.sock; when no guard answers it
//   starts one, `<corral_binary> fence-guard --data-dir <data-dir> --fork <extra_args...>`
//   (posix_spawn, no shell, new session, signals unblocked and reset, stdin /dev/null,
//   stdout+stderr appended to <data-dir>/fence-guard.log; --fork makes the guard leave a
//   short-lived parent that is reaped here, so no zombie is left behind), and waits up to
//   spawn_timeout_ms for its socket. Two agents racing to spawn are harmless: the guard's
//   lock lets one run.
// - Every call blocks: up to io_timeout_ms for a reply, and when the connection is broken
//   it reconnects (spawning again if a binary was given) and retries once, which may take a
//   few seconds. Callers must not call it from latency-critical threads (the agent's stream
//   reader, gRPC callbacks): use a dedicated thread.
// - Not thread-safe: one thread per client object (or a mutex around it).
// - renew/clear/shutdown are idempotent, so the retry cannot do harm.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "agent/guard/fence_lease.h"
#include "agent/guard/fence_protocol.h"
#include "common/result.h"

namespace corral::agent::guard {

// A FencedVm for a live process: reads its start time now. kNotFound when pid is gone.
Result<FencedVm> fenced_vm_for(std::string vm, pid_t pid);

class FenceGuardClient {
 public:
  static constexpr Millis kDefaultSpawnTimeoutMs = 5'000;
  static constexpr Millis kDefaultIoTimeoutMs = 2'000;

  // Connects to a running guard; kUnavailable when none answers. Never spawns.
  static Result<FenceGuardClient> connect(std::string data_dir);
  // Connects, or spawns the guard and connects (see the contract above).
  static Result<FenceGuardClient> connect_or_spawn(
      std::string data_dir, std::string corral_binary, std::vector<std::string> extra_args = {},
      Millis spawn_timeout_ms = kDefaultSpawnTimeoutMs);

  FenceGuardClient(FenceGuardClient&& other) noexcept;
  FenceGuardClient& operator=(FenceGuardClient&& other) noexcept;
  FenceGuardClient(const FenceGuardClient&) = delete;
  FenceGuardClient& operator=(const FenceGuardClient&) = delete;
  ~FenceGuardClient();

  // Arms (or re-arms) the lease: if no renew comes within lease_ms, the guard kills `vms`
  // (the processes of the may_fence VMs). Replaces any previous set. lease_ms 0 = never.
  Status renew(Millis lease_ms, const std::vector<FencedVm>& vms);
  // Disarms the lease (nothing will be killed).
  Status clear();
  Result<GuardStatus> status();
  // Stops the guard without fencing. The next call through this client spawns a new one
  // (when it has a binary).
  Status shutdown();

  void set_io_timeout_ms(Millis ms) { io_timeout_ms_ = ms; }
  const std::string& data_dir() const { return data_dir_; }

 private:
  FenceGuardClient(std::string data_dir, std::string binary, std::vector<std::string> extra,
                   Millis spawn_timeout_ms);
  Status ensure_connected();
  Status spawn_guard();
  Result<Reply> call(const Request& request);
  Result<Reply> call_once(const std::string& line);
  void disconnect();

  std::string data_dir_;
  std::string binary_;  // empty: never spawn
  std::vector<std::string> extra_args_;
  Millis spawn_timeout_ms_ = kDefaultSpawnTimeoutMs;
  Millis io_timeout_ms_ = kDefaultIoTimeoutMs;
  int fd_ = -1;
  std::string buffer_;  // bytes received after the last reply line
};

}  // namespace corral::agent::guard
