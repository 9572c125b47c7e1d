#include "api/requests.h"

#include <algorithm>
#include <array>
#include <span>
#include <vector>

#include "lifecycle/vocabulary.h"
#include "store/op_params.h"

namespace corral::api {
namespace {

namespace lc = corral::lifecycle;
using nlohmann::json;

Error bad(std::string message) { return Error::invalid_argument(std::move(message)); }

std::string quoted_list(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "'" : ", '") + n + "'";
  return out;
}

std::string joined(std::span<const std::string_view> names) {
  std::string out;
  for (std::string_view n : names) out += (out.empty() ? "" : ", ") + std::string(n);
  return out;
}

// The fields of `object` that are not in `known`, refused by name.
Status refuse_unknown(const json& object, std::span<const std::string_view> known,
                      std::string_view what) {
  std::vector<std::string> unknown;
  for (const auto& [key, value] : object.items()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) unknown.push_back(key);
  }
  if (unknown.empty()) return {};
  std::string message = (unknown.size() == 1 ? "unknown field " : "unknown fields ") +
                        quoted_list(unknown) + " for " + std::string(what);
  message += known.empty() ? " (it takes no parameters)" : " (allowed: " + joined(known) + ")";
  return fail(bad(std::move(message)));
}

Result<std::int64_t> integer(const json& value, std::string_view field, std::int64_t lo,
                             std::int64_t hi) {
  std::int64_t v = 0;
  if (value.is_number_unsigned()) {
    const auto u = value.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(hi)) {
      return fail(bad("'" + std::string(field) + "' must be between " + std::to_string(lo) +
                      " and " + std::to_string(hi) + " (got " + std::to_string(u) + ")"));
    }
    v = static_cast<std::int64_t>(u);
  } else if (value.is_number_integer()) {
    v = value.get<std::int64_t>();
  } else {
    return fail(bad("'" + std::string(field) + "' must be an integer"));
  }
  if (v < lo || v > hi) {
    return fail(bad("'" + std::string(field) + "' must be between " + std::to_string(lo) + " and " +
                    std::to_string(hi) + " (got " + std::to_string(v) + ")"));
  }
  return v;
}

// A string of 1..max bytes without control characters.
Result<std::string> text(const json& value, std::string_view field, std::size_t max) {
  if (!value.is_string()) return fail(bad("'" + std::string(field) + "' must be a string"));
  const auto& s = value.get_ref<const std::string&>();
  if (s.empty() || s.size() > max) {
    return fail(bad("'" + std::string(field) + "' must be 1 to " + std::to_string(max) +
                    " characters long"));
  }
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return fail(bad("'" + std::string(field) + "' must not contain control characters"));
    }
  }
  return s;
}

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

Result<std::string> image_field(const json& value) {
  if (!value.is_string()) return fail(bad("'image' must be a string"));
  const auto& s = value.get_ref<const std::string&>();
  if (!valid_image(s)) {
    return fail(
        bad("'image' must be 1 to 128 characters, without '/', '..' or control "
            "characters (an image is a file name under the data dir)"));
  }
  return s;
}

Result<std::string> host_field(const json& value) {
  Result<std::string> host = text(value, "host", 255);
  if (!host) return host;
  if (!std::all_of(host->begin(), host->end(), name_char)) {
    return fail(bad("'host' must be a host name of [A-Za-z0-9._-]"));
  }
  return host;
}

