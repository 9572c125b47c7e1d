// `corral states`: print the lifecycle model (table, JSON, or Graphviz diagram).
#pragma once

#include <CLI/CLI.hpp>

namespace corral::cli {

// Registers the `states` subcommand on `app`.
void add_states_command(CLI::App& app);

}  // namespace corral::cli
