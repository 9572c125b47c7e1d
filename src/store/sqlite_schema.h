// The SQLite schema version this binary writes (PRAGMA user_version after every migration).
//
// Contract: bumped by exactly one with every new migration in sqlite_store.cc (a
// static_assert there keeps the two in step). A database whose user_version is higher than
// this was written by a newer corral and is refused rather than misread.
#pragma once

namespace corral::store {

inline constexpr int kSqliteSchemaVersion = 1;

}  // namespace corral::store
