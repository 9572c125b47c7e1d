// /v1/server-groups: Nova's os-server-groups (id, name, policy, members). Errors go through
// failure() like every handler's.
#include "api/handlers.h"
#include "api/requests.h"

namespace corral::api::internal {
namespace {

using json = nlohmann::json;

json group_json(const engine::GroupDetail& g) {
  return {{"id", g.row.id},
          {"name", g.row.name},
          {"policy", std::string(engine::group_policy_name(g.row.policy))},
          {"members", g.members}};
}

}  // namespace

HandlerResult list_groups(Context& ctx, Call& /*call*/) {
  json groups = json::array();
  for (const engine::GroupDetail& g : ctx.engine.groups()) groups.push_back(group_json(g));
  return Reply{200, {{"server_groups", std::move(groups)}}};
}

HandlerResult get_group(Context& ctx, Call& call) {
  const std::optional<engine::GroupDetail> g = ctx.engine.group(call.args[0]);
  if (!g) return failure(Error::not_found("no server group " + call.args[0].substr(0, 64)));
  return Reply{200, {{"server_group", group_json(*g)}}};
}

HandlerResult create_group(Context& ctx, Call& call) {
  Result<json> body = parse_body(call.req.body);
  if (!body) return failure(std::move(body.error()));
  const auto name = body->find("name");
  if (name == body->end() || !name->is_string()) {
    return failure(Error::invalid_argument("'name' must be a string"));
  }
  const auto policy = body->find("policy");
  std::optional<store::GroupPolicy> parsed;
  if (policy != body->end() && policy->is_string()) {
    parsed = engine::parse_group_policy(policy->get_ref<const std::string&>());
  }
  if (!parsed) {
    return failure(Error::invalid_argument(
        "'policy' must be affinity, anti-affinity, soft-affinity or soft-anti-affinity"));
  }
  Result<engine::GroupDetail> g = ctx.engine.create_group({name->get<std::string>(), *parsed});
  if (!g) return failure(std::move(g.error()));
  return Reply{201, {{"server_group", group_json(*g)}}};
}

HandlerResult delete_group(Context& ctx, Call& call) {
  Result<engine::GroupDetail> g = ctx.engine.delete_group(call.args[0]);
  if (!g) return failure(std::move(g.error()));
  return Reply{200, {{"deleted", group_json(*g)}}};
}

}  // namespace corral::api::internal
