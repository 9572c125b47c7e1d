#include "store/sqlite_audit_outbox.h"

#include <fmt/format.h>

#include <tuple>

namespace corral::store::sqlite {

Status AuditOutboxSql::prepare(sqlite3* writer, sqlite3* reader) {
  const std::tuple<sqlite3*, Stmt*, const char*> statements[] = {
      {writer, &insert_, "INSERT INTO audit_outbox(id, vm_id, body, at) VALUES (?1, ?2, ?3, ?4)"},
      {writer, &raise_max_id_,
       "UPDATE audit_outbox_ids SET max_id = ?1 WHERE one = 1 AND max_id < ?1"},
      {writer, &delete_done_, "DELETE FROM audit_outbox WHERE id <= ?1"},
      {writer, &max_id_, "SELECT max_id FROM audit_outbox_ids WHERE one = 1"},
      {reader, &after_, "SELECT id, vm_id, body, at FROM audit_outbox WHERE id > ?1 ORDER BY id"},
  };
  for (const auto& [db, stmt, text] : statements) {
    if (int rc = sqlite::prepare(db, text, *stmt); rc != SQLITE_OK) {
      return fail(open_error(db, path_, fmt::format("cannot prepare \"{}\"", text), rc));
    }
  }
  return {};
}

Status AuditOutboxSql::write(sqlite3* writer, const Batch& batch) {
  std::int64_t highest = 0;
  for (const AuditOutboxRow& row : batch.audit_outbox) {
    StmtUse use(insert_);
    use.bind(row.id).bind(row.vm_id).bind(std::string_view(row.body)).bind(row.at);
    if (int rc = use.step(); rc != SQLITE_DONE) {
      return fail(
          sqlite_error(writer, path_, fmt::format("commit: audit outbox entry {}", row.id), rc));
    }
    highest = std::max(highest, row.id);
  }
  if (highest > 0) {
    StmtUse use(raise_max_id_);
    use.bind(highest);
    if (int rc = use.step(); rc != SQLITE_DONE) {
      return fail(sqlite_error(writer, path_, "commit: audit outbox highest id", rc));
    }
  }
  if (batch.audit_outbox_done > 0) {
    StmtUse use(delete_done_);
    use.bind(batch.audit_outbox_done);
    if (int rc = use.step(); rc != SQLITE_DONE) {
      return fail(sqlite_error(writer, path_, "commit: audit outbox, copied entries", rc));
    }
  }
  return {};
}

Status AuditOutboxSql::load(sqlite3* writer, Loaded& out) {
  StmtUse use(max_id_);
  if (int rc = use.step(); rc != SQLITE_ROW) {
    return fail(sqlite_error(writer, path_, "load: audit outbox highest id", rc));
  }
  out.max_audit_outbox_id = sqlite3_column_int64(max_id_.get(), 0);
  return {};
}

Result<std::vector<AuditOutboxRow>> AuditOutboxSql::read(sqlite3* reader, std::int64_t after_id) {
  StmtUse use(after_);
  use.bind(after_id);
  std::vector<AuditOutboxRow> out;
  int rc = SQLITE_OK;
  while ((rc = use.step()) == SQLITE_ROW) {
    RowReader r(use.get());
    AuditOutboxRow& row = out.emplace_back();
    row.id = r.i64();
    row.vm_id = r.i64();
    row.body = r.text();
    row.at = r.i64();
    if (r.problem()) {
      return fail(Error::internal(
          fmt::format("sqlite store {}: audit outbox entry {}: {}", path_, row.id, *r.problem())));
    }
  }
  if (rc != SQLITE_DONE) return fail(sqlite_error(reader, path_, "audit outbox", rc));
  return out;
}

}  // namespace corral::store::sqlite
