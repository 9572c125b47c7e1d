#include "auth/identity.h"

#include <algorithm>
#include <charconv>
#include <functional>
#include <mutex>
#include <utility>

namespace corral::auth {

struct Identity::State {
  std::map<ProjectId, Project> projects;
  std::map<UserId, User> users;
  std::map<std::pair<UserId, ProjectId>, Role> roles;
  std::unordered_map<std::string, TokenRow> tokens;  // by digest
  std::map<ProjectId, std::map<std::uint8_t, std::int64_t>> quotas;
};

namespace {

constexpr Millis kKeepExpiredTokens = 24LL * 3600 * 1000;

Error unauthenticated(std::string message) {
  return Error{ErrorCode::kUnauthenticated, std::move(message), {}, {}};
}
Error conflict(std::string message) {
  return Error{ErrorCode::kConflict, std::move(message), {}, {}};
}

std::optional<std::int64_t> decimal_id(std::string_view text) {
  std::int64_t id = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size() || id <= 0) return std::nullopt;
  return id;
}

template <typename Row>
const Row* find_by_name_or_id(const std::map<std::int64_t, Row>& rows, std::string_view key) {
  if (std::optional<std::int64_t> id = decimal_id(key)) {
    const auto it = rows.find(*id);
    return it == rows.end() ? nullptr : &it->second;
  }
  for (const auto& [id, row] : rows) {
    if (row.name == key) return &row;
  }
  return nullptr;
}

// An encoded hash of a password nobody has: login against an unknown user spends the same
// time verifying as against a known one, so timing does not tell which names exist.
const std::string& decoy_hash() {
  static const std::string kDecoy = [] {
    Result<std::string> h = hash_password(new_password(), kInteractiveCost);
    return h ? *h : std::string();
  }();
  return kDecoy;
}

}  // namespace

Status check_name(std::string_view what, std::string_view name) {
  const auto bad = [&](const std::string& why) {
    return fail(
        Error::invalid_argument(std::string(what) + " name \"" + std::string(name) + "\" " + why));
  };
  if (name.empty() || name.size() > 64) return bad("must have 1-64 characters");
  const auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  if (!alnum(name.front())) return bad("must start with a letter or a digit");
  for (char c : name) {
    if (!alnum(c) && c != '.' && c != '_' && c != '-') {
      return bad("may hold only letters, digits, '.', '_' and '-'");
    }
  }
  if (decimal_id(name)) return bad("cannot be a number (numbers are ids)");
  return {};
}

Identity::Identity(std::unique_ptr<IdentityStore> store, Clock& clock, IdentityOptions options)
    : store_(std::move(store)),
      clock_(clock),
      options_(options),
      state_(std::make_unique<State>()) {}

Identity::~Identity() = default;

Status Identity::load() {
  Result<IdentityRows> rows = store_->load(clock_.now_ms(), kKeepExpiredTokens);
  if (!rows) return fail(rows.error());
  auto s = std::make_unique<State>();
  for (Project& p : rows->projects) s->projects.emplace(p.id, std::move(p));
  for (User& u : rows->users) s->users.emplace(u.id, std::move(u));
  for (const Assignment& a : rows->assignments) s->roles[{a.user, a.project}] = a.role;
  for (TokenRow& t : rows->tokens) s->tokens.emplace(t.digest, std::move(t));
  for (const QuotaRow& q : rows->quotas) s->quotas[q.project][q.resource] = q.max;
  std::unique_lock lock(mu_);
  state_ = std::move(s);
  return {};
}

Result<std::optional<std::string>> Identity::bootstrap(const std::string& name,
                                                       const std::optional<std::string>& password) {
  {
    std::shared_lock lock(mu_);
    if (!state_->users.empty()) return std::optional<std::string>();
  }
  if (Status ok = check_name("user", name); !ok) return fail(ok.error());
  const std::string secret = password ? *password : new_password();
  if (!find_project(std::to_string(kAdminProjectId))) {
    Result<Project> admin = create_project("admin", "the cloud's administrators");
    if (!admin) return fail(admin.error());
    if (admin->id != kAdminProjectId) {
      return fail(
          Error::internal("the admin project was not given id " + std::to_string(kAdminProjectId)));
    }
  }
  Result<User> user = create_user(name, secret);
  if (!user) return fail(user.error());
  if (Status ok = grant(user->id, kAdminProjectId, Role::kAdmin); !ok) return fail(ok.error());
  return password ? std::optional<std::string>() : std::optional<std::string>(secret);
}

