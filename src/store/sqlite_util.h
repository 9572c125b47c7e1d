// The generic SQLite toolkit the store is written with: owning handles, one use of a prepared
// statement (binds in order, always reset), a reader of the current row that validates what it
// reads, and the classification of SQLite's error codes into Corral's.
//
// Contract: nothing here knows Corral's tables. Values are bound by position, left to right;
// text is bound without a copy (SQLITE_STATIC), so it must outlive the step. A RowReader never
// throws or aborts: the first value that does not fit is kept in problem(), and the caller
// reports the row as corrupt rather than half-using it.
#pragma once

#include <sqlite3.h>

#include <concepts>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "common/result.h"

namespace corral::store::sqlite {

struct CloseDb {
  // close_v2: if a statement is somehow still alive, the close completes when it is finalized.
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using Db = std::unique_ptr<sqlite3, CloseDb>;

struct FinalizeStmt {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, FinalizeStmt>;

// One use of a prepared statement: binds parameters in order, steps, and resets the statement
// when the use ends, however it ends. A statement left un-reset keeps its read snapshot (the
// WAL cannot be checkpointed past it) and makes ROLLBACK fail.
class StmtUse {
 public:
  explicit StmtUse(const Stmt& stmt) : stmt_(stmt.get()) {}
  ~StmtUse() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  StmtUse(const StmtUse&) = delete;
  StmtUse& operator=(const StmtUse&) = delete;

  StmtUse& bind(std::int64_t value);
  // NaN binds as NULL (SQLite has no NaN), which a NOT NULL column refuses.
  StmtUse& bind(double value);
  // The text is not copied: it must outlive the step (the caller's batch does).
  StmtUse& bind(std::string_view value);
  // Copied (SQLITE_TRANSIENT): for text made just for this bind, such as encoded JSON.
  StmtUse& bind_copy(std::string_view value);
  StmtUse& bind_null();
  // SQLITE_ROW, SQLITE_DONE, or an error code (a failed bind included).
  int step() { return rc_ != SQLITE_OK ? rc_ : sqlite3_step(stmt_); }
  sqlite3_stmt* get() const { return stmt_; }

 private:
  sqlite3_stmt* stmt_;
  int next_ = 1;
  int rc_ = SQLITE_OK;
};

// The stable number of an enum, as it is bound.
template <typename E>
std::int64_t num(E value) {
  return static_cast<std::int64_t>(std::to_underlying(value));
}

// Reads the columns of the current row left to right, checking that numbers fit their C++
// types and enum columns hold a known stable number. The first bad value is kept in
// problem(): a row that does not decode is a corrupt row, reported, never half-used.
class RowReader {
 public:
  explicit RowReader(sqlite3_stmt* stmt) : stmt_(stmt) {}

  bool null() const { return sqlite3_column_type(stmt_, col_) == SQLITE_NULL; }
  int column() const { return col_; }  // the index the next read reads
  sqlite3_stmt* stmt() const { return stmt_; }
  void skip(int n = 1) { col_ += n; }
  std::int64_t i64() { return sqlite3_column_int64(stmt_, col_++); }
  double real() { return sqlite3_column_double(stmt_, col_++); }
  std::string text();
  bool boolean() { return i64() != 0; }
  template <std::integral T>
  T integer() {
    const int col = col_;
    const std::int64_t n = i64();
    if (std::cmp_less(n, std::numeric_limits<T>::min()) ||
        std::cmp_greater(n, std::numeric_limits<T>::max())) {
      note(col, std::to_string(n), "out of range");
      return T{};
    }
    return static_cast<T>(n);
  }
  // `known` says whether a number is one of E's stable numbers (a switch without default).
  template <typename E>
  E enumerator(bool (*known)(E)) {
    static_assert(std::is_enum_v<E>);
    const int col = col_;
    const std::int64_t n = i64();
    using U = std::underlying_type_t<E>;
    if (std::cmp_greater_equal(n, std::numeric_limits<U>::min()) &&
        std::cmp_less_equal(n, std::numeric_limits<U>::max()) &&
        known(static_cast<E>(static_cast<U>(n)))) {
      return static_cast<E>(static_cast<U>(n));
    }
    note(col, std::to_string(n), "out of range");
    return E{};
  }
  // Records that column `col` holds `value`, which is `why` (the first problem wins).
  void note(int col, std::string_view value, std::string_view why);

  const std::optional<std::string>& problem() const { return problem_; }

 private:
  sqlite3_stmt* stmt_;
  int col_ = 0;
  std::optional<std::string> problem_;
};

// Which failures are the environment's (kUnavailable: retry later, HTTP 503) and which are
// bugs or damage (kInternal: constraint, corrupt, misuse ...: not something a retry fixes).
ErrorCode code_for(int rc);

// SQLite's message for `rc` on `db` (or its generic text), with the number.
std::string describe(sqlite3* db, int rc);

// "sqlite store PATH: WHAT: DESCRIPTION", coded by code_for(rc).
Error sqlite_error(sqlite3* db, std::string_view path, std::string_view what, int rc);
// The same, always kUnavailable: everything that fails while opening is the environment's.
Error open_error(sqlite3* db, std::string_view path, std::string_view what, int rc);
// "sqlite store PATH: WHAT", kUnavailable.
Error unavailable(std::string_view path, std::string_view what);

// ---- Open-time helpers (constant SQL only, no values) -----------------------------------

int exec(sqlite3* db, const char* sql);
int prepare(sqlite3* db, const char* sql, Stmt& out);  // SQLITE_PREPARE_PERSISTENT
// The first column of the first row of a one-off query (a pragma); SQLITE_EMPTY if no row.
int query_int(sqlite3* db, const char* sql, std::int64_t& out);
int query_text(sqlite3* db, const char* sql, std::string& out);

}  // namespace corral::store::sqlite
