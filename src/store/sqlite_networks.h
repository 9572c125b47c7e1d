// The SQLite store's part for the resources beside VMs of issue 13 (migration 6: networks),
// apart from sqlite_store.cc so that file stays about VMs.
//
// Contract: as MoveRecordSql (sqlite_records.h): the store owns one NetworkSql, declared after
// its connections; prepare() runs once at open; write() and load() run on the writer connection
// inside the store's write lock (write() inside the batch's transaction). A batch's deleted
// networks go first, then its rows are inserted or replaced whole.
#pragma once

#include <sqlite3.h>

#include <string>
#include <utility>

#include "common/result.h"
#include "store/sqlite_util.h"
#include "store/store.h"

namespace corral::store::sqlite {

class NetworkSql {
 public:
  explicit NetworkSql(std::string path) : path_(std::move(path)) {}

  [[nodiscard]] Status prepare(sqlite3* writer);
  [[nodiscard]] Status write(sqlite3* writer, const Batch& batch);
  // Fills out.networks, ordered by id.
  [[nodiscard]] Status load(sqlite3* writer, Loaded& out);

 private:
  std::string path_;
  Stmt upsert_network_;
  Stmt delete_network_;
  Stmt load_networks_;
};

}  // namespace corral::store::sqlite
