// The SQLite toolkit on its own: which error codes are retryable, and what a RowReader makes
// of values that do not fit.
#include "store/sqlite_util.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace corral::store::sqlite {
namespace {

struct Code {
  const char* name;
  int rc;
  ErrorCode want;
};

class CodeForTest : public ::testing::TestWithParam<Code> {};

TEST_P(CodeForTest, SortsTheEnvironmentFromBugs) {
  EXPECT_EQ(code_for(GetParam().rc), GetParam().want);
}

INSTANTIATE_TEST_SUITE_P(
    Codes, CodeForTest,
    ::testing::Values(
        // The environment's: a retry (or an operator freeing space) can fix it.
        Code{"Busy", SQLITE_BUSY, ErrorCode::kUnavailable},
        Code{"BusySnapshot", SQLITE_BUSY_SNAPSHOT, ErrorCode::kUnavailable},
        Code{"Locked", SQLITE_LOCKED, ErrorCode::kUnavailable},
        Code{"IoErrWrite", SQLITE_IOERR_WRITE, ErrorCode::kUnavailable},
        Code{"IoErrFsync", SQLITE_IOERR_FSYNC, ErrorCode::kUnavailable},
        Code{"Full", SQLITE_FULL, ErrorCode::kUnavailable},
        Code{"CantOpen", SQLITE_CANTOPEN, ErrorCode::kUnavailable},
        Code{"ReadOnly", SQLITE_READONLY, ErrorCode::kUnavailable},
        Code{"NoMem", SQLITE_NOMEM, ErrorCode::kUnavailable},
        // Bugs or damage: retrying the same batch fails the same way.
        Code{"ForeignKey", SQLITE_CONSTRAINT_FOREIGNKEY, ErrorCode::kInternal},
        Code{"NotNull", SQLITE_CONSTRAINT_NOTNULL, ErrorCode::kInternal},
        Code{"Corrupt", SQLITE_CORRUPT, ErrorCode::kInternal},
        Code{"Misuse", SQLITE_MISUSE, ErrorCode::kInternal},
        Code{"Range", SQLITE_RANGE, ErrorCode::kInternal},
        Code{"NotADb", SQLITE_NOTADB, ErrorCode::kInternal}),
    [](const ::testing::TestParamInfo<Code>& p) { return std::string(p.param.name); });

enum class Color : std::uint8_t { kRed = 1, kBlue = 3 };
bool known(Color c) {
  switch (c) {
    case Color::kRed:
    case Color::kBlue:
      return true;
  }
  return false;
}

// One row of literal values, read by `read`; returns the reader's problem ("" if none).
template <typename Read>
std::string read_one(const char* select, Read read) {
  sqlite3* raw = nullptr;
  EXPECT_EQ(sqlite3_open_v2(":memory:", &raw, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
  Db db(raw);
  Stmt stmt;
  EXPECT_EQ(prepare(db.get(), select, stmt), SQLITE_OK) << select;
  StmtUse use(stmt);
  EXPECT_EQ(use.step(), SQLITE_ROW);
  RowReader r(use.get());
  read(r);
  return r.problem().value_or("");
}

TEST(RowReaderTest, ReadsValuesThatFit) {
  EXPECT_EQ(read_one("SELECT 255 AS small, 3 AS color, 'x' AS t, NULL AS n, 1.5 AS f",
                     [](RowReader& r) {
                       EXPECT_EQ(r.integer<std::uint8_t>(), 255);
                       EXPECT_EQ(r.enumerator<Color>(known), Color::kBlue);
                       EXPECT_EQ(r.text(), "x");
                       EXPECT_TRUE(r.null());
                       r.skip();
                       EXPECT_EQ(r.real(), 1.5);
                     }),
            "");
}

TEST(RowReaderTest, KeepsTheFirstProblemAndNamesItsColumn) {
  EXPECT_EQ(read_one("SELECT 256 AS small, 2 AS color",
                     [](RowReader& r) {
                       EXPECT_EQ(r.integer<std::uint8_t>(), 0);
                       EXPECT_EQ(r.enumerator<Color>(known), Color{});
                     }),
            "column small holds 256, which is out of range");
  EXPECT_EQ(read_one("SELECT 2 AS color", [](RowReader& r) { r.enumerator<Color>(known); }),
            "column color holds 2, which is out of range");
  EXPECT_EQ(read_one("SELECT 259 AS color", [](RowReader& r) { r.enumerator<Color>(known); }),
            "column color holds 259, which is out of range");  // 259 = 3 mod 256: not kBlue
}

}  // namespace
}  // namespace corral::store::sqlite
