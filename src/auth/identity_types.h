// The identity rows: projects, users, their roles on projects, API tokens and quota limits,
// as plain values (auth/identity_store.h keeps them; auth/identity.h holds the rules).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "auth/roles.h"
#include "common/clock.h"
#include "store/types.h"

namespace corral::auth {

using store::kAdminProjectId;
using store::ProjectId;
using UserId = std::int64_t;
using TokenId = std::int64_t;

struct Project {
  ProjectId id = 0;  // stable, never reused; kAdminProjectId is the cloud's admin project
  std::string name;  // unique
  std::string description;
  bool enabled = true;  // a disabled project's tokens stop working; its VMs keep running
  Millis created_at = 0;
  friend bool operator==(const Project&, const Project&) = default;
};

struct User {
  UserId id = 0;
  std::string name;           // unique
  std::string password_hash;  // Argon2id, encoded (auth/secrets.h)
  bool enabled = true;
  Millis created_at = 0;
  Millis password_changed_at = 0;
  friend bool operator==(const User&, const User&) = default;
};

// A user's role on a project (one per pair: the chain makes a second one redundant).
struct Assignment {
  UserId user = 0;
  ProjectId project = 0;
  Role role = Role::kReader;
  friend bool operator==(const Assignment&, const Assignment&) = default;
};

struct TokenRow {
  TokenId id = 0;
  std::string digest;  // auth::token_digest of the token, which is never stored
  UserId user = 0;
  ProjectId project = 0;  // the scope: every request made with it acts in this project
  Millis issued_at = 0;
  Millis expires_at = 0;  // 0: never (the server's local admin credential only)
  Millis revoked_at = 0;  // 0: not revoked
  std::string revoked_why;
  std::string description;
  friend bool operator==(const TokenRow&, const TokenRow&) = default;
};

// A project's limits, by quota resource number (lifecycle/quota_table.h); a resource without
// a row has its default.
struct QuotaRow {
  ProjectId project = 0;
  std::uint8_t resource = 0;
  std::int64_t max = 0;
  friend bool operator==(const QuotaRow&, const QuotaRow&) = default;
};

struct IdentityRows {
  std::vector<Project> projects;  // by id
  std::vector<User> users;        // by id
  std::vector<Assignment> assignments;
  std::vector<TokenRow> tokens;  // not expired more than a day, by id
  std::vector<QuotaRow> quotas;
};

}  // namespace corral::auth
