// The audit log: entries come back as written, filtered and paged; concurrent record()s share
// commits and all return committed; a reopened log has them all; record_later() drops past
// its bound and counts the drops.
#include "audit/audit_log.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "audit/entry_codec.h"

namespace corral::audit {
namespace {

class AuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("corral-audit-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path() const { return (dir_ / "audit.db").string(); }

  static Entry entry(std::int64_t vm, std::string user, int status) {
    Entry e;
    e.at = 1'700'000'000'000 + vm;
    e.request_id = "req-" + std::to_string(vm);
    e.user_id = 7;
    e.user = std::move(user);
    e.project_id = vm % 2 == 0 ? 2 : 3;
    e.project = e.project_id == 2 ? "even" : "odd";
    e.source = "127.0.0.1";
    e.method = "POST";
    e.path = "/v1/vms/" + std::to_string(vm) + "/actions";
    e.route = "/v1/vms/{id}/actions";
    e.vm = vm;
    e.verb = "os-stop";
    e.vocabulary = "nova";
    e.status = status;
    e.outcome = outcome_of_status(status);
    e.message = status >= 400 ? "no" : "";
    return e;
  }

  std::filesystem::path dir_;
};

TEST_F(AuditLogTest, EntriesComeBackAsWrittenFilteredAndPaged) {
  Result<std::unique_ptr<AuditLog>> log = AuditLog::open(path());
  ASSERT_TRUE(log) << log.error().message;
  ASSERT_TRUE((*log)->record(entry(1, "ann", 202)));
  ASSERT_TRUE((*log)->record(entry(2, "bob", 409)));
  ASSERT_TRUE((*log)->record(entry(1, "bob", 500)));

  Result<std::vector<Entry>> all = (*log)->list({});
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 3U);
  const Entry& first = all->front();
  const Entry want = entry(1, "ann", 202);
  EXPECT_EQ(first.id, 1);
  EXPECT_EQ(first.at, want.at);
  EXPECT_EQ(first.request_id, want.request_id);
  EXPECT_EQ(first.user, "ann");
  EXPECT_EQ(first.project, "odd");
  EXPECT_EQ(first.path, want.path);
  EXPECT_EQ(first.route, want.route);
  EXPECT_EQ(first.verb, "os-stop");
  EXPECT_EQ(first.vocabulary, "nova");
  EXPECT_EQ(first.status, 202);
  EXPECT_EQ(first.outcome, Outcome::kAccepted);
  EXPECT_EQ((*all)[1].outcome, Outcome::kRefused);
  EXPECT_EQ((*all)[2].outcome, Outcome::kFailed);

  struct Case {
    const char* what;
    Query query;
    std::vector<std::int64_t> ids;
  };
  const Case cases[] = {
      {"by VM", {.vm = 1}, {1, 3}},
      {"by project", {.project = 2}, {2}},
      {"by user", {.user = "bob"}, {2, 3}},
      {"by outcome", {.outcome = Outcome::kRefused}, {2}},
      {"after", {.after = 1}, {2, 3}},
      {"limit", {.limit = 2}, {1, 2}},
      {"since", {.since = 1'700'000'000'002}, {2}},
      {"nothing", {.vm = 9}, {}},
  };
  for (const Case& c : cases) {
    Result<std::vector<Entry>> got = (*log)->list(c.query);
    ASSERT_TRUE(got) << c.what;
    std::vector<std::int64_t> ids;
    for (const Entry& e : *got) ids.push_back(e.id);
    EXPECT_EQ(ids, c.ids) << c.what;
  }
}

TEST_F(AuditLogTest, ConcurrentRecordsAreAllCommittedAndSurviveAReopen) {
  constexpr int kThreads = 16;
  constexpr int kEach = 50;
  {
    Result<std::unique_ptr<AuditLog>> log = AuditLog::open(path());
    ASSERT_TRUE(log);
    std::vector<std::thread> threads;
    std::atomic<int> failed{0};
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kEach; ++i) {
          if (!(*log)->record(entry(t * kEach + i + 1, "u" + std::to_string(t), 202))) ++failed;
        }
      });
    }
    for (std::thread& t : threads) t.join();
    EXPECT_EQ(failed, 0);
    // Committed when record() returned: another connection sees every entry now.
    Result<std::unique_ptr<AuditLog>> other = AuditLog::open(path());
    ASSERT_TRUE(other);
    Result<std::vector<Entry>> seen = (*other)->list({.limit = 10'000});
    ASSERT_TRUE(seen);
    EXPECT_EQ(seen->size(), static_cast<std::size_t>(kThreads * kEach));
  }
  Result<std::unique_ptr<AuditLog>> reopened = AuditLog::open(path());
  ASSERT_TRUE(reopened);
  Result<std::vector<Entry>> all = (*reopened)->list({.limit = 10'000});
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), static_cast<std::size_t>(kThreads * kEach));
}

