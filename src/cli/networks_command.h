// `corral network create|list|show|delete`: virtual networks (OpenNebula's onevnet, Neutron's
// network + subnet).
#pragma once

#include <CLI/CLI.hpp>

#include "cli/options.h"

namespace corral::cli {

// Registers `network` on `app`.
void add_networks_command(CLI::App& app, const Globals& globals);

}  // namespace corral::cli
