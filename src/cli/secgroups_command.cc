#include "cli/secgroups_command.h"

#include <fmt/core.h>

#include <memory>
#include <string>

#include "cli/render.h"
#include "cli/request.h"

namespace corral::cli {
namespace {

using nlohmann::json;

std::string group_path(const std::string& name) {
  return "/v1/security-groups/" + url_encode(name);
}

// One line per group, as `onesecgroup list` shows them: id, name, rules, NICs, description.
constexpr std::string_view kRow = "{:<4} {:<20} {:<6} {:<5} {}\n";
constexpr std::string_view kRuleRow = "{:<4} {:<9} {:<9} {:<20} {}\n";

std::string count_of(const json& list) {
  return list.is_array() ? std::to_string(list.size()) : std::string("-");
}

std::string group_line(const json& g) {
  return fmt::format(fmt::runtime(kRow), text_of(field(g, "id")), text_of(field(g, "name")),
                     count_of(field(g, "rules")), count_of(field(g, "nics")),
                     text_of(field(g, "description"), ""));
}

std::string remote_of(const json& rule) {
  if (field(rule, "remote_own_network").is_boolean() &&
      field(rule, "remote_own_network").get<bool>()) {
    return "own network";
  }
  const json& remote = field(rule, "remote");
  return remote.is_string() ? remote.get<std::string>() : std::string("anywhere");
}

void print_group(const json& g) {
  fmt::print(fmt::runtime(kRow), "ID", "NAME", "RULES", "NICS", "DESCRIPTION");
  fmt::print("{}", group_line(g));
  const json& rules = field(g, "rules");
  if (rules.is_array() && !rules.empty()) {
    fmt::print("\n");
    fmt::print(fmt::runtime(kRuleRow), "RULE", "DIRECTION", "PROTOCOL", "PORTS", "REMOTE");
    for (const json& r : rules) {
      const std::string ports = text_of(field(r, "ports"), "");
      fmt::print(fmt::runtime(kRuleRow), text_of(field(r, "id")), text_of(field(r, "direction")),
                 text_of(field(r, "protocol")), ports.empty() ? "all" : ports, remote_of(r));
    }
  }
  const json& nics = field(g, "nics");
  if (nics.is_array() && !nics.empty()) {
    fmt::print("\nNICS:");
    for (const json& n : nics) {
      fmt::print(" vm {} nic {};", text_of(field(n, "vm")), text_of(field(n, "nic")));
    }
    fmt::print("\n");
  }
}

CliResult<void> print_reply(const GlobalOptions& globals, const json& reply) {
  if (globals.format() == OutputFormat::kJson) {
    print_json(reply);
    return {};
  }
  if (reply.contains("security_groups") && reply["security_groups"].is_array()) {
    fmt::print(fmt::runtime(kRow), "ID", "NAME", "RULES", "NICS", "DESCRIPTION");
    for (const json& g : reply["security_groups"]) fmt::print("{}", group_line(g));
    return {};
  }
  print_group(field(reply, "security_group"));
  return {};
}

struct RuleArgs {
  std::string direction = "ingress";
  std::string protocol = "tcp";
  std::string ports;
  std::string remote;
};

json rule_body(const RuleArgs& args) {
  json rule = {{"direction", args.direction}, {"protocol", args.protocol}};
  if (!args.ports.empty()) rule["ports"] = args.ports;
  if (!args.remote.empty()) rule["remote"] = args.remote;
  return rule;
}

template <typename Call>
CliResult<void> with_client(const GlobalOptions& globals, Call call) {
  CliResult<Client> client = client_for(globals);
  if (!client) return fail(std::move(client.error()));
  CliResult<json> reply = call(*client);
  if (!reply) return fail(std::move(reply.error()));
  return print_reply(globals, *reply);
}

}  // namespace

void add_secgroups_command(CLI::App& app, const Globals& globals) {
  CLI::App* group = app.add_subcommand(
      "secgroup",
      "Security groups: create, list, show, delete, rule-add, rule-delete (a NIC's traffic is "
      "what its groups' rules allow)");
  group->require_subcommand(1);
  CLI::App* list = group->add_subcommand("list", "List security groups (onesecgroup list)");
  set_command(list, "corral secgroup list", [globals] {
    return with_client(*globals, [](const Client& c) { return c.get("/v1/security-groups"); });
  });

  auto name = std::make_shared<std::string>();
  CLI::App* show =
      group->add_subcommand("show", "Show a security group, its rules and NICs (name or id)");
  show->add_option("name", *name, "The group")->required();
  set_command(show, "corral secgroup show", [globals, name] {
    return with_client(*globals, [&](const Client& c) { return c.get(group_path(*name)); });
  });

  auto new_name = std::make_shared<std::string>();
  auto description = std::make_shared<std::string>();
  CLI::App* create = group->add_subcommand("create",
                                           "Create a security group without rules (add them with "
                                           "rule-add): its NICs receive nothing until then");
  create->add_option("name", *new_name, "The group's name")->required();
  create->add_option("--description", *description, "What it is for");
  set_command(create, "corral secgroup create", [globals, new_name, description] {
    return with_client(*globals, [&](const Client& c) {
      json body = {{"name", *new_name}};
      if (!description->empty()) body["description"] = *description;
      return c.post("/v1/security-groups", body);
    });
  });

  auto doomed = std::make_shared<std::string>();
  CLI::App* del =
      group->add_subcommand("delete", "Delete a security group that no NIC lists (never default)");
  del->add_option("name", *doomed, "The group")->required();
  set_command(del, "corral secgroup delete", [globals, doomed] {
    CliResult<Client> client = client_for(*globals);
    if (!client) return CliResult<void>(fail(std::move(client.error())));
    CliResult<json> deleted = client->del(group_path(*doomed));
    if (!deleted) return CliResult<void>(fail(std::move(deleted.error())));
    if (globals->format() == OutputFormat::kJson) {
      print_json(*deleted);
    } else {
      fmt::print("Security group {} deleted.\n", *doomed);
    }
    return CliResult<void>();
  });

  auto target = std::make_shared<std::string>();
  auto rule = std::make_shared<RuleArgs>();
  CLI::App* add = group->add_subcommand(
      "rule-add",
      "Allow traffic: add one rule to a security group (Neutron's direction and "
      "protocol, OpenNebula's port RANGE)");
  add->add_option("name", *target, "The group")->required();
  add->add_option("--direction", rule->direction, "ingress (to the NIC) or egress (from it)")
      ->capture_default_str();
  add->add_option("--protocol", rule->protocol, "tcp, udp, icmp or all")->capture_default_str();
  add->add_option("--ports", rule->ports,
                  "Destination ports, e.g. 22 or 22,80,1000:2000 (tcp/udp; default: all)");
  add->add_option("--remote", rule->remote,
                  "The other end's network, e.g. 10.0.0.0/8 (default: anywhere)");
  set_command(add, "corral secgroup rule-add", [globals, target, rule] {
    return with_client(*globals, [&](const Client& c) {
      return c.post(group_path(*target) + "/rules", rule_body(*rule));
    });
  });

  auto owner = std::make_shared<std::string>();
  auto rule_id = std::make_shared<std::string>();
  CLI::App* remove =
      group->add_subcommand("rule-delete", "Remove one rule of a security group (by its id)");
  remove->add_option("name", *owner, "The group")->required();
  remove->add_option("rule", *rule_id, "The rule's id (secgroup show lists them)")->required();
  set_command(remove, "corral secgroup rule-delete", [globals, owner, rule_id] {
    return with_client(*globals, [&](const Client& c) {
      return c.del(group_path(*owner) + "/rules/" + url_encode(*rule_id));
    });
  });
}

}  // namespace corral::cli
