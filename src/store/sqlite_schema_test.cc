// The schema and the row codecs agree, and files written by an earlier schema version open,
// migrate and read back as they were written.
//
// CodecsMatchTheMigratedTables compares each codec's column list with PRAGMA table_info of a
// freshly migrated file, so a column added to one but not the other fails here. The version-1
// fixture is literal SQL (the on-disk format as shipped, stable numbers spelled out), not rows
// written through today's codecs, so a codec that changed the format would fail it.
#include "store/sqlite_schema.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "store/sqlite_rows.h"
#include "store/store.h"

namespace corral::store {
namespace {

using lifecycle::Action;
using lifecycle::OpStatus;
using lifecycle::Phase;
using lifecycle::Power;
using lifecycle::State;

constexpr Millis kT0 = 1'700'000'000'000;

class TempFile {
 public:
  TempFile() {
    char pattern[] = "/tmp/corral_schema_test_XXXXXX";
    const char* made = mkdtemp(pattern);
    EXPECT_NE(made, nullptr);
    dir_ = made != nullptr ? made : "/tmp";
  }
  ~TempFile() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string path() const { return dir_ + "/corral.db"; }

 private:
  std::string dir_;
};

// A raw connection, for what the Store interface does not expose.
class Raw {
 public:
  explicit Raw(const std::string& path) {
    EXPECT_EQ(
        sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr),
        SQLITE_OK);
  }
  ~Raw() { sqlite3_close_v2(db_); }
  sqlite3* get() const { return db_; }
  void exec(const std::string& sql) {
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK)
        << sql << ": " << (err ? err : "");
    sqlite3_free(err);
  }
  // (name, type, nullable) of each column, in table order; nullable: neither NOT NULL nor
  // the primary key (an INTEGER PRIMARY KEY is the rowid, never NULL).
  std::vector<std::tuple<std::string, std::string, bool>> columns(const std::string& table) {
    std::vector<std::tuple<std::string, std::string, bool>> out;
    sqlite3_stmt* stmt = nullptr;
    const std::string sql = "PRAGMA table_info(" + table + ")";
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK);
    while (stmt != nullptr && sqlite3_step(stmt) == SQLITE_ROW) {
      out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 1)),
                       reinterpret_cast<const char*>(sqlite3_column_text(stmt, 2)),
                       sqlite3_column_int(stmt, 3) == 0 && sqlite3_column_int(stmt, 5) == 0);
    }
    sqlite3_finalize(stmt);
    return out;
  }
  // The columns of the table's indexes that are (`unique`) or are not UNIQUE, the automatic
  // ones of a UNIQUE constraint included.
  std::set<std::string> index_columns(const std::string& table, bool unique) {
    std::vector<std::string> indexes;
    sqlite3_stmt* stmt = nullptr;
    std::string sql = "PRAGMA index_list(" + table + ")";
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK);
    while (stmt != nullptr && sqlite3_step(stmt) == SQLITE_ROW) {
      if ((sqlite3_column_int(stmt, 2) != 0) == unique) {
        indexes.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 1)));
      }
    }
    sqlite3_finalize(stmt);
    std::set<std::string> out;
    for (const std::string& index : indexes) {
      sql = "PRAGMA index_info(" + index + ")";
      EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK);
      while (stmt != nullptr && sqlite3_step(stmt) == SQLITE_ROW) {
        if (const unsigned char* name = sqlite3_column_text(stmt, 2)) {  // NULL: the rowid
          out.emplace(reinterpret_cast<const char*>(name));
        }
      }
      sqlite3_finalize(stmt);
    }
    return out;
  }
  std::string text(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sql;
    std::string out;
    if (stmt != nullptr && sqlite3_step(stmt) == SQLITE_ROW) {
      const unsigned char* p = sqlite3_column_text(stmt, 0);
      out = p != nullptr ? reinterpret_cast<const char*>(p) : "NULL";
    }
    sqlite3_finalize(stmt);
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

template <typename In, typename Out>
std::vector<std::tuple<std::string, std::string, bool>> codec_columns(
    const sqlite::RowCodec<In, Out>& codec) {
  std::vector<std::tuple<std::string, std::string, bool>> out;
  for (const auto& c : codec.columns) {
    out.emplace_back(std::string(c.name), std::string(sqlite::sql_type_name(c.type)), c.nullable);
  }
  return out;
}

TEST(SqliteSchemaTest, CodecsMatchTheMigratedTables) {
  TempFile file;
  ASSERT_TRUE(open_sqlite_store(file.path()).has_value());
  Raw raw(file.path());
  EXPECT_EQ(raw.columns("vms"), codec_columns(sqlite::vm_codec()));
  EXPECT_EQ(raw.columns("operations"), codec_columns(sqlite::operation_codec()));
  EXPECT_EQ(raw.columns("transitions"), codec_columns(sqlite::transition_codec()));
  EXPECT_EQ(raw.columns("hosts"), codec_columns(sqlite::host_codec()));
  EXPECT_EQ(raw.columns("server_groups"), codec_columns(sqlite::group_codec()));
  EXPECT_EQ(raw.columns("migrations"), codec_columns(sqlite::migration_codec()));
  EXPECT_EQ(raw.columns("host_stays"), codec_columns(sqlite::stay_codec()));
  EXPECT_EQ(raw.columns("networks"), codec_columns(sqlite::network_codec()));
  EXPECT_EQ(raw.columns("volumes"), codec_columns(sqlite::volume_codec()));
  EXPECT_EQ(raw.columns("security_groups"), codec_columns(sqlite::security_group_codec()));
  EXPECT_EQ(sqlite::vm_codec().table, "vms");
  EXPECT_EQ(sqlite::operation_codec().table, "operations");
  EXPECT_EQ(sqlite::transition_codec().table, "transitions");
  EXPECT_EQ(sqlite::host_codec().table, "hosts");
}

// Each keyed codec's indexed columns (left out of its upsert, written only when changed) are
// exactly the non-key columns of the table's non-UNIQUE indexes: an index added by a migration
// without its codec knowing would be rewritten at every write, and a UNIQUE index's columns
// written one at a time could collide on the way.
template <typename In, typename Out>
void expect_indexed_columns_match(Raw& raw, const sqlite::RowCodec<In, Out>& codec) {
  const std::string table(codec.table);
  std::set<std::string> indexed = raw.index_columns(table, /*unique=*/false);
  indexed.erase(std::string(codec.key));
  const std::set<std::string> listed(codec.indexed.begin(), codec.indexed.end());
  EXPECT_EQ(indexed, listed) << table;
  for (const std::string& column : raw.index_columns(table, /*unique=*/true)) {
    EXPECT_FALSE(sqlite::is_indexed(codec, column)) << table << "." << column;
  }
}

TEST(SqliteSchemaTest, IndexedColumnsAreTheNonUniqueIndexesColumns) {
  TempFile file;
  ASSERT_TRUE(open_sqlite_store(file.path()).has_value());
  Raw raw(file.path());
  expect_indexed_columns_match(raw, sqlite::vm_codec());
  expect_indexed_columns_match(raw, sqlite::operation_codec());
  expect_indexed_columns_match(raw, sqlite::host_codec());
  expect_indexed_columns_match(raw, sqlite::group_codec());
  expect_indexed_columns_match(raw, sqlite::migration_codec());
  expect_indexed_columns_match(raw, sqlite::network_codec());
  expect_indexed_columns_match(raw, sqlite::volume_codec());
  expect_indexed_columns_match(raw, sqlite::security_group_codec());
  expect_indexed_columns_match(raw, sqlite::resource_group_codec());
  EXPECT_EQ(
      std::set<std::string>(sqlite::vm_codec().indexed.begin(), sqlite::vm_codec().indexed.end()),
      (std::set<std::string>{"name", "state", "project"}));
}

TEST(SqliteSchemaTest, AnIndexedColumnIsWrittenOnlyWhenItChanged) {
  EXPECT_EQ(sqlite::index_update_sql(sqlite::vm_codec(), "state"),
            "UPDATE vms SET state = ?2 WHERE id = ?1 AND state IS NOT ?2");
  EXPECT_EQ(sqlite::index_update_sql(sqlite::operation_codec(), "vm_id"),
            "UPDATE operations SET vm_id = ?2 WHERE id = ?1 AND vm_id IS NOT ?2");
}

TEST(SqliteSchemaTest, AnUpsertReplacesEveryColumnButTheKeyAndTheIndexed) {
  EXPECT_EQ(sqlite::insert_sql(sqlite::transition_codec()),
            "INSERT INTO transitions(id, vm_id, op_id, from_state, to_state, action, phase, "
            "status, actor, request_id, at, reason, op_action, op_origin, op_step, op_status, "
            "op_during, op_undoing, power, vcpus, memory_mib) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, "
            "?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)");
  const std::string vm = sqlite::insert_sql(sqlite::vm_codec());
  EXPECT_THAT(vm, ::testing::StartsWith("INSERT INTO vms(id, name, image, "));
  EXPECT_THAT(vm,
              ::testing::HasSubstr("?25) ON CONFLICT(id) DO UPDATE SET image = excluded.image, "));
  EXPECT_THAT(vm, ::testing::HasSubstr(", model_error = excluded.model_error, "
                                       "power = excluded.power, "));
  EXPECT_THAT(vm, ::testing::EndsWith(", nics = excluded.nics, ssh_keys = excluded.ssh_keys, "
                                      "locked_by = excluded.locked_by, "
                                      "lock_reason = excluded.lock_reason, "
                                      "resource_group = excluded.resource_group"));
  for (const char* left_out : {" id = excluded.id", "name = excluded.name",
                               " state = excluded.state", "project = excluded.project"}) {
    EXPECT_THAT(vm, ::testing::Not(::testing::HasSubstr(left_out))) << left_out;
  }
}

// ---- A version-1 file, as corral wrote it ----------------------------------------------------

// Rows as a version-1 corral wrote them: a running VM with its current and a past operation, a
// powered-off VM with a desired model and no operation, a pending VM mid-create.
constexpr const char* kVersion1Rows = R"sql(
INSERT INTO vms VALUES(1, 'web', 'debian-12', 2, 2048, NULL, NULL, NULL, '', 3, 1, 0,
  'host-1', '', 11, 1700000000000, 1700000000005);
INSERT INTO vms VALUES(2, 'db', 'tiny', 1, 128, 'tiny-2', 4, 4096, 'host-1 lacks memory', 6, 4,
  1, '', '', NULL, 1700000000010, 1700000000011);
INSERT INTO vms VALUES(3, 'new', 'tiny', 1, 128, NULL, NULL, NULL, '', 1, 0, 1, '',
  'no host has 64 vCPUs free', 31, 1700000000020, 1700000000021);
INSERT INTO operations VALUES(10, 1, 1, 0, 0, 2, 0, '{}', 'api', 'req-0', 1700000000000, 0,
  1700000000001, '', 1);
INSERT INTO operations VALUES(11, 1, 2, 1, 5, 2, 0, '{}', 'scheduler', 'req-1', 1700000000002, 0,
  1700000000005, '', 1);
INSERT INTO operations VALUES(31, 3, 1, 0, 1, 1, 1, '{"hold":false}', 'api', 'req-3',
  1700000000020, 1700000300020, 0, 'it''s late', 4294967295);
INSERT INTO transitions VALUES(1, 1, 10, 0, 1, 1, 1, 2, 'api', 'req-0', 1700000000001, '');
INSERT INTO transitions VALUES(2, 1, 11, 1, 3, 2, 5, 2, 'scheduler', 'req-1', 1700000000005,
  'deployed');
)sql";

