// The identity commands: `corral login|logout|whoami`, `corral project …`, `corral user …`
// and `corral role grant|revoke` (docs/api.md, /v1/auth, /v1/projects, /v1/users).
//
// Contract: passwords are read from the terminal without echo, or from the first line of
// standard input when it is not a terminal (scripts); never from the command line, where
// other users could read them in the process list.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/options.h"

namespace corral::cli {

void add_identity_commands(CLI::App& app, const Globals& globals);

}  // namespace corral::cli
