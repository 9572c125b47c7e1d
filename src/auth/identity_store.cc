#include "auth/identity_store.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <functional>
#include <vector>

#include "store/sqlite_schema.h"
#include "store/sqlite_util.h"

namespace corral::auth {
namespace {

using store::sqlite::Db;
using store::sqlite::RowReader;
using store::sqlite::Stmt;
using store::sqlite::StmtUse;

constexpr int kBusyTimeoutMs = 5000;

class SqliteIdentityStore final : public IdentityStore {
 public:
  explicit SqliteIdentityStore(std::string path) : path_(std::move(path)) {}

  Status open();

  Result<IdentityRows> load(Millis now, Millis keep_expired) override;
  Result<ProjectId> put_project(const Project& p) override;
  Result<UserId> put_user(const User& u) override;
  Result<TokenId> put_token(const TokenRow& t) override;
  Status delete_project(ProjectId id) override;
  Status delete_user(UserId id) override;
  Status put_assignment(const Assignment& a) override;
  Status delete_assignment(UserId user, ProjectId project) override;
  Status put_quota(const QuotaRow& q) override;
  Status delete_quota(ProjectId project, std::uint8_t resource) override;
  Status revoke_tokens(std::span<const TokenId> ids, Millis at, const std::string& why) override;

 private:
  Error error(std::string_view what, int rc) const {
    return store::sqlite::sqlite_error(db_.get(), path_, what, rc);
  }
  // Runs `sql` once with `bind` applied; SQLITE_DONE is success.
  template <typename Bind>
  Status run(const char* sql, std::string_view what, Bind&& bind);
  template <typename Bind>
  Result<std::int64_t> insert_or_replace(const char* sql, std::int64_t id, std::string_view what,
                                         Bind&& bind);
  Status in_transaction(std::string_view what, const std::function<Status()>& body);

