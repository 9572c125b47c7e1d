// /v1/auth, /v1/projects, /v1/users: logging in, who am I, projects, users and their roles
// (auth/identity.h holds the rules; api/policy.h says who may call which route, and the
// handlers here add what depends on the object: a project or user the caller may not see is
// not found).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <optional>
#include <set>
#include <string>

#include "api/handlers.h"
#include "api/policy.h"
#include "api/requests.h"
#include "common/clock.h"

namespace corral::api::internal {
namespace {

using json = nlohmann::json;
using auth::Principal;

// The body as an object whose keys are all in `allowed` (kInvalidArgument otherwise: a typo
// in a field name changes nothing silently).
Result<json> body_with(const Call& call, std::initializer_list<std::string_view> allowed) {
  Result<json> body = parse_body(call.req.body.empty() ? "{}" : call.req.body);
  if (!body) return body;
  for (const auto& [key, value] : body->items()) {
    bool known = false;
    for (std::string_view a : allowed) known = known || key == a;
    if (!known) {
      std::string names;
      for (std::string_view a : allowed) names += (names.empty() ? "" : ", ") + std::string(a);
      return fail(Error::invalid_argument("unknown field '" + key.substr(0, 64) +
                                          "' (fields: " + names + ")"));
    }
  }
  return body;
}

Result<std::optional<std::string>> string_field(const json& body, const char* key) {
  const auto it = body.find(key);
  if (it == body.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string())
    return fail(Error::invalid_argument(std::string("'") + key + "' must be a string"));
  return std::optional<std::string>(it->get<std::string>());
}

Result<std::optional<bool>> bool_field(const json& body, const char* key) {
  const auto it = body.find(key);
  if (it == body.end() || it->is_null()) return std::optional<bool>();
  if (!it->is_boolean())
    return fail(Error::invalid_argument(std::string("'") + key + "' must be true or false"));
  return std::optional<bool>(it->get<bool>());
}

json project_ref(store::ProjectId id, const std::string& name) {
  return {{"id", id}, {"name", name}};
}

// The VM actions the caller's role may ask of its project's VMs (policy.h's action rows, without
// naming a host), so that a client offers only those; GET /v1/states says in which states.
json permitted_actions(const Principal& p) {
  json out = json::array();
  for (const lifecycle::Action a : lifecycle::kAllActions) {
    if (authorize(&p, need_for_action(a, false), "").has_value()) {
      out.push_back(lifecycle::action_name(a));
    }
  }
  return out;
}

json principal_json(const Principal& p) {
  return {{"user", {{"id", p.user}, {"name", p.user_name}}},
          {"project", project_ref(p.project, p.project_name)},
          {"role", std::string(auth::role_name(p.role))},
          {"cloud_admin", p.cloud_admin()},
          {"token_id", p.token},
          {"expires_at", p.expires_at == 0 ? json(nullptr) : json(format_time(p.expires_at))},
          {"actions", permitted_actions(p)}};
}

json project_json(const auth::Project& p) {
  return {{"id", p.id},
          {"name", p.name},
          {"description", p.description},
          {"enabled", p.enabled},
          {"created_at", format_time(p.created_at)}};
}

json user_json(const auth::Identity& identity, const auth::User& u) {
  json roles = json::array();
  for (const auth::Assignment& a : identity.assignments()) {
    if (a.user != u.id) continue;
    const std::optional<auth::Project> p = identity.find_project(std::to_string(a.project));
    roles.push_back({{"project", project_ref(a.project, p ? p->name : "")},
                     {"role", std::string(auth::role_name(a.role))}});
  }
  return {{"id", u.id},
          {"name", u.name},
          {"enabled", u.enabled},
          {"created_at", format_time(u.created_at)},
          {"password_changed_at", format_time(u.password_changed_at)},
          {"roles", std::move(roles)}};
}

// Whether the caller may see project `p`: the cloud's admin sees every one, others those they
// hold a role on.
bool may_see_project(const Context& ctx, const Principal& caller, store::ProjectId p) {
  return caller.cloud_admin() || ctx.identity->role_of(caller.user, p).has_value();
}

std::expected<auth::Project, Failure> visible_project(const Context& ctx, const Call& call) {
  const std::optional<auth::Project> p = ctx.identity->find_project(call.args[0]);
  if (!p || !may_see_project(ctx, *call.who(), p->id)) {
    return failure(Error::not_found("no project " + call.args[0].substr(0, 64)));
  }
  return *p;
}

// A user the caller may see: themselves, or anyone for the cloud's admin.
std::expected<auth::User, Failure> visible_user(const Context& ctx, const Call& call,
                                                const std::string& key) {
  const std::optional<auth::User> u = ctx.identity->find_user(key);
  if (!u || !(call.who()->cloud_admin() || call.who()->user == u->id)) {
    return failure(Error::not_found("no user " + key.substr(0, 64)));
  }
  return *u;
}

}  // namespace

HandlerResult login(Context& ctx, Call& call) {
  if (ctx.identity == nullptr)
    return failure(Error{ErrorCode::kUnavailable, "no identity store", {}, {}});
  Result<json> body = body_with(call, {"user", "password", "project", "expires_in", "description"});
  if (!body) return failure(std::move(body.error()));
  Result<std::optional<std::string>> user = string_field(*body, "user");
  Result<std::optional<std::string>> password = string_field(*body, "password");
  Result<std::optional<std::string>> project = string_field(*body, "project");
  Result<std::optional<std::string>> description = string_field(*body, "description");
  for (const auto* r : {&user, &password, &project, &description}) {
    if (!*r) return failure(r->error());
  }
  if (!user->has_value() || !password->has_value()) {
    return failure(
        Error::invalid_argument("logging in takes {\"user\", \"password\"} and "
                                "optionally \"project\" and \"expires_in\" (seconds)"));
  }
  call.audit.verb = "login";
  call.audit.user = **user;  // who tried, for the audit log (a failed login has no caller)
  Millis ttl = 0;
  if (const auto it = body->find("expires_in"); it != body->end()) {
    if (!it->is_number_integer() || it->get<std::int64_t>() <= 0 ||
        it->get<std::int64_t>() > std::int64_t{366} * 24 * 3600) {
      return failure(Error::invalid_argument("'expires_in' must be a positive number of seconds"));
    }
    ttl = it->get<std::int64_t>() * 1000;
  }
  Result<auth::IssuedToken> issued =
      ctx.identity->login(**user, **password, project->value_or(""), ttl,
                          description->value_or("login from " + call.req.remote_addr));
  if (!issued) return failure(std::move(issued.error()));
  call.res.set_header("X-Subject-Token", issued->token);  // where Keystone puts it
  json out = principal_json(issued->principal);
  out["token"] = issued->token;
  return Reply{201, std::move(out)};
}

HandlerResult who_am_i(Context& /*ctx*/, Call& call) {
  return Reply{200, principal_json(*call.who())};
}

HandlerResult logout(Context& ctx, Call& call) {
  Status done = ctx.identity->revoke_token(call.who()->token, "logged out");
  if (!done) return failure(std::move(done.error()));
  return Reply{200, {{"revoked", call.who()->token}}};
}

HandlerResult list_projects(Context& ctx, Call& call) {
  json projects = json::array();
  for (const auth::Project& p : ctx.identity->projects()) {
    if (!may_see_project(ctx, *call.who(), p.id)) continue;
    json j = project_json(p);
    const std::optional<auth::Role> role = ctx.identity->role_of(call.who()->user, p.id);
    j["my_role"] = role ? json(std::string(auth::role_name(*role))) : json(nullptr);
    projects.push_back(std::move(j));
  }
  return Reply{200, {{"projects", std::move(projects)}}};
}

HandlerResult create_project(Context& ctx, Call& call) {
  Result<json> body = body_with(call, {"name", "description"});
  if (!body) return failure(std::move(body.error()));
  Result<std::optional<std::string>> name = string_field(*body, "name");
  Result<std::optional<std::string>> description = string_field(*body, "description");
  if (!name) return failure(name.error());
  if (!description) return failure(description.error());
  if (!name->has_value()) return failure(Error::invalid_argument("'name' is required"));
  Result<auth::Project> p = ctx.identity->create_project(**name, description->value_or(""));
  if (!p) return failure(std::move(p.error()));
  return Reply{201, {{"project", project_json(*p)}}};
}

HandlerResult get_project(Context& ctx, Call& call) {
  auto p = visible_project(ctx, call);
  if (!p) return std::unexpected(std::move(p.error()));
  return Reply{200, {{"project", project_json(*p)}}};
}

HandlerResult update_project(Context& ctx, Call& call) {
  auto p = visible_project(ctx, call);
  if (!p) return std::unexpected(std::move(p.error()));
  Result<json> body = body_with(call, {"enabled", "description"});
  if (!body) return failure(std::move(body.error()));
  Result<std::optional<bool>> enabled = bool_field(*body, "enabled");
  Result<std::optional<std::string>> description = string_field(*body, "description");
  if (!enabled) return failure(enabled.error());
  if (!description) return failure(description.error());
  Result<auth::Project> done = ctx.identity->update_project(p->id, *enabled, *description);
  if (!done) return failure(std::move(done.error()));
  return Reply{200, {{"project", project_json(*done)}}};
}

HandlerResult delete_project(Context& ctx, Call& call) {
  auto p = visible_project(ctx, call);
  if (!p) return std::unexpected(std::move(p.error()));
  engine::ListQuery owned;
  owned.project = p->id;
  owned.live_only = true;
  owned.limit = 1;
  if (!ctx.engine.list(owned).vms.empty()) {
    return failure(Error{ErrorCode::kConflict,
                         "project " + p->name + " still owns VMs: terminate them first",
                         {},
                         {}});
  }
  // Nor anything else it owns (Keystone deletes a project and leaves its servers, volumes and
  // networks orphaned, seen by no one but the admin): the owner deletes them first. Its
  // default security group, made on first use, is not counted.
  std::vector<std::string> owns;
  const auto count = [&owns](std::size_t n, const char* one, const char* many) {
    if (n > 0) owns.push_back(std::to_string(n) + " " + (n == 1 ? one : many));
  };
  count(std::ranges::count_if(ctx.engine.volumes(),
                              [&](const store::VolumeRow& v) { return v.project == p->id; }),
        "volume", "volumes");
  count(
      std::ranges::count_if(ctx.engine.networks(),
                            [&](const engine::NetworkDetail& n) { return n.row.project == p->id; }),
      "network", "networks");
  count(std::ranges::count_if(ctx.engine.groups(),
                              [&](const engine::GroupDetail& g) { return g.row.project == p->id; }),
        "server group", "server groups");
  count(std::ranges::count_if(ctx.engine.security_groups(),
                              [&](const engine::SecurityGroupDetail& g) {
                                return g.row.project == p->id && g.row.name != "default";
                              }),
        "security group", "security groups");
  if (!owns.empty()) {
    return failure(Error{ErrorCode::kConflict,
                         "project " + p->name + " still owns " +
                             fmt::format("{}", fmt::join(owns, ", ")) + ": delete them first",
                         {},
                         {}});
  }
  Status done = ctx.identity->delete_project(p->id);
  if (!done) return failure(std::move(done.error()));
  return Reply{200, {{"deleted", project_json(*p)}}};
}

HandlerResult project_members(Context& ctx, Call& call) {
  auto p = own_project(ctx, call);
  if (!p) return std::unexpected(std::move(p.error()));
  json users = json::array();
  for (const auth::Assignment& a : ctx.identity->assignments()) {
    if (a.project != p->id) continue;
    const std::optional<auth::User> u = ctx.identity->find_user(std::to_string(a.user));
    if (!u) continue;
    users.push_back({{"id", u->id},
                     {"name", u->name},
                     {"enabled", u->enabled},
                     {"role", std::string(auth::role_name(a.role))}});
  }
  return Reply{200, {{"project", project_json(*p)}, {"users", std::move(users)}}};
}

HandlerResult grant_role(Context& ctx, Call& call) {
  auto p = own_project(ctx, call);
  if (!p) return std::unexpected(std::move(p.error()));
  const std::optional<auth::User> u = ctx.identity->find_user(call.args[1]);
  if (!u) return failure(Error::not_found("no user " + call.args[1].substr(0, 64)));
  const std::optional<auth::Role> role = auth::parse_role(call.args[2]);
  if (!role) {
    return failure(Error::invalid_argument("no role '" + call.args[2].substr(0, 64) +
                                           "' (roles: reader, member, manager, admin)"));
  }
  Status done = ctx.identity->grant(u->id, p->id, *role);
  if (!done) return failure(std::move(done.error()));
  return Reply{200,
               {{"project", project_ref(p->id, p->name)},
                {"user", {{"id", u->id}, {"name", u->name}}},
                {"role", std::string(auth::role_name(*role))}}};
}

HandlerResult revoke_role(Context& ctx, Call& call) {
  auto p = own_project(ctx, call);
  if (!p) return std::unexpected(std::move(p.error()));
  const std::optional<auth::User> u = ctx.identity->find_user(call.args[1]);
  if (!u) return failure(Error::not_found("no user " + call.args[1].substr(0, 64)));
  const std::optional<auth::Role> held = ctx.identity->role_of(u->id, p->id);
  if (!held || auth::role_name(*held) != call.args[2]) {
    return failure(Error::not_found("user " + u->name + " is not " + call.args[2].substr(0, 64) +
                                    " on project " + p->name));
  }
  if (u->id == call.who()->user && p->id == call.who()->project) {
    return failure(Error::invalid_argument(
        "you cannot take away your own role on the project you are acting in"));
  }
  Status done = ctx.identity->revoke_role(u->id, p->id);
  if (!done) return failure(std::move(done.error()));
  return Reply{200,
               {{"project", project_ref(p->id, p->name)},
                {"user", {{"id", u->id}, {"name", u->name}}},
                {"role", nullptr}}};
}

HandlerResult list_users(Context& ctx, Call& /*call*/) {
  json users = json::array();
  for (const auth::User& u : ctx.identity->users()) users.push_back(user_json(*ctx.identity, u));
  return Reply{200, {{"users", std::move(users)}}};
}

HandlerResult create_user(Context& ctx, Call& call) {
  Result<json> body = body_with(call, {"name", "password", "project", "role"});
  if (!body) return failure(std::move(body.error()));
  Result<std::optional<std::string>> name = string_field(*body, "name");
  Result<std::optional<std::string>> password = string_field(*body, "password");
  Result<std::optional<std::string>> project = string_field(*body, "project");
  Result<std::optional<std::string>> role = string_field(*body, "role");
  for (const auto* r : {&name, &password, &project, &role}) {
    if (!*r) return failure(r->error());
  }
  if (!name->has_value() || !password->has_value()) {
    return failure(Error::invalid_argument(
        "a user needs \"name\" and \"password\" (and may get \"role\" on \"project\")"));
  }
  // The role, if any, is checked before the user exists: a refused request changes nothing.
  std::optional<auth::Project> on;
  std::optional<auth::Role> as;
  if (project->has_value() != role->has_value()) {
    return failure(Error::invalid_argument("'project' and 'role' go together"));
  }
  if (project->has_value()) {
    on = ctx.identity->find_project(**project);
    if (!on)
      return failure(Error::invalid_argument("no project " + project->value().substr(0, 64)));
    as = auth::parse_role(**role);
    if (!as)
      return failure(Error::invalid_argument("no role '" + role->value().substr(0, 64) + "'"));
  }
  Result<auth::User> u = ctx.identity->create_user(**name, **password);
  if (!u) return failure(std::move(u.error()));
  if (on) {
    if (Status granted = ctx.identity->grant(u->id, on->id, *as); !granted) {
      return failure(std::move(granted.error()));
    }
  }
  return Reply{201, {{"user", user_json(*ctx.identity, *u)}}};
}

HandlerResult get_user(Context& ctx, Call& call) {
  auto u = visible_user(ctx, call, call.args[0]);
  if (!u) return std::unexpected(std::move(u.error()));
  return Reply{200, {{"user", user_json(*ctx.identity, *u)}}};
}

HandlerResult update_user(Context& ctx, Call& call) {
  auto u = visible_user(ctx, call, call.args[0]);
  if (!u) return std::unexpected(std::move(u.error()));
  Result<json> body = body_with(call, {"password", "original_password", "enabled"});
  if (!body) return failure(std::move(body.error()));
  Result<std::optional<std::string>> password = string_field(*body, "password");
  Result<std::optional<std::string>> original = string_field(*body, "original_password");
  Result<std::optional<bool>> enabled = bool_field(*body, "enabled");
  if (!password) return failure(password.error());
  if (!original) return failure(original.error());
  if (!enabled) return failure(enabled.error());
  const Principal& caller = *call.who();
  const bool self = caller.user == u->id;
  if (enabled->has_value() && (!caller.cloud_admin() || self)) {
    return failure(Error{ErrorCode::kForbidden,
                         self ? "you cannot enable or disable yourself"
                              : "enabling or disabling a user needs the role admin on the admin "
                                "project",
                         {},
                         {}});
  }
  // Keystone's self-service password change asks for the old one: a stolen token alone
  // cannot take the account over.
  if (password->has_value() && self && !caller.cloud_admin()) {
    if (!original->has_value() || !auth::verify_password(u->password_hash, **original)) {
      return failure(Error{ErrorCode::kUnauthenticated,
                           "changing your password needs your current one "
                           "(\"original_password\"), and it was not given or is wrong",
                           {},
                           {}});
    }
  }
  Result<auth::User> done =
      ctx.identity->update_user(u->id, *password, *enabled, self ? caller.token : 0);
  if (!done) return failure(std::move(done.error()));
  return Reply{200, {{"user", user_json(*ctx.identity, *done)}}};
}

HandlerResult delete_user(Context& ctx, Call& call) {
  const std::optional<auth::User> u = ctx.identity->find_user(call.args[0]);
  if (!u) return failure(Error::not_found("no user " + call.args[0].substr(0, 64)));
  if (u->id == call.who()->user)
    return failure(Error::invalid_argument("you cannot delete yourself"));
  Status done = ctx.identity->delete_user(u->id);
  if (!done) return failure(std::move(done.error()));
  return Reply{200, {{"deleted", {{"id", u->id}, {"name", u->name}}}}};
}

}  // namespace corral::api::internal
