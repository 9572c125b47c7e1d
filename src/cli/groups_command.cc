#include "cli/groups_command.h"

#include <fmt/core.h>
#include <fmt/ranges.h>

#include <memory>
#include <string>
#include <vector>

#include "cli/render.h"
#include "cli/request.h"

namespace corral::cli {
namespace {

using nlohmann::json;

std::string group_path(const std::string& name) { return "/v1/server-groups/" + url_encode(name); }

// One line per group: id, name, policy, member ids.
std::string group_line(const json& g) {
  std::vector<std::string> members;
  for (const json& m : g.value("members", json::array())) members.push_back(m.dump());
  return fmt::format("{:<4} {:<20} {:<19} {}\n", g.value("id", 0), g.value("name", std::string()),
                     g.value("policy", std::string()),
                     members.empty() ? "-" : fmt::format("{}", fmt::join(members, ",")));
}

CliResult<void> print_reply(const GlobalOptions& globals, const json& reply, const char* key) {
  if (globals.format() == OutputFormat::kJson) {
    print_json(reply);
    return {};
  }
  fmt::print("{:<4} {:<20} {:<19} {}\n", "ID", "NAME", "POLICY", "MEMBERS");
  if (reply.contains(key) && reply[key].is_array()) {
    for (const json& g : reply[key]) fmt::print("{}", group_line(g));
  } else if (reply.contains(key)) {
    fmt::print("{}", group_line(reply[key]));
  }
  return {};
}

CliResult<void> run_list(const GlobalOptions& globals) {
  CliResult<Client> client = client_for(globals);
  if (!client) return fail(std::move(client.error()));
  CliResult<json> groups = client->get("/v1/server-groups");
  if (!groups) return fail(std::move(groups.error()));
  return print_reply(globals, *groups, "server_groups");
}

CliResult<void> run_show(const GlobalOptions& globals, const std::string& name) {
  CliResult<Client> client = client_for(globals);
  if (!client) return fail(std::move(client.error()));
  CliResult<json> group = client->get(group_path(name));
  if (!group) return fail(std::move(group.error()));
  return print_reply(globals, *group, "server_group");
}

CliResult<void> run_create(const GlobalOptions& globals, const std::string& name,
                           const std::string& policy) {
  CliResult<Client> client = client_for(globals);
  if (!client) return fail(std::move(client.error()));
  CliResult<json> group =
      client->post("/v1/server-groups", json{{"name", name}, {"policy", policy}});
  if (!group) return fail(std::move(group.error()));
  return print_reply(globals, *group, "server_group");
}

CliResult<void> run_delete(const GlobalOptions& globals, const std::string& name) {
  CliResult<Client> client = client_for(globals);
  if (!client) return fail(std::move(client.error()));
  CliResult<json> deleted = client->del(group_path(name));
  if (!deleted) return fail(std::move(deleted.error()));
  if (globals.format() == OutputFormat::kJson) {
    print_json(*deleted);
  } else {
    fmt::print("Server group {} deleted.\n", name);
  }
  return {};
}

}  // namespace

void add_groups_command(CLI::App& app, const Globals& globals) {
  CLI::App* group = app.add_subcommand("group", "Server groups: create, list, show, delete");
  group->require_subcommand(1);
  CLI::App* list = group->add_subcommand("list", "List server groups with their members");
  set_command(list, "corral group list", [globals] { return run_list(*globals); });

  auto name = std::make_shared<std::string>();
  CLI::App* show = group->add_subcommand("show", "Show one server group (name or id)");
  show->add_option("name", *name, "The group")->required();
  set_command(show, "corral group show", [globals, name] { return run_show(*globals, *name); });

  auto new_name = std::make_shared<std::string>();
  auto policy = std::make_shared<std::string>("anti-affinity");
  CLI::App* create = group->add_subcommand("create", "Create a server group");
  create->add_option("name", *new_name, "The group's name")->required();
  create->add_option("--policy", *policy, "The placement rule of its members")
      ->check(CLI::IsMember({"affinity", "anti-affinity", "soft-affinity", "soft-anti-affinity"}))
      ->capture_default_str();
  set_command(create, "corral group create",
              [globals, new_name, policy] { return run_create(*globals, *new_name, *policy); });

  auto doomed = std::make_shared<std::string>();
  CLI::App* del = group->add_subcommand("delete", "Delete a server group that has no members");
  del->add_option("name", *doomed, "The group")->required();
  set_command(del, "corral group delete",
              [globals, doomed] { return run_delete(*globals, *doomed); });
}

}  // namespace corral::cli
