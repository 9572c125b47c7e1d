// Opening the SQLite store: a fresh file gets the latest schema in WAL mode, reopening changes
// nothing, a newer schema and unusable paths are refused, and rows that do not decode are
// reported by load() rather than half-used.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "store/sqlite_schema.h"
#include "store/sqlite_test_support.h"
#include "store/store.h"

namespace corral::store {
namespace {

using namespace test_support;  // NOLINT(google-build-using-namespace): test fixtures
using ::testing::HasSubstr;

// ---- Migrations and opening ---------------------------------------------------------------

TEST(SqliteStoreTest, AFreshFileGetsTheLatestSchemaInWalMode) {
  TempDir dir;
  const std::string path = dir.file("corral.db");
  ASSERT_NE(must_open(path), nullptr);
  RawDb raw(path);
  EXPECT_EQ(raw.text("PRAGMA user_version"), std::to_string(kSqliteSchemaVersion));
  EXPECT_EQ(raw.text("PRAGMA journal_mode"), "wal");
}

TEST(SqliteStoreTest, ReopeningIsIdempotent) {
  TempDir dir;
  const std::string path = dir.file("corral.db");
  const Vm vm = make_vm(1, State::kRunning);
  {
    std::unique_ptr<Store> store = must_open(path);
    ASSERT_NE(store, nullptr);
    must_commit(*store, Batch{{&vm}, {}, {make_transition(vm, 0)}});
  }
  std::string schema;
  {
    RawDb raw(path);
    schema = raw.text("SELECT group_concat(name, ',') FROM sqlite_master");
  }
  for (int i = 0; i < 3; ++i) {
    std::unique_ptr<Store> store = must_open(path);
    ASSERT_NE(store, nullptr);
    expect_vms_eq(must_load(*store).vms, {vm});
    EXPECT_EQ(*store->count_transitions(), 1);
  }
  RawDb raw(path);
  EXPECT_EQ(raw.text("PRAGMA user_version"), std::to_string(kSqliteSchemaVersion));
  EXPECT_EQ(raw.text("SELECT group_concat(name, ',') FROM sqlite_master"), schema);
}

TEST(SqliteStoreTest, ANewerSchemaIsRefused) {
  TempDir dir;
  const std::string path = dir.file("corral.db");
  ASSERT_NE(must_open(path), nullptr);
  const int newer = kSqliteSchemaVersion + 1;
  RawDb(path).exec(fmt::format("PRAGMA user_version = {}", newer));

  Result<std::unique_ptr<Store>> store = open_sqlite_store(path);
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code, ErrorCode::kUnavailable);
  EXPECT_THAT(store.error().message,
              HasSubstr(fmt::format("database schema version {} is newer than this corral ({})",
                                    newer, kSqliteSchemaVersion)));
  EXPECT_THAT(store.error().message, HasSubstr(path));
  EXPECT_EQ(RawDb(path).text("PRAGMA user_version"), std::to_string(newer));  // untouched
}

TEST(SqliteStoreTest, CreatesMissingDirectories) {
  TempDir dir;
  const std::string path = dir.file("a/b/corral.db");
  ASSERT_NE(must_open(path), nullptr);
  EXPECT_TRUE(std::filesystem::exists(path));
}

struct BadPath {
  const char* name;
  std::string (*make)(const TempDir&);  // returns the path to open
};

class BadPathTest : public ::testing::TestWithParam<BadPath> {};

TEST_P(BadPathTest, IsUnavailableAndNamesThePath) {
  TempDir dir;
  const std::string path = GetParam().make(dir);
  Result<std::unique_ptr<Store>> store = open_sqlite_store(path);
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code, ErrorCode::kUnavailable);
  EXPECT_THAT(store.error().message, HasSubstr(path.empty() ? "no database path" : path));
}

INSTANTIATE_TEST_SUITE_P(
    Paths, BadPathTest,
    ::testing::Values(BadPath{"DirectoryIsAFile",
                              [](const TempDir& d) {
                                std::ofstream(d.file("plain")) << "x";
                                return d.file("plain/corral.db");
                              }},
                      BadPath{"PathIsADirectory",
                              [](const TempDir& d) {
                                std::filesystem::create_directory(d.file("dir.db"));
                                return d.file("dir.db");
                              }},
                      BadPath{"NotADatabase",
                              [](const TempDir& d) {
                                std::ofstream(d.file("junk.db")) << std::string(8192, 'j');
                                return d.file("junk.db");
                              }},
                      BadPath{"InMemory", [](const TempDir&) { return std::string(":memory:"); }},
                      BadPath{"Empty", [](const TempDir&) { return std::string(); }}),
    param_name<BadPath>);

// ---- Damage load() must report rather than half-use -----------------------------------------

struct Damage {
  const char* name;
  const char* sql;
  const char* says;
};

class DamageTest : public ::testing::TestWithParam<Damage> {};

TEST_P(DamageTest, LoadReportsIt) {
  TempDir dir;
  const std::string path = dir.file("corral.db");
  const Vm vm = make_vm(5, State::kRunning);
  {
    std::unique_ptr<Store> store = must_open(path);
    ASSERT_NE(store, nullptr);
    must_commit(*store, Batch{{&vm}, {}, {}});
  }
  RawDb(path).exec(GetParam().sql);
  std::unique_ptr<Store> store = must_open(path);
  ASSERT_NE(store, nullptr);
  Result<Loaded> loaded = store->load();
  ASSERT_FALSE(loaded.has_value());
  EXPECT_EQ(loaded.error().code, ErrorCode::kInternal);
  EXPECT_THAT(loaded.error().message, HasSubstr("vm 5"));
  EXPECT_THAT(loaded.error().message, HasSubstr(GetParam().says));
}

INSTANTIATE_TEST_SUITE_P(
    Rows, DamageTest,
    ::testing::Values(Damage{"UnknownState", "UPDATE vms SET state = 99", "state holds 99"},
                      Damage{"UnknownPower", "UPDATE vms SET power = 2", "power holds 2"},
                      Damage{"UnknownAction", "UPDATE operations SET action = 0", "action holds 0"},
                      Damage{"StepTooBig", "UPDATE operations SET step = 256", "step holds 256"},
                      Damage{"VcpusTooBig", "UPDATE vms SET vcpus = 1 << 40", "vcpus holds"},
                      Damage{"DanglingOperation", "UPDATE vms SET op_id = 31337",
                             "operation 31337"}),
    param_name<Damage>);

}  // namespace
}  // namespace corral::store
