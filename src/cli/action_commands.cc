#include "cli/action_commands.h"

#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <utility>
#include <vector>

#include "cli/render.h"
#include "lifecycle/vocabulary.h"

namespace corral::cli {
namespace {

namespace lc = corral::lifecycle;

// Subcommands of `vm` that are not verbs; a verb of the same name is reached with
// `vm action ID VERB`.
constexpr std::array<std::string_view, 8> kVmCommands = {"create",     "list", "show",   "history",
                                                         "migrations", "wait", "action", "delete"};

struct VerbEntry {
  std::string verb;
  std::vector<std::string_view> vocabularies;
};

// Every verb of every vocabulary, canonical ones first, with the vocabularies that have it.
std::vector<VerbEntry> all_verbs() {
  std::vector<VerbEntry> out;
  for (lc::Vocabulary v : lc::kAllVocabularies) {
    for (std::string_view verb : lc::verbs(v)) {
      auto it = std::find_if(out.begin(), out.end(),
                             [verb](const VerbEntry& e) { return e.verb == verb; });
      if (it == out.end()) {
        out.push_back({std::string(verb), {}});
        it = std::prev(out.end());
      }
      it->vocabularies.push_back(lc::vocabulary_name(v));
    }
  }
  return out;
}

std::string join(const std::vector<std::string_view>& words) {
  std::string out;
  for (std::string_view w : words) out += (out.empty() ? "" : ", ") + std::string(w);
  return out;
}

// The typed parameter options every action command takes.
void add_param_options(CLI::App* cmd, ActionArgs& args) {
  cmd->add_option("--vcpus", args.vcpus, "vCPUs (resize)");
  cmd->add_option("--memory", args.memory_mib, "Memory in MiB (resize)");
  cmd->add_option("--type", args.type, "SOFT or HARD (nova reboot)");
  cmd->add_option("--image", args.image, "Image (rebuild)");
  cmd->add_option("--name", args.name,
                  "Image name (snapshot, backup); snapshot name (disk_snapshot*, checkpoint*)");
  cmd->add_option("--size-mib", args.size_mib, "New disk size in MiB (disk_resize)");
  cmd->add_option("--backup-type", args.backup_type, "Backup type (nova backup)");
  cmd->add_option("--rotation", args.rotation, "Backups to keep (nova backup)");
  cmd->add_option("--password", args.password, "Admin password (set_admin_password)");
  cmd->add_option("--host", args.host, "Target host (deploy, migrate, live_migrate)");
  cmd->add_option("--network", args.network, "Network, name or id (nic_attach)");
  cmd->add_option("--ip", args.ip, "Address on that network (nic_attach; default: the next)");
  cmd->add_option("--nic", args.nic, "The NIC's index (nic_detach)");
  cmd->add_option("--volume", args.volume, "Volume, name or id (disk_attach, disk_detach)");
  cmd->add_option("--delete-on-termination", args.delete_on_termination,
                  "true|false: delete the volume with the VM (disk_attach)");
  cmd->add_flag_function(
      "--copy-storage", [&args](std::int64_t count) { args.copy_storage = count > 0; },
      "Mirror the disk to the target: no shared storage (live_migrate)");
  cmd->add_flag_function(
      "--auto-converge", [&args](std::int64_t count) { args.auto_converge = count > 0; },
      "Throttle the guest until the migration converges (live_migrate)");
  cmd->add_option("--postcopy-after-ms", args.postcopy_after_ms,
                  "Switch to post-copy after this long; 0 never, -1 the default (live_migrate)");
  cmd->add_option("--max-downtime-ms", args.max_downtime_ms,
                  "Longest pause the switch may take (live_migrate)");
  cmd->add_option("--bandwidth", args.bandwidth_mib_s, "MiB/s at most (live_migrate)");
  cmd->add_option("--state", args.state, "State to set (reset_state)");
  cmd->add_option("--op", args.op, "success|failure|retry|delete|recreate (opennebula recover)");
  cmd->add_option("--offload", args.offload, "true|false: offload when shelving (nova shelve)");
  // A flag of std::optional<bool> would always be set; only a given flag may set it.
  cmd->add_flag_function(
      "--skip-shutdown", [&args](std::int64_t count) { args.skip_shutdown = count > 0; },
      "Power off without shutting down (azure powerOff)");
  cmd->add_option("--param", args.params, "Any other parameter, KEY=VALUE (repeatable)")
      ->allow_extra_args(false);
}

}  // namespace

CliResult<std::string> vocabulary_for_verb(std::string_view given, std::string_view verb) {
  if (!given.empty()) {
    CliResult<lc::Vocabulary> vocabulary = parse_vocabulary_arg(given);
    if (!vocabulary) return fail(std::move(vocabulary.error()));
    return std::string(lc::vocabulary_name(*vocabulary));
  }
  if (is_verb_of(lc::Vocabulary::kCorral, verb)) return std::string("corral");
  // Exact spelling first: "poweroff" is OpenNebula's, "powerOff" Azure's.
  std::vector<std::string_view> owners;
  for (lc::Vocabulary v : lc::kAllVocabularies) {
    const std::vector<std::string_view> verbs = lc::verbs(v);
    if (std::find(verbs.begin(), verbs.end(), verb) != verbs.end()) {
      owners.push_back(lc::vocabulary_name(v));
    }
  }
  if (owners.size() == 1) return std::string(owners.front());
  if (owners.empty()) {
    for (lc::Vocabulary v : lc::kAllVocabularies) {
      if (is_verb_of(v, verb)) owners.push_back(lc::vocabulary_name(v));
    }
    if (owners.size() == 1) return std::string(owners.front());
  }
  if (owners.empty()) {
    std::vector<std::string_view> canonical = lc::verbs(lc::Vocabulary::kCorral);
    return fail(usage_failure(
        fmt::format("unknown verb '{}'; canonical verbs: {}", verb, join(canonical))));
  }
  return fail(usage_failure(fmt::format(
      "'{}' means different things in {}; say which with --vocabulary", verb, join(owners))));
}

CliResult<void> run_action(const GlobalOptions& globals, std::string_view id, ActionArgs args,
                           std::string_view given_vocabulary) {
  CliResult<std::string> checked_id = check_vm_id(id);
  if (!checked_id) return fail(std::move(checked_id.error()));
  CliResult<std::string> vocabulary = vocabulary_for_verb(given_vocabulary, args.verb);
  if (!vocabulary) return fail(std::move(vocabulary.error()));
  args.vocabulary = *vocabulary;
  CliResult<nlohmann::json> body = action_request(args);
  if (!body) return fail(std::move(body.error()));
  CliResult<Client> client = client_for(globals);
  if (!client) return fail(std::move(client.error()));
  CliResult<nlohmann::json> response = client->post(vm_path(*checked_id, "/actions"), *body);
  if (!response) return fail(std::move(response.error()));
  switch (globals.format()) {
    case OutputFormat::kJson:
      print_json(*response);
      break;
    case OutputFormat::kTable:
      fmt::print("{}", accepted_text(*response, args.verb));
      break;
  }
  return {};
}

void add_action_commands(CLI::App* vm, const Globals& globals,
                         const std::shared_ptr<const std::string>& vocabulary) {
  {
    struct Generic {
      std::string id;
      std::string vocabulary;
      ActionArgs args;
    };
    auto options = std::make_shared<Generic>();
    CLI::App* cmd = vm->add_subcommand("action", "Ask for any verb: vm action ID VERB [params]");
    cmd->add_option("id", options->id, "VM id")->required();
    cmd->add_option("verb", options->args.verb, "The verb (see `corral states`)")->required();
    add_vocabulary_option(cmd, options->vocabulary, "Vocabulary of VERB");
    add_param_options(cmd, options->args);
    set_command(cmd, "corral vm action", [globals, vocabulary, options]() -> CliResult<void> {
      const std::string& given = options->vocabulary.empty() ? *vocabulary : options->vocabulary;
      return run_action(*globals, options->id, options->args, given);
    });
  }
  for (const VerbEntry& entry : all_verbs()) {
    if (std::find(kVmCommands.begin(), kVmCommands.end(), entry.verb) != kVmCommands.end()) {
      continue;
    }
    struct Verb {
      std::string id;
      ActionArgs args;
    };
    auto options = std::make_shared<Verb>();
    options->args.verb = entry.verb;
    CLI::App* cmd =
        vm->add_subcommand(entry.verb, fmt::format("Verb of {}", join(entry.vocabularies)));
    cmd->group("Verbs");
    cmd->add_option("id", options->id, "VM id")->required();
    add_param_options(cmd, options->args);
    set_command(cmd, "corral vm " + entry.verb, [globals, vocabulary, options]() {
      return run_action(*globals, options->id, options->args, *vocabulary);
    });
  }
}

}  // namespace corral::cli