Result<IssuedToken> Identity::login(std::string_view user_name, std::string_view password,
                                    std::string_view project, Millis ttl,
                                    const std::string& description) {
  std::optional<User> user = find_user(user_name);
  // Verify outside the lock: Argon2id takes tens of milliseconds by design.
  const bool verified = verify_password(user ? user->password_hash : decoy_hash(), password);
  if (!user || !verified) return fail(unauthenticated("wrong user name or password"));
  if (!user->enabled) return fail(unauthenticated("user " + user->name + " is disabled"));
  ProjectId scope = 0;
  {
    std::shared_lock lock(mu_);
    if (!project.empty()) {
      const Project* p = find_by_name_or_id(state_->projects, project);
      if (p == nullptr || !state_->roles.contains({user->id, p->id})) {
        // Not "no such project": a user learns only of the projects they belong to.
        return fail(unauthenticated("user " + user->name + " has no role on a project \"" +
                                    std::string(project) + "\""));
      }
      scope = p->id;
    } else {
      std::vector<ProjectId> mine;
      for (const auto& [key, role] : state_->roles) {
        if (key.first == user->id) mine.push_back(key.second);
      }
      if (mine.empty()) {
        return fail(unauthenticated("user " + user->name + " has no role on any project"));
      }
      if (mine.size() > 1) {
        return fail(Error::invalid_argument("user " + user->name +
                                            " has roles on several projects: name one "
                                            "(\"project\", or `corral login --project`)"));
      }
      scope = mine.front();
    }
  }
  if (ttl < 0 || ttl > options_.max_token_ttl) {
    return fail(Error::invalid_argument("a token's lifetime must be between 1 and " +
                                        std::to_string(options_.max_token_ttl / 1000) +
                                        " seconds"));
  }
  return issue(user->id, scope, ttl == 0 ? options_.default_token_ttl : ttl, false, description);
}

Result<IssuedToken> Identity::issue(UserId user, ProjectId project, Millis ttl, bool never_expires,
                                    const std::string& description) {
  std::unique_lock lock(mu_);
  if (!state_->users.contains(user)) return fail(Error::not_found("no such user"));
  if (!state_->projects.contains(project)) return fail(Error::not_found("no such project"));
  const Millis now = clock_.now_ms();
  IssuedToken out;
  out.token = new_token();
  out.row.digest = token_digest(out.token);
  out.row.user = user;
  out.row.project = project;
  out.row.issued_at = now;
  out.row.expires_at = never_expires ? 0 : now + ttl;
  out.row.description = description;
  Result<TokenId> id = store_->put_token(out.row);
  if (!id) return fail(id.error());
  out.row.id = *id;
  state_->tokens.emplace(out.row.digest, out.row);
  lock.unlock();
  Result<Principal> who = authenticate(out.token);
  if (!who) return fail(who.error());
  out.principal = *who;
  return out;
}

Result<Principal> Identity::authenticate(std::string_view token) const {
  if (token.empty()) return fail(unauthenticated("no token: log in (corral login) first"));
  if (!token_shaped(token)) return fail(unauthenticated("not a Corral token"));
  const std::string digest = token_digest(token);
  std::shared_lock lock(mu_);
  const auto it = state_->tokens.find(digest);
  if (it == state_->tokens.end()) return fail(unauthenticated("unknown token"));
  const TokenRow& t = it->second;
  if (t.revoked_at != 0) {
    return fail(unauthenticated("the token was revoked" +
                                (t.revoked_why.empty() ? "" : ": " + t.revoked_why)));
  }
  if (t.expires_at != 0 && clock_.now_ms() >= t.expires_at) {
    return fail(unauthenticated("the token expired; log in again"));
  }
  const auto user = state_->users.find(t.user);
  if (user == state_->users.end()) return fail(unauthenticated("the token's user was deleted"));
  if (!user->second.enabled) {
    return fail(unauthenticated("user " + user->second.name + " is disabled"));
  }
  const auto project = state_->projects.find(t.project);
  if (project == state_->projects.end()) {
    return fail(unauthenticated("the token's project was deleted"));
  }
  if (!project->second.enabled) {
    return fail(unauthenticated("project " + project->second.name + " is disabled"));
  }
  const auto role = state_->roles.find({t.user, t.project});
  if (role == state_->roles.end()) {
    return fail(unauthenticated("user " + user->second.name + " no longer has a role on project " +
                                project->second.name));
  }
  return Principal{t.user, user->second.name, t.project, project->second.name, role->second,
                   t.id,   t.expires_at};
}