std::vector<Vm> version1_vms() {
  std::vector<Vm> vms(3);
  vms[0].id = 1;
  vms[0].name = "web";
  vms[0].model = VmModel{2, 2048, "debian-12"};
  vms[0].record = lifecycle::VmRecord{
      State::kRunning,
      lifecycle::Operation{Action::kDeploy, State::kPending, 5, OpStatus::kSucceeded, false},
      Power::kRunning, false};
  vms[0].op = OpMeta{11, OpParams{}, "scheduler", "req-1", kT0 + 2, 0, kT0 + 5, "", 1};
  vms[0].host = "host-1";
  vms[0].created_at = kT0;
  vms[0].updated_at = kT0 + 5;

  vms[1].id = 2;
  vms[1].name = "db";
  vms[1].model = VmModel{1, 128, "tiny"};
  vms[1].desired = VmModel{4, 4096, "tiny-2"};
  vms[1].model_error = "host-1 lacks memory";
  vms[1].record = lifecycle::VmRecord{State::kPoweroff, std::nullopt, Power::kShutdown, true};
  vms[1].created_at = kT0 + 10;
  vms[1].updated_at = kT0 + 11;

  vms[2].id = 3;
  vms[2].name = "new";
  vms[2].model = VmModel{1, 128, "tiny"};
  vms[2].record = lifecycle::VmRecord{
      State::kPending,
      lifecycle::Operation{Action::kCreate, State::kInit, 1, OpStatus::kRunning, true},
      Power::kNoState, true};
  vms[2].op = OpMeta{31,         params_from_json_text(R"({"hold":false})"),
                     "api",      "req-3",
                     kT0 + 20,   kT0 + 300020,
                     0,          "it's late",
                     4294967295U};
  vms[2].pending_reason = "no host has 64 vCPUs free";
  vms[2].created_at = kT0 + 20;
  vms[2].updated_at = kT0 + 21;
  return vms;
}

