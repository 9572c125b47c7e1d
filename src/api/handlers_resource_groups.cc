// /v1/resource-groups: Azure's resource groups (issue 17), a project's named sets of VMs with a
// location and tags. The path names a group of the caller's project (names are unique within
// a project regardless of case, not in the cloud); another project's is never seen. A VM
// joins one at create ("resource_group" in POST /v1/vms).
#include <utility>

#include "api/handlers.h"
#include "api/policy.h"
#include "api/requests.h"
#include "common/clock.h"

namespace corral::api::internal {
namespace {

using json = nlohmann::json;

// Azure's limits on tags: 50 per resource, names up to 512 characters, values up to 256.
constexpr std::size_t kMaxTags = 50;
constexpr std::size_t kMaxTagName = 512;
constexpr std::size_t kMaxTagValue = 256;

json resource_group_json(const Context& ctx, const Call& call,
                         const engine::ResourceGroupDetail& g) {
  json members = json::array();
  for (const store::VmId id : g.members) {
    const std::optional<store::Vm> vm = ctx.engine.get(id);
    if (vm && can_see(call.who(), vm->project)) members.push_back(id);
  }
  json tags = json::object();
  if (!g.row.tags.empty()) {
    tags = json::parse(g.row.tags, nullptr, false);
    if (!tags.is_object()) tags = json::object();
  }
  return {{"id", g.row.id},
          {"name", g.row.name},
          {"project", g.row.project},
          {"location", g.row.location},
          {"tags", std::move(tags)},
          {"deleting", g.row.deleting},
          {"created_at", format_time(g.row.created_at)},
          {"updated_at", format_time(g.row.updated_at)},
          {"vms", std::move(members)}};
}

// The caller's project: where the path's name is looked up and a new group is made.
store::ProjectId own_project(const Call& call) {
  return call.who() != nullptr ? call.who()->project : store::kAdminProjectId;
}

Result<std::string> tags_text(const json& body) {
  const auto tags = body.find("tags");
  if (tags == body.end() || tags->is_null()) return std::string();
  if (!tags->is_object()) return fail(Error::invalid_argument("'tags' must be an object"));
  if (tags->size() > kMaxTags) {
    return fail(Error::invalid_argument("at most " + std::to_string(kMaxTags) + " tags"));
  }
  for (const auto& [name, value] : tags->items()) {
    if (name.empty() || name.size() > kMaxTagName) {
      return fail(Error::invalid_argument("a tag's name is 1-" + std::to_string(kMaxTagName) +
                                          " characters"));
    }
    if (!value.is_string() || value.get_ref<const std::string&>().size() > kMaxTagValue) {
      return fail(Error::invalid_argument("tag " + name.substr(0, 64) +
                                          ": a value is a string of " + "at most " +
                                          std::to_string(kMaxTagValue) + " characters"));
    }
  }
  if (tags->empty()) return std::string();
  return tags->dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

HandlerResult list_resource_groups(Context& ctx, Call& call) {
  Result<std::optional<store::ProjectId>> scope = list_scope(ctx, call);
  if (!scope) return failure(std::move(scope.error()));
  json groups = json::array();
  for (const engine::ResourceGroupDetail& g : ctx.engine.resource_groups(*scope)) {
    groups.push_back(resource_group_json(ctx, call, g));
  }
  return Reply{200, {{"resource_groups", std::move(groups)}}};
}

HandlerResult get_resource_group(Context& ctx, Call& call) {
  std::optional<engine::ResourceGroupDetail> g =
      ctx.engine.resource_group(own_project(call), call.args[0]);
  if (!g) return failure(Error::not_found("no resource group " + call.args[0].substr(0, 90)));
  return Reply{200, {{"resource_group", resource_group_json(ctx, call, *g)}}};
}

HandlerResult put_resource_group(Context& ctx, Call& call) {
  Result<json> body = parse_body(call.req.body.empty() ? std::string("{}") : call.req.body);
  if (!body) return failure(std::move(body.error()));
  if (!body->is_object()) return failure(Error::invalid_argument("the body must be an object"));
  std::string location;
  if (const auto l = body->find("location"); l != body->end() && !l->is_null()) {
    if (!l->is_string()) return failure(Error::invalid_argument("'location' must be a string"));
    location = l->get<std::string>();
  }
  Result<std::string> tags = tags_text(*body);
  if (!tags) return failure(std::move(tags.error()));
  Result<engine::ResourceGroupDetail> g = ctx.engine.put_resource_group(
      {call.args[0], std::move(location), std::move(*tags), own_project(call)});
  if (!g) return failure(std::move(g.error()));
  return Reply{g->created ? 201 : 200, {{"resource_group", resource_group_json(ctx, call, *g)}}};
}

// ?with_vms=true is Azure's group delete: 202 while its VMs are being terminated (the group
// goes with the last), 200 when it went at once.
HandlerResult delete_resource_group(Context& ctx, Call& call) {
  bool with_vms = false;
  if (call.req.has_param("with_vms")) {
    const std::string value = call.req.get_param_value("with_vms");
    if (value != "true" && value != "false") {
      return failure(Error::invalid_argument("query parameter 'with_vms' must be true or false"));
    }
    with_vms = value == "true";
  }
  Result<engine::ResourceGroupDetail> g =
      ctx.engine.delete_resource_group(own_project(call), call.args[0], with_vms);
  if (!g) return failure(std::move(g.error()));
  if (g->row.deleting) return Reply{202, {{"resource_group", resource_group_json(ctx, call, *g)}}};
  return Reply{200, {{"deleted", resource_group_json(ctx, call, *g)}}};
}

}  // namespace corral::api::internal
