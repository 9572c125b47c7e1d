#include "cli/vm_commands.h"

#include <fmt/chrono.h>
#include <fmt/core.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <ctime>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "cli/action_commands.h"
#include "cli/render.h"
#include "cli/render_records.h"
#include "cli/request.h"
#include "cli/vm_queries.h"
#include "lifecycle/vocabulary.h"

namespace corral::cli {
namespace {

namespace lc = corral::lifecycle;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr auto kTick = std::chrono::milliseconds(100);
constexpr std::string_view kClearScreen = "\033[H\033[2J";

volatile std::sig_atomic_t g_interrupted = 0;

extern "C" void on_interrupt(int /*signal*/) { g_interrupted = 1; }

// Sleeps `seconds`, waking early on Ctrl-C when watching.
void pause_for(double seconds) {
  const auto until = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                        std::chrono::duration<double>(seconds));
  while (g_interrupted == 0 && Clock::now() < until) std::this_thread::sleep_for(kTick);
}

CliResult<Client> checked_client(const GlobalOptions& globals, std::string_view id) {
  CliResult<std::string> checked = check_vm_id(id);
  if (!checked) return fail(std::move(checked.error()));
  return client_for(globals);
}

// ---- create ---------------------------------------------------------------------------

CliResult<void> run_create(const GlobalOptions& globals, const CreateArgs& args) {
  CliResult<json> body = create_request(args);
  if (!body) return fail(std::move(body.error()));
  CliResult<Client> client = client_for(globals);
  if (!client) return fail(std::move(client.error()));
  CliResult<json> response = client->post("/v1/vms", *body);
  if (!response) return fail(std::move(response.error()));
  switch (globals.format()) {
    case OutputFormat::kJson:
      print_json(*response);
      break;
    case OutputFormat::kTable:
      fmt::print("{}\n", text_of(field(field(*response, "vm"), "id"), "?"));
      break;
  }
  return {};
}

// ---- list -----------------------------------------------------------------------------

struct ListOptions {
  ListArgs args;
  bool all = false;
  bool watch = false;
  double interval = 2.0;
};

// One listing: the table or the JSON, as text.
CliResult<std::string> list_text(const GlobalOptions& globals, const ListOptions& options,
                                 lc::Vocabulary vocabulary) {
  CliResult<Client> client = client_for(globals);
  if (!client) return fail(std::move(client.error()));
  CliResult<std::vector<json>> vms = fetch_all_vms(*client, options.args);
  if (!vms) return fail(std::move(vms.error()));
  // OpenNebula hides DONE VMs too; asking for --state DONE shows them.
  if (!options.all && options.args.state.empty()) std::erase_if(*vms, is_done);
  switch (globals.format()) {
    case OutputFormat::kJson:
      return json{{"vms", *vms}}.dump(2) + "\n";
    case OutputFormat::kTable:
      return vm_list_table(*vms, vocabulary);
  }
  return std::string();
}

CliResult<void> run_list(const GlobalOptions& globals, const ListOptions& options,
                         const std::string& given_vocabulary) {
  lc::Vocabulary vocabulary = lc::Vocabulary::kCorral;
  if (!given_vocabulary.empty()) {
    CliResult<lc::Vocabulary> parsed = parse_vocabulary_arg(given_vocabulary);
    if (!parsed) return fail(std::move(parsed.error()));
    vocabulary = *parsed;
  }
  if (!options.args.state.empty()) {
    CliResult<lc::State> state = parse_state_arg(options.args.state);
    if (!state) return fail(std::move(state.error()));
  }
  if (!options.watch) {
    CliResult<std::string> text = list_text(globals, options, vocabulary);
    if (!text) return fail(std::move(text.error()));
    fmt::print("{}", *text);
    return {};
  }
  if (options.interval < 0.1) return fail(usage_failure("--interval must be at least 0.1"));
  CliResult<Client> client = client_for(globals);
  if (!client) return fail(std::move(client.error()));
  g_interrupted = 0;
  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
  const bool tty = isatty(STDOUT_FILENO) != 0;
  for (bool first = true; g_interrupted == 0; first = false) {
    CliResult<std::string> text = list_text(globals, options, vocabulary);
    const std::time_t now = std::time(nullptr);
    std::string frame = tty ? std::string(kClearScreen) : (first ? "" : "---\n");
    frame += fmt::format("Every {}s: corral vm list ({})   {:%Y-%m-%d %H:%M:%S}\n\n",
                         options.interval, client->url(), fmt::localtime(now));
    frame += text ? *text : format_failure("corral vm list", text.error());
    fmt::print("{}", frame);
    std::fflush(stdout);
    pause_for(options.interval);
  }
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  return {};
}

// ---- show, history, migrations
// ----------------------------------------------------------------------

CliResult<void> run_show(const GlobalOptions& globals, const std::string& id) {
  CliResult<Client> client = checked_client(globals, id);
  if (!client) return fail(std::move(client.error()));
  CliResult<json> vm = client->get(vm_path(id));
  if (!vm) return fail(std::move(vm.error()));
  switch (globals.format()) {
    case OutputFormat::kJson:
      print_json(*vm);
      break;
    case OutputFormat::kTable:
      fmt::print("{}", vm_details(*vm));
      break;
  }
  return {};
}

// A {"vm": VM} reply (a NIC update, a lock): as JSON, or the VM's details.
void print_vm_reply(const GlobalOptions& globals, const json& reply) {
  switch (globals.format()) {
    case OutputFormat::kJson:
      print_json(reply);
      break;
    case OutputFormat::kTable:
      fmt::print("{}", vm_details(field(reply, "vm")));
      break;
  }
}

// OpenNebula's onevm nic-update, Neutron's port set --security-group: the NIC's groups from
// now on (none given: default), on a running VM too.
CliResult<void> run_nic_update(const GlobalOptions& globals, const std::string& id,
                               const std::string& nic, const std::vector<std::string>& groups) {
  CliResult<Client> client = checked_client(globals, id);
  if (!client) return fail(std::move(client.error()));
  CliResult<json> reply =
      client->put(vm_path(id, "/nics/" + url_encode(nic)), {{"security_groups", groups}});
  if (!reply) return fail(std::move(reply.error()));
  print_vm_reply(globals, *reply);
  return {};
}

// Nova's server lock/unlock, OpenNebula's onevm lock/unlock: PUT or DELETE /v1/vms/{id}/lock.
CliResult<void> run_lock(const GlobalOptions& globals, const std::string& id, bool lock,
                         const std::string& reason) {
  CliResult<Client> client = checked_client(globals, id);
  if (!client) return fail(std::move(client.error()));
  json body = json::object();
  if (!reason.empty()) body["reason"] = reason;
  CliResult<json> reply =
      lock ? client->put(vm_path(id, "/lock"), body) : client->del(vm_path(id, "/lock"));
  if (!reply) return fail(std::move(reply.error()));
  print_vm_reply(globals, *reply);
  return {};
}

CliResult<void> run_history(const GlobalOptions& globals, const std::string& id) {
  CliResult<Client> client = checked_client(globals, id);
  if (!client) return fail(std::move(client.error()));
  CliResult<json> history = client->get(vm_path(id, "/history"));
  if (!history) return fail(std::move(history.error()));
  switch (globals.format()) {
    case OutputFormat::kJson:
      print_json(*history);
      break;
    case OutputFormat::kTable:
      fmt::print("{}", history_table(*history));
      // OpenNebula's history records: where the VM was, and what ended each stay.
      fmt::print("\nHOST STAYS\n{}", stays_table(*history));
      break;
  }
  return {};
}

CliResult<void> run_migrations(const GlobalOptions& globals, const std::string& id) {
  CliResult<Client> client = checked_client(globals, id);
  if (!client) return fail(std::move(client.error()));
  CliResult<json> reply = client->get(vm_path(id, "/migrations"));
  if (!reply) return fail(std::move(reply.error()));
  switch (globals.format()) {
    case OutputFormat::kJson:
      print_json(*reply);
      break;
    case OutputFormat::kTable:
      fmt::print("{}", migrations_table(*reply));
      break;
  }
  return {};
}

// ---- wait -------------------------------------------------------------------------------

struct WaitOptions {
  std::string id;
  std::string state;
  double timeout = 300;
  double interval = 1;
};

CliResult<void> run_wait(const GlobalOptions& globals, const WaitOptions& options) {
  CliResult<lc::State> target = parse_state_arg(options.state);
  if (!target) return fail(std::move(target.error()));
  if (options.timeout < 0) return fail(usage_failure("--timeout must not be negative"));
  if (options.interval < 0.1) return fail(usage_failure("--interval must be at least 0.1"));
  CliResult<Client> client = checked_client(globals, options.id);
  if (!client) return fail(std::move(client.error()));
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(options.timeout));
  while (true) {
    CliResult<json> vm = client->get(vm_path(options.id));
    if (!vm) return fail(std::move(vm.error()));
    const std::optional<std::string> verdict = wait_verdict(*vm, *target);
    if (verdict && !verdict->empty()) return fail(not_reached_failure(*verdict));
    if (verdict) {
      switch (globals.format()) {
        case OutputFormat::kJson:
          print_json(*vm);
          break;
        case OutputFormat::kTable:
          fmt::print("VM {} is {}\n", options.id, lc::state_name(*target));
          break;
      }
      return {};
    }
    if (Clock::now() >= deadline) {
      std::string why =
          fmt::format("timed out after {}s waiting for VM {} to be {}; it is {}", options.timeout,
                      options.id, lc::state_name(*target), text_of(field(*vm, "state")));
      const std::string operation = operation_text(field(*vm, "operation"));
      if (operation != "-") why += " (operation " + operation + ")";
      return fail(not_reached_failure(why));
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(options.interval));
  }
}