// Which parameters each action takes (the variant parameter of the verb aside).
struct ActionParams {
  lc::Action action;
  std::array<std::string_view, 6> names;
  std::size_t count;
};
constexpr ActionParams kActionParams[] = {
    {lc::Action::kResize, {"vcpus", "memory_mib"}, 2},
    {lc::Action::kResizeMigrate, {"vcpus", "memory_mib", "host"}, 3},  // host: checked, as migrate
    {lc::Action::kRebuild, {"image"}, 1},
    {lc::Action::kSnapshot, {"name"}, 1},
    {lc::Action::kBackup, {"name", "backup_type", "rotation"}, 3},
    {lc::Action::kSetAdminPassword, {"password"}, 1},
    {lc::Action::kMigrate, {"host"}, 1},
    // libvirt's --copy-storage-inc / --auto-converge / --postcopy-after-precopy /
    // --timeout-postcopy, migrate-setmaxdowntime, --bandwidth (store/op_params.h).
    {lc::Action::kLiveMigrate,
     {"host", "copy_storage", "auto_converge", "postcopy_after_ms", "max_downtime_ms",
      "bandwidth_mib_s"},
     6},
    {lc::Action::kDeploy, {"host"}, 1},
    {lc::Action::kResetState, {"state"}, 1},
    {lc::Action::kDiskSnapshot, {"name"}, 1},
    {lc::Action::kDiskSnapshotRevert, {"name"}, 1},
    {lc::Action::kDiskSnapshotDelete, {"name"}, 1},
    {lc::Action::kCheckpoint, {"name"}, 1},
    {lc::Action::kCheckpointRevert, {"name"}, 1},
    {lc::Action::kCheckpointDelete, {"name"}, 1},
    {lc::Action::kDiskResize, {"size_mib"}, 1},
    // OpenNebula's onevm nic-attach --network [--ip], nic-detach NIC_ID; Nova's os-interface
    // {net_id, fixed_ips}.
    {lc::Action::kNicAttach, {"network", "ip", "security_groups"}, 3},
    {lc::Action::kNicDetach, {"nic"}, 1},
    // OpenNebula's onevm disk-attach --image (a persistent image), disk-detach; Nova's
    // os-volume_attachments {volumeId, delete_on_termination}.
    {lc::Action::kDiskAttach, {"volume", "delete_on_termination"}, 2},
    {lc::Action::kDiskDetach, {"volume"}, 1},
};

std::span<const std::string_view> params_of(lc::Action action) {
  for (const ActionParams& p : kActionParams) {
    if (p.action == action) return {p.names.data(), p.count};
  }
  return {};
}

// reset_state's target: Nova speaks "active" and "error"; corral any canonical state.
Result<lc::State> reset_target(const json& value, lc::Vocabulary vocabulary) {
  if (!value.is_string()) return fail(bad("'state' must be a string"));
  const auto& s = value.get_ref<const std::string&>();
  if (vocabulary == lc::Vocabulary::kNova) {
    if (s == "active") return lc::State::kRunning;
    if (s == "error") return lc::State::kFailed;
    return fail(bad("'state' must be \"active\" or \"error\" for nova reset_state"));
  }
  const std::optional<lc::State> state = lc::parse_state(s);
  if (!state) return fail(bad("'state' must be a canonical state name (see GET /v1/states)"));
  return *state;
}

constexpr std::string_view kCreateFields[] = {"name",     "image",          "vcpus", "memory_mib",
                                              "hold",     "requirements",   "group", "networks",
                                              "ssh_keys", "security_groups"};

