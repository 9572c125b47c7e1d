// The fence guard process (`corral fence-guard --data-dir D`): holds the agent's lease in a
// process of its own, so that an agent that dies (SIGKILL, a crash, an OOM kill) still has its
// fenceable guests stopped when its lease runs out — the controller recreates them elsewhere
// only after that (engine/hosts.h).
//
// Contract: one guard per data dir (an flock on D/fence-guard.lock; a second one exits 1 at
// once naming the first). It serves the protocol of fence_protocol.h on D/fence-guard.sock
// (mode 0600). When the lease runs out it stops every listed process whose start time still
// matches (proc_identity.h), logs each to stderr, and disarms. It outlives the agent on
// purpose (a restarted agent connects to it again); it exits on SIGTERM/SIGINT, when D is
// removed, or after 30 s disarmed with no client connected.
#pragma once

#include <string>

namespace corral::agent::guard {

// Runs the guard until it exits; the process's exit status.
int run_fence_guard(const std::string& data_dir);

std::string guard_socket_path(const std::string& data_dir);

}  // namespace corral::agent::guard
