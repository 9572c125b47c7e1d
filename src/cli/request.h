// Request building: command-line arguments -> API v1 paths and JSON bodies. Pure.
//
// Contract: user input only ever reaches the server percent-encoded in a path or query, or
// as a JSON value; every malformed argument is a usage Failure (exit 2) before anything is
// sent. Verbs are checked against the vocabulary's verbs (lifecycle::verbs), so a verb the
// vocabulary lacks is a usage error, not a round trip.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/failure.h"
#include "lifecycle/types.h"

namespace corral::cli {

// Percent-encodes everything but RFC 3986's unreserved characters.
std::string url_encode(std::string_view text);

// A VM id as typed: non-empty, at most 64 characters of [A-Za-z0-9._-].
[[nodiscard]] CliResult<std::string> check_vm_id(std::string_view id);

// "/v1/vms/<id><suffix>" with the id encoded; `suffix` is a literal such as "/history".
std::string vm_path(std::string_view id, std::string_view suffix = {});

// A vocabulary name (case-insensitive) or a usage failure listing the five.
[[nodiscard]] CliResult<lifecycle::Vocabulary> parse_vocabulary_arg(std::string_view name);

// A canonical state name (case-insensitive) or a usage failure listing them.
[[nodiscard]] CliResult<lifecycle::State> parse_state_arg(std::string_view name);

struct CreateArgs {
  std::string name;
  std::string image;
  int vcpus = 1;
  int memory_mib = 256;
  bool hold = false;
  std::string requirements;  // empty: none (the server parses it)
  std::string group;         // a server group's name or id; empty: none
  // Networks to give it a NIC on (names or ids, in NIC order), and public keys for root.
  std::vector<std::string> networks;
  std::vector<std::string> security_groups;  // of every NIC (empty: default)
  std::vector<std::string> ssh_keys;
};

// {name, image, vcpus, memory_mib, hold?}; usage failure for an empty name or image or
// non-positive sizes.
[[nodiscard]] CliResult<nlohmann::json> create_request(const CreateArgs& args);

struct ListArgs {
  std::string state;  // canonical, any case; "" = any
  std::string name;   // exact; "" = any
  int limit = 100;    // page size
  // The cloud's admin: every project's VMs, or one project's (default: the token's project).
  bool all_projects = false;
  std::string project{};
};

// "/v1/vms?state=...&name=...&limit=N[&marker=M]"; usage failure for an unknown state.
[[nodiscard]] CliResult<std::string> list_path(const ListArgs& args, std::string_view marker);

struct ActionArgs {
  std::string verb;
  std::string vocabulary = "corral";
  // Typed parameters; each, when given, overrides the same key from `params`.
  std::optional<int> vcpus;
  std::optional<int> memory_mib;
  std::optional<std::string> type;  // nova reboot: SOFT | HARD
  std::optional<std::string> image;
  std::optional<std::string> name;
  std::optional<std::string> backup_type;
  std::optional<int> rotation;
  std::optional<int> size_mib;  // disk_resize
  std::optional<std::string> password;
  std::optional<std::string> host;
  std::optional<std::string> network;         // nic_attach: the network (name or id)
  std::optional<std::string> ip;              // nic_attach: the address wanted (default: the next)
  std::optional<int> nic;                     // nic_detach: the NIC's index
  std::optional<std::string> volume;          // disk_attach, disk_detach: the volume (name or id)
  std::optional<bool> delete_on_termination;  // disk_attach: set the volume's
  std::optional<std::string> state;           // reset_state target
  std::optional<std::string> op;              // opennebula recover
  std::optional<bool> offload;                // nova shelve
  std::optional<bool> skip_shutdown;          // azure powerOff
  // live_migrate (store/op_params.h MigrationParams)
  std::optional<bool> copy_storage;
  std::optional<bool> auto_converge;
  std::optional<int> postcopy_after_ms;
  std::optional<int> max_downtime_ms;
  std::optional<int> bandwidth_mib_s;
  std::vector<std::string> params;  // "key=value"
};

// {"action": verb, "vocabulary": v, ...params}. `--param` values are typed by key: vcpus,
// memory_mib and rotation are integers; offload, skipShutdown and hard are booleans;
// everything else is a string.
[[nodiscard]] CliResult<nlohmann::json> action_request(const ActionArgs& args);

// Whether `verb` is one of `vocabulary`'s verbs (case-insensitive, as the server matches).
bool is_verb_of(lifecycle::Vocabulary vocabulary, std::string_view verb);

}  // namespace corral::cli
