// Request bodies: parsing and validation, HTTP JSON -> engine commands (queries and ids:
// api/queries.h).
//
// Contract: pure functions (no engine, no I/O, no httplib). Every malformed input yields
// kInvalidArgument (kTooLarge for a body over the limit) with a message naming the field and
// what is wrong. Unknown fields are refused, naming them. Bodies are JSON objects, nested at
// most kMaxJsonDepth deep (checked before parsing, so no input can recurse deeply).
//
// Limits: name 1-64 of [A-Za-z0-9._-]; image 1-128 bytes, no '/', no "..", no control
// characters (an image names a file under the data dir and can never escape it); vcpus
// 1-1024; memory_mib 16-4194304; an operation's params pass store::validate_params (what the
// drivers need: a snapshot name is 1-64 of [a-z0-9._-]). Passwords never leave this module:
// params keep "***".
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "engine/engine.h"
#include "lifecycle/types.h"
#include "store/types.h"

namespace corral::api {

inline constexpr std::size_t kMaxBodyBytes = std::size_t{64} * 1024;
inline constexpr int kMaxJsonDepth = 16;
inline constexpr int kMinVcpus = 1;
inline constexpr int kMaxVcpus = 1024;
inline constexpr int kMinMemoryMib = 16;
inline constexpr int kMaxMemoryMib = 4'194'304;

// The body as a JSON object. Errors: kTooLarge over kMaxBodyBytes, kInvalidArgument when it
// is not JSON, nests deeper than kMaxJsonDepth, or is not an object.
[[nodiscard]] Result<nlohmann::json> parse_body(std::string_view body);

// How deep arrays and objects nest in `text` (strings are skipped); stops counting past
// `limit` + 1.
int json_depth(std::string_view text, int limit = kMaxJsonDepth);

// POST /v1/vms {name, image, vcpus, memory_mib, hold?}.
[[nodiscard]] Result<engine::CreateRequest> parse_create(const nlohmann::json& body);

// "security_groups": [name or id, ...] (at most store::kMaxSecurityGroupsPerNic), as create,
// nic_attach and PUT /v1/vms/{id}/nics/{nic} take it.
[[nodiscard]] Result<std::vector<std::string>> security_groups_field(const nlohmann::json& value);

// POST /v1/vms/{id}/actions, before the VM is looked at.
struct ActionInput {
  std::string verb;
  lifecycle::Vocabulary vocabulary = lifecycle::Vocabulary::kCorral;
  std::string variant_parameter;  // which parameter selects the verb's variant ("" if none)
  std::string variant;            // its value as lifecycle::resolve wants it ("" if absent)
  nlohmann::json variant_json;    // its value as sent (kept in params)
  nlohmann::json params;          // every other field, still to be checked (an object)
};
[[nodiscard]] Result<ActionInput> parse_action(const nlohmann::json& body);

// The engine's command for `action` (what the verb resolved to) on `vm`: checks the
// parameters `action` takes and refuses the others. Errors: kInvalidArgument.
[[nodiscard]] Result<engine::ActionRequest> build_action(const ActionInput& input,
                                                         lifecycle::Action action,
                                                         const store::Vm& vm);

bool valid_name(std::string_view name);
bool valid_image(std::string_view image);

}  // namespace corral::api
