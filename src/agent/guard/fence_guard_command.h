// The hidden `corral fence-guard` subcommand: runs the fence guard of a data dir
// (fence_guard_server.h). Started by FenceGuardClient::connect_or_spawn, not by people:
//
//   corral fence-guard --data-dir D [--fork] [--log-level L] [--tick-ms N]
//
// --fork: the process forks once, the parent exits 0 at once and the child runs the guard
// (the spawner reaps the parent, so no zombie is left when the guard exits later).
// Exit codes: 0 stopped, 1 error, 2 usage, 3 a guard already runs for D.
#pragma once

#include <CLI/CLI.hpp>

namespace corral::agent::guard {

void add_fence_guard_command(CLI::App& app);

}  // namespace corral::agent::guard
