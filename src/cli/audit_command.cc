#include "cli/audit_command.h"

#include <fmt/core.h>

#include <memory>
#include <string>

#include "cli/request.h"
#include "cli/table.h"

namespace corral::cli {
namespace {

using nlohmann::json;

struct AuditArgs {
  std::string vm;  // `actions`: the VM
  std::string user;
  std::string project;
  std::string outcome;
  std::string since;
  int limit = 100;
  std::int64_t after = 0;
};

std::string text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return std::to_string(v.get<std::int64_t>());
  return "-";
}

void print_entries(const json& reply) {
  Table table({{"ID", Align::kRight},
               {"AT"},
               {"USER"},
               {"PROJECT"},
               {"SOURCE"},
               {"VM", Align::kRight},
               {"VERB"},
               {"VOCABULARY"},
               {"STATUS", Align::kRight},
               {"OUTCOME"},
               {"MESSAGE"}});
  for (const json& e : reply["actions"]) {
    table.add_row({text(e["id"]), text(e["at"]), text(e["user"]), text(e["project"]),
                   text(e["source"]), text(e["vm"]), text(e["verb"]), text(e["vocabulary"]),
                   text(e["status"]), text(e["outcome"]), text(e["message"])});
  }
  fmt::print("{}", table.render());
}

CliResult<void> run(const GlobalOptions& globals, const AuditArgs& a, bool one_vm) {
  CliResult<Client> client = client_for(globals);
  if (!client) return fail(std::move(client.error()));
  std::string path = one_vm ? vm_path(a.vm, "/actions") + "?" : std::string("/v1/audit?");
  const auto add = [&](const char* key, const std::string& value) {
    if (value.empty()) return;
    if (path.back() != '?') path += "&";
    path += std::string(key) + "=" + url_encode(value);
  };
  add("limit", std::to_string(a.limit));
  add("after", a.after > 0 ? std::to_string(a.after) : "");
  if (!one_vm) {
    add("user", a.user);
    add("project", a.project);
    add("outcome", a.outcome);
    add("since", a.since);
  }
  CliResult<json> reply = client->get(path);
  if (!reply) return fail(std::move(reply.error()));
  if (globals.format() == OutputFormat::kJson) {
    print_json(*reply);
  } else {
    print_entries(*reply);
  }
  return {};
}

}  // namespace

void add_audit_commands(CLI::App& app, const Globals& globals) {
  auto args = std::make_shared<AuditArgs>();
  CLI::App* audit = app.add_subcommand(
      "audit", "The audit log: every request but successful reads, refusals included");
  audit->add_option("--user", args->user, "One user's requests");
  audit->add_option("--project", args->project, "One project's requests");
  audit->add_option("--outcome", args->outcome, "accepted, refused or failed")
      ->check(CLI::IsMember({"accepted", "refused", "failed"}));
  audit->add_option("--since", args->since, "From this UTC time (2026-12-01[T00:00:00])");
  audit->add_option("--limit", args->limit, "At most this many entries")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  audit->add_option("--after", args->after, "Entries after this id (the next page)");
  set_command(audit, "audit", [globals, args] { return run(*globals, *args, false); });

  auto vm_args = std::make_shared<AuditArgs>();
  CLI::App* actions = app.add_subcommand(
      "actions", "The requests that named a VM: who, from where, the verb and the outcome");
  actions->add_option("id", vm_args->vm, "The VM's id")->required();
  actions->add_option("--limit", vm_args->limit, "At most this many entries")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  actions->add_option("--after", vm_args->after, "Entries after this id (the next page)");
  set_command(actions, "actions", [globals, vm_args] { return run(*globals, *vm_args, true); });
}

}  // namespace corral::cli
