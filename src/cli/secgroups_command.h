// `corral secgroup create|list|show|delete|rule-add|rule-delete`: security groups (OpenNebula's
// onesecgroup, Neutron's security-group and security-group-rule), docs/security-groups.md.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/options.h"

namespace corral::cli {

// Registers `secgroup` on `app`.
void add_secgroups_command(CLI::App& app, const Globals& globals);

}  // namespace corral::cli
