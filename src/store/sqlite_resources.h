// The SQLite store's part for the resources beside VMs of issue 13 (migration 6: networks;
// migration 7: volumes; migration 8: security groups; migration 15: resource groups),
// apart from sqlite_store.cc so that file stays about VMs.
//
// Contract: as MoveRecordSql (sqlite_records.h): the store owns one ResourceSql, declared after
// its connections; prepare() runs once at open; write() and load() run on the writer connection
// inside the store's write lock (write() inside the batch's transaction). For each kind, a
// batch's deleted rows go first, then its rows are inserted or replaced whole.
#pragma once

#include <sqlite3.h>

#include <string>
#include <utility>

#include "common/result.h"
#include "store/sqlite_util.h"
#include "store/store.h"

namespace corral::store::sqlite {

class ResourceSql {
 public:
  explicit ResourceSql(std::string path) : path_(std::move(path)) {}

  [[nodiscard]] Status prepare(sqlite3* writer);
  [[nodiscard]] Status write(sqlite3* writer, const Batch& batch);
  // Fills out.networks, out.volumes, out.security_groups and out.resource_groups, by id.
  [[nodiscard]] Status load(sqlite3* writer, Loaded& out);

 private:
  std::string path_;
  Stmt upsert_network_;
  Stmt delete_network_;
  Stmt load_networks_;
  Stmt upsert_volume_;
  Stmt delete_volume_;
  Stmt load_volumes_;
  Stmt upsert_security_group_;
  Stmt delete_security_group_;
  Stmt load_security_groups_;
  Stmt upsert_resource_group_;
  Stmt delete_resource_group_;
  Stmt load_resource_groups_;
};

}  // namespace corral::store::sqlite
