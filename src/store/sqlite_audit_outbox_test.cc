// The audit outbox (store.h, AuditOutboxRow): entries commit with their batch, read back after
// an id in id order, go when the batch says they are copied, and the highest id ever written
// survives their deletion and a reopen (ids are never reused).
#include <gtest/gtest.h>

#include "store/sqlite_test_support.h"
#include "store/store.h"

namespace corral::store {
namespace {

using test_support::must_load;
using test_support::must_open;
using test_support::TempDir;

std::vector<std::int64_t> ids_of(const std::vector<AuditOutboxRow>& rows) {
  std::vector<std::int64_t> ids;
  for (const AuditOutboxRow& row : rows) ids.push_back(row.id);
  return ids;
}

TEST(SqliteAuditOutboxTest, EntriesCommitReadBackAndGoOnceCopied) {
  TempDir dir;
  const std::string path = dir.file("corral.db");
  {
    std::unique_ptr<Store> store = must_open(path);
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(must_load(*store).max_audit_outbox_id, 0);
    Batch first;
    first.audit_outbox = {{1, 7, R"({"v":1,"a":"x"})", 1'700'000'000'000}, {2, 8, "two", 5}};
    ASSERT_TRUE(store->commit(first));
    Batch second;
    second.audit_outbox = {{3, 9, "three", 6}};
    ASSERT_TRUE(store->commit(second));

    Result<std::vector<AuditOutboxRow>> all = store->audit_outbox(0);
    ASSERT_TRUE(all) << all.error().message;
    ASSERT_EQ(all->size(), 3U);
    EXPECT_EQ(all->front(), (AuditOutboxRow{1, 7, R"({"v":1,"a":"x"})", 1'700'000'000'000}));
    EXPECT_EQ(ids_of(*store->audit_outbox(1)), (std::vector<std::int64_t>{2, 3}));

    // The audit log holds 1 and 2: a batch that commits anyway deletes them.
    Batch copied;
    copied.audit_outbox_done = 2;
    ASSERT_FALSE(copied.empty());
    ASSERT_TRUE(store->commit(copied));
    EXPECT_EQ(ids_of(*store->audit_outbox(0)), (std::vector<std::int64_t>{3}));
    Batch all_copied;
    all_copied.audit_outbox_done = 3;
    ASSERT_TRUE(store->commit(all_copied));
    EXPECT_TRUE(store->audit_outbox(0)->empty());
    EXPECT_EQ(must_load(*store).max_audit_outbox_id, 3);
  }
  std::unique_ptr<Store> reopened = must_open(path);
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(must_load(*reopened).max_audit_outbox_id, 3) << "ids must not be reused";
}

TEST(SqliteAuditOutboxTest, AnEntryWhoseIdIsTakenFailsTheWholeBatch) {
  TempDir dir;
  std::unique_ptr<Store> store = must_open(dir.file("corral.db"));
  ASSERT_NE(store, nullptr);
  Batch first;
  first.audit_outbox = {{1, 1, "one", 1}};
  ASSERT_TRUE(store->commit(first));
  Batch clash;
  clash.audit_outbox = {{2, 1, "two", 2}, {1, 1, "again", 2}};
  EXPECT_FALSE(store->commit(clash));
  EXPECT_EQ(ids_of(*store->audit_outbox(0)), (std::vector<std::int64_t>{1}));
  EXPECT_EQ(must_load(*store).max_audit_outbox_id, 1);
}

}  // namespace
}  // namespace corral::store
