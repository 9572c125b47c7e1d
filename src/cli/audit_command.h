// `corral audit` (GET /v1/audit, the cloud's admin) and `corral actions ID` (GET
// /v1/vms/{id}/actions, Nova's `server event list`): who asked for what, from where, and what
// came of it, as a table or JSON.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/options.h"

namespace corral::cli {

void add_audit_commands(CLI::App& app, const Globals& globals);

}  // namespace corral::cli
