#include "store/sqlite_records.h"

#include <fmt/format.h>

#include <tuple>
#include <utility>

#include "store/sqlite_rows.h"

namespace corral::store::sqlite {
namespace {

struct Sql {
  std::string upsert_stay = insert_sql(stay_codec());
  // The newest record of each VM: what the engine goes on from.
  std::string last_migrations = "SELECT " + column_list(migration_codec()) +
                                " FROM migrations WHERE id IN (SELECT max(id) FROM migrations "
                                "GROUP BY vm_id) ORDER BY vm_id";
  std::string last_stays = "SELECT " + column_list(stay_codec(), "s") +
                           " FROM host_stays AS s WHERE s.seq = (SELECT max(seq) FROM host_stays "
                           "WHERE vm_id = s.vm_id) ORDER BY s.vm_id";
  std::string migrations =
      "SELECT " + column_list(migration_codec()) + " FROM migrations WHERE vm_id = ?1 ORDER BY id";
  std::string recent_migrations = "SELECT " + column_list(migration_codec()) +
                                  " FROM migrations WHERE id < ?1 ORDER BY id DESC LIMIT ?2";
  std::string stays =
      "SELECT " + column_list(stay_codec()) + " FROM host_stays WHERE vm_id = ?1 ORDER BY seq";
};
const Sql& sql() {
  static const Sql built;
  return built;
}

template <typename Row>
const RowCodec<Row>& codec_of();
template <>
const RowCodec<MigrationRow>& codec_of<MigrationRow>() {
  return migration_codec();
}
template <>
const RowCodec<HostStayRow>& codec_of<HostStayRow>() {
  return stay_codec();
}

}  // namespace

Status MoveRecordSql::prepare(sqlite3* writer, sqlite3* reader) {
  const std::tuple<sqlite3*, Stmt*, const char*> statements[] = {
      {writer, &upsert_stay_, sql().upsert_stay.c_str()},
      {writer, &max_migration_id_, "SELECT max(id) FROM migrations"},
      {writer, &last_migrations_, sql().last_migrations.c_str()},
      {writer, &last_stays_, sql().last_stays.c_str()},
      {reader, &migrations_, sql().migrations.c_str()},
      {reader, &recent_migrations_, sql().recent_migrations.c_str()},
      {reader, &stays_, sql().stays.c_str()},
  };
  for (const auto& [db, stmt, text] : statements) {
    if (int rc = sqlite::prepare(db, text, *stmt); rc != SQLITE_OK) {
      return fail(open_error(db, path_, fmt::format("cannot prepare \"{}\"", text), rc));
    }
  }
  std::string failed_sql;
  if (int rc = upsert_migration_.prepare(writer, failed_sql); rc != SQLITE_OK) {
    return fail(open_error(writer, path_, fmt::format("cannot prepare \"{}\"", failed_sql), rc));
  }
  return {};
}

Status MoveRecordSql::write(sqlite3* writer, const Batch& batch) {
  for (const MigrationRow& m : batch.migrations) {
    if (int rc = upsert_migration_.write(m); rc != SQLITE_DONE) {
      return fail(sqlite_error(writer, path_,
                               fmt::format("commit: migration {} of vm {}", m.id, m.vm_id), rc));
    }
  }
  for (const HostStayRow& s : batch.stays) {
    StmtUse use(upsert_stay_);
    bind_row(use, stay_codec(), s);
    if (int rc = use.step(); rc != SQLITE_DONE) {
      return fail(sqlite_error(writer, path_,
                               fmt::format("commit: host stay {} of vm {}", s.seq, s.vm_id), rc));
    }
  }
  return {};
}

template <typename Row>
Result<std::vector<Row>> MoveRecordSql::read_rows(StmtUse& use, sqlite3* db,
                                                  const std::string& what) {
  std::vector<Row> out;
  int rc = SQLITE_OK;
  while ((rc = use.step()) == SQLITE_ROW) {
    Row& row = out.emplace_back();
    RowReader r(use.get());
    read_row(r, codec_of<Row>(), row);
    if (r.problem()) {
      return fail(
          Error::internal(fmt::format("sqlite store {}: {}: {}", path_, what, *r.problem())));
    }
  }
  if (rc != SQLITE_DONE) return fail(sqlite_error(db, path_, what, rc));
  return out;
}

Status MoveRecordSql::load(sqlite3* writer, Loaded& out) {
  {
    StmtUse use(max_migration_id_);
    if (int rc = use.step(); rc != SQLITE_ROW) {
      return fail(sqlite_error(writer, path_, "load: max migration id", rc));
    }
    out.max_migration_id = sqlite3_column_int64(max_migration_id_.get(), 0);  // NULL: 0
  }
  {
    StmtUse use(last_migrations_);
    auto rows = read_rows<MigrationRow>(use, writer, "load: migrations");
    if (!rows) return fail(std::move(rows.error()));
    out.last_migrations = std::move(*rows);
  }
  StmtUse use(last_stays_);
  auto rows = read_rows<HostStayRow>(use, writer, "load: host stays");
  if (!rows) return fail(std::move(rows.error()));
  out.last_stays = std::move(*rows);
  return {};
}

Result<std::vector<MigrationRow>> MoveRecordSql::migrations(sqlite3* reader, VmId vm) {
  StmtUse use(migrations_);
  use.bind(vm);
  return read_rows<MigrationRow>(use, reader, fmt::format("migrations of vm {}", vm));
}

Result<std::vector<MigrationRow>> MoveRecordSql::recent_migrations(sqlite3* reader,
                                                                   std::int64_t before_id,
                                                                   int limit) {
  StmtUse use(recent_migrations_);
  use.bind(before_id);
  use.bind(static_cast<std::int64_t>(limit));
  return read_rows<MigrationRow>(use, reader, fmt::format("migrations before {}", before_id));
}

Result<std::vector<HostStayRow>> MoveRecordSql::stays(sqlite3* reader, VmId vm) {
  StmtUse use(stays_);
  use.bind(vm);
  return read_rows<HostStayRow>(use, reader, fmt::format("host stays of vm {}", vm));
}

}  // namespace corral::store::sqlite
