// Hosts in the SQLite store: every field round-trips through a reopened file, a commit
// replaces the whole row, deletes go by name, hosts share the VMs' transaction (and its
// rollback), and a row that does not decode is reported, not half-used.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "store/store.h"

namespace corral::store {
namespace {

using lifecycle::HostState;
using ::testing::HasSubstr;

constexpr Millis kT0 = 1'700'000'000'000;

class TempDb {
 public:
  TempDb() {
    char pattern[] = "/tmp/corral_hosts_test_XXXXXX";
    const char* made = mkdtemp(pattern);
    EXPECT_NE(made, nullptr);
    dir_ = made != nullptr ? made : "/tmp";
  }
  ~TempDb() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string path() const { return dir_ + "/corral.db"; }
  std::unique_ptr<Store> open() const {
    Result<std::unique_ptr<Store>> store = open_sqlite_store(path());
    EXPECT_TRUE(store.has_value()) << (store ? "" : store.error().message);
    return store ? std::move(*store) : nullptr;
  }
  void exec(const std::string& sql) const {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open_v2(path().c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK)
        << sql << ": " << (err ? err : "");
    sqlite3_free(err);
    sqlite3_close_v2(db);
  }

 private:
  std::string dir_;
};

std::vector<HostRow> must_load_hosts(Store& store) {
  Result<std::vector<HostRow>> hosts = store.load_hosts();
  EXPECT_TRUE(hosts.has_value()) << (hosts ? "" : hosts.error().message);
  return hosts ? std::move(*hosts) : std::vector<HostRow>{};
}

void must_commit(Store& store, const Batch& batch) {
  Status s = store.commit(batch);
  ASSERT_TRUE(s.has_value()) << s.error().message;
}

Batch hosts_batch(std::vector<HostRow> hosts, std::vector<std::string> deleted = {}) {
  Batch batch;
  batch.hosts = std::move(hosts);
  batch.deleted_hosts = std::move(deleted);
  return batch;
}

// A host whose every field differs from its default.
HostRow full_host(HostId id, std::string name) {
  HostRow h;
  h.name = std::move(name);
  h.id = id;
  h.state = HostState::kDisabled;
  h.enabled = false;
  h.disabled_reason = "maintenance: \"disk\" swap";
  h.forced_down = true;
  h.labels = {{"rack", "r7"}, {"gpu", "a100"}, {"quote\"d", "it's"}, {"", "h\xC3\xB4te"}};
  h.capacity = HostResources{64, 262'144};
  h.reserved = HostResources{-4, -2048};  // negative: OpenNebula's way to add capacity
  h.cpu_allocation_ratio = 16.0;
  h.ram_allocation_ratio = 1.5;
  h.agent_version = "0.4.2";
  h.epoch = 7;
  h.generation = std::numeric_limits<std::int64_t>::max();
  h.last_heartbeat_at = kT0 + 2000;
  h.created_at = kT0;
  h.updated_at = kT0 + 2001;
  h.error = "missed 5 heartbeats";
  return h;
}

// Fails with the first differing field's name, so a codec that drops a column says which.
void expect_host_eq(const HostRow& got, const HostRow& want) {
  SCOPED_TRACE("host " + want.name);
  EXPECT_EQ(got.name, want.name);
  EXPECT_EQ(got.id, want.id);
  EXPECT_EQ(got.state, want.state);
  EXPECT_EQ(got.enabled, want.enabled);
  EXPECT_EQ(got.disabled_reason, want.disabled_reason);
  EXPECT_EQ(got.forced_down, want.forced_down);
  EXPECT_EQ(got.labels, want.labels);
  EXPECT_TRUE(got.capacity == want.capacity);
  EXPECT_TRUE(got.reserved == want.reserved);
  EXPECT_EQ(got.cpu_allocation_ratio, want.cpu_allocation_ratio);
  EXPECT_EQ(got.ram_allocation_ratio, want.ram_allocation_ratio);
  EXPECT_EQ(got.agent_version, want.agent_version);
  EXPECT_EQ(got.epoch, want.epoch);
  EXPECT_EQ(got.generation, want.generation);
  EXPECT_EQ(got.last_heartbeat_at, want.last_heartbeat_at);
  EXPECT_EQ(got.created_at, want.created_at);
  EXPECT_EQ(got.updated_at, want.updated_at);
  EXPECT_EQ(got.error, want.error);
  EXPECT_TRUE(got == want);  // and nothing the list above forgot
}

void expect_hosts_eq(const std::vector<HostRow>& got, const std::vector<HostRow>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) expect_host_eq(got[i], want[i]);
}

TEST(SqliteHostsTest, EveryFieldRoundTripsThroughAReopenedFile) {
  TempDb db;
  HostRow defaults;  // every field at its default
  defaults.name = "a-default";
  defaults.id = 3;
  const HostRow full = full_host(1, "z-full");
  HostRow monitored = full_host(2, "m");
  monitored.state = HostState::kMonitored;
  monitored.labels.clear();
  monitored.error.clear();
  {
    std::unique_ptr<Store> store = db.open();
    ASSERT_NE(store, nullptr);
    must_commit(*store, hosts_batch({defaults, full, monitored}));
  }
  std::unique_ptr<Store> store = db.open();
  ASSERT_NE(store, nullptr);
  expect_hosts_eq(must_load_hosts(*store), {full, monitored, defaults});  // ordered by id
}

TEST(SqliteHostsTest, EveryStateRoundTrips) {
  TempDb db;
  std::unique_ptr<Store> store = db.open();
  ASSERT_NE(store, nullptr);
  std::vector<HostRow> hosts;
  for (HostState s : {HostState::kInit, HostState::kMonitored, HostState::kError,
                      HostState::kDisabled, HostState::kOffline}) {
    HostRow& h = hosts.emplace_back(full_host(static_cast<HostId>(hosts.size() + 1), ""));
    h.name = fmt::format("host-{}", static_cast<int>(s));
    h.state = s;
  }
  ASSERT_EQ(hosts.size(), static_cast<std::size_t>(lifecycle::kHostStateCount));
  must_commit(*store, hosts_batch(hosts));
  expect_hosts_eq(must_load_hosts(*store), hosts);
}

TEST(SqliteHostsTest, ACommitReplacesTheWholeRow) {
  TempDb db;
  std::unique_ptr<Store> store = db.open();
  ASSERT_NE(store, nullptr);
  HostRow h = full_host(1, "h1");
  must_commit(*store, hosts_batch({h}));
  h.state = HostState::kMonitored;
  h.enabled = true;
  h.disabled_reason.clear();
  h.forced_down = false;
  h.labels.clear();
  h.error.clear();
  h.epoch += 1;
  h.generation = 0;
  h.id = 9;  // the name is the key: even the id is replaced
  must_commit(*store, hosts_batch({h}));
  expect_hosts_eq(must_load_hosts(*store), {h});
}

TEST(SqliteHostsTest, DeletesGoByName) {
  TempDb db;
  std::unique_ptr<Store> store = db.open();
  ASSERT_NE(store, nullptr);
  const HostRow a = full_host(1, "a");
  const HostRow b = full_host(2, "b");
  const HostRow c = full_host(3, "c");
  must_commit(*store, hosts_batch({a, b, c}));

  must_commit(*store, hosts_batch({}, {"b", "never-stored"}));
  expect_hosts_eq(must_load_hosts(*store), {a, c});

  // Deleted and written in one batch: deletions go first, so the written row stays.
  HostRow c2 = c;
  c2.epoch = 99;
  must_commit(*store, hosts_batch({c2}, {"a", "c"}));
  expect_hosts_eq(must_load_hosts(*store), {c2});

  store.reset();
  store = db.open();
  ASSERT_NE(store, nullptr);
  expect_hosts_eq(must_load_hosts(*store), {c2});
}

TEST(SqliteHostsTest, HostsShareTheVmsTransaction) {
  TempDb db;
  std::unique_ptr<Store> store = db.open();
  ASSERT_NE(store, nullptr);
  const HostRow a = full_host(1, "a");
  must_commit(*store, hosts_batch({a}));

  // A new host, a deletion, and a history entry of a VM never stored: all of it goes.
  Batch bad = hosts_batch({full_host(2, "b")}, {"a"});
  TransitionRow ghost;
  ghost.vm_id = 404;
  bad.transitions.push_back(ghost);
  Status s = store->commit(bad);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, ErrorCode::kInternal);
  EXPECT_THAT(s.error().message, HasSubstr("FOREIGN KEY"));
  expect_hosts_eq(must_load_hosts(*store), {a});
}

TEST(SqliteHostsTest, TwoNamesWithOneIdAreRefused) {
  TempDb db;
  std::unique_ptr<Store> store = db.open();
  ASSERT_NE(store, nullptr);
  const HostRow a = full_host(1, "a");
  must_commit(*store, hosts_batch({a}));
  Status s = store->commit(hosts_batch({full_host(1, "b")}));
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, ErrorCode::kInternal);
  EXPECT_THAT(s.error().message, HasSubstr("host b"));
  EXPECT_THAT(s.error().message, HasSubstr("UNIQUE"));
  expect_hosts_eq(must_load_hosts(*store), {a});
}

