// The serial console and images: `corral connect ID` (Ctrl-] detaches), `corral vm
// console-log ID`, `corral image list`.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/options.h"

namespace corral::cli {

// `vm` is the `corral vm` subcommand, where console-log goes.
void add_console_commands(CLI::App& app, CLI::App& vm, const Globals& globals);

}  // namespace corral::cli