  std::string path_;
  Db db_;
};

Status SqliteIdentityStore::open() {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(
      path_.c_str(), &raw,
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE,
      nullptr);
  db_.reset(raw);
  if (rc != SQLITE_OK) return fail(store::sqlite::open_error(db_.get(), path_, "open", rc));
  sqlite3_busy_timeout(db_.get(), kBusyTimeoutMs);
  if (rc = store::sqlite::exec(db_.get(),
                               "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; "
                               "PRAGMA foreign_keys = ON");
      rc != SQLITE_OK) {
    return fail(store::sqlite::open_error(db_.get(), path_, "cannot set pragmas", rc));
  }
  return store::sqlite::migrate(db_.get(), path_);
}

template <typename Bind>
Status SqliteIdentityStore::run(const char* sql, std::string_view what, Bind&& bind) {
  Stmt stmt;
  if (int rc = store::sqlite::prepare(db_.get(), sql, stmt); rc != SQLITE_OK) {
    return fail(error(what, rc));
  }
  StmtUse use(stmt);
  bind(use);
  if (int rc = use.step(); rc != SQLITE_DONE) return fail(error(what, rc));
  return {};
}

template <typename Bind>
Result<std::int64_t> SqliteIdentityStore::insert_or_replace(const char* sql, std::int64_t id,
                                                            std::string_view what, Bind&& bind) {
  Status done = run(sql, what, [&](StmtUse& use) {
    id == 0 ? use.bind_null() : use.bind(id);
    bind(use);
  });
  if (!done) return fail(done.error());
  return id == 0 ? sqlite3_last_insert_rowid(db_.get()) : id;
}

Status SqliteIdentityStore::in_transaction(std::string_view what,
                                           const std::function<Status()>& body) {
  if (int rc = store::sqlite::exec(db_.get(), "BEGIN IMMEDIATE"); rc != SQLITE_OK) {
    return fail(error(what, rc));
  }
  if (Status s = body(); !s) {
    store::sqlite::exec(db_.get(), "ROLLBACK");
    return s;
  }
  if (int rc = store::sqlite::exec(db_.get(), "COMMIT"); rc != SQLITE_OK) {
    store::sqlite::exec(db_.get(), "ROLLBACK");
    return fail(error(what, rc));
  }
  return {};
}

// Reads every row of `sql` with `read`; a row that does not decode fails the load.
template <typename Row, typename Read>
Status read_all(sqlite3* db, const std::string& path, const char* sql, std::vector<Row>& out,
                Read read) {
  Stmt stmt;
  if (int rc = store::sqlite::prepare(db, sql, stmt); rc != SQLITE_OK) {
    return fail(store::sqlite::sqlite_error(db, path, sql, rc));
  }
  StmtUse use(stmt);
  int rc = SQLITE_OK;
  while ((rc = use.step()) == SQLITE_ROW) {
    RowReader r(stmt.get());
    Row row = read(r);
    if (r.problem()) {
      return fail(Error::internal(
          fmt::format("identity store {}: a corrupt row ({}): {}", path, sql, *r.problem())));
    }
    out.push_back(std::move(row));
  }
  if (rc != SQLITE_DONE) return fail(store::sqlite::sqlite_error(db, path, sql, rc));
  return {};
}

Result<IdentityRows> SqliteIdentityStore::load(Millis now, Millis keep_expired) {
  if (Status s = run("DELETE FROM tokens WHERE expires_at != 0 AND expires_at < ?1",
                     "purge expired tokens", [&](StmtUse& u) { u.bind(now - keep_expired); });
      !s) {
    return fail(s.error());
  }
  IdentityRows rows;
  Status s = read_all(db_.get(), path_,
                      "SELECT id, name, description, enabled, created_at FROM projects ORDER BY id",
                      rows.projects, [](RowReader& r) {
                        Project p;
                        p.id = r.i64();
                        p.name = r.text();
                        p.description = r.text();
                        p.enabled = r.boolean();
                        p.created_at = r.i64();
                        return p;
                      });
  if (s) {
    s = read_all(db_.get(), path_,
                 "SELECT id, name, password_hash, enabled, created_at, password_changed_at "
                 "FROM users ORDER BY id",
                 rows.users, [](RowReader& r) {
                   User u;
                   u.id = r.i64();
                   u.name = r.text();
                   u.password_hash = r.text();
                   u.enabled = r.boolean();
                   u.created_at = r.i64();
                   u.password_changed_at = r.i64();
                   return u;
                 });
  }
  if (s) {
    s = read_all(db_.get(), path_,
                 "SELECT user_id, project_id, role FROM role_assignments ORDER BY user_id, "
                 "project_id",
                 rows.assignments, [](RowReader& r) {
                   Assignment a;
                   a.user = r.i64();
                   a.project = r.i64();
                   a.role = r.enumerator<Role>(role_known);
                   return a;
                 });
  }
  if (s) {
    s = read_all(db_.get(), path_,
                 "SELECT id, digest, user_id, project_id, issued_at, expires_at, revoked_at, "
                 "revoked_why, description FROM tokens ORDER BY id",
                 rows.tokens, [](RowReader& r) {
                   TokenRow t;
                   t.id = r.i64();
                   t.digest = r.text();
                   t.user = r.i64();
                   t.project = r.i64();
                   t.issued_at = r.i64();
                   t.expires_at = r.i64();
                   t.revoked_at = r.i64();
                   t.revoked_why = r.text();
                   t.description = r.text();
                   return t;
                 });
  }
  if (s) {
    s = read_all(db_.get(), path_,
                 "SELECT project_id, resource, max FROM quotas ORDER BY project_id, resource",
                 rows.quotas, [](RowReader& r) {
                   QuotaRow q;
                   q.project = r.i64();
                   q.resource = r.integer<std::uint8_t>();
                   q.max = r.i64();
                   return q;
                 });
  }
  if (!s) return fail(s.error());
  return rows;
}

Result<ProjectId> SqliteIdentityStore::put_project(const Project& p) {
  // Not INSERT OR REPLACE: a replace is a delete, which would cascade to the project's roles
  // and quotas.
  if (p.id != 0) {
    Status s =
        run("UPDATE projects SET name = ?1, description = ?2, enabled = ?3, created_at = ?4 "
            "WHERE id = ?5",
            "write a project", [&](StmtUse& u) {
              u.bind(p.name)
                  .bind(p.description)
                  .bind(std::int64_t{p.enabled})
                  .bind(p.created_at)
                  .bind(p.id);
            });
    if (!s) return fail(s.error());
    return p.id;
  }
  return insert_or_replace(
      "INSERT INTO projects(id, name, description, enabled, created_at) "
      "VALUES(?1, ?2, ?3, ?4, ?5)",
      0, "write a project", [&](StmtUse& u) {
        u.bind(p.name).bind(p.description).bind(std::int64_t{p.enabled}).bind(p.created_at);
      });
}

Result<UserId> SqliteIdentityStore::put_user(const User& user) {
  // Not INSERT OR REPLACE: a replace is a delete, which would cascade to the user's roles.
  if (user.id != 0) {
    Status s =
        run("UPDATE users SET name = ?1, password_hash = ?2, enabled = ?3, created_at = ?4, "
            "password_changed_at = ?5 WHERE id = ?6",
            "write a user", [&](StmtUse& u) {
              u.bind(user.name)
                  .bind(user.password_hash)
                  .bind(std::int64_t{user.enabled})
                  .bind(user.created_at)
                  .bind(user.password_changed_at)
                  .bind(user.id);
            });
    if (!s) return fail(s.error());
    return user.id;
  }
  return insert_or_replace(
      "INSERT INTO users(id, name, password_hash, enabled, created_at, password_changed_at) "
      "VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
      0, "write a user", [&](StmtUse& u) {
        u.bind(user.name)
            .bind(user.password_hash)
            .bind(std::int64_t{user.enabled})
            .bind(user.created_at)
            .bind(user.password_changed_at);
      });
}

Result<TokenId> SqliteIdentityStore::put_token(const TokenRow& t) {
  return insert_or_replace(
      "INSERT OR REPLACE INTO tokens(id, digest, user_id, project_id, issued_at, expires_at, "
      "revoked_at, revoked_why, description) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
      t.id, "write a token", [&](StmtUse& u) {
        u.bind(t.digest)
            .bind(t.user)
            .bind(t.project)
            .bind(t.issued_at)
            .bind(t.expires_at)
            .bind(t.revoked_at)
            .bind(t.revoked_why)
            .bind(t.description);
      });
}

Status SqliteIdentityStore::delete_project(ProjectId id) {
  return run("DELETE FROM projects WHERE id = ?1", "delete a project",
             [&](StmtUse& u) { u.bind(id); });
}

Status SqliteIdentityStore::delete_user(UserId id) {
  return run("DELETE FROM users WHERE id = ?1", "delete a user", [&](StmtUse& u) { u.bind(id); });
}

Status SqliteIdentityStore::put_assignment(const Assignment& a) {
  return run(
      "INSERT OR REPLACE INTO role_assignments(user_id, project_id, role) VALUES(?1, ?2, ?3)",
      "write a role assignment",
      [&](StmtUse& u) { u.bind(a.user).bind(a.project).bind(store::sqlite::num(a.role)); });
}

Status SqliteIdentityStore::delete_assignment(UserId user, ProjectId project) {
  return run("DELETE FROM role_assignments WHERE user_id = ?1 AND project_id = ?2",
             "delete a role assignment", [&](StmtUse& u) { u.bind(user).bind(project); });
}

Status SqliteIdentityStore::put_quota(const QuotaRow& q) {
  return run("INSERT OR REPLACE INTO quotas(project_id, resource, max) VALUES(?1, ?2, ?3)",
             "write a quota",
             [&](StmtUse& u) { u.bind(q.project).bind(std::int64_t{q.resource}).bind(q.max); });
}

Status SqliteIdentityStore::delete_quota(ProjectId project, std::uint8_t resource) {
  return run("DELETE FROM quotas WHERE project_id = ?1 AND resource = ?2", "delete a quota",
             [&](StmtUse& u) { u.bind(project).bind(std::int64_t{resource}); });
}

Status SqliteIdentityStore::revoke_tokens(std::span<const TokenId> ids, Millis at,
                                          const std::string& why) {
  if (ids.empty()) return {};
  return in_transaction("revoke tokens", [&]() -> Status {
    for (TokenId id : ids) {
      Status s = run("UPDATE tokens SET revoked_at = ?1, revoked_why = ?2 WHERE id = ?3",
                     "revoke a token", [&](StmtUse& u) { u.bind(at).bind(why).bind(id); });
      if (!s) return s;
    }
    return {};
  });
}

}  // namespace

Result<std::unique_ptr<IdentityStore>> open_identity_store(const std::string& path) {
  auto store = std::make_unique<SqliteIdentityStore>(path);
  if (Status s = store->open(); !s) return fail(s.error());
  return std::unique_ptr<IdentityStore>(std::move(store));
}

}  // namespace corral::auth
