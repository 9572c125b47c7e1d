// `corral group create|list|show|delete`: server groups (Nova's os-server-groups).
#pragma once

#include <CLI/CLI.hpp>

#include "cli/options.h"

namespace corral::cli {

// Registers `group` on `app`.
void add_groups_command(CLI::App& app, const Globals& globals);

}  // namespace corral::cli
