// `corral server`: the controller. Opens the store under --data-dir, starts the driver and
// the engine, and serves the HTTP API (docs/api.md) on --listen until SIGTERM or SIGINT.
//
// Exit codes: 0 after a clean shutdown (signal), 1 when it cannot start (address in use,
// data dir or store unusable — the message names the address or path), 2 usage.
// Logs go to stderr, one "key=value" line per event (--log-level; access lines at debug).
#pragma once

#include <CLI/CLI.hpp>

namespace corral::cli {

// Registers the `server` subcommand on `app`.
void add_server_command(CLI::App& app);

}  // namespace corral::cli