TEST(SqliteHostsTest, ANanRatioIsRefused) {
  TempDb db;
  std::unique_ptr<Store> store = db.open();
  ASSERT_NE(store, nullptr);
  HostRow h = full_host(1, "a");
  h.ram_allocation_ratio = std::numeric_limits<double>::quiet_NaN();  // SQLite stores NULL
  Status s = store->commit(hosts_batch({h}));
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, ErrorCode::kInternal);
  EXPECT_THAT(s.error().message, HasSubstr("NOT NULL"));
  EXPECT_TRUE(must_load_hosts(*store).empty());
}

// ---- Damage load_hosts() must report rather than half-use -----------------------------------

struct Damage {
  const char* name;
  const char* sql;
  const char* says;
};

class HostDamageTest : public ::testing::TestWithParam<Damage> {};

TEST_P(HostDamageTest, LoadHostsReportsIt) {
  TempDb db;
  {
    std::unique_ptr<Store> store = db.open();
    ASSERT_NE(store, nullptr);
    must_commit(*store, hosts_batch({full_host(1, "h1")}));
  }
  db.exec(GetParam().sql);
  std::unique_ptr<Store> store = db.open();
  ASSERT_NE(store, nullptr);
  Result<std::vector<HostRow>> hosts = store->load_hosts();
  ASSERT_FALSE(hosts.has_value());
  EXPECT_EQ(hosts.error().code, ErrorCode::kInternal);
  EXPECT_THAT(hosts.error().message, HasSubstr("host h1"));
  EXPECT_THAT(hosts.error().message, HasSubstr(GetParam().says));
  EXPECT_THAT(hosts.error().message, HasSubstr(db.path()));
}

INSTANTIATE_TEST_SUITE_P(
    Rows, HostDamageTest,
    ::testing::Values(
        // 1 is OpenNebula's retired MONITORING_MONITORED: never a Corral state.
        Damage{"RetiredState", "UPDATE hosts SET state = 1", "state holds 1"},
        Damage{"UnknownState", "UPDATE hosts SET state = 9", "state holds 9"},
        Damage{"NegativeState", "UPDATE hosts SET state = -1", "state holds -1"},
        Damage{"LabelsNotJson", "UPDATE hosts SET labels = 'rack=r7'", "not a JSON object"},
        Damage{"LabelsAnArray", "UPDATE hosts SET labels = '[\"a\"]'", "not a JSON object"},
        Damage{"LabelANumber", "UPDATE hosts SET labels = '{\"a\":1}'",
               "not a JSON object of strings"},
        Damage{"VcpusTooBig", "UPDATE hosts SET vcpus = 1 << 40", "vcpus holds"}),
    [](const ::testing::TestParamInfo<Damage>& p) { return std::string(p.param.name); });

}  // namespace
}  // namespace corral::store
