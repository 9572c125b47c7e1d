#include "cli/hosts_command.h"

#include <fmt/core.h>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cli/render.h"
#include "cli/request.h"

namespace corral::cli {
namespace {

using nlohmann::json;

std::string host_path(const std::string& name, std::string_view suffix = {}) {
  return "/v1/hosts/" + url_encode(name) + std::string(suffix);
}

void print_host(const GlobalOptions& globals, const json& host) {
  switch (globals.format()) {
    case OutputFormat::kJson:
      print_json(host);
      break;
    case OutputFormat::kTable:
      fmt::print("{}", host_text(host));
      break;
  }
}

CliResult<void> run_list(const GlobalOptions& globals) {
  CliResult<Client> client = client_for(globals);
  if (!client) return fail(std::move(client.error()));
  CliResult<json> hosts = client->get("/v1/hosts");
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

CliResult<void> run_show(const GlobalOptions& globals, const std::string& name) {
  CliResult<Client> client = client_for(globals);
  if (!client) return fail(std::move(client.error()));
  CliResult<json> host = client->get(host_path(name));
  if (!host) return fail(std::move(host.error()));
  print_host(globals, *host);
  return {};
}

struct AddFlags {
  std::string name;
  std::vector<std::string> labels;  // k=v
  int reserved_vcpus = 0;
  std::int64_t reserved_memory_mib = 0;
  double cpu_ratio = 0;
  double ram_ratio = 0;
};

CliResult<void> run_add(const GlobalOptions& globals, const AddFlags& flags) {
  json body = {{"name", flags.name}};
  json labels = json::object();
  for (const std::string& label : flags.labels) {
    const auto eq = label.find('=');
    if (eq == std::string::npos || eq == 0) {
      return fail(usage_failure("--label wants KEY=VALUE, not '" + label + "'"));
    }
    labels[label.substr(0, eq)] = label.substr(eq + 1);
  }
  if (!labels.empty()) body["labels"] = labels;
  if (flags.reserved_vcpus != 0 || flags.reserved_memory_mib != 0) {
    body["reserved"] = {{"vcpus", flags.reserved_vcpus}, {"memory_mib", flags.reserved_memory_mib}};
  }
  if (flags.cpu_ratio != 0) body["cpu_allocation_ratio"] = flags.cpu_ratio;
  if (flags.ram_ratio != 0) body["ram_allocation_ratio"] = flags.ram_ratio;
  CliResult<Client> client = client_for(globals);
  if (!client) return fail(std::move(client.error()));
  CliResult<json> added = client->post("/v1/hosts", body);
  if (!added) return fail(std::move(added.error()));
  switch (globals.format()) {
    case OutputFormat::kJson:
      print_json(*added);
      break;
    case OutputFormat::kTable:
      fmt::print("Host {} added ({}).\n", flags.name,
                 text_of(field(field(*added, "host"), "state")));
      if (const json& token = field(*added, "join_token"); token.is_string()) {
        fmt::print("Join token (one use, valid for an hour):\n  {}\n", token.get<std::string>());
        fmt::print("On the host, run (with its own data dir and driver):\n  {}\n",
                   text_of(field(*added, "agent_command")));
      } else if (const json& why = field(*added, "join_token_error"); why.is_string()) {
        fmt::print("No join token: {}\n", why.get<std::string>());
      }
      break;
  }
  return {};
}

CliResult<void> run_action(const GlobalOptions& globals, const std::string& name,
                           const std::string& action, const std::string& reason) {
  json body = {{"action", action}};
  if (!reason.empty()) body["reason"] = reason;
  CliResult<Client> client = client_for(globals);
  if (!client) return fail(std::move(client.error()));
  CliResult<json> host = client->post(host_path(name, "/action"), body);
  if (!host) return fail(std::move(host.error()));
  print_host(globals, *host);
  return {};
}

CliResult<void> run_delete(const GlobalOptions& globals, const std::string& name) {
  CliResult<Client> client = client_for(globals);
  if (!client) return fail(std::move(client.error()));
  CliResult<json> deleted = client->del(host_path(name));
  if (!deleted) return fail(std::move(deleted.error()));
  if (globals.format() == OutputFormat::kJson) {
    print_json(*deleted);
  } else {
    fmt::print("Host {} deleted.\n", name);
  }
  return {};
}

CliResult<void> run_join_token(const GlobalOptions& globals, const std::string& name) {
  CliResult<Client> client = client_for(globals);
  if (!client) return fail(std::move(client.error()));
  CliResult<json> reply = client->post(host_path(name, "/join-token"), json::object());
  if (!reply) return fail(std::move(reply.error()));
  if (globals.format() == OutputFormat::kJson) {
    print_json(*reply);
  } else {
    fmt::print("{}\n{}\n", text_of(field(*reply, "join_token")),
               text_of(field(*reply, "agent_command")));
  }
  return {};
}

}  // namespace

void add_hosts_command(CLI::App& app, const Globals& globals) {
  CLI::App* hosts = app.add_subcommand("hosts", "List hosts (= corral host list)");
  set_command(hosts, "corral hosts", [globals] { return run_list(*globals); });

  CLI::App* host = app.add_subcommand("host", "Hypervisor hosts: list, add, enable, disable …");
  host->require_subcommand(1);
  CLI::App* list = host->add_subcommand("list", "List hosts with their state, capacity and use");
  set_command(list, "corral host list", [globals] { return run_list(*globals); });

  auto name = std::make_shared<std::string>();
  CLI::App* show = host->add_subcommand("show", "Show one host");
  show->add_option("name", *name, "The host")->required();
  set_command(show, "corral host show", [globals, name] { return run_show(*globals, *name); });

  auto add_flags = std::make_shared<AddFlags>();
  CLI::App* add = host->add_subcommand("add", "Add a host: prints its agent's one-time join token");
  add->add_option("name", add_flags->name, "The host's name ([a-z0-9][a-z0-9._-]*)")->required();
  add->add_option("--label", add_flags->labels, "KEY=VALUE, for requirement expressions");
  add->add_option("--reserved-vcpus", add_flags->reserved_vcpus, "vCPUs kept from guests");
  add->add_option("--reserved-memory", add_flags->reserved_memory_mib,
                  "MiB of memory kept from guests");
  add->add_option("--cpu-allocation-ratio", add_flags->cpu_ratio, "vCPUs per CPU (default 4)");
  add->add_option("--ram-allocation-ratio", add_flags->ram_ratio, "default 1");
  set_command(add, "corral host add",
              [globals, add_flags] { return run_add(*globals, *add_flags); });

  struct Verb {
    const char* command;
    const char* action;
    const char* help;
  };
  static const Verb kVerbs[] = {
      {"enable", "enable", "Let the scheduler place VMs on the host again"},
      {"disable", "disable", "Keep the host's VMs, place no new ones there"},
      {"offline", "offline", "Take the host out: its agent is refused"},
      {"flush", "flush", "Disable the host and move its VMs to other hosts"},
      {"force-down", "force_down", "Say the host is fenced (Nova's forced_down): evacuate now"},
      {"unforce-down", "unforce_down", "Clear forced_down"},
  };
  for (const Verb& verb : kVerbs) {
    auto target = std::make_shared<std::string>();
    auto reason = std::make_shared<std::string>();
    CLI::App* cmd = host->add_subcommand(verb.command, verb.help);
    cmd->add_option("name", *target, "The host")->required();
    if (std::string_view(verb.action) == "disable") {
      cmd->add_option("--reason", *reason, "Why (Nova's disabled_reason)");
    }
    const std::string action = verb.action;
    set_command(cmd, std::string("corral host ") + verb.command, [globals, target, reason, action] {
      return run_action(*globals, *target, action, *reason);
    });
  }
  auto doomed = std::make_shared<std::string>();
  CLI::App* del = host->add_subcommand("delete", "Forget a host that holds no VM");
  del->add_option("name", *doomed, "The host")->required();
  set_command(del, "corral host delete",
              [globals, doomed] { return run_delete(*globals, *doomed); });

  auto token_host = std::make_shared<std::string>();
  CLI::App* token = host->add_subcommand("join-token", "A new join token for a host's agent");
  token->add_option("name", *token_host, "The host")->required();
  set_command(token, "corral host join-token",
              [globals, token_host] { return run_join_token(*globals, *token_host); });
}

}  // namespace corral::cli
