#include "cli/identity_commands.h"

#include <fmt/core.h>
#include <termios.h>
#include <unistd.h>

#include <iostream>
#include <string>

#include "cli/credentials.h"
#include "cli/request.h"
#include "cli/trust.h"

namespace corral::cli {
namespace {

using nlohmann::json;

CliResult<void> usage(std::string message) {
  Failure failure;
  failure.kind = FailureKind::kUsage;
  failure.error = Error::invalid_argument(std::move(message));
  return fail(std::move(failure));
}

// A password from the terminal (echo off) or the first line of a non-terminal stdin.
std::string read_password(const std::string& prompt) {
  std::string line;
  if (::isatty(STDIN_FILENO) == 0) {
    std::getline(std::cin, line);
    return line;
  }
  std::cerr << prompt << std::flush;
  termios saved{};
  ::tcgetattr(STDIN_FILENO, &saved);
  termios quiet = saved;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  std::getline(std::cin, line);
  ::tcsetattr(STDIN_FILENO, TCSANOW, &saved);
  std::cerr << "\n";
  return line;
}

std::string str(const json& j, const char* key) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string("-");
}

void print_caller(const json& who) {
  fmt::print("user {} (id {}), {} on project {} (id {}){}; token {} expires {}\n",
             str(who["user"], "name"), who["user"].value("id", 0), str(who, "role"),
             str(who["project"], "name"), who["project"].value("id", 0),
             who.value("cloud_admin", false) ? ", the cloud's admin" : "", who.value("token_id", 0),
             who["expires_at"].is_string() ? str(who, "expires_at") : "never");
}

template <typename Body>
CliResult<void> with_client(const GlobalOptions& globals, Body body) {
  CliResult<Client> client = client_for(globals);
  if (!client) return fail(std::move(client.error()));
  CliResult<json> reply = body(*client);
  if (!reply) return fail(std::move(reply.error()));
  if (globals.format() == OutputFormat::kJson) print_json(*reply);
  return {};
}

// ---- login / logout / whoami ----------------------------------------------------------

struct LoginArgs {
  std::string user;
  std::string project;
  int expires_in = 0;
};

CliResult<void> run_login(const GlobalOptions& globals, const LoginArgs& a) {
  CliResult<Client> client =  // logging in needs no token
      make_client(globals.server, {}, ca_cert_for(globals.ca_cert));
  if (!client) return fail(std::move(client.error()));
  json body = {{"user", a.user},
               {"password", read_password("Password for " + a.user + ": ")},
               {"description", "corral login"}};
  if (!a.project.empty()) body["project"] = a.project;
  if (a.expires_in > 0) body["expires_in"] = a.expires_in;
  CliResult<json> issued = client->post("/v1/auth/tokens", body);
  if (!issued) return fail(std::move(issued.error()));
  if (CliResult<void> saved = save_token(globals.server, (*issued)["token"].get<std::string>());
      !saved) {
    return saved;
  }
  if (globals.format() == OutputFormat::kJson) {
    json shown = *issued;
    shown.erase("token");  // kept in the credentials file, not printed
    print_json(shown);
    return {};
  }
  fmt::print("Logged in to {}: ", globals.server);
  print_caller(*issued);
  fmt::print("The token is saved in {}.\n", credentials_path());
  return {};
}

CliResult<void> run_logout(const GlobalOptions& globals) {
  CliResult<Client> client = client_for(globals);
  if (!client) return fail(std::move(client.error()));
  CliResult<json> revoked = client->del("/v1/auth/token");
  // Forgotten either way: a token the server no longer takes is of no use here.
  if (CliResult<void> forgot = forget_token(globals.server); !forgot) return forgot;
  if (!revoked) return fail(std::move(revoked.error()));
  if (globals.format() == OutputFormat::kJson) {
    print_json(*revoked);
  } else {
    fmt::print("Logged out: token {} revoked.\n", (*revoked).value("revoked", 0));
  }
  return {};
}

CliResult<void> run_whoami(const GlobalOptions& globals) {
  CliResult<Client> client = client_for(globals);
  if (!client) return fail(std::move(client.error()));
  CliResult<json> who = client->get("/v1/auth/token");
  if (!who) return fail(std::move(who.error()));
  if (globals.format() == OutputFormat::kJson) {
    print_json(*who);
  } else {
    print_caller(*who);
  }
  return {};
}

// ---- projects --------------------------------------------------------------------------

std::string project_path(const std::string& name) { return "/v1/projects/" + url_encode(name); }
std::string user_path(const std::string& name) { return "/v1/users/" + url_encode(name); }

void print_projects(const json& list) {
  fmt::print("{:<4} {:<20} {:<8} {:<8} {}\n", "ID", "NAME", "ENABLED", "MY_ROLE", "DESCRIPTION");
  for (const json& p : list) {
    fmt::print("{:<4} {:<20} {:<8} {:<8} {}\n", p.value("id", 0), str(p, "name"),
               p.value("enabled", false) ? "yes" : "no", str(p, "my_role"), str(p, "description"));
  }
}

void print_users(const json& list) {
  fmt::print("{:<4} {:<20} {:<8} {}\n", "ID", "NAME", "ENABLED", "ROLES");
  for (const json& u : list) {
    std::string roles;
    for (const json& r : u.value("roles", json::array())) {
      roles += (roles.empty() ? "" : ", ") + str(r, "role") + "@" + str(r["project"], "name");
    }
    fmt::print("{:<4} {:<20} {:<8} {}\n", u.value("id", 0), str(u, "name"),
               u.value("enabled", false) ? "yes" : "no", roles.empty() ? "-" : roles);
  }
}

void add_quota_command(CLI::App* project_cmd, const Globals& globals);

void add_project_command(CLI::App& app, const Globals& globals) {
  CLI::App* cmd = app.add_subcommand("project", "Projects (tenants): list, create, show, members");
  cmd->require_subcommand(1);
  CLI::App* list = cmd->add_subcommand("list", "The projects you hold a role on (all: admin)");
  set_command(list, "project list", [globals] {
    return with_client(*globals, [&](Client& c) -> CliResult<json> {
      CliResult<json> r = c.get("/v1/projects");
      if (r && globals->format() == OutputFormat::kTable) print_projects((*r)["projects"]);
      return r;
    });
  });
  auto name = std::make_shared<std::string>();
  auto description = std::make_shared<std::string>();
  CLI::App* create = cmd->add_subcommand("create", "Create a project (the cloud's admin)");
  create->add_option("name", *name, "Its name")->required();
  create->add_option("--description", *description, "What it is for");
  set_command(create, "project create", [globals, name, description] {
    return with_client(*globals, [&](Client& c) -> CliResult<json> {
      CliResult<json> r =
          c.post("/v1/projects", json{{"name", *name}, {"description", *description}});
      if (r && globals->format() == OutputFormat::kTable) {
        fmt::print("Project {} created (id {}).\n", *name, (*r)["project"].value("id", 0));
      }
      return r;
    });
  });
  add_quota_command(cmd, globals);
  for (const char* verb : {"show", "delete", "enable", "disable", "members"}) {
    CLI::App* sub = cmd->add_subcommand(verb, std::string(verb) + " a project");
    auto target = std::make_shared<std::string>();
    sub->add_option("project", *target, "Its name or id")->required();
    const std::string v = verb;
    set_command(sub, "project " + v, [globals, target, v] {
      return with_client(*globals, [&](Client& c) -> CliResult<json> {
        CliResult<json> r;
        if (v == "show") r = c.get(project_path(*target));
        if (v == "delete") r = c.del(project_path(*target));
        if (v == "enable" || v == "disable") {
          r = c.patch(project_path(*target), json{{"enabled", v == "enable"}});
        }
        if (v == "members") r = c.get(project_path(*target) + "/users");
        if (!r || globals->format() == OutputFormat::kJson) return r;
        if (v == "members") {
          fmt::print("{:<4} {:<20} {:<8} {}\n", "ID", "NAME", "ENABLED", "ROLE");
          for (const json& u : (*r)["users"]) {
            fmt::print("{:<4} {:<20} {:<8} {}\n", u.value("id", 0), str(u, "name"),
                       u.value("enabled", false) ? "yes" : "no", str(u, "role"));
          }
        } else if (v == "delete") {
          fmt::print("Project {} deleted.\n", *target);
        } else {
          print_projects(json::array({(*r)["project"]}));
        }
        return r;
      });
    });
  }
}

// `corral project quota P [--set vms=10 --set vcpus=-1 --set ram=default]`: shows the limits
// and use; --set changes them first (the cloud's admin).
void add_quota_command(CLI::App* project_cmd, const Globals& globals) {
  CLI::App* quota = project_cmd->add_subcommand("quota", "A project's quotas: limits and use");
  auto target = std::make_shared<std::string>();
  auto sets = std::make_shared<std::vector<std::string>>();
  quota->add_option("project", *target, "Its name or id")->required();
  quota->add_option("--set", *sets, "NAME=LIMIT (-1: none; default: back to the default)");
  set_command(quota, "project quota", [globals, target, sets] {
    json changes = json::object();
    for (const std::string& s : *sets) {
      const std::size_t eq = s.find('=');
      if (eq == std::string::npos || eq == 0)
        return usage("--set wants NAME=LIMIT, not '" + s + "'");
      const std::string value = s.substr(eq + 1);
      if (value == "default") {
        changes[s.substr(0, eq)] = nullptr;
        continue;
      }
      try {
        std::size_t used = 0;
        const long long n = std::stoll(value, &used);
        if (used != value.size()) throw std::invalid_argument(value);
        changes[s.substr(0, eq)] = n;
      } catch (const std::exception&) {
        return usage("--set " + s + ": the limit must be a whole number, -1 or default");
      }
    }
    return with_client(*globals, [&](Client& c) -> CliResult<json> {
      CliResult<json> r = changes.empty() ? c.get(project_path(*target) + "/quotas")
                                          : c.put(project_path(*target) + "/quotas", changes);
      if (!r || globals->format() == OutputFormat::kJson) return r;
      fmt::print("{:<20} {:>8} {:>8}  {:<20} {}\n", "QUOTA", "USED", "LIMIT", "NOVA", "OPENNEBULA");
      for (const auto& [name, q] : (*r)["quotas"].items()) {
        const std::int64_t limit = q.value("limit", std::int64_t{-1});
        fmt::print("{:<20} {:>8} {:>8}  {:<20} {}\n", name, q.value("in_use", std::int64_t{0}),
                   limit < 0 ? std::string("none") : std::to_string(limit),
                   q["nova"].is_string() ? q["nova"].get<std::string>() : "-",
                   q["opennebula"].is_string() ? q["opennebula"].get<std::string>() : "-");
      }
      return r;
    });
  });
}

// ---- users and roles -------------------------------------------------------------------

void add_user_command(CLI::App& app, const Globals& globals) {
  CLI::App* cmd = app.add_subcommand("user", "Users: list, create, show, passwd, enable, disable");
  cmd->require_subcommand(1);
  CLI::App* list = cmd->add_subcommand("list", "Every user with their roles (the cloud's admin)");
  set_command(list, "user list", [globals] {
    return with_client(*globals, [&](Client& c) -> CliResult<json> {
      CliResult<json> r = c.get("/v1/users");
      if (r && globals->format() == OutputFormat::kTable) print_users((*r)["users"]);
      return r;
    });
  });
  auto name = std::make_shared<std::string>();
  auto project = std::make_shared<std::string>();
  auto role = std::make_shared<std::string>();
  CLI::App* create =
      cmd->add_subcommand("create", "Create a user; the password is read from the terminal");
  create->add_option("name", *name, "Their name")->required();
  create->add_option("--project", *project, "Give them a role on this project");
  create->add_option("--role", *role, "reader, member, manager or admin (with --project)")
      ->check(CLI::IsMember({"reader", "member", "manager", "admin"}));
  set_command(create, "user create", [globals, name, project, role] {
    if (project->empty() != role->empty()) return usage("--project and --role go together");
    json body = {{"name", *name}, {"password", read_password("Password for " + *name + ": ")}};
    if (!project->empty()) {
      body["project"] = *project;
      body["role"] = *role;
    }
    return with_client(*globals, [&](Client& c) -> CliResult<json> {
      CliResult<json> r = c.post("/v1/users", body);
      if (r && globals->format() == OutputFormat::kTable) print_users(json::array({(*r)["user"]}));
      return r;
    });
  });
  for (const char* verb : {"show", "delete", "enable", "disable", "passwd"}) {
    CLI::App* sub = cmd->add_subcommand(verb, std::string(verb) + " a user");
    auto target = std::make_shared<std::string>();
    sub->add_option("user", *target, "Their name or id")->required();
    const std::string v = verb;
    set_command(sub, "user " + v, [globals, target, v] {
      json body;
      if (v == "passwd") {
        // Your own password needs the current one; the cloud's admin may reset anyone's.
        const std::string current = read_password(
            "Current password (empty if you are the admin "
            "resetting another user's): ");
        body["password"] = read_password("New password for " + *target + ": ");
        if (!current.empty()) body["original_password"] = current;
      }
      return with_client(*globals, [&](Client& c) -> CliResult<json> {
        CliResult<json> r;
        if (v == "show") r = c.get(user_path(*target));
        if (v == "delete") r = c.del(user_path(*target));
        if (v == "enable" || v == "disable")
          r = c.patch(user_path(*target), json{{"enabled", v == "enable"}});
        if (v == "passwd") r = c.patch(user_path(*target), body);
        if (!r || globals->format() == OutputFormat::kJson) return r;
        if (v == "delete") {
          fmt::print("User {} deleted; their tokens are revoked.\n", *target);
        } else {
          print_users(json::array({(*r)["user"]}));
        }
        return r;
      });
    });
  }
}

void add_role_command(CLI::App& app, const Globals& globals) {
  CLI::App* cmd = app.add_subcommand("role", "Give or take a user's role on a project");
  cmd->require_subcommand(1);
  for (const char* verb : {"grant", "revoke"}) {
    CLI::App* sub = cmd->add_subcommand(verb, std::string(verb) + " USER ROLE --project P");
    auto user = std::make_shared<std::string>();
    auto role = std::make_shared<std::string>();
    auto project = std::make_shared<std::string>();
    sub->add_option("user", *user, "The user")->required();
    sub->add_option("role", *role, "reader, member, manager or admin")
        ->required()
        ->check(CLI::IsMember({"reader", "member", "manager", "admin"}));
    sub->add_option("--project", *project, "The project")->required();
    const std::string v = verb;
    set_command(sub, "role " + v, [globals, user, role, project, v] {
      const std::string path =
          project_path(*project) + "/users/" + url_encode(*user) + "/roles/" + url_encode(*role);
      return with_client(*globals, [&](Client& c) -> CliResult<json> {
        CliResult<json> r = v == "grant" ? c.put(path, json::object()) : c.del(path);
        if (r && globals->format() == OutputFormat::kTable) {
          fmt::print("{} is {}{} on project {}.\n", *user, v == "grant" ? "" : "no longer ", *role,
                     *project);
        }
        return r;
      });
    });
  }
}

}  // namespace

void add_identity_commands(CLI::App& app, const Globals& globals) {
  auto login = std::make_shared<LoginArgs>();
  CLI::App* cmd = app.add_subcommand(
      "login", "Log in: the password is read from the terminal; the token is saved for --server");
  cmd->add_option("user", login->user, "Your user name")->required();
  cmd->add_option("--project", login->project, "The project to act in (if you have several)");
  cmd->add_option("--expires-in", login->expires_in, "Seconds the token lives (default 10 h)");
  set_command(cmd, "login", [globals, login] { return run_login(*globals, *login); });
  CLI::App* logout = app.add_subcommand("logout", "Revoke the token in use and forget it");
  set_command(logout, "logout", [globals] { return run_logout(*globals); });
  CLI::App* whoami = app.add_subcommand("whoami", "Who the token in use says you are");
  set_command(whoami, "whoami", [globals] { return run_whoami(*globals); });
  add_project_command(app, globals);
  add_user_command(app, globals);
  add_role_command(app, globals);
}

}  // namespace corral::cli