Status Identity::revoke_where(State& s, const std::function<bool(const TokenRow&)>& which,
                              const std::string& why) {
  std::vector<TokenId> ids;
  for (const auto& [digest, t] : s.tokens) {
    if (t.revoked_at == 0 && which(t)) ids.push_back(t.id);
  }
  const Millis now = clock_.now_ms();
  if (Status ok = store_->revoke_tokens(ids, now, why); !ok) return ok;
  for (auto& [digest, t] : s.tokens) {
    if (t.revoked_at == 0 && which(t)) {
      t.revoked_at = now;
      t.revoked_why = why;
    }
  }
  return {};
}

Status Identity::revoke_token(TokenId id, const std::string& why) {
  std::unique_lock lock(mu_);
  bool found = false;
  for (const auto& [digest, t] : state_->tokens) found = found || t.id == id;
  if (!found) return fail(Error::not_found("no such token"));
  return revoke_where(
      *state_, [id](const TokenRow& t) { return t.id == id; }, why);
}

std::vector<TokenRow> Identity::tokens_of(UserId user) const {
  std::vector<TokenRow> out;
  const Millis now = clock_.now_ms();
  std::shared_lock lock(mu_);
  for (const auto& [digest, t] : state_->tokens) {
    if (t.user == user && t.revoked_at == 0 && (t.expires_at == 0 || t.expires_at > now)) {
      out.push_back(t);
    }
  }
  std::ranges::sort(out, {}, &TokenRow::id);
  return out;
}

std::vector<Project> Identity::projects() const {
  std::shared_lock lock(mu_);
  std::vector<Project> out;
  for (const auto& [id, p] : state_->projects) out.push_back(p);
  return out;
}

std::optional<Project> Identity::find_project(std::string_view name_or_id) const {
  std::shared_lock lock(mu_);
  const Project* p = find_by_name_or_id(state_->projects, name_or_id);
  return p ? std::optional<Project>(*p) : std::nullopt;
}

Result<Project> Identity::create_project(const std::string& name, const std::string& description) {
  if (Status ok = check_name("project", name); !ok) return fail(ok.error());
  if (description.size() > 255) {
    return fail(Error::invalid_argument("a description may have at most 255 characters"));
  }
  std::unique_lock lock(mu_);
  if (find_by_name_or_id(state_->projects, name) != nullptr) {
    return fail(conflict("project " + name + " exists"));
  }
  Project p{0, name, description, true, clock_.now_ms()};
  Result<ProjectId> id = store_->put_project(p);
  if (!id) return fail(id.error());
  p.id = *id;
  state_->projects.emplace(p.id, p);
  return p;
}

Result<Project> Identity::update_project(ProjectId id, std::optional<bool> enabled,
                                         std::optional<std::string> description) {
  std::unique_lock lock(mu_);
  const auto it = state_->projects.find(id);
  if (it == state_->projects.end()) return fail(Error::not_found("no such project"));
  if (id == kAdminProjectId && enabled == false) {
    return fail(Error::invalid_argument("the admin project cannot be disabled"));
  }
  Project p = it->second;
  if (enabled) p.enabled = *enabled;
  if (description) p.description = *description;
  if (Result<ProjectId> ok = store_->put_project(p); !ok) return fail(ok.error());
  it->second = p;
  return p;
}

Status Identity::delete_project(ProjectId id) {
  if (id == kAdminProjectId) {
    return fail(Error::invalid_argument("the admin project cannot be deleted"));
  }
  std::unique_lock lock(mu_);
  if (!state_->projects.contains(id)) return fail(Error::not_found("no such project"));
  if (Status ok = revoke_where(
          *state_, [id](const TokenRow& t) { return t.project == id; }, "its project was deleted");
      !ok) {
    return ok;
  }
  if (Status ok = store_->delete_project(id); !ok) return ok;
  state_->projects.erase(id);
  std::erase_if(state_->roles, [id](const auto& kv) { return kv.first.second == id; });
  state_->quotas.erase(id);
  return {};
}

std::vector<User> Identity::users() const {
  std::shared_lock lock(mu_);
  std::vector<User> out;
  for (const auto& [id, u] : state_->users) out.push_back(u);
  return out;
}

std::optional<User> Identity::find_user(std::string_view name_or_id) const {
  std::shared_lock lock(mu_);
  const User* u = find_by_name_or_id(state_->users, name_or_id);
  return u ? std::optional<User>(*u) : std::nullopt;
}

