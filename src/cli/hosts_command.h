// `corral hosts`: the hosts and what is used on them.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/options.h"

namespace corral::cli {

// Registers `hosts` on `app`.
void add_hosts_command(CLI::App& app, const Globals& globals);

}  // namespace corral::cli
