// /v1/server-groups: Nova's os-server-groups (id, name, policy, members). Errors go through
// failure() like every handler's. A group belongs to the project that made it: another
// project's is not found and never listed, and only its project's VMs join it (the engine
// checks that at create: engine/ownership.cc).
#include "api/handlers.h"
#include "api/policy.h"
#include "api/requests.h"

namespace corral::api::internal {
namespace {

using json = nlohmann::json;

// Members are listed for the VMs the caller may see (a VM of another project could only be
// in a group made before groups had owners).
json group_json(const Context& ctx, const Call& call, const engine::GroupDetail& g) {
  json members = json::array();
  for (const store::VmId id : g.members) {
    const std::optional<store::Vm> vm = ctx.engine.get(id);
    if (vm && can_see(call.who(), vm->project)) members.push_back(id);
  }
  return {{"id", g.row.id},
          {"name", g.row.name},
          {"project", g.row.project},
          {"policy", std::string(engine::group_policy_name(g.row.policy))},
          {"members", std::move(members)}};
}

// The group the path names, if the caller's project owns it (or the caller is the cloud's
// admin): another project's is not found, never forbidden.
std::expected<engine::GroupDetail, Failure> visible_group(const Context& ctx, const Call& call) {
  std::optional<engine::GroupDetail> g = ctx.engine.group(call.args[0]);
  if (!g || !can_see(call.who(), g->row.project)) {
    return failure(Error::not_found("no server group " + call.args[0].substr(0, 64)));
  }
  return std::move(*g);
}

}  // namespace

HandlerResult list_groups(Context& ctx, Call& call) {
  Result<std::optional<store::ProjectId>> scope = list_scope(ctx, call);
  if (!scope) return failure(std::move(scope.error()));
  json groups = json::array();
  for (const engine::GroupDetail& g : ctx.engine.groups()) {
    if (!*scope || g.row.project == **scope) groups.push_back(group_json(ctx, call, g));
  }
  return Reply{200, {{"server_groups", std::move(groups)}}};
}

HandlerResult get_group(Context& ctx, Call& call) {
  auto g = visible_group(ctx, call);
  if (!g) return std::unexpected(std::move(g.error()));
  return Reply{200, {{"server_group", group_json(ctx, call, *g)}}};
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
  // The caller's project owns it, within its server_groups quota.
  const store::ProjectId project = call.who()->project;
  Result<engine::GroupDetail> g = ctx.engine.create_group(
      {name->get<std::string>(), *parsed, project, limits_for(ctx, project)});
  if (!g) return failure(std::move(g.error()));
  return Reply{201, {{"server_group", group_json(ctx, call, *g)}}};
}

HandlerResult delete_group(Context& ctx, Call& call) {
  auto found = visible_group(ctx, call);
  if (!found) return std::unexpected(std::move(found.error()));
  Result<engine::GroupDetail> g = ctx.engine.delete_group(std::to_string(found->row.id));
  if (!g) return failure(std::move(g.error()));
  return Reply{200, {{"deleted", group_json(ctx, call, *g)}}};
}

}  // namespace corral::api::internal
