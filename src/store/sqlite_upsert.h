// The write of one keyed row: the codec's upsert, then one UPDATE per indexed column that
// matches only when the column's value changed (sqlite_rows.h, RowCodec::indexed).
//
// Why: SQLite rewrites a row's entry in every index on a column an UPDATE sets, even to the
// value it had. A VM's row is written at every transition, but its name and project almost
// never change and its state at a third of them; set in the upsert, each write would delete
// and re-insert three index entries and dirty their pages, one WAL frame each at the commit.
// The upsert returns, for each indexed column, whether the stored value differs from the row's
// (RETURNING sees the row as the upsert left it: inserted whole, or updated without the indexed
// columns), so an unchanged row costs one statement, as a plain upsert did.
//
// Contract: prepare() once on the writer connection; write() inside the caller's transaction.
// A codec with indexed columns has a one-column key (the UPDATEs find the row by it) and at
// most 64 of them.
#pragma once

#include <sqlite3.h>

#include <cstdint>
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
    indexed_.clear();
    key_ = column(codec_.key);
    std::string returning;
    for (std::string_view name : codec_.indexed) {
      failed_sql = index_update_sql(codec_, name);
      const Column<In, Out>* c = column(name);
      if (c == nullptr || key_ == nullptr || indexed_.size() == 64) return SQLITE_MISUSE;
      IndexedColumn& added = indexed_.emplace_back(IndexedColumn{c, Stmt{}});
      if (int rc = sqlite::prepare(db, failed_sql.c_str(), added.update); rc != SQLITE_OK) {
        return rc;
      }
      const auto position = static_cast<std::size_t>(c - codec_.columns.data()) + 1;
      returning += (returning.empty() ? " RETURNING " : ", ") + std::string(name) + " IS NOT ?" +
                   std::to_string(position);
    }
    failed_sql = insert_sql(codec_) + returning;
    if (int rc = sqlite::prepare(db, failed_sql.c_str(), upsert_); rc != SQLITE_OK) return rc;
    failed_sql.clear();
    return SQLITE_OK;
  }

  // SQLITE_DONE once the row is written, or the first error.
  int write(const In& row) const {
    // Bit i: indexed column i may differ from the stored row and is written by its UPDATE.
    std::uint64_t changed = ~std::uint64_t{0};
    {
      StmtUse use(upsert_);
      bind_row(use, codec_, row);
      int rc = use.step();
      if (rc == SQLITE_ROW) {  // RETURNING: which indexed columns differ
        changed = 0;
        for (std::size_t i = 0; i < indexed_.size(); ++i) {
          if (sqlite3_column_int(use.get(), static_cast<int>(i)) != 0) changed |= 1ULL << i;
        }
        rc = use.step();  // run to the end: only then has the statement surely succeeded
      }
      // DONE without a row: DO NOTHING on a conflict, so every indexed column is written.
      if (rc != SQLITE_DONE) return rc;
    }
    for (std::size_t i = 0; i < indexed_.size(); ++i) {
      if ((changed & (1ULL << i)) == 0) continue;
      const IndexedColumn& c = indexed_[i];
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
