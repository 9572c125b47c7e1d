// Identity: who is calling, in which project, with which role — users, projects, role
// assignments, API tokens and quota limits, with the rules that keep them true.
//
// Contract:
// - Thread-safe. Reads (authenticate above all, on every API request) are served from memory
//   under a shared lock; writes go to the IdentityStore first, durably, then to memory, under
//   an exclusive lock, so memory never holds what the store lost. One process writes the
//   identity tables (the server); a second controller would need its own cache invalidation.
// - A token is scoped to one project. authenticate() checks, in order: its shape, that it
//   exists, is not revoked, has not expired, that its user exists and is enabled, that its
//   project exists and is enabled, and that the user still holds a role there (the role is
//   read live, so a role removed takes effect at once). Each failure is kUnauthenticated with
//   a message that says which, and never says more than the caller could know.
// - Tokens are revoked when their user's password changes, the user is disabled or deleted,
//   or their project is deleted (Keystone's revocation events).
// - Cloud-wide admin is the admin role on kAdminProjectId, nowhere else (roles.h).
// - Names: 1-64 characters of [A-Za-z0-9._-], starting with a letter or digit.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "auth/identity_store.h"
#include "auth/secrets.h"
#include "common/clock.h"
#include "common/result.h"

namespace corral::auth {

// The caller of a request, once its token is checked.
struct Principal {
  UserId user = 0;
  std::string user_name;
  ProjectId project = 0;
  std::string project_name;
  Role role = Role::kReader;  // on `project`, read when the request came
  TokenId token = 0;
  Millis expires_at = 0;
  bool cloud_admin() const { return project == kAdminProjectId && role == Role::kAdmin; }
};

struct IssuedToken {
  std::string token;  // the secret: shown once, never stored
  TokenRow row;
  Principal principal;
};

struct IdentityOptions {
  PasswordCost password_cost = kInteractiveCost;
  Millis default_token_ttl = 10LL * 3600 * 1000;  // OpenNebula's token default: 10 h
  Millis max_token_ttl = 30LL * 24 * 3600 * 1000;
};

class Identity {
 public:
  Identity(std::unique_ptr<IdentityStore> store, Clock& clock, IdentityOptions options = {});
  ~Identity();
  Identity(const Identity&) = delete;
  Identity& operator=(const Identity&) = delete;

  [[nodiscard]] Status load();

  // With no user yet: creates the project "admin" (kAdminProjectId) and the user `name`
  // holding admin on it, with `password` or, if none is given, a new one, which is returned
  // (the caller shows it once). With users already: nothing, and std::nullopt.
  [[nodiscard]] Result<std::optional<std::string>> bootstrap(
      const std::string& name, const std::optional<std::string>& password);

  // Password login (POST /v1/auth/tokens): a new token scoped to `project` (name or id; empty:
  // the user's only project, or the admin project for an admin there, else kInvalidArgument
  // asking to name one). A wrong user name or password is one message (which of the two is
  // not said). `ttl` 0: the default; above the maximum: kInvalidArgument.
  [[nodiscard]] Result<IssuedToken> login(std::string_view user, std::string_view password,
                                          std::string_view project, Millis ttl,
                                          const std::string& description);
  // A token for `user` on `project` without a password (the server's local admin
  // credential). ttl 0 with `never_expires`: no expiry.
  [[nodiscard]] Result<IssuedToken> issue(UserId user, ProjectId project, Millis ttl,
                                          bool never_expires, const std::string& description);
  [[nodiscard]] Result<Principal> authenticate(std::string_view token) const;
  // Revokes a token. A caller may revoke its own tokens; others: kNotFound.
  [[nodiscard]] Status revoke_token(TokenId id, const std::string& why);
  std::vector<TokenRow> tokens_of(UserId user) const;  // not revoked, not expired

  std::vector<Project> projects() const;
  // By name or decimal id.
  std::optional<Project> find_project(std::string_view name_or_id) const;
  [[nodiscard]] Result<Project> create_project(const std::string& name,
                                               const std::string& description);
  [[nodiscard]] Result<Project> update_project(ProjectId id, std::optional<bool> enabled,
                                               std::optional<std::string> description);
  // kInvalidArgument for the admin project. The caller checks that it owns nothing.
  [[nodiscard]] Status delete_project(ProjectId id);

  std::vector<User> users() const;
  std::optional<User> find_user(std::string_view name_or_id) const;
  [[nodiscard]] Result<User> create_user(const std::string& name, std::string_view password);
  // A new password or enabled flag; either revokes the user's tokens (a password change
  // keeps `except`, the caller's own token, as Keystone keeps the token that changed it).
  [[nodiscard]] Result<User> update_user(UserId id, std::optional<std::string> password,
                                         std::optional<bool> enabled, TokenId except = 0);
  [[nodiscard]] Status delete_user(UserId id);

  // Grants `role` (replacing the user's role there) / removes the user's role on a project.
  [[nodiscard]] Status grant(UserId user, ProjectId project, Role role);
  [[nodiscard]] Status revoke_role(UserId user, ProjectId project);
  std::optional<Role> role_of(UserId user, ProjectId project) const;
  std::vector<Assignment> assignments() const;

  // A project's limits that differ from the defaults, by quota resource number.
  std::map<std::uint8_t, std::int64_t> quotas(ProjectId project) const;
  [[nodiscard]] Status set_quota(ProjectId project, std::uint8_t resource, std::int64_t max);
  [[nodiscard]] Status clear_quota(ProjectId project, std::uint8_t resource);

 private:
  struct State;
  Status revoke_where(State& s, const std::function<bool(const TokenRow&)>& which,
                      const std::string& why);

  std::unique_ptr<IdentityStore> store_;
  Clock& clock_;
  const IdentityOptions options_;
  mutable std::shared_mutex mu_;
  std::unique_ptr<State> state_;
};

// Whether `name` is a valid user or project name (kInvalidArgument naming `what` if not).
[[nodiscard]] Status check_name(std::string_view what, std::string_view name);

}  // namespace corral::auth
