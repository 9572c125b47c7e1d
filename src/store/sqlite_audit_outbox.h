// The SQLite store's part for the audit outbox (migration 13, store.h's AuditOutboxRow): its
// prepared statements, writes, load and read, apart from sqlite_store.cc.
//
// Contract: as MoveRecordSql's (sqlite_records.h). write() runs inside the batch's
// transaction: it inserts the batch's entries, raises the stored highest id, and deletes the
// entries up to audit_outbox_done. read() runs on the reader connection.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"
#include "store/sqlite_util.h"
#include "store/store.h"

namespace corral::store::sqlite {

class AuditOutboxSql {
 public:
  explicit AuditOutboxSql(std::string path) : path_(std::move(path)) {}

  [[nodiscard]] Status prepare(sqlite3* writer, sqlite3* reader);
  [[nodiscard]] Status write(sqlite3* writer, const Batch& batch);
  // Fills out.max_audit_outbox_id.
  [[nodiscard]] Status load(sqlite3* writer, Loaded& out);
  [[nodiscard]] Result<std::vector<AuditOutboxRow>> read(sqlite3* reader, std::int64_t after_id);

 private:
  std::string path_;
  // Writer connection.
  Stmt insert_;
  Stmt raise_max_id_;
  Stmt delete_done_;
  Stmt max_id_;
  // Reader connection.
  Stmt after_;
};

}  // namespace corral::store::sqlite
