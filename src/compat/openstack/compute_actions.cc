// POST /servers/{id}/action: Nova's action keys as v1 actions on the VM (POST
// /v1/vms/{id}/actions in Nova's vocabulary), lock and unlock as PUT/DELETE /v1/vms/{id}/lock,
// evacuate as OpenNebula's recover --recreate. What an action may do, and in which state, is
// the engine's: a refusal comes back as Nova says it (from_v1_error).
#include <algorithm>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>

#include "compat/openstack/flavors.h"
#include "compat/openstack/front.h"

namespace corral::compat::openstack::internal {

using nlohmann::json;

namespace {

// Nova's action keys: the v1 Nova verb each becomes, and how its body's parameters map.
struct ActionMap {
  const char* key;
  const char* verb;
  const char* vocabulary;
};
constexpr ActionMap kActions[] = {
    {"os-stop", "stop", "nova"},
    {"os-start", "start", "nova"},
    {"reboot", "reboot", "nova"},
    {"pause", "pause", "nova"},
    {"unpause", "unpause", "nova"},
    {"suspend", "suspend", "nova"},
    {"resume", "resume", "nova"},
    {"rescue", "rescue", "nova"},
    {"unrescue", "unrescue", "nova"},
    {"shelve", "shelve", "nova"},
    {"shelveOffload", "shelve_offload", "nova"},
    {"unshelve", "unshelve", "nova"},
    {"resize", "resize", "nova"},
    {"confirmResize", "confirm_resize", "nova"},
    {"revertResize", "revert_resize", "nova"},
    {"rebuild", "rebuild", "nova"},
    {"createImage", "snapshot", "nova"},
    {"createBackup", "backup", "nova"},
    {"os-migrateLive", "live_migrate", "nova"},
    {"migrate", "migrate", "corral"},
    {"os-resetState", "reset_state", "nova"},
    {"restore", "restore", "nova"},
    {"changePassword", "set_admin_password", "nova"},
};

// Nova's evacuate: recreate a server whose host is down elsewhere. Corral's is OpenNebula's
// `recover --recreate` (cleaned up where it was, placed again by the scheduler); as Nova,
// refused while the server's host is up, and only the cloud's admin may read that.
api::FrontReply evacuate(api::ApiCaller& api, const std::string& token, const std::string& id,
                         const json& args) {
  if (args.is_object() && args.contains("host") && !args["host"].is_null()) {
    return nova_error(400, "Evacuating to a named host is not supported: the scheduler places it");
  }
  const api::InnerReply vm =
      api.call({"GET", "/v1/vms/" + id, {{"views", "none"}}, nullptr, token});
  if (vm.status != 200) return from_v1_error(vm, "evacuate", id);
  const json host_name = vm.body.value("vm", vm.body).value("host", json(nullptr));
  if (host_name.is_string()) {
    const api::InnerReply host =
        api.call({"GET", "/v1/hosts/" + host_name.get<std::string>(), {}, nullptr, token});
    if (host.status != 200) return from_v1_error(host, "evacuate", id);
    if (host.body["nova"].value("state", "") == "up") {
      return nova_error(400,
                        "Compute service of " + host_name.get<std::string>() + " is still in use.");
    }
  }
  const json v1 = {{"action", "recover"}, {"vocabulary", "opennebula"}, {"op", "recreate"}};
  const api::InnerReply r = api.call({"POST", "/v1/vms/" + id + "/actions", {}, v1, token});
  if (r.status != 202) return from_v1_error(r, "evacuate", id);
  return json_reply(200, {{"adminPass", ""}});
}

}  // namespace

api::FrontReply server_action(const api::FrontRequest& req, api::ApiCaller& api,
                              const std::string& token, const std::string& id) {
  const json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object() || body.size() != 1) {
    return nova_error(400, "An action body is one object with one key: the action");
  }
  const std::string key = body.begin().key();
  const json& args = body.begin().value();
  if (key == "forceDelete") {
    const api::InnerReply r = api.call({"DELETE", "/v1/vms/" + id, {}, nullptr, token});
    if (r.status != 202) return from_v1_error(r, key, id);
    return json_reply(202, nullptr);
  }
  if (key == "evacuate") return evacuate(api, token, id, args);
  if (key == "lock" || key == "unlock") {
    json reason = nullptr;
    if (key == "lock" && args.is_object() && args.contains("locked_reason")) {
      reason = args["locked_reason"];
    }
    const api::InnerReply r =
        key == "lock"
            ? api.call({"PUT", "/v1/vms/" + id + "/lock", {}, {{"reason", reason}}, token})
            : api.call({"DELETE", "/v1/vms/" + id + "/lock", {}, nullptr, token});
    if (r.status != 200) return from_v1_error(r, key, id);
    return json_reply(202, nullptr);
  }
  const auto* map =
      std::ranges::find_if(kActions, [&](const ActionMap& a) { return key == a.key; });
  if (map == std::end(kActions)) {
    return nova_error(400, "Action '" + key + "' is not supported by Corral's compute API");
  }
  json v1 = {{"action", map->verb}, {"vocabulary", map->vocabulary}};
  const auto arg = [&](const char* name) -> const json* {
    return args.is_object() && args.contains(name) ? &args[name] : nullptr;
  };
  if (key == "reboot") {
    if (const json* type = arg("type"); type != nullptr && type->is_string()) v1["type"] = *type;
  } else if (key == "resize") {
    const FlavorRef flavor = flavor_ref_of(arg("flavorRef"));
    if (!flavor.size) return nova_error(400, "Flavor " + flavor.text + " could not be found.");
    v1["vcpus"] = flavor.size->first;
    v1["memory_mib"] = flavor.size->second;
  } else if (key == "rebuild") {
    if (const json* image = arg("imageRef"); image != nullptr && image->is_string()) {
      v1["image"] = *image;
    }
  } else if (key == "createImage") {
    if (const json* name = arg("name"); name != nullptr && name->is_string()) v1["name"] = *name;
  } else if (key == "createBackup") {
    for (const char* field : {"name", "backup_type", "rotation"}) {
      if (const json* v = arg(field)) v1[field] = *v;
    }
  } else if (key == "os-migrateLive" || key == "migrate") {
    if (const json* host = arg("host"); host != nullptr && host->is_string()) v1["host"] = *host;
    if (const json* block = arg("block_migration"); block != nullptr && block->is_boolean()) {
      v1["copy_storage"] = *block;
    }
  } else if (key == "os-resetState") {
    if (const json* state = arg("state")) v1["state"] = *state;
  } else if (key == "changePassword") {
    if (const json* pass = arg("adminPass")) v1["password"] = *pass;
  }
  const api::InnerReply r = api.call({"POST", "/v1/vms/" + id + "/actions", {}, v1, token});
  if (r.status != 202) return from_v1_error(r, key, id);
  // confirmResize is 204 in Nova; every other action 202 with no body.
  return json_reply(key == "confirmResize" ? 204 : 202, nullptr);
}

}  // namespace corral::compat::openstack::internal
