// The identity tables in Corral's SQLite database (store migration 9): projects, users, role
// assignments, token digests and quota limits.
//
// Contract: opened on the database the engine's store opened and migrated (it migrates too,
// which is a no-op then). Its own connection, with a busy timeout, so its rare writes wait
// for the engine's commits instead of failing. Every write is one durable transaction
// (synchronous=FULL) before it returns. Not thread-safe: auth::Identity serializes calls.
#pragma once

#include <memory>
#include <span>
#include <string>

#include "auth/identity_types.h"
#include "common/result.h"

namespace corral::auth {

class IdentityStore {
 public:
  virtual ~IdentityStore() = default;

  // Every row; tokens that expired more than `keep_expired` ago are deleted first.
  [[nodiscard]] virtual Result<IdentityRows> load(Millis now, Millis keep_expired) = 0;

  // Inserts (id 0: assigned, returned) or replaces by id.
  [[nodiscard]] virtual Result<ProjectId> put_project(const Project& project) = 0;
  [[nodiscard]] virtual Result<UserId> put_user(const User& user) = 0;
  [[nodiscard]] virtual Result<TokenId> put_token(const TokenRow& token) = 0;
  // Deleting a user or project deletes its assignments and quotas (not its tokens).
  [[nodiscard]] virtual Status delete_project(ProjectId id) = 0;
  [[nodiscard]] virtual Status delete_user(UserId id) = 0;
  [[nodiscard]] virtual Status put_assignment(const Assignment& assignment) = 0;
  [[nodiscard]] virtual Status delete_assignment(UserId user, ProjectId project) = 0;
  [[nodiscard]] virtual Status put_quota(const QuotaRow& quota) = 0;
  [[nodiscard]] virtual Status delete_quota(ProjectId project, std::uint8_t resource) = 0;
  // Marks the tokens revoked, all in one transaction.
  [[nodiscard]] virtual Status revoke_tokens(std::span<const TokenId> ids, Millis at,
                                             const std::string& why) = 0;
};

// kUnavailable naming the file when it cannot be opened or migrated.
[[nodiscard]] Result<std::unique_ptr<IdentityStore>> open_identity_store(const std::string& path);

}  // namespace corral::auth
