// The SQLite schema: numbered migrations, and the version this binary writes.
//
// Contract: kSqliteSchemaVersion is PRAGMA user_version after every migration, and is bumped by
// exactly one with every new migration in sqlite_schema.cc (static_asserts there keep the two in
// step). A shipped migration is never edited: a change is the next number. A database whose
// user_version is higher than this was written by a newer corral and is refused rather than
// misread. The row codecs (sqlite_rows.h) must name the columns these migrations leave, in
// table order; sqlite_schema_test.cc checks that against a freshly migrated file.
#pragma once

#include <sqlite3.h>

#include <span>
#include <string_view>

#include "common/result.h"

namespace corral::store {

inline constexpr int kSqliteSchemaVersion = 16;

namespace sqlite {

struct Migration {
  int version;
  const char* sql;
};

// Every migration, in order: version 1, 2, ... kSqliteSchemaVersion.
std::span<const Migration> migrations();

// Brings the database on `db` from its user_version to `target` (default: the latest), in one
// IMMEDIATE transaction, so two processes opening a new file at once apply each migration once.
// Refuses (kUnavailable, naming `path`) a database newer than this binary.
[[nodiscard]] Status migrate(sqlite3* db, std::string_view path, int target = kSqliteSchemaVersion);

}  // namespace sqlite
}  // namespace corral::store
