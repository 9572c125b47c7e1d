// The write of one keyed row: the codec's upsert, then one UPDATE per indexed column that
// matches only when the column's value changed (sqlite_rows.h, RowCodec::indexed).
//
// Why: SQLite rewrites a row's entry in every index on a column an UPDATE sets, even to the
// value it had. A VM's row is written at every transition, but its name and project almost
// never change and its state at a third of them; set in the upsert, each write would delete
// and re-insert three index entries and dirty their pages, one WAL frame each at the commit.
// An UPDATE whose WHERE does not match costs a lookup by key and writes nothing.
//
// Contract: prepare() once on the writer connection; write() inside the caller's transaction.
// A codec with indexed columns has a one-column key (the UPDATEs find the row by it).
#pragma once

#include <sqlite3.h>

#include <string>
#include <vector>

#include "store/sqlite_rows.h"
#include "store/sqlite_util.h"

namespace corral::store::sqlite {

template <typename In, typename Out = In>
class Upsert {
 public:
  explicit Upsert(const RowCodec<In, Out>& codec) : codec_(codec) {}

  // SQLITE_OK, or the error with the statement it came from in `failed_sql`; SQLITE_MISUSE
  // when an indexed column or the key is not one of the codec's columns.
  int prepare(sqlite3* db, std::string& failed_sql) {
    failed_sql = insert_sql(codec_);
    if (int rc = sqlite::prepare(db, failed_sql.c_str(), upsert_); rc != SQLITE_OK) return rc;
    indexed_.clear();
    key_ = column(codec_.key);
    for (std::string_view name : codec_.indexed) {
      failed_sql = index_update_sql(codec_, name);
      const Column<In, Out>* c = column(name);
      if (c == nullptr || key_ == nullptr) return SQLITE_MISUSE;
      IndexedColumn& added = indexed_.emplace_back(IndexedColumn{c, Stmt{}});
      if (int rc = sqlite::prepare(db, failed_sql.c_str(), added.update); rc != SQLITE_OK) {
        return rc;
      }
    }
    failed_sql.clear();
    return SQLITE_OK;
  }

  // SQLITE_DONE once the row is written, or the first error.
  int write(const In& row) const {
    {
      StmtUse use(upsert_);
      bind_row(use, codec_, row);
      if (int rc = use.step(); rc != SQLITE_DONE) return rc;
    }
    for (const IndexedColumn& c : indexed_) {
      StmtUse use(c.update);
      key_->bind(use, row);
      c.column->bind(use, row);
      if (int rc = use.step(); rc != SQLITE_DONE) return rc;
    }
    return SQLITE_DONE;
  }

 private:
  struct IndexedColumn {
    const Column<In, Out>* column;
    Stmt update;
  };
  const Column<In, Out>* column(std::string_view name) const {
    for (const auto& c : codec_.columns) {
      if (c.name == name) return &c;
    }
    return nullptr;
  }

  const RowCodec<In, Out>& codec_;
  Stmt upsert_;
  const Column<In, Out>* key_ = nullptr;
  std::vector<IndexedColumn> indexed_;
};

}  // namespace corral::store::sqlite