// Every field, as one comparable tuple (Vm has no operator==: OpMeta only means something
// while record.op has a value).
auto fields(const Vm& v) {
  const OpMeta op = v.record.op ? v.op : OpMeta{};
  return std::tuple(v.id, v.name, v.model, v.desired, v.model_error, v.record, op.id, op.params,
                    op.actor, op.request_id, op.started_at, op.deadline, op.finished_at, op.error,
                    op.attempt, v.host, v.pending_reason, v.created_at, v.updated_at,
                    v.requirements, v.group);
}

void expect_same_vms(const std::vector<Vm>& got, const std::vector<Vm>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    SCOPED_TRACE(fmt::format("vm {}", want[i].id));
    EXPECT_TRUE(fields(got[i]) == fields(want[i]));
  }
}

TEST(SqliteSchemaTest, AVersion1FileMigratesAndReadsBackAsWritten) {
  TempFile file;
  {
    Raw raw(file.path());
    ASSERT_TRUE(sqlite::migrate(raw.get(), file.path(), 1).has_value());
    ASSERT_EQ(raw.text("PRAGMA user_version"), "1");
    raw.exec("PRAGMA foreign_keys = ON");
    raw.exec(kVersion1Rows);
  }
  const std::vector<Vm> want = version1_vms();
  for (int round = 0; round < 2; ++round) {  // the second: after writing the loaded rows back
    SCOPED_TRACE(fmt::format("round {}", round));
    Result<std::unique_ptr<Store>> store = open_sqlite_store(file.path());
    ASSERT_TRUE(store.has_value()) << store.error().message;
    Result<Loaded> loaded = (*store)->load();
    ASSERT_TRUE(loaded.has_value()) << loaded.error().message;
    expect_same_vms(loaded->vms, want);
    EXPECT_EQ(loaded->max_vm_id, 3);
    EXPECT_EQ(loaded->max_op_id, 31);
    EXPECT_EQ(loaded->max_transition_id, 2);

    Result<std::optional<OperationRow>> past = (*store)->operation(10);
    ASSERT_TRUE(past.has_value() && past->has_value());
    EXPECT_EQ((*past)->vm_id, 1);
    EXPECT_TRUE((*past)->op == (lifecycle::Operation{Action::kCreate, State::kInit, 0,
                                                     OpStatus::kSucceeded, false}));
    EXPECT_EQ((*past)->meta.request_id, "req-0");
    EXPECT_EQ((*past)->meta.finished_at, kT0 + 1);

    Result<std::vector<TransitionRow>> history = (*store)->history(1, 0, 10);
    ASSERT_TRUE(history.has_value()) << history.error().message;
    ASSERT_EQ(history->size(), 2U);
    const TransitionRow& t = (*history)[1];
    EXPECT_EQ(
        std::tuple(t.id, t.vm_id, t.op_id, t.from, t.to, t.action, t.phase, t.status, t.actor,
                   t.request_id, t.at, t.reason),
        std::tuple(std::int64_t{2}, VmId{1}, OpId{11}, State::kPending, State::kRunning,
                   Action::kDeploy, Phase::kBoot, OpStatus::kSucceeded, std::string("scheduler"),
                   std::string("req-1"), kT0 + 5, std::string("deployed")));
    EXPECT_EQ(*(*store)->integrity_check(), "ok");
    Result<std::vector<HostRow>> hosts = (*store)->load_hosts();  // migration 2: none yet
    ASSERT_TRUE(hosts.has_value()) << hosts.error().message;
    EXPECT_TRUE(hosts->empty());

    Batch batch;
    for (const Vm& vm : loaded->vms) batch.vms.push_back(&vm);
    ASSERT_TRUE((*store)->commit(batch).has_value());
  }
  EXPECT_EQ(Raw(file.path()).text("PRAGMA user_version"), std::to_string(kSqliteSchemaVersion));
}

