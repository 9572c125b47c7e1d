#include "store/sqlite_util.h"

#include <fmt/format.h>

namespace corral::store::sqlite {

StmtUse& StmtUse::bind(std::int64_t value) {
  if (rc_ == SQLITE_OK) rc_ = sqlite3_bind_int64(stmt_, next_, value);
  ++next_;
  return *this;
}

StmtUse& StmtUse::bind(double value) {
  if (rc_ == SQLITE_OK) rc_ = sqlite3_bind_double(stmt_, next_, value);
  ++next_;
  return *this;
}

StmtUse& StmtUse::bind(std::string_view value) {
  if (rc_ == SQLITE_OK) {
    rc_ = sqlite3_bind_text64(stmt_, next_, value.data(), value.size(), SQLITE_STATIC, SQLITE_UTF8);
  }
  ++next_;
  return *this;
}

StmtUse& StmtUse::bind_copy(std::string_view value) {
  if (rc_ == SQLITE_OK) {
    rc_ = sqlite3_bind_text64(stmt_, next_, value.data(), value.size(), SQLITE_TRANSIENT,
                              SQLITE_UTF8);
  }
  ++next_;
  return *this;
}

StmtUse& StmtUse::bind_null() {
  if (rc_ == SQLITE_OK) rc_ = sqlite3_bind_null(stmt_, next_);
  ++next_;
  return *this;
}

std::string RowReader::text() {
  const unsigned char* p = sqlite3_column_text(stmt_, col_);
  const int n = sqlite3_column_bytes(stmt_, col_);
  ++col_;
  return p == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(p), n);
}

void RowReader::note(int col, std::string_view value, std::string_view why) {
  if (problem_) return;
  const char* name = sqlite3_column_name(stmt_, col);
  problem_ = fmt::format("column {} holds {}, which is {}", name ? name : "?", value, why);
}

ErrorCode code_for(int rc) {
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PROTOCOL:
    case SQLITE_NOMEM:
    case SQLITE_PERM:
    case SQLITE_NOLFS:
      return ErrorCode::kUnavailable;
    default:  // constraint, corrupt, misuse ...: not something a retry fixes
      return ErrorCode::kInternal;
  }
}

std::string describe(sqlite3* db, int rc) {
  // errmsg names the detail ("FOREIGN KEY constraint failed", "disk I/O error") when it is
  // about this rc; a failed bind or open may not have set it.
  const char* msg =
      db != nullptr && sqlite3_extended_errcode(db) == rc ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  return fmt::format("{} (sqlite error {})", msg, rc);
}

Error sqlite_error(sqlite3* db, std::string_view path, std::string_view what, int rc) {
  return Error{
      code_for(rc), fmt::format("sqlite store {}: {}: {}", path, what, describe(db, rc)), {}, {}};
}

Error open_error(sqlite3* db, std::string_view path, std::string_view what, int rc) {
  Error e = sqlite_error(db, path, what, rc);
  e.code = ErrorCode::kUnavailable;
  return e;
}

Error unavailable(std::string_view path, std::string_view what) {
  return Error{ErrorCode::kUnavailable, fmt::format("sqlite store {}: {}", path, what), {}, {}};
}

int exec(sqlite3* db, const char* sql) { return sqlite3_exec(db, sql, nullptr, nullptr, nullptr); }

int prepare(sqlite3* db, const char* sql, Stmt& out) {
  sqlite3_stmt* raw = nullptr;
  const int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
  out.reset(raw);
  return rc;
}

int query_int(sqlite3* db, const char* sql, std::int64_t& out) {
  Stmt stmt;
  if (int rc = prepare(db, sql, stmt); rc != SQLITE_OK) return rc;
  StmtUse use(stmt);
  const int rc = use.step();
  if (rc != SQLITE_ROW) return rc == SQLITE_DONE ? SQLITE_EMPTY : rc;
  out = sqlite3_column_int64(stmt.get(), 0);
  return SQLITE_OK;
}

int query_text(sqlite3* db, const char* sql, std::string& out) {
  Stmt stmt;
  if (int rc = prepare(db, sql, stmt); rc != SQLITE_OK) return rc;
  StmtUse use(stmt);
  const int rc = use.step();
  if (rc != SQLITE_ROW) return rc == SQLITE_DONE ? SQLITE_EMPTY : rc;
  out = RowReader(stmt.get()).text();
  return SQLITE_OK;
}

}  // namespace corral::store::sqlite
