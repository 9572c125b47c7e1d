// Upsert writes the whole row, and an indexed column only when its value changed: each case
// writes one row over a stored one and checks what SQLite changed, what reads back, and that
// the index still agrees with the table.
#include "store/sqlite_upsert.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdint>
#include <string>

namespace corral::store::sqlite {
namespace {

struct Row {
  std::int64_t id = 0;
  std::string name;
  std::int64_t size = 0;
};

constexpr Column<Row> kColumns[] = {
    {"id", SqlType::kInteger, false, [](StmtUse& u, const Row& r) { u.bind(r.id); },
     [](RowReader& r, Row& row) { row.id = r.i64(); }},
    {"name", SqlType::kText, false, [](StmtUse& u, const Row& r) { u.bind(r.name); },
     [](RowReader& r, Row& row) { row.name = r.text(); }},
    {"size", SqlType::kInteger, false, [](StmtUse& u, const Row& r) { u.bind(r.size); },
     [](RowReader& r, Row& row) { row.size = r.i64(); }},
};
constexpr std::string_view kIndexed[] = {"name"};
constexpr RowCodec<Row> kCodec{"things", "id", kColumns, kIndexed};
constexpr std::string_view kAllIndexed[] = {"name", "size"};
constexpr RowCodec<Row> kAllIndexedCodec{"things", "id", kColumns, kAllIndexed};

class SqliteUpsertTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(sqlite3_open(":memory:", &db_), SQLITE_OK);
    ASSERT_EQ(exec(db_,
                   "CREATE TABLE things(id INTEGER PRIMARY KEY, name TEXT NOT NULL, size INTEGER "
                   "NOT NULL); CREATE INDEX things_name ON things(name, id);"
                   "INSERT INTO things VALUES (1, 'web', 10);"),
              SQLITE_OK);
  }
  void TearDown() override { sqlite3_close(db_); }

  Row read(std::int64_t id) {
    Stmt stmt;
    EXPECT_EQ(prepare(db_, "SELECT id, name, size FROM things WHERE id = ?1", stmt), SQLITE_OK);
    StmtUse use(stmt);
    use.bind(id);
    Row row;
    if (use.step() == SQLITE_ROW) {
      RowReader r(use.get());
      read_row(r, kCodec, row);
    }
    return row;
  }
  std::string integrity() {
    std::string out;
    EXPECT_EQ(query_text(db_, "PRAGMA integrity_check", out), SQLITE_OK);
    return out;
  }

  sqlite3* db_ = nullptr;
};

TEST_F(SqliteUpsertTest, WritesTheRowAndAnIndexedColumnOnlyWhenItChanged) {
  struct Case {
    const char* what;
    Row row;
    int changes;  // rows SQLite changed: the upsert's, plus one per indexed column written
  };
  const Case cases[] = {
      {"the same row again", {1, "web", 10}, 1},
      {"an unindexed column changed", {1, "web", 11}, 1},
      {"the indexed column changed", {1, "db", 11}, 2},
      {"a new row", {2, "cache", 5}, 1},
      {"a new row whose name another row has", {3, "db", 7}, 1},
  };
  Upsert<Row> upsert(kCodec);
  std::string failed_sql;
  ASSERT_EQ(upsert.prepare(db_, failed_sql), SQLITE_OK) << failed_sql;
  for (const Case& c : cases) {
    const int before = sqlite3_total_changes(db_);
    EXPECT_EQ(upsert.write(c.row), SQLITE_DONE) << c.what;
    EXPECT_EQ(sqlite3_total_changes(db_) - before, c.changes) << c.what;
    const Row back = read(c.row.id);
    EXPECT_EQ(back.name, c.row.name) << c.what;
    EXPECT_EQ(back.size, c.row.size) << c.what;
    EXPECT_EQ(integrity(), "ok") << c.what;
  }
}

TEST_F(SqliteUpsertTest, ARowOfIndexedColumnsOnlyIsInsertedOrUpdatedColumnByColumn) {
  EXPECT_EQ(insert_sql(kAllIndexedCodec),
            "INSERT INTO things(id, name, size) VALUES(?1, ?2, ?3) ON CONFLICT(id) DO NOTHING");
  Upsert<Row> upsert(kAllIndexedCodec);
  std::string failed_sql;
  ASSERT_EQ(upsert.prepare(db_, failed_sql), SQLITE_OK) << failed_sql;
  EXPECT_EQ(upsert.write({1, "web", 12}), SQLITE_DONE);
  EXPECT_EQ(read(1).size, 12);
  EXPECT_EQ(upsert.write({4, "new", 3}), SQLITE_DONE);
  EXPECT_EQ(read(4).name, "new");
  EXPECT_EQ(integrity(), "ok");
}

TEST_F(SqliteUpsertTest, AnIndexedColumnTheCodecDoesNotHaveIsAMisuse) {
  static constexpr std::string_view kUnknown[] = {"colour"};
  static constexpr RowCodec<Row> kBad{"things", "id", kColumns, kUnknown};
  Upsert<Row> upsert(kBad);
  std::string failed_sql;
  EXPECT_EQ(upsert.prepare(db_, failed_sql), SQLITE_MISUSE);
  EXPECT_NE(failed_sql.find("colour"), std::string::npos) << failed_sql;
}

}  // namespace
}  // namespace corral::store::sqlite