// Migration 3 on a version-2 file: its VMs read back without constraints, and then server
// groups and constraints are written and read back whole; a deleted group is gone.
TEST(SqliteSchemaTest, AVersion2FileMigratesToServerGroups) {
  TempFile file;
  {
    Raw raw(file.path());
    ASSERT_TRUE(sqlite::migrate(raw.get(), file.path(), 2).has_value());
    raw.exec("PRAGMA foreign_keys = ON");
    raw.exec(kVersion1Rows);
  }
  Result<std::unique_ptr<Store>> store = open_sqlite_store(file.path());
  ASSERT_TRUE(store.has_value()) << store.error().message;
  Result<Loaded> loaded = (*store)->load();
  ASSERT_TRUE(loaded.has_value()) << loaded.error().message;
  expect_same_vms(loaded->vms, version1_vms());
  EXPECT_TRUE(loaded->groups.empty());

  const std::vector<ServerGroupRow> groups = {
      {1, "web", GroupPolicy::kAntiAffinity, kT0},
      {2, "db", GroupPolicy::kSoftAffinity, kT0 + 1},
      {3, "gone", GroupPolicy::kAffinity, kT0 + 2},
  };
  std::vector<Vm> vms = loaded->vms;
  vms[0].requirements = R"(zone = "a" & !(rack = "r*"))";
  vms[0].group = 1;
  Batch batch;
  for (const Vm& vm : vms) batch.vms.push_back(&vm);
  batch.groups = groups;
  ASSERT_TRUE((*store)->commit(batch).has_value());
  Batch drop;
  drop.deleted_groups = {3};
  ASSERT_TRUE((*store)->commit(drop).has_value());

  store = open_sqlite_store(file.path());
  ASSERT_TRUE(store.has_value()) << store.error().message;
  loaded = (*store)->load();
  ASSERT_TRUE(loaded.has_value()) << loaded.error().message;
  expect_same_vms(loaded->vms, vms);
  EXPECT_EQ(loaded->groups, std::vector<ServerGroupRow>(groups.begin(), groups.begin() + 2));
  EXPECT_EQ(Raw(file.path()).text("PRAGMA user_version"), std::to_string(kSqliteSchemaVersion));
}