TEST_F(AuditLogTest, RecordLaterIsWrittenByStopAndDropsPastItsBound) {
  {
    Result<std::unique_ptr<AuditLog>> log = AuditLog::open(path(), {.max_pending = 1'000'000});
    ASSERT_TRUE(log);
    for (int i = 1; i <= 100; ++i) (*log)->record_later(entry(i, "ann", 403));
    (*log)->stop();
    EXPECT_EQ((*log)->dropped(), 0U);
    (*log)->record_later(entry(101, "ann", 403));  // after stop: dropped, counted
    EXPECT_EQ((*log)->dropped(), 1U);
    EXPECT_FALSE((*log)->record(entry(102, "ann", 202)));
  }
  Result<std::unique_ptr<AuditLog>> reopened = AuditLog::open(path(), {.max_pending = 0});
  ASSERT_TRUE(reopened);
  Result<std::vector<Entry>> all = (*reopened)->list({.limit = 1000});
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), 100U);
  (*reopened)->record_later(entry(103, "ann", 403));  // a bound of 0 queues nothing
  EXPECT_EQ((*reopened)->dropped(), 1U);
}

// Entries the engine committed in the store's outbox: copied in order without waiting, a
// create's VM taken from the row, a body that does not decode skipped; copied() says how far,
// and a reopened log still knows.
TEST_F(AuditLogTest, OutboxEntriesAreCopiedAndHowFarIsKept) {
  {
    Result<std::unique_ptr<AuditLog>> log = AuditLog::open(path());
    ASSERT_TRUE(log);
    EXPECT_EQ((*log)->copied(), 0);
    Entry create = entry(0, "ann", 202);
    create.path = "/v1/vms";
    std::vector<store::AuditOutboxRow> rows = {{4, 11, encode_entry(create), 1'800'000'000'000},
                                               {5, 12, "not an entry", 0},
                                               {6, 3, encode_entry(entry(3, "bob", 202)), 0}};
    (*log)->copy_from_outbox(std::move(rows));
    (*log)->stop();  // writes what is queued
    EXPECT_EQ((*log)->copied(), 6);
    Result<std::vector<Entry>> all = (*log)->list({});
    ASSERT_TRUE(all);
    ASSERT_EQ(all->size(), 2U);
    EXPECT_EQ((*all)[0].vm, 11) << "a create's VM is the row's";
    EXPECT_EQ((*all)[0].at, 1'800'000'000'000) << "and its time, the commit's";
    EXPECT_EQ((*all)[1].at, entry(3, "bob", 202).at) << "a row without one keeps the entry's";
    EXPECT_EQ((*all)[0].user, "ann");
    EXPECT_EQ((*all)[1].vm, 3);
    EXPECT_EQ((*all)[1].user, "bob");
  }
  Result<std::unique_ptr<AuditLog>> reopened = AuditLog::open(path());
  ASSERT_TRUE(reopened);
  EXPECT_EQ((*reopened)->copied(), 6);
}

TEST(AuditOutcome, ByStatus) {
  EXPECT_EQ(outcome_of_status(200), Outcome::kAccepted);
  EXPECT_EQ(outcome_of_status(202), Outcome::kAccepted);
  EXPECT_EQ(outcome_of_status(401), Outcome::kRefused);
  EXPECT_EQ(outcome_of_status(429), Outcome::kRefused);
  EXPECT_EQ(outcome_of_status(503), Outcome::kFailed);
  EXPECT_EQ(outcome_name(Outcome::kRefused), "refused");
}

}  // namespace
}  // namespace corral::audit