// ---- delete -----------------------------------------------------------------------------

CliResult<void> run_delete(const GlobalOptions& globals, const std::string& id, bool hard,
                           const std::string& given_vocabulary) {
  if (!given_vocabulary.empty()) {
    CliResult<lc::Vocabulary> vocabulary = parse_vocabulary_arg(given_vocabulary);
    if (!vocabulary) return fail(std::move(vocabulary.error()));
    // Nova's and Azure's delete is their own verb (delete now); send it as such.
    if (is_verb_of(*vocabulary, "delete")) {
      ActionArgs args;
      args.verb = "delete";
      return run_action(globals, id, std::move(args), given_vocabulary);
    }
  }
  CliResult<Client> client = checked_client(globals, id);
  if (!client) return fail(std::move(client.error()));
  CliResult<json> response = client->del(vm_path(id, hard ? "?hard=true" : ""));
  if (!response) return fail(std::move(response.error()));
  switch (globals.format()) {
    case OutputFormat::kJson:
      print_json(*response);
      break;
    case OutputFormat::kTable:
      fmt::print("{}", accepted_text(*response, hard ? "delete --hard" : "delete"));
      break;
  }
  return {};
}

}  // namespace

void add_vm_command(CLI::App& app, const Globals& globals) {
  auto vocabulary = std::make_shared<std::string>();
  CLI::App* vm = app.add_subcommand("vm", "Virtual machines: create, list, show, act on them");
  vm->require_subcommand(1);
  add_vocabulary_option(vm, *vocabulary, "Vocabulary of verbs and of list's STATE column");

  {
    auto args = std::make_shared<CreateArgs>();
    CLI::App* cmd = vm->add_subcommand("create", "Create a VM; prints its id");
    cmd->add_option("name", args->name, "VM name")->required();
    cmd->add_option("--image", args->image, "Image to boot")->required();
    cmd->add_option("--vcpus", args->vcpus, "vCPUs")->capture_default_str();
    cmd->add_option("--memory", args->memory_mib, "Memory in MiB")->capture_default_str();
    cmd->add_flag("--hold", args->hold, "Create on hold: not scheduled until released");
    cmd->add_option("--requirements", args->requirements,
                    "Host requirements, e.g. 'ARCH = \"x86_64\" & !(zone = eu-*)'");
    cmd->add_option("--group", args->group, "Server group (name or id) the VM joins");
    cmd->add_option("--network", args->networks, "Network for a NIC (repeatable, in NIC order)");
    cmd->add_option("--security-group", args->security_groups,
                    "Security group of every NIC (repeatable; default: default)");
    cmd->add_option("--ssh-key", args->ssh_keys,
                    "A public key line root accepts (repeatable; `corral run` gives yours)");
    set_command(cmd, "corral vm create", [globals, args] { return run_create(*globals, *args); });
  }
  {
    auto options = std::make_shared<ListOptions>();
    CLI::App* cmd = vm->add_subcommand("list", "List VMs (DONE ones only with --all)");
    cmd->add_option("--state", options->args.state, "Only VMs in this canonical state");
    cmd->add_option("--name", options->args.name, "Only VMs with this name");
    cmd->add_flag("--all", options->all, "Include DONE VMs");
    cmd->add_flag("--all-projects", options->args.all_projects,
                  "Every project's VMs (the cloud's admin; Nova's --all-tenants)");
    cmd->add_option("--project", options->args.project, "One project's VMs (the cloud's admin)");
    cmd->add_flag("--watch", options->watch, "Redraw every --interval seconds until Ctrl-C");
    cmd->add_option("--interval", options->interval, "Seconds between redraws")
        ->capture_default_str();
    set_command(cmd, "corral vm list", [globals, options, vocabulary] {
      return run_list(*globals, *options, *vocabulary);
    });
  }
  {
    auto id = std::make_shared<std::string>();
    CLI::App* cmd = vm->add_subcommand("show", "Show a VM: every field and every view");
    cmd->add_option("id", *id, "VM id")->required();
    set_command(cmd, "corral vm show", [globals, id] { return run_show(*globals, *id); });
  }
  {
    auto id = std::make_shared<std::string>();
    auto reason = std::make_shared<std::string>();
    CLI::App* cmd = vm->add_subcommand(
        "lock", "Lock a VM: its actions are refused to all but the cloud's admin (Nova's lock)");
    cmd->add_option("id", *id, "VM id")->required();
    cmd->add_option("--reason", *reason, "Why (Nova's locked_reason)");
    set_command(cmd, "corral vm lock",
                [globals, id, reason] { return run_lock(*globals, *id, true, *reason); });
  }
  {
    auto id = std::make_shared<std::string>();
    CLI::App* cmd = vm->add_subcommand("unlock", "Unlock a VM (the admin's lock: the admin only)");
    cmd->add_option("id", *id, "VM id")->required();
    set_command(cmd, "corral vm unlock",
                [globals, id] { return run_lock(*globals, *id, false, ""); });
  }
  {
    auto id = std::make_shared<std::string>();
    auto nic = std::make_shared<std::string>();
    auto groups = std::make_shared<std::vector<std::string>>();
    CLI::App* cmd = vm->add_subcommand(
        "nic-update",
        "Change a NIC's security groups (a running VM's too: only its firewall changes)");
    cmd->add_option("id", *id, "VM id")->required();
    cmd->add_option("nic", *nic, "The NIC's number (NIC_ID)")->required();
    cmd->add_option("--security-group", *groups,
                    "A group the NIC is in from now on (repeat for more; none: default)");
    set_command(cmd, "corral vm nic-update", [globals, id, nic, groups] {
      return run_nic_update(*globals, *id, *nic, *groups);
    });
  }
  {
    auto id = std::make_shared<std::string>();
    CLI::App* cmd = vm->add_subcommand("history", "A VM's transitions and host stays");
    cmd->add_option("id", *id, "VM id")->required();
    set_command(cmd, "corral vm history", [globals, id] { return run_history(*globals, *id); });
  }
  {
    auto id = std::make_shared<std::string>();
    CLI::App* cmd = vm->add_subcommand("migrations", "A VM's migration records (Nova's)");
    cmd->add_option("id", *id, "VM id")->required();
    set_command(cmd, "corral vm migrations",
                [globals, id] { return run_migrations(*globals, *id); });
  }
  {
    auto options = std::make_shared<WaitOptions>();
    CLI::App* cmd = vm->add_subcommand("wait", "Wait until a VM is in a state");
    cmd->add_option("id", options->id, "VM id")->required();
    cmd->add_option("--for", options->state, "Canonical state (any case)")->required();
    cmd->add_option("--timeout", options->timeout, "Seconds")->capture_default_str();
    cmd->add_option("--interval", options->interval, "Seconds between polls")
        ->capture_default_str();
    set_command(cmd, "corral vm wait", [globals, options] { return run_wait(*globals, *options); });
  }
  {
    struct DeleteOptions {
      std::string id;
      bool hard = false;
    };
    auto options = std::make_shared<DeleteOptions>();
    CLI::App* cmd = vm->add_subcommand("delete", "Terminate a VM (DELETE; --hard: now)");
    cmd->add_option("id", options->id, "VM id")->required();
    cmd->add_flag("--hard", options->hard, "Terminate without a graceful shutdown");
    set_command(cmd, "corral vm delete", [globals, options, vocabulary] {
      return run_delete(*globals, options->id, options->hard, *vocabulary);
    });
  }
  add_action_commands(vm, globals, vocabulary);
}

}  // namespace corral::cli