// An OpenSSH public key line: "<type> <base64> [comment]", printable ASCII, one line. The guest
// writes it to authorized_keys as given, so a newline (a second key smuggled in) is refused.
bool valid_ssh_key(std::string_view key) {
  if (key.size() < 16 || key.size() > 8192) return false;
  if (!key.starts_with("ssh-") && !key.starts_with("ecdsa-") && !key.starts_with("sk-")) {
    return false;
  }
  return std::all_of(key.begin(), key.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

// A network, volume ... (`what`) named by name or id.
Result<std::string> resource_field(const json& value, std::string_view field,
                                   std::string_view what) {
  if (value.is_number_integer() && value.get<std::int64_t>() > 0) {
    return std::to_string(value.get<std::int64_t>());
  }
  if (value.is_string() && !value.get_ref<const std::string&>().empty() &&
      value.get_ref<const std::string&>().size() <= 64) {
    return value.get<std::string>();
  }
  return fail(
      bad("'" + std::string(field) + "' must name a " + std::string(what) + " (its name or id)"));
}

Result<std::string> network_field(const json& value, std::string_view field) {
  return resource_field(value, field, "network");
}

// "security_groups": [name or id, ...], at most store::kMaxSecurityGroupsPerNic.
Result<std::vector<std::string>> security_groups_field(const json& value) {
  if (!value.is_array() || value.size() > store::kMaxSecurityGroupsPerNic) {
    return fail(bad("'security_groups' must be a list of at most " +
                    std::to_string(store::kMaxSecurityGroupsPerNic) +
                    " security group names or ids"));
  }
  std::vector<std::string> out;
  for (const json& g : value) {
    Result<std::string> name = resource_field(g, "security_groups", "security group");
    if (!name) return fail(name.error());
    out.push_back(std::move(*name));
  }
  return out;
}

}  // namespace

int json_depth(std::string_view text, int limit) {
  int depth = 0;
  int deepest = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      deepest = std::max(deepest, ++depth);
      if (deepest > limit) return deepest;
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

Result<json> parse_body(std::string_view body) {
  if (body.size() > kMaxBodyBytes) {
    return fail(
        Error{ErrorCode::kTooLarge,
              "the request body is larger than " + std::to_string(kMaxBodyBytes / 1024) + " KiB",
              {},
              {}});
  }
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return fail(bad("the request needs a JSON object as its body"));
  }
  // JSON never holds a raw NUL byte, but nlohmann's lexer takes one for the end of the input
  // (as in a C string) and would accept `{...}\0anything`, ignoring the rest.
  if (body.find('\0') != std::string_view::npos) {
    return fail(bad("the request body is not valid JSON (it contains a NUL byte)"));
  }
  if (json_depth(body) > kMaxJsonDepth) {
    return fail(
        bad("the JSON body nests deeper than " + std::to_string(kMaxJsonDepth) + " levels"));
  }
  json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return fail(bad("the request body is not valid JSON"));
  if (!parsed.is_object()) return fail(bad("the request body must be a JSON object"));
  return parsed;
}

Result<engine::CreateRequest> parse_create(const json& body) {
  if (Status s = refuse_unknown(body, kCreateFields, "POST /v1/vms"); !s) return fail(s.error());
  for (std::string_view required : {"name", "image", "vcpus", "memory_mib"}) {
    if (!body.contains(required)) {
      return fail(bad("missing field '" + std::string(required) + "'"));
    }
  }
  engine::CreateRequest request;
  const json& name = body["name"];
  if (!name.is_string()) return fail(bad("'name' must be a string"));
  request.name = name.get<std::string>();
  if (!valid_name(request.name)) {
    return fail(bad("'name' must be 1 to 64 characters of A-Z a-z 0-9 . _ -"));
  }
  Result<std::string> image = image_field(body["image"]);
  if (!image) return fail(image.error());
  request.model.image = std::move(*image);
  Result<std::int64_t> vcpus = integer(body["vcpus"], "vcpus", kMinVcpus, kMaxVcpus);
  if (!vcpus) return fail(vcpus.error());
  request.model.vcpus = static_cast<int>(*vcpus);
  Result<std::int64_t> memory =
      integer(body["memory_mib"], "memory_mib", kMinMemoryMib, kMaxMemoryMib);
  if (!memory) return fail(memory.error());
  request.model.memory_mib = static_cast<int>(*memory);
  if (const auto hold = body.find("hold"); hold != body.end()) {
    if (!hold->is_boolean()) return fail(bad("'hold' must be true or false"));
    request.hold = hold->get<bool>();
  }
  // Checked by the engine: the expression's syntax (sched/requirements.h), the group's
  // existence.
  if (const auto req = body.find("requirements"); req != body.end() && !req->is_null()) {
    if (!req->is_string()) return fail(bad("'requirements' must be a string"));
    request.requirements = req->get<std::string>();
  }
  if (const auto group = body.find("group"); group != body.end() && !group->is_null()) {
    if (group->is_number_integer() && group->get<std::int64_t>() > 0) {
      request.group = std::to_string(group->get<std::int64_t>());
    } else if (group->is_string() && !group->get_ref<const std::string&>().empty()) {
      request.group = group->get<std::string>();
    } else {
      return fail(bad("'group' must be a server group's name or id"));
    }
  }
  if (const auto networks = body.find("networks"); networks != body.end()) {
    if (!networks->is_array() || networks->size() > store::kMaxNics) {
      return fail(bad("'networks' must be a list of at most " + std::to_string(store::kMaxNics) +
                      " network names or ids"));
    }
    for (const json& n : *networks) {
      Result<std::string> network = network_field(n, "networks");
      if (!network) return fail(network.error());
      request.networks.push_back(std::move(*network));
    }
  }
  if (const auto groups = body.find("security_groups"); groups != body.end()) {
    Result<std::vector<std::string>> names = security_groups_field(*groups);
    if (!names) return fail(names.error());
    if (request.networks.empty() && !names->empty()) {
      return fail(bad("'security_groups' are the groups of the VM's NICs: give 'networks' too"));
    }
    request.security_groups = std::move(*names);
  }
  if (const auto keys = body.find("ssh_keys"); keys != body.end()) {
    if (!keys->is_array() || keys->size() > 16) {
      return fail(bad("'ssh_keys' must be a list of at most 16 public keys"));
    }
    for (const json& k : *keys) {
      if (!k.is_string() || !valid_ssh_key(k.get_ref<const std::string&>())) {
        return fail(
            bad("'ssh_keys' must hold OpenSSH public keys, one line each (\"ssh-ed25519 "
                "AAAA... comment\")"));
      }
      request.ssh_keys.push_back(k.get<std::string>());
    }
  }
  return request;
}

Result<ActionInput> parse_action(const json& body) {
  ActionInput input;
  const auto action = body.find("action");
  if (action == body.end()) return fail(bad("missing field 'action'"));
  if (!action->is_string() || action->get_ref<const std::string&>().empty()) {
    return fail(bad("'action' must be a non-empty string"));
  }
  input.verb = action->get<std::string>();
  if (input.verb.size() > 64) return fail(bad("'action' is longer than 64 characters"));
  if (const auto vocabulary = body.find("vocabulary"); vocabulary != body.end()) {
    if (!vocabulary->is_string()) return fail(bad("'vocabulary' must be a string"));
    const std::optional<lc::Vocabulary> v =
        lc::parse_vocabulary(vocabulary->get_ref<const std::string&>());
    if (!v) {
      return fail(bad("unknown vocabulary '" + vocabulary->get<std::string>() +
                      "' (corral, opennebula, nova, azure or stratuslab)"));
    }
    input.vocabulary = *v;
  }
  input.variant_parameter = std::string(lc::variant_parameter(input.vocabulary, input.verb));
  input.params = json::object();
  for (const auto& [key, value] : body.items()) {
    if (key == "action" || key == "vocabulary") continue;
    if (!input.variant_parameter.empty() && key == input.variant_parameter) {
      input.variant_json = value;
      continue;
    }
    input.params[key] = value;
  }
  if (input.variant_parameter.empty()) return input;
  const json& variant = input.variant_json;
  const bool boolean =
      input.variant_parameter == "offload" || input.variant_parameter == "skipShutdown";
  if (variant.is_null()) {
    if (input.variant_parameter == "op") {
      return fail(bad("recover needs 'op': success, failure, retry, delete or recreate"));
    }
  } else if (boolean) {
    if (!variant.is_boolean()) {
      return fail(bad("'" + input.variant_parameter + "' must be true or false"));
    }
    input.variant = variant.get<bool>() ? "true" : "false";
  } else {
    Result<std::string> value = text(variant, input.variant_parameter, 32);
    if (!value) return fail(value.error());
    input.variant = std::move(*value);
  }
  return input;
}

Result<engine::ActionRequest> build_action(const ActionInput& input, lc::Action action,
                                           const store::Vm& vm) {
  const std::span<const std::string_view> known = params_of(action);
  const std::string what =
      std::string(lc::action_name(action)) +
      (input.vocabulary == lc::Vocabulary::kCorral
           ? std::string()
           : " (" + input.verb + " in " + std::string(lc::vocabulary_name(input.vocabulary)) + ")");
  if (Status s = refuse_unknown(input.params, known, what); !s) return fail(s.error());

  engine::ActionRequest request;
  request.vm = vm.id;
  request.action = action;
  json kept = json::object();
  if (!input.variant_parameter.empty() && !input.variant_json.is_null()) {
    kept[input.variant_parameter] = input.variant_json;
  }
  store::VmModel model = vm.model;
  bool model_given = false;
  for (const auto& [key, value] : input.params.items()) {
    if (key == "vcpus") {
      Result<std::int64_t> v = integer(value, key, kMinVcpus, kMaxVcpus);
      if (!v) return fail(v.error());
      model.vcpus = static_cast<int>(*v);
      model_given = true;
    } else if (key == "memory_mib") {
      Result<std::int64_t> v = integer(value, key, kMinMemoryMib, kMaxMemoryMib);
      if (!v) return fail(v.error());
      model.memory_mib = static_cast<int>(*v);
      model_given = true;
    } else if (key == "image") {
      Result<std::string> v = image_field(value);
      if (!v) return fail(v.error());
      model.image = std::move(*v);
    } else if (key == "host") {
      Result<std::string> v = host_field(value);
      if (!v) return fail(v.error());
      request.host = std::move(*v);
    } else if (key == "state") {
      Result<lc::State> v = reset_target(value, input.vocabulary);
      if (!v) return fail(v.error());
      request.reset_to = *v;
    } else if (key == "name") {
      // A driver makes it a directory or a qcow2 tag: store::valid_param_name's rule.
      if (!value.is_string()) return fail(bad("'name' must be a string"));
      request.params.name = value.get<std::string>();
      continue;
    } else if (key == "size_mib") {
      Result<std::int64_t> v = integer(value, key, 1, store::kMaxDiskSizeMib);
      if (!v) return fail(v.error());
      request.params.size_mib = *v;
      continue;
    } else if (key == "copy_storage" || key == "auto_converge") {
      if (!value.is_boolean()) return fail(bad("'" + key + "' must be true or false"));
      (key == "copy_storage" ? request.params.migration.copy_storage
                             : request.params.migration.auto_converge) = value.get<bool>();
      continue;
    } else if (key == "postcopy_after_ms") {
      Result<std::int64_t> v = integer(value, key, -1, store::kMaxMigrationMillis);
      if (!v) return fail(v.error());
      request.params.migration.postcopy_after_ms = static_cast<std::int32_t>(*v);
      continue;
    } else if (key == "max_downtime_ms") {
      Result<std::int64_t> v = integer(value, key, 0, store::kMaxMigrationMillis);
      if (!v) return fail(v.error());
      request.params.migration.max_downtime_ms = static_cast<std::int32_t>(*v);
      continue;
    } else if (key == "bandwidth_mib_s") {
      Result<std::int64_t> v = integer(value, key, 0, store::kMaxBandwidthMibS);
      if (!v) return fail(v.error());
      request.params.migration.bandwidth_mib_s = static_cast<std::int32_t>(*v);
      continue;
    } else if (key == "backup_type") {
      Result<std::string> v = text(value, key, 64);
      if (!v) return fail(v.error());
    } else if (key == "rotation") {
      Result<std::int64_t> v = integer(value, key, 0, 1000);
      if (!v) return fail(v.error());
    } else if (key == "network") {
      Result<std::string> v = network_field(value, key);
      if (!v) return fail(v.error());
      request.network = std::move(*v);
    } else if (key == "security_groups") {
      Result<std::vector<std::string>> v = security_groups_field(value);
      if (!v) return fail(v.error());
      request.security_groups = std::move(*v);
    } else if (key == "ip") {
      Result<std::string> v = text(value, key, 15);
      if (!v) return fail(v.error());
      request.ip = std::move(*v);
    } else if (key == "volume") {
      Result<std::string> v = resource_field(value, key, "volume");
      if (!v) return fail(v.error());
      request.volume = std::move(*v);
    } else if (key == "delete_on_termination") {
      if (!value.is_boolean()) return fail(bad("'" + key + "' must be true or false"));
      request.delete_on_termination = value.get<bool>();
    } else if (key == "nic") {
      Result<std::int64_t> v = integer(value, key, 0, store::kMaxNics - 1);
      if (!v) return fail(v.error());
      request.nic = static_cast<int>(*v);
    } else if (key == "password") {
      Result<std::string> v = text(value, key, 255);
      if (!v) return fail(v.error());
      kept[key] = "***";  // the password itself is never stored nor logged
      continue;
    }
    kept[key] = value;
  }
  if (action == lc::Action::kResize || action == lc::Action::kResizeMigrate) {
    if (!model_given) return fail(bad(what + " needs 'vcpus' or 'memory_mib'"));
    request.model = model;
  } else if (action == lc::Action::kRebuild) {
    request.model = model;  // the current image when none is given
  } else if (action == lc::Action::kResetState && !input.params.contains("state")) {
    return fail(
        bad(what + " needs 'state'" +
            (input.vocabulary == lc::Vocabulary::kNova ? std::string(": \"active\" or \"error\"")
                                                       : std::string(": a canonical state name"))));
  } else if (action == lc::Action::kSetAdminPassword && !input.params.contains("password")) {
    return fail(bad(what + " needs 'password'"));
  } else if (action == lc::Action::kNicAttach && request.network.empty()) {
    return fail(bad(what + " needs 'network' (a network's name or id)"));
  } else if (action == lc::Action::kNicDetach && request.nic < 0) {
    return fail(bad(what + " needs 'nic' (the NIC's index)"));
  } else if ((action == lc::Action::kDiskAttach || action == lc::Action::kDiskDetach) &&
             request.volume.empty()) {
    return fail(bad(what + " needs 'volume' (a volume's name or id)"));
  }
  if (Status s = store::validate_params(action, request.params); !s) return fail(s.error());
  request.params.shown = kept.dump();
  return request;
}

bool valid_name(std::string_view name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), name_char);
}

bool valid_image(std::string_view image) {
  if (image.empty() || image.size() > 128 || image == ".") return false;
  if (image.find('/') != std::string_view::npos || image.find("..") != std::string_view::npos) {
    return false;
  }
  return std::none_of(image.begin(), image.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == '\\';
  });
}

}  // namespace corral::api
