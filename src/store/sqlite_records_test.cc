// The move records (migration 4): a version-3 file migrates, and migration records and host
// stays round-trip through commit, load (the newest of each VM) and the per-VM reads; a stay
// closed later is rewritten whole; numbers no corral wrote are reported as corrupt.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "store/sqlite_schema.h"
#include "store/sqlite_test_support.h"

namespace corral::store {
namespace {

using namespace test_support;  // NOLINT(google-build-using-namespace): test helpers

// Two VMs as a version-3 corral wrote them (no move records yet).
constexpr const char* kVersion3Rows = R"sql(
INSERT INTO vms(id, name, image, vcpus, memory_mib, desired_image, desired_vcpus,
  desired_memory_mib, model_error, state, power, resched, host, pending_reason, op_id, created_at,
  updated_at, requirements, group_id) VALUES(1, 'web', 'debian-12', 2, 2048, NULL, NULL, NULL, '', 3, 1, 0,
  'host-2', '', NULL, 1700000000000, 1700000000005, '', 0);
INSERT INTO vms(id, name, image, vcpus, memory_mib, desired_image, desired_vcpus,
  desired_memory_mib, model_error, state, power, resched, host, pending_reason, op_id, created_at,
  updated_at, requirements, group_id) VALUES(2, 'db', 'tiny', 1, 128, NULL, NULL, NULL, '', 3, 1, 0,
  'host-1', '', NULL, 1700000000010, 1700000000011, 'zone = "a"', 0);
)sql";

MigrationRow migration(std::int64_t id, VmId vm, MigrationStatus status) {
  MigrationRow m;
  m.id = id;
  m.vm_id = vm;
  m.op_id = 100 + id;
  m.kind = id % 2 == 0 ? MigrationKind::kMigration : MigrationKind::kLiveMigration;
  m.source_host = "host-1";
  m.dest_host = "host-2";
  m.status = status;
  m.created_at = kT0 + id;
  m.updated_at = kT0 + id + 1;
  m.memory_total_bytes = 1 << 30;
  m.memory_processed_bytes = 3;
  m.memory_remaining_bytes = 4;
  m.disk_total_bytes = 5;
  m.disk_processed_bytes = 6;
  m.disk_remaining_bytes = 7;
  m.downtime_ms = 8;
  return m;
}

HostStayRow stay(VmId vm, std::int64_t seq, const std::string& host, Millis end) {
  HostStayRow s;
  s.vm_id = vm;
  s.seq = seq;
  s.host = host;
  s.start = kT0 + seq * 10;
  s.end = end;
  s.op_id = 10 + seq;
  if (end != 0) {
    s.reason = StayReason::kUser;
    s.end_action = lifecycle::Action::kLiveMigrate;
  }
  return s;
}

TEST(SqliteRecordsTest, AVersion3FileMigratesAndRecordsRoundTrip) {
  TempDir dir;
  const std::string path = dir.file("corral.db");
  {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
    ASSERT_TRUE(sqlite::migrate(raw, path, 3).has_value());
    sqlite3_close_v2(raw);
    RawDb(path).exec(kVersion3Rows);
    EXPECT_EQ(RawDb(path).text("PRAGMA user_version"), "3");
  }
  std::unique_ptr<Store> store = must_open(path);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(RawDb(path).text("PRAGMA user_version"), std::to_string(kSqliteSchemaVersion));
  Loaded loaded = must_load(*store);
  ASSERT_EQ(loaded.vms.size(), 2u);
  EXPECT_EQ(loaded.vms[0].host, "host-2");
  EXPECT_TRUE(loaded.last_migrations.empty());
  EXPECT_TRUE(loaded.last_stays.empty());
  EXPECT_EQ(loaded.max_migration_id, 0);

  // VM 1 moved host-1 -> host-2 (live), then a cold move to host-3 is running; VM 2 has a stay.
  Batch first;
  first.migrations = {migration(1, 1, MigrationStatus::kCompleted)};
  first.stays = {stay(1, 0, "host-1", kT0 + 5), stay(1, 1, "host-2", 0), stay(2, 0, "host-1", 0)};
  must_commit(*store, first);
  Batch second;
  MigrationRow running = migration(2, 1, MigrationStatus::kMigrating);
  running.source_host = "host-2";
  running.dest_host = "host-3";
  second.migrations = {running};
  must_commit(*store, second);
  // It finishes: the record is rewritten, stay 1 closed and stay 2 opened in one batch.
  Batch third;
  running.status = MigrationStatus::kFinished;
  running.updated_at = kT0 + 50;
  third.migrations = {running};
  HostStayRow closed = stay(1, 1, "host-2", kT0 + 50);
  closed.end_action = lifecycle::Action::kMigrate;
  third.stays = {closed, stay(1, 2, "host-3", 0)};
  must_commit(*store, third);

  store = must_open(path);
  loaded = must_load(*store);
  EXPECT_EQ(loaded.max_migration_id, 2);
  EXPECT_EQ(loaded.last_migrations, std::vector<MigrationRow>{running});
  EXPECT_EQ(loaded.last_stays,
            (std::vector<HostStayRow>{stay(1, 2, "host-3", 0), stay(2, 0, "host-1", 0)}));
  Result<std::vector<MigrationRow>> migrations = store->migrations(1);
  ASSERT_TRUE(migrations.has_value()) << migrations.error().message;
  EXPECT_EQ(*migrations,
            (std::vector<MigrationRow>{migration(1, 1, MigrationStatus::kCompleted), running}));
  Result<std::vector<HostStayRow>> stays = store->stays(1);
  ASSERT_TRUE(stays.has_value()) << stays.error().message;
  EXPECT_EQ(*stays, (std::vector<HostStayRow>{stay(1, 0, "host-1", kT0 + 5), closed,
                                              stay(1, 2, "host-3", 0)}));
  EXPECT_TRUE(store->migrations(2)->empty());
  EXPECT_TRUE(store->stays(3)->empty());
  EXPECT_EQ(*store->integrity_check(), "ok");
}

// A record of a VM that was never stored breaks the foreign key: the batch is refused whole.
TEST(SqliteRecordsTest, RecordsOfAnUnknownVmAreRefused) {
  TempDir dir;
  std::unique_ptr<Store> store = must_open(dir.file("corral.db"));
  ASSERT_NE(store, nullptr);
  Batch batch;
  batch.stays = {stay(7, 0, "host-1", 0)};
  EXPECT_FALSE(store->commit(batch).has_value());
  Batch other;
  other.migrations = {migration(1, 7, MigrationStatus::kQueued)};
  EXPECT_FALSE(store->commit(other).has_value());
}

// Numbers no corral wrote are reported as corrupt, naming the table, not read as some value.
TEST(SqliteRecordsTest, UnknownNumbersAreCorrupt) {
  struct Case {
    const char* name;
    const char* sql;
    const char* expect;  // in the load error
  };
  const Case cases[] = {
      {"kind", "INSERT INTO migrations VALUES(1,1,1,9,'a','b',1,0,0,'',0,0,0,0,0,0,0)",
       "migrations"},
      {"status", "INSERT INTO migrations VALUES(1,1,1,1,'a','b',99,0,0,'',0,0,0,0,0,0,0)",
       "migrations"},
      {"reason", "INSERT INTO host_stays VALUES(1,0,'a',0,0,7,NULL,1)", "host stays"},
      {"end_action", "INSERT INTO host_stays VALUES(1,0,'a',0,5,2,200,1)", "host stays"},
  };
  for (const Case& c : cases) {
    TempDir dir;
    const std::string path = dir.file("corral.db");
    ASSERT_NE(must_open(path), nullptr) << c.name;
    RawDb(path).exec(kVersion3Rows);
    RawDb(path).exec(c.sql);
    std::unique_ptr<Store> store = must_open(path);
    ASSERT_NE(store, nullptr) << c.name;
    Result<Loaded> loaded = store->load();
    ASSERT_FALSE(loaded.has_value()) << c.name;
    EXPECT_NE(loaded.error().message.find(c.expect), std::string::npos)
        << c.name << ": " << loaded.error().message;
  }
}

}  // namespace
}  // namespace corral::store
