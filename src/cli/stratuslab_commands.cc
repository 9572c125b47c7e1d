#include "cli/stratuslab_commands.h"

#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <thread>
#include <utility>

#include "cli/render.h"
#include "cli/request.h"
#include "cli/ssh_command.h"
#include "cli/vm_queries.h"

namespace corral::cli {
namespace {

using nlohmann::json;

// How long `run` waits for the scheduler to place the VM before printing its address.
constexpr auto kPlacementWait = std::chrono::seconds(5);
constexpr auto kPlacementPoll = std::chrono::milliseconds(250);
constexpr std::string_view kNoAddress = "no host yet";

struct RunOptions {
  std::string image;
  std::string name;
  int vcpus = 1;
  int memory_mib = 128;
  std::vector<std::string> networks;         // empty: the network named "default", if there is one
  std::vector<std::string> security_groups;  // of every NIC; empty: the group default
  bool no_network = false;
};

// A default VM name from the image: what the API accepts in a name ([A-Za-z0-9._-]), the
// rest as '-', at most 40 characters.
std::string name_from_image(std::string_view image) {
  std::string name;
  for (char c : image.substr(0, 40)) {
    const bool ok =
        std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' || c == '-';
    name += ok ? c : '-';
  }
  while (name.ends_with('-')) name.pop_back();
  return name.empty() ? std::string("vm") : name;
}

CliResult<void> run_run(const GlobalOptions& globals, const RunOptions& options) {
  CreateArgs args;
  args.image = options.image;
  args.name = options.name.empty() ? name_from_image(options.image) : options.name;
  args.vcpus = options.vcpus;
  args.memory_mib = options.memory_mib;
  CliResult<Client> client = client_for(globals);
  if (!client) return fail(std::move(client.error()));
  if (!options.no_network) {
    args.networks = options.networks;
    args.security_groups = options.security_groups;
    // As StratusLab's VMs, one public address unless told otherwise: the default network
    // `make run` creates, when it exists.
    if (args.networks.empty() && client->get("/v1/networks/default")) {
      args.networks.emplace_back("default");
    }
    if (!args.networks.empty()) {
      CliResult<SshKey> key = user_ssh_key();
      if (!key) return fail(std::move(key.error()));
      args.ssh_keys.push_back(key->public_line);
    }
  }
  CliResult<json> body = create_request(args);
  if (!body) return fail(std::move(body.error()));
  CliResult<json> created = client->post("/v1/vms", *body);
  if (!created) return fail(std::move(created.error()));
  json vm = field(*created, "vm");
  const std::string id = text_of(field(vm, "id"), "?");
  // Wait a little for placement, so the address is known, as StratusLab prints it.
  const auto deadline = std::chrono::steady_clock::now() + kPlacementWait;
  while (field(vm, "host").is_null() && std::chrono::steady_clock::now() < deadline &&
         check_vm_id(id)) {
    std::this_thread::sleep_for(kPlacementPoll);
    CliResult<json> now = client->get(vm_path(id));
    if (!now) return fail(std::move(now.error()));
    vm = std::move(*now);
    if (is_done(vm)) break;
  }
  switch (globals.format()) {
    case OutputFormat::kJson:
      print_json(vm);
      break;
    case OutputFormat::kTable:
      // The VM's address (its first NIC's), as StratusLab prints it; without a NIC, its host.
      fmt::print("{}", stratuslab_run_text(id, field(vm, "ip").is_string()
                                                   ? text_of(field(vm, "ip"))
                                                   : text_of(field(vm, "host"), kNoAddress)));
      break;
  }
  return {};
}

CliResult<void> run_describe(const GlobalOptions& globals, const std::string& id) {
  CliResult<Client> client = client_for(globals);
  if (!client) return fail(std::move(client.error()));
  std::vector<json> vms;
  json raw;
  if (id.empty()) {
    // "List all active machines": DONE ones are not active.
    CliResult<std::vector<json>> all = fetch_all_vms(*client, ListArgs{});
    if (!all) return fail(std::move(all.error()));
    std::erase_if(*all, is_done);
    vms = std::move(*all);
    raw = json{{"vms", vms}};
  } else {
    CliResult<std::string> checked = check_vm_id(id);
    if (!checked) return fail(std::move(checked.error()));
    CliResult<json> vm = client->get(vm_path(id));
    if (!vm) return fail(std::move(vm.error()));
    vms.push_back(*vm);
    raw = std::move(*vm);
  }
  switch (globals.format()) {
    case OutputFormat::kJson:
      print_json(raw);
      break;
    case OutputFormat::kTable:
      // cpu%: what the hosts measure now (GET /v1/monitoring); a VM not measured shows 0.
      if (CliResult<json> usage = client->get("/v1/monitoring"); usage) {
        std::map<std::int64_t, double> cpu;
        for (const json& u : field(*usage, "vms")) {
          if (field(u, "vm").is_number_integer() && field(u, "cpu_percent").is_number()) {
            cpu[field(u, "vm").get<std::int64_t>()] = field(u, "cpu_percent").get<double>();
          }
        }
        for (json& vm : vms) {
          const json& vm_id = field(vm, "id");
          if (!vm_id.is_number_integer()) continue;
          if (const auto it = cpu.find(vm_id.get<std::int64_t>()); it != cpu.end()) {
            vm["cpu_percent"] = it->second;
          }
        }
      }
      fmt::print("{}", stratuslab_table(vms));
      break;
  }
  return {};
}

CliResult<void> run_kill(const GlobalOptions& globals, const std::string& id) {
  CliResult<std::string> checked = check_vm_id(id);
  if (!checked) return fail(std::move(checked.error()));
  CliResult<Client> client = client_for(globals);
  if (!client) return fail(std::move(client.error()));
  const json body = {{"action", "kill"}, {"vocabulary", "stratuslab"}};
  CliResult<json> response = client->post(vm_path(id, "/actions"), body);
  if (!response) return fail(std::move(response.error()));
  // stratus-kill-instance says nothing on success.
  if (globals.format() == OutputFormat::kJson) print_json(*response);
  return {};
}

}  // namespace

std::string stratuslab_run_text(std::string_view id, std::string_view address) {
  return fmt::format(
      ":: Starting 1 machine\n"
      ":: Machine 1 (vm ID: {})\n"
      "       Public ip: {}\n"
      ":: Done!\n",
      id, address);
}

std::string stratuslab_table(const std::vector<json>& vms) {
  constexpr std::string_view kRow = "{:<4} {:<9} {:<4} {:<9} {:<4} {:<24} {}\n";
  std::string out =
      fmt::format(fmt::runtime(kRow), "id", "state", "vcpu", "memory", "cpu%", "host/ip", "name");
  for (const json& vm : vms) {
    const json& mib = field(vm, "memory_mib");
    const std::string kib =
        mib.is_number_integer() ? std::to_string(mib.get<long long>() * 1024) : text_of(mib);
    std::string row = fmt::format(
        fmt::runtime(kRow), text_of(field(vm, "id")),
        text_of(field(field(field(vm, "views"), "stratuslab"), "state")),
        text_of(field(vm, "vcpus")), kib,
        field(vm, "cpu_percent").is_number()
            ? static_cast<long long>(std::lround(field(vm, "cpu_percent").get<double>()))
            : 0LL,
        field(vm, "ip").is_string() ? text_of(field(vm, "ip")) : text_of(field(vm, "host")),
        text_of(field(vm, "name")));
    out += row;
  }
  return out;
}

void add_stratuslab_commands(CLI::App& app, const Globals& globals) {
  {
    auto options = std::make_shared<RunOptions>();
    CLI::App* cmd = app.add_subcommand("run", "Start a machine (stratus-run-instance)");
    cmd->add_option("image", options->image, "Image (Marketplace id)")->required();
    cmd->add_option("--vcpus", options->vcpus, "vCPUs")->capture_default_str();
    cmd->add_option("--memory", options->memory_mib, "Memory in MiB")->capture_default_str();
    cmd->add_option("--name", options->name, "VM name (default: from the image)");
    cmd->add_option("--network", options->networks,
                    "Network for a NIC (repeatable; default: the network named default)");
    cmd->add_flag("--no-network", options->no_network, "No NIC at all");
    cmd->add_option("--security-group", options->security_groups,
                    "Security group of every NIC (repeatable; default: the group default)");
    set_command(cmd, "corral run", [globals, options] { return run_run(*globals, *options); });
  }
  {
    auto id = std::make_shared<std::string>();
    CLI::App* cmd = app.add_subcommand("describe", "Describe machines (stratus-describe-instance)");
    cmd->add_option("id", *id, "VM id (default: every active machine)");
    set_command(cmd, "corral describe", [globals, id] { return run_describe(*globals, *id); });
  }
  {
    auto id = std::make_shared<std::string>();
    CLI::App* cmd = app.add_subcommand("kill",
                                       "Forcibly stop and remove a machine "
                                       "(stratus-kill-instance)");
    cmd->add_option("id", *id, "VM id")->required();
    set_command(cmd, "corral kill", [globals, id] { return run_kill(*globals, *id); });
  }
}

}  // namespace corral::cli
