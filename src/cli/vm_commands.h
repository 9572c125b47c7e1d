// `corral vm ...`: create, list (--watch), show, history, wait, delete, and one subcommand
// per verb (action_commands.h).
#pragma once

#include <CLI/CLI.hpp>

#include "cli/options.h"

namespace corral::cli {

// Registers `vm` and its subcommands on `app`.
void add_vm_command(CLI::App& app, const Globals& globals);

}  // namespace corral::cli
