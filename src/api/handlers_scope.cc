// What a caller may see of the VMs: its project's, or every project's for the cloud's admin
// (api/policy.h). Shared by every handler that looks a VM up.
#include <string>

#include "api/handlers.h"
#include "api/policy.h"
#include "api/queries.h"

namespace corral::api::internal {

std::expected<store::Vm, Failure> visible_vm(const Context& ctx, const Call& call,
                                             const std::string& id_text) {
  const std::optional<std::int64_t> id = parse_id(id_text);
  std::optional<store::Vm> vm;
  if (id) vm = ctx.engine.get(*id);
  if (!vm || !can_see(call.who(), vm->project)) {
    return failure(Error::not_found("no VM with id '" + id_text.substr(0, 64) + "'"));
  }
  return std::move(*vm);
}

std::expected<auth::Project, Failure> own_project(const Context& ctx, const Call& call) {
  const std::optional<auth::Project> p = ctx.identity->find_project(call.args[0]);
  if (!p || !can_see(call.who(), p->id)) {
    return failure(Error::not_found("no project " + call.args[0].substr(0, 64)));
  }
  return *p;
}

Result<std::optional<store::ProjectId>> list_scope(const Context& ctx, const Call& call) {
  const auth::Principal& caller = *call.who();
  const bool all = call.req.has_param("all_projects");
  const bool one = call.req.has_param("project");
  if ((all || one) && !caller.cloud_admin()) {
    return fail(Error{ErrorCode::kForbidden,
                      "listing other projects' objects needs the role admin on the admin project",
                      {},
                      {}});
  }
  if (all && one) {
    return fail(Error::invalid_argument("give 'all_projects' or 'project', not both"));
  }
  if (all) {
    const std::string value = call.req.get_param_value("all_projects");
    if (value != "true" && value != "1") {
      return fail(Error::invalid_argument("query parameter 'all_projects' must be true"));
    }
    return std::optional<store::ProjectId>();
  }
  if (one) {
    const std::string name = call.req.get_param_value("project");
    const std::optional<auth::Project> p =
        ctx.identity == nullptr ? std::nullopt : ctx.identity->find_project(name);
    if (!p) return fail(Error::invalid_argument("no project '" + name.substr(0, 64) + "'"));
    return std::optional<store::ProjectId>(p->id);
  }
  return std::optional<store::ProjectId>(caller.project);
}

}  // namespace corral::api::internal
