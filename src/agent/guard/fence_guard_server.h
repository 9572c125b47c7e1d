// The fence guard process (`corral fence-guard --data-dir D`): enforces the agent's lease
// even when the agent itself is dead.
//
// Contract:
// - One guard per data dir: it holds an exclusive flock on <D>/fence-guard.lock for its
//   whole life; a second guard for the same dir exits at once with kExitAlreadyRunning.
// - It listens on <D>/fence-guard.sock (mode 0600; the path must fit sockaddr_un, else
//   it exits with kExitError) and speaks fence_protocol.h to any number of clients, one at
//   a time per line, at most kMaxClients at once.
// - When the lease runs out (FenceLease on the injected clock, CLOCK_BOOTTIME in
//   production) it SIGKILLs every listed VM process that is still the same process (pid +
//   start time, proc_identity.h), logs each outcome and disarms. It never kills anything
//   else, and nothing while disarmed (lease 0, cleared, or never renewed).
// - It outlives its clients: an agent that restarts reconnects and renews. It stops on
//   SIGTERM/SIGINT or a shutdown request, without fencing (a guard stopped on purpose is not
//   a dead agent). Its state is in memory only: a guard that dies forgets the lease (the
//   next agent call spawns a new one, which is armed again by the agent's next renew).
#pragma once

#include <string>

#include "common/clock.h"

namespace corral::agent::guard {

inline constexpr int kExitStopped = 0;
inline constexpr int kExitError = 1;
inline constexpr int kExitAlreadyRunning = 3;
inline constexpr int kMaxClients = 32;

struct FenceGuardOptions {
  std::string data_dir;
  const Clock* clock = nullptr;  // nullptr: BoottimeClock
  // The longest sleep between two lease checks: poll(2) waits on CLOCK_MONOTONIC, which
  // stops during suspend, so a long wait would oversleep a deadline that passed meanwhile.
  Millis tick_ms = 200;
};

std::string fence_guard_socket_path(const std::string& data_dir);
std::string fence_guard_lock_path(const std::string& data_dir);
// Where connect_or_spawn sends a spawned guard's stdout/stderr.
std::string fence_guard_log_path(const std::string& data_dir);

// Runs the guard until asked to stop; returns the process exit code (kExit*).
// Blocks SIGTERM/SIGINT in the calling thread (it reads them through a signalfd) and
// ignores SIGPIPE and SIGHUP: call it from main() before any other thread starts.
int run_fence_guard(const FenceGuardOptions& options);

}  // namespace corral::agent::guard
