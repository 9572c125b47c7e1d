// `corral usage`: hours per billing class, vCPU- and memory-hours per VM and project over a
// window (GET /v1/usage), as a table, JSON, or CSV (one row per VM and billing class).
#pragma once

#include <CLI/CLI.hpp>

#include "cli/options.h"

namespace corral::cli {

void add_usage_command(CLI::App& app, const Globals& globals);

}  // namespace corral::cli