Result<User> Identity::create_user(const std::string& name, std::string_view password) {
  if (Status ok = check_name("user", name); !ok) return fail(ok.error());
  Result<std::string> hash = hash_password(password, options_.password_cost);
  if (!hash) return fail(hash.error());
  std::unique_lock lock(mu_);
  if (find_by_name_or_id(state_->users, name) != nullptr) {
    return fail(conflict("user " + name + " exists"));
  }
  const Millis now = clock_.now_ms();
  User u{0, name, *hash, true, now, now};
  Result<UserId> id = store_->put_user(u);
  if (!id) return fail(id.error());
  u.id = *id;
  state_->users.emplace(u.id, u);
  return u;
}

Result<User> Identity::update_user(UserId id, std::optional<std::string> password,
                                   std::optional<bool> enabled, TokenId except) {
  std::optional<std::string> hash;
  if (password) {
    Result<std::string> h = hash_password(*password, options_.password_cost);
    if (!h) return fail(h.error());
    hash = std::move(*h);
  }
  std::unique_lock lock(mu_);
  const auto it = state_->users.find(id);
  if (it == state_->users.end()) return fail(Error::not_found("no such user"));
  User u = it->second;
  if (hash) {
    u.password_hash = *hash;
    u.password_changed_at = clock_.now_ms();
  }
  const bool disabling = enabled == false && u.enabled;
  if (enabled) u.enabled = *enabled;
  if (Result<UserId> ok = store_->put_user(u); !ok) return fail(ok.error());
  it->second = u;
  if (disabling) {
    if (Status ok = revoke_where(
            *state_, [id](const TokenRow& t) { return t.user == id; }, "the user was disabled");
        !ok) {
      return fail(ok.error());
    }
  } else if (hash) {
    if (Status ok = revoke_where(
            *state_, [id, except](const TokenRow& t) { return t.user == id && t.id != except; },
            "the user's password changed");
        !ok) {
      return fail(ok.error());
    }
  }
  return u;
}

Status Identity::delete_user(UserId id) {
  std::unique_lock lock(mu_);
  if (!state_->users.contains(id)) return fail(Error::not_found("no such user"));
  if (Status ok = revoke_where(
          *state_, [id](const TokenRow& t) { return t.user == id; }, "the user was deleted");
      !ok) {
    return ok;
  }
  if (Status ok = store_->delete_user(id); !ok) return ok;
  state_->users.erase(id);
  std::erase_if(state_->roles, [id](const auto& kv) { return kv.first.first == id; });
  return {};
}

Status Identity::grant(UserId user, ProjectId project, Role role) {
  std::unique_lock lock(mu_);
  if (!state_->users.contains(user)) return fail(Error::not_found("no such user"));
  if (!state_->projects.contains(project)) return fail(Error::not_found("no such project"));
  if (Status ok = store_->put_assignment({user, project, role}); !ok) return ok;
  state_->roles[{user, project}] = role;
  return {};
}

Status Identity::revoke_role(UserId user, ProjectId project) {
  std::unique_lock lock(mu_);
  if (!state_->roles.contains({user, project})) {
    return fail(Error::not_found("the user has no role on that project"));
  }
  if (Status ok = store_->delete_assignment(user, project); !ok) return ok;
  state_->roles.erase({user, project});
  return {};
}

std::optional<Role> Identity::role_of(UserId user, ProjectId project) const {
  std::shared_lock lock(mu_);
  const auto it = state_->roles.find({user, project});
  return it == state_->roles.end() ? std::nullopt : std::optional<Role>(it->second);
}

std::vector<Assignment> Identity::assignments() const {
  std::shared_lock lock(mu_);
  std::vector<Assignment> out;
  for (const auto& [key, role] : state_->roles) out.push_back({key.first, key.second, role});
  return out;
}

std::map<std::uint8_t, std::int64_t> Identity::quotas(ProjectId project) const {
  std::shared_lock lock(mu_);
  const auto it = state_->quotas.find(project);
  return it == state_->quotas.end() ? std::map<std::uint8_t, std::int64_t>() : it->second;
}

Status Identity::set_quota(ProjectId project, std::uint8_t resource, std::int64_t max) {
  std::unique_lock lock(mu_);
  if (!state_->projects.contains(project)) return fail(Error::not_found("no such project"));
  if (Status ok = store_->put_quota({project, resource, max}); !ok) return ok;
  state_->quotas[project][resource] = max;
  return {};
}

Status Identity::clear_quota(ProjectId project, std::uint8_t resource) {
  std::unique_lock lock(mu_);
  if (Status ok = store_->delete_quota(project, resource); !ok) return ok;
  if (auto it = state_->quotas.find(project); it != state_->quotas.end()) {
    it->second.erase(resource);
  }
  return {};
}

}  // namespace corral::auth