// Migration 12 on a version-11 file: its networks, server groups and security groups belong
// to the admin project, the networks are shared (every project used them until then), and
// rules, names and ids are kept. Then a security group name is unique within a project only:
// two projects' "default" are stored, a second "web" in one project is refused.
TEST(SqliteSchemaTest, AVersion11FileMigratesToOwnedNetworksAndGroups) {
  TempFile file;
  {
    Raw raw(file.path());
    ASSERT_TRUE(sqlite::migrate(raw.get(), file.path(), 11).has_value());
    raw.exec(R"sql(
INSERT INTO networks VALUES(1, 'default', '10.77.0.0/24', 1, '', 1700000000000, 1700000000001);
INSERT INTO networks VALUES(4, 'lab', '10.78.0.0/24', 5, 'no bridge', 1700000000002,
  1700000000003);
INSERT INTO server_groups VALUES(2, 'web', 2, 1700000000004);
INSERT INTO security_groups VALUES(1, 'default', 'Neutron''s',
  '[{"id":1,"direction":2,"protocol":1,"ports":"","remote":"","remote_own_network":false}]',
  2, 1700000000005, 1700000000006);
INSERT INTO security_groups VALUES(3, 'web', '', '[]', 1, 1700000000007, 1700000000008);
)sql");
  }
  Result<std::unique_ptr<Store>> store = open_sqlite_store(file.path());
  ASSERT_TRUE(store.has_value()) << store.error().message;
  Result<Loaded> loaded = (*store)->load();
  ASSERT_TRUE(loaded.has_value()) << loaded.error().message;
  EXPECT_EQ(Raw(file.path()).text("PRAGMA user_version"), std::to_string(kSqliteSchemaVersion));

  const NetworkRow def{1,    "default", "10.77.0.0/24", lifecycle::NetworkState::kReady,
                       {},   kT0,       kT0 + 1,        kAdminProjectId,
                       true, ""};
  const NetworkRow lab{4,           "lab",   "10.78.0.0/24", lifecycle::NetworkState::kError,
                       "no bridge", kT0 + 2, kT0 + 3,        kAdminProjectId,
                       true,        ""};
  EXPECT_EQ(loaded->networks, (std::vector<NetworkRow>{def, lab}));
  EXPECT_EQ(loaded->groups, (std::vector<ServerGroupRow>{
                                {2, "web", GroupPolicy::kAntiAffinity, kT0 + 4, kAdminProjectId}}));
  ASSERT_EQ(loaded->security_groups.size(), 2U);
  const SecurityGroupRow& admin_default = loaded->security_groups[0];
  EXPECT_EQ(admin_default.id, 1);
  EXPECT_EQ(admin_default.name, "default");
  EXPECT_EQ(admin_default.description, "Neutron's");
  EXPECT_EQ(admin_default.rules, (std::vector<SecurityGroupRuleRow>{{1, 2, 1, "", "", false}}));
  EXPECT_EQ(admin_default.next_rule_id, 2);
  EXPECT_EQ(admin_default.created_at, kT0 + 5);
  EXPECT_EQ(admin_default.updated_at, kT0 + 6);
  EXPECT_EQ(admin_default.project, kAdminProjectId);
  EXPECT_EQ(loaded->security_groups[1].name, "web");
  EXPECT_EQ(loaded->security_groups[1].project, kAdminProjectId);

  // Another project's "default" and "web" beside the admin project's; a private network and
  // a server group of that project.
  SecurityGroupRow theirs = admin_default;
  theirs.id = 5;
  theirs.project = 2;
  SecurityGroupRow their_web = loaded->security_groups[1];
  their_web.id = 6;
  their_web.project = 2;
  NetworkRow private_net = lab;
  private_net.id = 7;
  private_net.name = "private";
  private_net.cidr = "10.79.0.0/24";
  private_net.project = 2;
  private_net.shared = false;
  private_net.description = "research's own";
  Batch batch;
  batch.security_groups = {theirs, their_web};
  batch.networks = {private_net};
  batch.groups = {{8, "db", GroupPolicy::kAffinity, kT0 + 9, 2}};
  ASSERT_TRUE((*store)->commit(batch).has_value());
  SecurityGroupRow twice = their_web;
  twice.id = 9;
  Batch duplicate;
  duplicate.security_groups = {twice};
  EXPECT_FALSE((*store)->commit(duplicate).has_value()) << "two groups web in one project";

  store = open_sqlite_store(file.path());
  ASSERT_TRUE(store.has_value()) << store.error().message;
  loaded = (*store)->load();
  ASSERT_TRUE(loaded.has_value()) << loaded.error().message;
  ASSERT_EQ(loaded->security_groups.size(), 4U);
  EXPECT_EQ(loaded->security_groups[2], theirs);
  EXPECT_EQ(loaded->security_groups[3], their_web);
  EXPECT_EQ(loaded->networks, (std::vector<NetworkRow>{def, lab, private_net}));
  ASSERT_EQ(loaded->groups.size(), 2U);
  EXPECT_EQ(loaded->groups[1].project, 2);
  EXPECT_EQ(*(*store)->integrity_check(), "ok");
}

// A policy number no corral wrote is reported as corrupt, not read as some policy.
TEST(SqliteSchemaTest, AnUnknownGroupPolicyIsCorrupt) {
  TempFile file;
  ASSERT_TRUE(open_sqlite_store(file.path()).has_value());
  Raw(file.path()).exec("INSERT INTO server_groups VALUES(1, 'x', 9, 0, 1)");
  Result<std::unique_ptr<Store>> store = open_sqlite_store(file.path());
  ASSERT_TRUE(store.has_value());
  Result<Loaded> loaded = (*store)->load();
  ASSERT_FALSE(loaded.has_value());
  EXPECT_NE(loaded.error().message.find("server group 1"), std::string::npos)
      << loaded.error().message;
}

}  // namespace
}  // namespace corral::store
