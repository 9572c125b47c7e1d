// StratusLab's commands from its tutorial (seed 002): `corral run`, `corral describe`,
// `corral kill`, printing what stratus-run-instance, stratus-describe-instance and
// stratus-kill-instance print.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "cli/options.h"

namespace corral::cli {

// stratus-run-instance's report for one machine (without its banner).
std::string stratuslab_run_text(std::string_view id, std::string_view address);

// stratus-describe-instance's table: "id   state     vcpu memory    cpu% host/ip ... name",
// states in StratusLab's words, memory in KiB, cpu% from the VM's "cpu_percent" (rounded; absent:
// 0).
std::string stratuslab_table(const std::vector<nlohmann::json>& vms);

// Registers `run`, `describe` and `kill` on `app`.
void add_stratuslab_commands(CLI::App& app, const Globals& globals);

}  // namespace corral::cli
