#include "cli/states_command.h"

#include <fmt/core.h>

#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "lifecycle/export.h"
#include "lifecycle/table.h"
#include "lifecycle/views.h"
#include "lifecycle/vocabulary.h"

namespace corral::cli {
namespace {

namespace lc = corral::lifecycle;

struct StatesOptions {
  bool dot = false;
  std::string format = "text";
  std::string vocabulary = "corral";
};

// A person's overview: every canonical state with its name in each vocabulary, then the table.
void print_text() {
  fmt::print("{:<13} {:<26} {:<18} {:<22} {:<8}\n", "STATE", "OPENNEBULA", "NOVA", "AZURE",
             "STRATUSLAB");
  for (lc::State s : lc::kAllStates) {
    const lc::Views v = lc::render_views(lc::record_at_rest(s));
    std::string one(lc::one_state_name(v.opennebula.state));
    if (v.opennebula.state == lc::OneState::kActive) {
      one += "/" + std::string(lc::lcm_state_name(v.opennebula.lcm_state));
    }
    fmt::print("{:<13} {:<26} {:<18} {:<22} {:<8}\n", lc::state_name(s),
               one + " (" + std::string(v.opennebula.short_alias) + ")",
               lc::nova_vm_state_name(v.nova.vm_state),
               std::string(lc::azure_provisioning_name(v.azure.provisioning)) + "/" +
                   std::string(lc::azure_power_name(v.azure.power)),
               lc::sl_state_name(v.stratuslab.state));
  }
  fmt::print("\n{:<20} {:<40} {}\n", "ACTION", "FROM", "PHASES -> TO");
  for (const lc::Transition& t : lc::transitions()) {
    std::string from;
    for (lc::State s : lc::kAllStates) {
      if (t.from.contains(s)) from += (from.empty() ? "" : ",") + std::string(lc::state_name(s));
    }
    if (!t.when_idle) from.insert(0, "(while running) ");
    std::string phases;
    for (const lc::PhaseStep& p : t.phases()) {
      phases += std::string(lc::phase_name(p.phase)) +
                (p.on_failure == lc::FailureRule::kRollback           ? "[R] "
                 : p.on_failure == lc::FailureRule::kFailStop         ? "[F] "
                 : p.on_failure == lc::FailureRule::kRollbackIfIntact ? "[RF] "
                                                                      : "[K] ");
    }
    if (from.size() > 40) from = from.substr(0, 37) + "...";
    fmt::print("{:<20} {:<40} {}-> {}\n", lc::action_name(t.action), from, phases,
               t.target == lc::Target::kState ? std::string(lc::state_name(t.to))
                                              : std::string("(see json)"));
  }
  fmt::print(
      "\n[R] failure rolls back to the origin  [F] failure stops in FAILED  "
      "[K] failure keeps the target\n");
}

int run_states(const StatesOptions& options) {
  const std::optional<lc::Vocabulary> vocabulary = lc::parse_vocabulary(options.vocabulary);
  if (!vocabulary) {
    fmt::print(stderr,
               "corral states: unknown vocabulary '{}' (corral, opennebula, nova, "
               "azure, stratuslab)\n",
               options.vocabulary);
    return 2;
  }
  if (options.dot) {
    std::cout << lc::to_dot(*vocabulary);
    return 0;
  }
  if (options.format == "json") {
    std::cout << lc::model_json().dump(2) << "\n";
    return 0;
  }
  print_text();
  return 0;
}

}  // namespace

void add_states_command(CLI::App& app) {
  auto options = std::make_shared<StatesOptions>();
  CLI::App* cmd = app.add_subcommand("states", "Print the lifecycle model: states, actions, views");
  cmd->add_flag("--dot", options->dot, "Print the Graphviz diagram");
  cmd->add_option("--format,-o", options->format, "text or json")
      ->check(CLI::IsMember({"text", "json"}));
  cmd->add_option("--vocabulary", options->vocabulary,
                  "Names in: corral, opennebula, nova, azure, stratuslab (for --dot)");
  cmd->callback([options] { throw CLI::RuntimeError(run_states(*options)); });
}

}  // namespace corral::cli
