#include "cli/hosts_command.h"

#include <fmt/core.h>

#include <utility>

#include "cli/render.h"

namespace corral::cli {
namespace {

CliResult<void> run_hosts(const GlobalOptions& globals) {
  CliResult<Client> client = client_for(globals);
  if (!client) return fail(std::move(client.error()));
  CliResult<nlohmann::json> hosts = client->get("/v1/hosts");
  if (!hosts) return fail(std::move(hosts.error()));
  switch (globals.format()) {
    case OutputFormat::kJson:
      print_json(*hosts);
      break;
    case OutputFormat::kTable:
      fmt::print("{}", hosts_table(*hosts));
      break;
  }
  return {};
}

}  // namespace

void add_hosts_command(CLI::App& app, const Globals& globals) {
  CLI::App* cmd = app.add_subcommand("hosts", "List hosts with their capacity and use");
  set_command(cmd, "corral hosts", [globals] { return run_hosts(*globals); });
}

}  // namespace corral::cli
