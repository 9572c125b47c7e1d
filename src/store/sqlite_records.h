// The SQLite store's part for the move records (migration 4): their prepared statements,
// writes, load and per-VM reads, apart from sqlite_store.cc so that file stays about VMs.
//
// Contract: the store owns one MoveRecordSql, declared after its connections (its statements
// are finalized first). prepare() runs once at open; write() and load() run on the writer
// connection inside the store's write lock (write() inside the batch's transaction);
// migrations(), recent_migrations() and stays() on the reader connection inside its read lock.
// Errors name the database file as the store's own do: SQLite's failures coded by sqlite::code_for,
// a row that does not decode kInternal ("corrupt").
#pragma once

#include <sqlite3.h>

#include <string>
#include <utility>
#include <vector>

#include "common/result.h"
#include "store/sqlite_rows.h"
#include "store/sqlite_upsert.h"
#include "store/sqlite_util.h"
#include "store/store.h"

namespace corral::store::sqlite {

class MoveRecordSql {
 public:
  explicit MoveRecordSql(std::string path) : path_(std::move(path)) {}

  [[nodiscard]] Status prepare(sqlite3* writer, sqlite3* reader);
  [[nodiscard]] Status write(sqlite3* writer, const Batch& batch);
  // Fills out.last_migrations, out.last_stays and out.max_migration_id.
  [[nodiscard]] Status load(sqlite3* writer, Loaded& out);
  [[nodiscard]] Result<std::vector<MigrationRow>> migrations(sqlite3* reader, VmId vm);
  [[nodiscard]] Result<std::vector<MigrationRow>> recent_migrations(sqlite3* reader,
                                                                    std::int64_t before_id,
                                                                    int limit);
  [[nodiscard]] Result<std::vector<HostStayRow>> stays(sqlite3* reader, VmId vm);

 private:
  template <typename Row>
  Result<std::vector<Row>> read_rows(StmtUse& use, sqlite3* db, const std::string& what);

  std::string path_;
  // Writer connection.
  Upsert<MigrationRow> upsert_migration_{migration_codec()};
  Stmt upsert_stay_;
  Stmt max_migration_id_;
  Stmt last_migrations_;
  Stmt last_stays_;
  // Reader connection.
  Stmt migrations_;
  Stmt recent_migrations_;
  Stmt stays_;
};

}  // namespace corral::store::sqlite
