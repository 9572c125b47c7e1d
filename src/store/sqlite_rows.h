// Row codecs: for each table, ONE list of its columns, from which the SQL column lists, the
// binding of a row and the reading of a row are all derived.
//
// Contract: a codec's columns are the table's columns in table order, as the migrations
// (sqlite_schema.cc) leave them; sqlite_schema_test.cc compares every codec with PRAGMA
// table_info of a freshly migrated file. Adding a column is therefore two edits that a test
// keeps in step: a migration (ALTER TABLE ... ADD COLUMN, appended last) and one Column entry
// at the end of the codec. bind_row() binds parameters ?1..?n in column order; read_row()
// reads n columns from the reader's position, validating as it goes (RowReader::problem()).
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "store/records.h"
#include "store/sqlite_util.h"
#include "store/types.h"

namespace corral::store::sqlite {

enum class SqlType { kInteger, kReal, kText };
// As PRAGMA table_info reports a declared type: "INTEGER", "REAL", "TEXT".
constexpr std::string_view sql_type_name(SqlType type) {
  switch (type) {
    case SqlType::kInteger:
      return "INTEGER";
    case SqlType::kReal:
      return "REAL";
    case SqlType::kText:
      return "TEXT";
  }
  return "?";
}

// One column: its name and declared type, whether it may hold NULL (a NULL-able column's read
// function handles NULL), how a row's value is bound and how it is read back. `In` is what a
// write binds from, `Out` what a read fills (the same type but for operations, which are bound
// from a VM's parts without a copy).
template <typename In, typename Out = In>
struct Column {
  std::string_view name;
  SqlType type;
  bool nullable;
  void (*bind)(StmtUse&, const In&);
  void (*read)(RowReader&, Out&);
};

template <typename In, typename Out = In>
struct RowCodec {
  std::string_view table;
  std::string_view key;  // the upsert's conflict target; empty: rows are only inserted
  std::span<const Column<In, Out>> columns;
  // Non-key columns that a non-unique index covers. An UPDATE that sets a column rewrites the
  // row's entry in every index on it, changed or not (a b-tree delete and insert, and a dirty
  // page in the WAL). So the upsert leaves these out, and each is written by its own UPDATE
  // that matches only when its value changed (index_update_sql; Upsert in sqlite_upsert.h).
  // sqlite_schema_test.cc checks the list against the migrated file's indexes. Columns of a
  // UNIQUE index stay in the upsert: written one by one they could collide on the way.
  std::span<const std::string_view> indexed{};
};

template <typename In, typename Out>
bool is_indexed(const RowCodec<In, Out>& codec, std::string_view column) {
  for (std::string_view c : codec.indexed) {
    if (c == column) return true;
  }
  return false;
}

// "a.x, a.y, ..." (`alias` empty: "x, y, ...").
template <typename In, typename Out>
std::string column_list(const RowCodec<In, Out>& codec, std::string_view alias = {}) {
  std::string out;
  for (const auto& c : codec.columns) {
    if (!out.empty()) out += ", ";
    if (!alias.empty()) (out += alias) += '.';
    out += c.name;
  }
  return out;
}

// INSERT INTO table(columns) VALUES(?1, ...), and for a keyed table an upsert that replaces
// every other column but the indexed ones: ON CONFLICT(key) DO UPDATE, not INSERT OR REPLACE,
// which deletes and re-inserts the row (rewriting every index entry, and making SQLite look
// for rows that reference the deleted one).
template <typename In, typename Out>
std::string insert_sql(const RowCodec<In, Out>& codec) {
  std::string out =
      "INSERT INTO " + std::string(codec.table) + "(" + column_list(codec) + ") VALUES(";
  for (std::size_t i = 1; i <= codec.columns.size(); ++i) {
    if (i > 1) out += ", ";
    out += "?" + std::to_string(i);
  }
  out += ")";
  if (codec.key.empty()) return out;
  out += " ON CONFLICT(" + std::string(codec.key) + ") DO ";
  std::string set;
  for (const auto& c : codec.columns) {
    if (c.name == codec.key || is_indexed(codec, c.name)) continue;
    if (!set.empty()) set += ", ";
    set.append(c.name).append(" = excluded.").append(c.name);
  }
  if (set.empty()) return out + "NOTHING";
  return out.append("UPDATE SET ").append(set);
}

// The write of one indexed column of a keyed row: UPDATE table SET column = ?2 WHERE key = ?1
// AND column IS NOT ?2, so an unchanged value writes nothing.
template <typename In, typename Out>
std::string index_update_sql(const RowCodec<In, Out>& codec, std::string_view column) {
  std::string out = "UPDATE ";
  out.append(codec.table).append(" SET ").append(column).append(" = ?2 WHERE ");
  return out.append(codec.key).append(" = ?1 AND ").append(column).append(" IS NOT ?2");
}

template <typename In, typename Out>
void bind_row(StmtUse& use, const RowCodec<In, Out>& codec, const In& row) {
  for (const auto& c : codec.columns) c.bind(use, row);
}

template <typename In, typename Out>
void read_row(RowReader& reader, const RowCodec<In, Out>& codec, Out& row) {
  for (const auto& c : codec.columns) c.read(reader, row);
}

// ---- The tables --------------------------------------------------------------------------

// vms: the whole Vm but its current operation's columns (operations). op_id is NULL when
// record.op is empty; a non-NULL op_id reads back as an engaged record.op (left default, for
// the operation's own codec to fill) and op.id.
const RowCodec<Vm>& vm_codec();

// operations: bound from a VM's parts (or an OperationRow's), read into an OperationRow.
struct OperationRef {
  VmId vm_id;
  const lifecycle::Operation& op;
  const OpMeta& meta;
};
const RowCodec<OperationRef, OperationRow>& operation_codec();

// transitions: an id of 0 binds as NULL, so SQLite assigns the next one.
const RowCodec<TransitionRow>& transition_codec();

// hosts: keyed by name; labels are a JSON object of strings (any other JSON reads as corrupt).
const RowCodec<HostRow>& host_codec();

// server_groups: keyed by id (migrations 3 and 12).
const RowCodec<ServerGroupRow>& group_codec();

// networks: keyed by id (migrations 6 and 12).
const RowCodec<NetworkRow>& network_codec();
// volumes: keyed by id (migration 7).
const RowCodec<VolumeRow>& volume_codec();
// security_groups: keyed by id (migrations 8 and 12; (project, name) unique); rules a JSON
// array of objects.
const RowCodec<SecurityGroupRow>& security_group_codec();
// resource_groups: keyed by id (migration 15; (project, name) unique regardless of case).
const RowCodec<ResourceGroupRow>& resource_group_codec();

// migrations: keyed by id (migration 4).
const RowCodec<MigrationRow>& migration_codec();
// host_stays: keyed by (vm_id, seq); end_action is NULL while the stay is open.
const RowCodec<HostStayRow>& stay_codec();

}  // namespace corral::store::sqlite
