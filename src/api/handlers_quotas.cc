// /v1/projects/{name}/quotas: a project's limits and use (Nova's os-quota-sets detail:
// limit, in_use, reserved 0), as lifecycle/quota_table.h defines them. The engine counts the
// use from the VMs' states (never stored, never drifting) and enforces the limits when it
// accepts a create or an action.
#include <string>

#include "api/handlers.h"
#include "api/policy.h"
#include "api/requests.h"

namespace corral::api::internal {
namespace {

namespace lc = corral::lifecycle;
using json = nlohmann::json;

json quotas_json(const Context& ctx, const auth::Project& p) {
  const std::optional<lc::QuotaLimits> limits = limits_for(ctx, p.id);
  const lc::QuotaUsage used = ctx.engine.project_usage(p.id);
  json quotas = json::object();
  for (const lc::QuotaResourceRow& row : lc::kQuotaResources) {
    const std::size_t i = lc::quota_index(row.resource);
    quotas[std::string(row.name)] = {
        {"limit", limits ? (*limits)[i] : lc::kUnlimited},
        {"in_use", used[i]},
        {"reserved", 0},  // Nova's field; nothing is reserved here (counted when accepted)
        {"default", row.default_limit},
        {"nova", row.nova.empty() ? json(nullptr) : json(std::string(row.nova))},
        {"opennebula", row.opennebula.empty() ? json(nullptr) : json(std::string(row.opennebula))}};
  }
  return {{"project", {{"id", p.id}, {"name", p.name}}},
          {"limited", limits.has_value()},
          {"quotas", std::move(quotas)}};
}

}  // namespace

std::optional<lc::QuotaLimits> limits_for(const Context& ctx, store::ProjectId project) {
  if (project == store::kAdminProjectId || ctx.identity == nullptr) return std::nullopt;
  lc::QuotaLimits limits = lc::default_quota_limits();
  for (const auto& [resource, max] : ctx.identity->quotas(project)) {
    const auto r = static_cast<lc::QuotaResource>(resource);
    if (lc::quota_resource_known(r)) limits[lc::quota_index(r)] = max;
  }
  return limits;
}

HandlerResult get_quotas(Context& ctx, Call& call) {
  auto p = own_project(ctx, call);
  if (!p) return std::unexpected(std::move(p.error()));
  return Reply{200, quotas_json(ctx, *p)};
}

HandlerResult set_quotas(Context& ctx, Call& call) {
  auto p = own_project(ctx, call);
  if (!p) return std::unexpected(std::move(p.error()));
  if (p->id == store::kAdminProjectId) {
    return failure(Error::invalid_argument("the admin project has no quotas"));
  }
  Result<json> body = parse_body(call.req.body);
  if (!body) return failure(std::move(body.error()));
  if (!body->is_object() || body->empty()) {
    return failure(Error::invalid_argument(
        "PUT /v1/projects/{name}/quotas takes {\"vms\": 10, \"vcpus\": -1, ...} (null: default)"));
  }
  // Every value is checked before any is written: a refused request changes nothing.
  std::vector<std::pair<lc::QuotaResource, std::optional<std::int64_t>>> changes;
  for (const auto& [key, value] : body->items()) {
    const std::optional<lc::QuotaResource> r = lc::parse_quota_resource(key);
    if (!r) {
      std::string names;
      for (const lc::QuotaResourceRow& row : lc::kQuotaResources) {
        names += (names.empty() ? "" : ", ") + std::string(row.name);
      }
      return failure(
          Error::invalid_argument("no quota '" + key.substr(0, 64) + "' (quotas: " + names + ")"));
    }
    if (value.is_null()) {
      changes.emplace_back(*r, std::nullopt);
    } else if (value.is_number_integer() && value.get<std::int64_t>() >= lc::kUnlimited &&
               value.get<std::int64_t>() <= (std::int64_t{1} << 40)) {
      changes.emplace_back(*r, value.get<std::int64_t>());
    } else {
      return failure(Error::invalid_argument("quota '" + key +
                                             "' must be a whole number >= 0, -1 (none) or null"));
    }
  }
  for (const auto& [resource, max] : changes) {
    const auto number = static_cast<std::uint8_t>(resource);
    Status done = max ? ctx.identity->set_quota(p->id, number, *max)
                      : ctx.identity->clear_quota(p->id, number);
    if (!done) return failure(std::move(done.error()));
  }
  return Reply{200, quotas_json(ctx, *p)};
}

}  // namespace corral::api::internal
