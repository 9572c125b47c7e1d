#include "cli/networks_command.h"

#include <fmt/core.h>

#include <memory>
#include <string>

#include "cli/render.h"
#include "cli/request.h"

namespace corral::cli {
namespace {

using nlohmann::json;

std::string network_path(const std::string& name) { return "/v1/networks/" + url_encode(name); }

// One line per network, as `onevnet list` shows them: id, name, state, range, leases used.
constexpr std::string_view kRow = "{:<4} {:<16} {:<14} {:<18} {:<15} {}\n";

std::string network_line(const json& n) {
  return fmt::format(
      fmt::runtime(kRow), text_of(field(n, "id")), text_of(field(n, "name")),
      text_of(field(n, "state")), text_of(field(n, "cidr")), text_of(field(n, "gateway")),
      fmt::format("{}/{}", text_of(field(n, "used_leases")), text_of(field(n, "size"))));
}

CliResult<void> print_reply(const GlobalOptions& globals, const json& reply, const char* key) {
  if (globals.format() == OutputFormat::kJson) {
    print_json(reply);
    return {};
  }
  fmt::print(fmt::runtime(kRow), "ID", "NAME", "STATE", "CIDR", "GATEWAY", "LEASES");
  if (reply.contains(key) && reply[key].is_array()) {
    for (const json& n : reply[key]) fmt::print("{}", network_line(n));
    return {};
  }
  const json& n = field(reply, key);
  fmt::print("{}", network_line(n));
  const std::string error = text_of(field(n, "error"), "");
  if (!error.empty()) fmt::print("error: {}\n", error);
  // The VMs' addresses are reached from the namespace Corral made for the network.
  const std::string netns = text_of(field(n, "namespace"), "");
  if (!netns.empty()) {
    fmt::print("namespace: {}  (reach the VMs from it: ip netns exec {} ssh root@IP)\n", netns,
               netns);
  }
  const json& leases = field(n, "leases");
  if (leases.is_array() && !leases.empty()) {
    fmt::print("\n{:<15} {:<17} {:<6} {:<4} {}\n", "IP", "MAC", "VM", "NIC", "ATTACHED");
    for (const json& l : leases) {
      fmt::print("{:<15} {:<17} {:<6} {:<4} {}\n", text_of(field(l, "ip")),
                 text_of(field(l, "mac")), text_of(field(l, "vm")), text_of(field(l, "nic")),
                 text_of(field(l, "attached")));
    }
  }
  return {};
}

CliResult<void> run_list(const GlobalOptions& globals) {
  CliResult<Client> client = client_for(globals);
  if (!client) return fail(std::move(client.error()));
  CliResult<json> networks = client->get("/v1/networks");
  if (!networks) return fail(std::move(networks.error()));
  return print_reply(globals, *networks, "networks");
}

CliResult<void> run_show(const GlobalOptions& globals, const std::string& name) {
  CliResult<Client> client = client_for(globals);
  if (!client) return fail(std::move(client.error()));
  CliResult<json> network = client->get(network_path(name));
  if (!network) return fail(std::move(network.error()));
  return print_reply(globals, *network, "network");
}

CliResult<void> run_create(const GlobalOptions& globals, const std::string& name,
                           const std::string& cidr, bool shared) {
  CliResult<Client> client = client_for(globals);
  if (!client) return fail(std::move(client.error()));
  json body = {{"name", name}, {"cidr", cidr}};
  if (shared) body["shared"] = true;
  CliResult<json> network = client->post("/v1/networks", body);
  if (!network) return fail(std::move(network.error()));
  return print_reply(globals, *network, "network");
}

CliResult<void> run_delete(const GlobalOptions& globals, const std::string& name) {
  CliResult<Client> client = client_for(globals);
  if (!client) return fail(std::move(client.error()));
  CliResult<json> deleted = client->del(network_path(name));
  if (!deleted) return fail(std::move(deleted.error()));
  if (globals.format() == OutputFormat::kJson) {
    print_json(*deleted);
  } else {
    fmt::print("Network {} is being deleted.\n", name);
  }
  return {};
}

}  // namespace

void add_networks_command(CLI::App& app, const Globals& globals) {
  CLI::App* network = app.add_subcommand(
      "network",
      "Virtual networks: create, list, show, delete (teardown: this machine's plumbing)");
  network->require_subcommand(1);
  CLI::App* list = network->add_subcommand("list", "List networks (onevnet list)");
  set_command(list, "corral network list", [globals] { return run_list(*globals); });

  auto name = std::make_shared<std::string>();
  CLI::App* show = network->add_subcommand("show", "Show a network and its leases (name or id)");
  show->add_option("name", *name, "The network")->required();
  set_command(show, "corral network show", [globals, name] { return run_show(*globals, *name); });

  auto new_name = std::make_shared<std::string>();
  auto cidr = std::make_shared<std::string>();
  auto shared = std::make_shared<bool>(false);
  CLI::App* create = network->add_subcommand(
      "create",
      "Create a network of your project with an IPv4 range; the gateway is its first address");
  create->add_option("name", *new_name, "The network's name")->required();
  create->add_option("--cidr", *cidr, "Its range, e.g. 10.77.0.0/24")->required();
  create->add_flag("--shared", *shared,
                   "Every project sees it and attaches VMs to it (the cloud's admin only)");
  set_command(create, "corral network create", [globals, new_name, cidr, shared] {
    return run_create(*globals, *new_name, *cidr, *shared);
  });

  auto doomed = std::make_shared<std::string>();
  CLI::App* del = network->add_subcommand("delete", "Delete a network that holds no lease");
  del->add_option("name", *doomed, "The network")->required();
  set_command(del, "corral network delete",
              [globals, doomed] { return run_delete(*globals, *doomed); });
}

}  // namespace corral::cli
