#include "cli/usage_command.h"

#include <fmt/core.h>

#include <memory>
#include <string>

#include "cli/request.h"

namespace corral::cli {
namespace {

using nlohmann::json;

struct UsageArgs {
  std::string project;
  bool all_projects = false;
  std::string from;
  std::string to;
  std::string billing;
  bool csv = false;
};

constexpr const char* kClasses[] = {"hardware_and_software", "hardware_only", "not_billed"};

// A CSV field: quoted when it holds a comma, a quote or a line break (RFC 4180).
std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

double hours(const json& by_class, const char* cls, const char* field) {
  return by_class.contains(cls) ? by_class[cls].value(field, 0.0) : 0.0;
}

void print_csv(const json& reply) {
  fmt::print(
      "project,vm_id,vm_name,state,vcpus,memory_mib,billing_table,class,hours,vcpu_hours,"
      "memory_mib_hours,existed_hours,from,to\n");
  for (const json& p : reply["projects"]) {
    const std::string project = p["project"].value("name", std::string());
    for (const json& vm : p["servers"]) {
      for (const char* cls : kClasses) {
        fmt::print("{},{},{},{},{},{},{},{},{:.6f},{:.6f},{:.6f},{:.6f},{},{}\n",
                   csv_field(project), vm.value("id", 0), csv_field(vm.value("name", "")),
                   vm.value("state", ""), vm.value("vcpus", 0), vm.value("memory_mib", 0),
                   reply.value("billing_table", ""), cls, hours(vm["by_class"], cls, "hours"),
                   hours(vm["by_class"], cls, "vcpu_hours"),
                   hours(vm["by_class"], cls, "memory_mib_hours"), vm.value("existed_hours", 0.0),
                   reply.value("from", ""), reply.value("to", ""));
      }
    }
  }
}

void print_table(const json& reply) {
  fmt::print("usage from {} to {}, billing table {}\n", reply.value("from", ""),
             reply.value("to", ""), reply.value("billing_table", ""));
  fmt::print("{:<12} {:>4} {:<12} {:<11} {:>9} {:>9} {:>9} {:>9} {:>10}\n", "PROJECT", "VM", "NAME",
             "STATE", "EXISTED_H", "FULL_H", "HW_ONLY_H", "UNBILL_H", "BILLED_VCPU_H");
  for (const json& p : reply["projects"]) {
    const std::string project = p["project"].value("name", std::string());
    const auto row = [&](const std::string& vm, const std::string& name, const std::string& state,
                         const json& by_class, double existed) {
      fmt::print("{:<12} {:>4} {:<12} {:<11} {:>9.2f} {:>9.2f} {:>9.2f} {:>9.2f} {:>10.2f}\n",
                 project, vm, name, state, existed,
                 hours(by_class, "hardware_and_software", "hours"),
                 hours(by_class, "hardware_only", "hours"), hours(by_class, "not_billed", "hours"),
                 hours(by_class, "hardware_and_software", "vcpu_hours") +
                     hours(by_class, "hardware_only", "vcpu_hours"));
    };
    for (const json& vm : p["servers"]) {
      row(std::to_string(vm.value("id", 0)), vm.value("name", ""), vm.value("state", ""),
          vm["by_class"], vm.value("existed_hours", 0.0));
    }
    row("all", "-", "-", p["by_class"], p.value("existed_hours", 0.0));
  }
}

CliResult<void> run_usage(const GlobalOptions& globals, const UsageArgs& a) {
  CliResult<Client> client = client_for(globals);
  if (!client) return fail(std::move(client.error()));
  std::string path = "/v1/usage?";
  const auto add = [&](const char* key, const std::string& value) {
    if (value.empty()) return;
    if (path.back() != '?') path += "&";
    path += std::string(key) + "=" + url_encode(value);
  };
  add("project", a.project);
  add("all_projects", a.all_projects ? "true" : "");
  add("from", a.from);
  add("to", a.to);
  add("billing", a.billing);
  if (path.back() == '?') path.pop_back();
  CliResult<json> reply = client->get(path);
  if (!reply) return fail(std::move(reply.error()));
  if (a.csv) {
    print_csv(*reply);
  } else if (globals.format() == OutputFormat::kJson) {
    print_json(*reply);
  } else {
    print_table(*reply);
  }
  return {};
}

}  // namespace

void add_usage_command(CLI::App& app, const Globals& globals) {
  auto args = std::make_shared<UsageArgs>();
  CLI::App* cmd = app.add_subcommand(
      "usage", "Hours per billing class and vCPU-hours per VM and project, from the history");
  cmd->add_option("--from", args->from, "Start (UTC: 2026-12-01[T00:00:00]); default: this month");
  cmd->add_option("--to", args->to, "End (UTC); default: now");
  cmd->add_option("--billing", args->billing,
                  "Billing table: azure-2021 (seed 000, default), azure-current, "
                  "opennebula-showback")
      ->check(CLI::IsMember({"azure-2021", "azure-current", "opennebula-showback"}));
  cmd->add_option("--project", args->project, "One project's (the cloud's admin)");
  cmd->add_flag("--all-projects", args->all_projects, "Every project's (the cloud's admin)");
  cmd->add_flag("--csv", args->csv, "One CSV row per VM and billing class");
  set_command(cmd, "usage", [globals, args] { return run_usage(*globals, *args); });
}

}  // namespace corral::cli
