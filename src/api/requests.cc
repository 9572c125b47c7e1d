#include "api/requests.h"

#include <algorithm>
#include <array>
#include <span>
#include <vector>

#include "api/request_fields.h"
#include "lifecycle/vocabulary.h"
#include "store/op_params.h"

namespace corral::api {
namespace {

namespace lc = corral::lifecycle;
using nlohmann::json;
using namespace fields;  // NOLINT(google-build-using-namespace): this file's vocabulary

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

constexpr std::string_view kCreateFields[] = {
    "name",  "image",    "vcpus",    "memory_mib",      "hold",          "requirements",
    "group", "networks", "ssh_keys", "security_groups", "resource_group"};

}  // namespace

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
  // Looked up in the VM's project by the engine (any case).
  if (const auto rg = body.find("resource_group"); rg != body.end() && !rg->is_null()) {
    if (!rg->is_string() || rg->get_ref<const std::string&>().empty() ||
        rg->get_ref<const std::string&>().size() > 90) {
      return fail(bad("'resource_group' must be a resource group's name"));
    }
    request.resource_group = rg->get<std::string>();
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

}  // namespace corral::api
