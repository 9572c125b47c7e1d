// The SQLite store against a real file in a temporary directory: round trips through a
// reopened file, failed commits that leave nothing behind, and concurrent reads. Opening and
// migrating: sqlite_open_test.cc; measurements: sqlite_store_bench_test.cc.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "store/sqlite_test_support.h"
#include "store/store.h"

namespace corral::store {
namespace {

using namespace test_support;  // NOLINT(google-build-using-namespace): test fixtures
using ::testing::HasSubstr;

// ---- Round trip ---------------------------------------------------------------------------

TEST(SqliteStoreTest, RoundTripThroughAReopenedFile) {
  TempDir dir;
  const std::string path = dir.file("corral.db");
  const std::vector<Vm> vms = sample_vms();

  // Past operations not current on any VM, and history for every VM.
  std::vector<OperationRow> past;
  for (const Vm& vm : vms) {
    OperationRow row{
        vm.id,
        lifecycle::Operation{Action::kShutdown, State::kRunning, 1, OpStatus::kCanceled, false},
        OpMeta{.id = vm.id * 10 - 1,
               .params = {},
               .actor = "api",
               .request_id = "r",
               .started_at = kT0,
               .deadline = 0,
               .finished_at = kT0 + 9,
               .error = "canceled by terminate",
               .attempt = 2}};
    past.push_back(row);
  }
  std::vector<TransitionRow> transitions;
  for (int n = 0; n < 3; ++n) {
    for (const Vm& vm : vms) transitions.push_back(make_transition(vm, n));
  }
  {
    std::unique_ptr<Store> store = must_open(path);
    ASSERT_NE(store, nullptr);
    Batch batch;
    for (const Vm& vm : vms) batch.vms.push_back(&vm);
    batch.operations = past;
    batch.transitions = transitions;
    must_commit(*store, batch);
  }

  std::unique_ptr<Store> store = must_open(path);
  ASSERT_NE(store, nullptr);
  Loaded loaded = must_load(*store);
  expect_vms_eq(loaded.vms, vms);
  EXPECT_EQ(loaded.max_vm_id, vms.back().id);
  EXPECT_EQ(loaded.max_op_id, vms.back().id * 10);

  for (const OperationRow& row : past) expect_operation_eq(*store->operation(row.meta.id), row);
  for (const Vm& vm : vms) {
    if (!vm.record.op) continue;
    expect_operation_eq(*store->operation(vm.op.id), OperationRow{vm.id, *vm.record.op, vm.op});
  }
  Result<std::optional<OperationRow>> missing = store->operation(424242);
  ASSERT_TRUE(missing.has_value());
  EXPECT_FALSE(missing->has_value());

  EXPECT_EQ(*store->count_transitions(), static_cast<std::int64_t>(transitions.size()));
  for (const Vm& vm : vms) {
    Result<std::vector<TransitionRow>> h = store->history(vm.id, 0, 100);
    ASSERT_TRUE(h.has_value()) << h.error().message;
    ASSERT_EQ(h->size(), 3U);
    for (int n = 0; n < 3; ++n) {
      expect_transition_eq((*h)[n], make_transition(vm, n));
      if (n > 0) {
        EXPECT_GT((*h)[n].id, (*h)[n - 1].id);
      }
    }
  }
}

struct HistoryPage {
  int after;  // index into the VM's history ids; -1: after_id 0
  int limit;
  std::vector<int> want;  // indexes into the VM's history ids
};

class HistoryPageTest : public ::testing::TestWithParam<HistoryPage> {};

TEST_P(HistoryPageTest, PagesByIdAndLimit) {
  const HistoryPage& c = GetParam();
  TempDir dir;
  std::unique_ptr<Store> store = must_open(dir.file("corral.db"));
  ASSERT_NE(store, nullptr);
  const Vm a = make_vm(1, State::kRunning);
  const Vm b = make_vm(2, State::kRunning);
  Batch batch{{&a, &b}, {}, {}};
  for (int n = 0; n < 5; ++n) {  // interleaved, so a's ids are not contiguous
    batch.transitions.push_back(make_transition(a, n));
    batch.transitions.push_back(make_transition(b, n));
  }
  must_commit(*store, batch);
  Result<std::vector<TransitionRow>> all = store->history(a.id, 0, 1000);
  ASSERT_TRUE(all.has_value());
  ASSERT_EQ(all->size(), 5U);

  const std::int64_t after_id = c.after < 0 ? 0 : (*all)[c.after].id;
  Result<std::vector<TransitionRow>> page = store->history(a.id, after_id, c.limit);
  ASSERT_TRUE(page.has_value()) << page.error().message;
  std::vector<std::int64_t> got;
  for (const TransitionRow& t : *page) got.push_back(t.id);
  std::vector<std::int64_t> want;
  for (int i : c.want) want.push_back((*all)[i].id);
  EXPECT_EQ(got, want);
}

INSTANTIATE_TEST_SUITE_P(Pages, HistoryPageTest,
                         ::testing::Values(HistoryPage{-1, 100, {0, 1, 2, 3, 4}},
                                           HistoryPage{-1, 2, {0, 1}}, HistoryPage{1, 2, {2, 3}},
                                           HistoryPage{3, 100, {4}}, HistoryPage{4, 100, {}},
                                           HistoryPage{-1, 0, {}}));

TEST(SqliteStoreTest, HistoryRefusesANegativeLimit) {
  TempDir dir;
  std::unique_ptr<Store> store = must_open(dir.file("corral.db"));
  ASSERT_NE(store, nullptr);
  Result<std::vector<TransitionRow>> h = store->history(1, 0, -1);
  ASSERT_FALSE(h.has_value());
  EXPECT_EQ(h.error().code, ErrorCode::kInvalidArgument);
}

TEST(SqliteStoreTest, ACommitReplacesTheWholeVmRow) {
  TempDir dir;
  std::unique_ptr<Store> store = must_open(dir.file("corral.db"));
  ASSERT_NE(store, nullptr);
  Vm vm = make_vm(7, State::kRunning);
  vm.desired = VmModel{4, 4096, "x"};
  vm.host = "h1";
  must_commit(*store, Batch{{&vm}, {}, {}});

  // Desired model gone, operation gone, host gone: NULLs and empty strings replace values.
  vm.desired.reset();
  vm.record.op.reset();
  vm.op = OpMeta{};
  vm.host.clear();
  vm.record.state = State::kPending;
  must_commit(*store, Batch{{&vm}, {}, {}});
  expect_vms_eq(must_load(*store).vms, {vm});
}

TEST(SqliteStoreTest, NetworksAndVolumesRoundTripAndDeletesGo) {
  TempDir dir;
  const std::string path = dir.file("corral.db");
  const NetworkRow net{3,  "default", "10.77.0.0/24", lifecycle::NetworkState::kReady,
                       {}, kT0,       kT0 + 1};
  VolumeRow data{.id = 5,
                 .name = "data",
                 .size_mib = 1024,
                 .status = lifecycle::VolumeStatus::kInUse,
                 .vm = 7,
                 .slot = 2,
                 .delete_on_termination = true,
                 .path = "/d/vol-5.raw",
                 .job = VolumeJob::kSnapshot,
                 .job_size_mib = 0,
                 .job_snapshot = 9,
                 .error = "last extend: no space",
                 .snapshots = {{8, lifecycle::SnapshotStatus::kAvailable, 512, kT0},
                               {9, lifecycle::SnapshotStatus::kCreating, 1024, kT0 + 5}},
                 .created_at = kT0,
                 .updated_at = kT0 + 5};
  VolumeRow gone = data;
  gone.id = 6;
  gone.name = "gone";
  gone.snapshots.clear();
  {
    std::unique_ptr<Store> store = must_open(path);
    ASSERT_NE(store, nullptr);
    Batch batch;
    batch.networks = {net};
    batch.volumes = {data, gone};
    must_commit(*store, batch);
    Batch remove;
    remove.deleted_volumes = {6};
    must_commit(*store, remove);
  }
  std::unique_ptr<Store> store = must_open(path);
  ASSERT_NE(store, nullptr);
  const Loaded loaded = must_load(*store);
  EXPECT_EQ(loaded.networks, std::vector<NetworkRow>{net});
  EXPECT_EQ(loaded.volumes, std::vector<VolumeRow>{data});
}

TEST(SqliteStoreTest, SecurityGroupsAndNicGroupsRoundTripAndDeletesGo) {
  TempDir dir;
  const std::string path = dir.file("corral.db");
  const SecurityGroupRow def{.id = 1,
                             .name = "default",
                             .description = "Neutron's",
                             .rules = {{1, 2, 1, "", "", false}, {2, 1, 1, "", "", true}},
                             .next_rule_id = 3,
                             .created_at = kT0,
                             .updated_at = kT0};
  const SecurityGroupRow web{.id = 2,
                             .name = "web",
                             .description = "",
                             .rules = {{4, 1, 2, "22,80,1000:2000", "10.0.0.0/8", false}},
                             .next_rule_id = 5,
                             .created_at = kT0,
                             .updated_at = kT0 + 3};
  SecurityGroupRow gone = web;
  gone.id = 3;
  gone.name = "gone";
  Vm vm = make_vm(4, State::kPending);
  vm.nics = {{0, 1, "10.77.0.2", "02:00:0a:4d:00:02", {1, 2}}};
  {
    std::unique_ptr<Store> store = must_open(path);
    ASSERT_NE(store, nullptr);
    Batch batch{{&vm}, {}, {}};
    batch.security_groups = {def, web, gone};
    must_commit(*store, batch);
    Batch remove;
    remove.deleted_security_groups = {3};
    must_commit(*store, remove);
  }
  std::unique_ptr<Store> store = must_open(path);
  ASSERT_NE(store, nullptr);
  const Loaded loaded = must_load(*store);
  EXPECT_EQ(loaded.security_groups, (std::vector<SecurityGroupRow>{def, web}));
  ASSERT_EQ(loaded.vms.size(), 1u);
  EXPECT_EQ(loaded.vms[0].nics, vm.nics);
}

TEST(SqliteStoreTest, TheVmsOwnOperationWinsOverAStaleRowInTheSameBatch) {
  TempDir dir;
  std::unique_ptr<Store> store = must_open(dir.file("corral.db"));
  ASSERT_NE(store, nullptr);
  Vm vm = make_vm(3, State::kInit);
  vm.record = lifecycle::new_record();
  OperationRow stale{vm.id, *vm.record.op, vm.op};  // queued when the operation began
  vm.record.op->step = 2;                           // then the VM moved on in the same batch
  vm.op.attempt = 3;
  must_commit(*store, Batch{{&vm}, {stale}, {}});

  expect_vms_eq(must_load(*store).vms, {vm});
  expect_operation_eq(*store->operation(vm.op.id), OperationRow{vm.id, *vm.record.op, vm.op});
}

// An operation that ended in the batch is listed at each of its steps; the last version is
// the one stored, whatever the order of other operations' rows around it.
TEST(SqliteStoreTest, OfAnOperationsVersionsInOneBatchTheLastIsStored) {
  TempDir dir;
  std::unique_ptr<Store> store = must_open(dir.file("corral.db"));
  ASSERT_NE(store, nullptr);
  Vm vm = make_vm(4, State::kInit);
  vm.record = lifecycle::new_record();
  vm.op.id = 41;
  const auto version = [&](OpId id, int step, OpStatus status) {
    OperationRow row{vm.id, *vm.record.op, vm.op};
    row.meta.id = id;
    row.op.step = step;
    row.op.status = status;
    return row;
  };
  const OperationRow first_ended = version(39, 2, OpStatus::kSucceeded);
  const OperationRow second_ended = version(40, 1, OpStatus::kFailed);
  must_commit(*store, Batch{{&vm},
                            {version(39, 0, OpStatus::kRunning), version(40, 0, OpStatus::kRunning),
                             version(39, 1, OpStatus::kRunning), first_ended, second_ended,
                             version(41, 0, OpStatus::kRunning)},
                            {}});

  expect_operation_eq(*store->operation(39), first_ended);
  expect_operation_eq(*store->operation(40), second_ended);
  expect_operation_eq(*store->operation(41), OperationRow{vm.id, *vm.record.op, vm.op});
}

TEST(SqliteStoreTest, AnEmptyStoreLoadsNothing) {
  TempDir dir;
  std::unique_ptr<Store> store = must_open(dir.file("corral.db"));
  ASSERT_NE(store, nullptr);
  Loaded loaded = must_load(*store);
  EXPECT_TRUE(loaded.vms.empty());
  EXPECT_EQ(loaded.max_vm_id, 0);
  EXPECT_EQ(loaded.max_op_id, 0);
  EXPECT_TRUE(store->commit(Batch{}).has_value());
  EXPECT_EQ(*store->count_transitions(), 0);
}

// ---- Failed commits leave nothing behind ---------------------------------------------------

struct Snapshot {
  Loaded loaded;
  std::int64_t transitions = 0;
};

Snapshot snapshot(Store& store) { return Snapshot{must_load(store), *store.count_transitions()}; }

void expect_unchanged(Store& store, const Snapshot& before) {
  Snapshot now = snapshot(store);
  expect_vms_eq(now.loaded.vms, before.loaded.vms);
  EXPECT_EQ(now.loaded.max_op_id, before.loaded.max_op_id);
  EXPECT_EQ(now.transitions, before.transitions);
}

struct BadBatch {
  const char* name;
  bool unknown_vm_in_transition;  // else: an operation row of an unknown VM
};

class BadBatchTest : public ::testing::TestWithParam<BadBatch> {};

TEST_P(BadBatchTest, IsRolledBackWhole) {
  TempDir dir;
  const std::string path = dir.file("corral.db");
  std::unique_ptr<Store> store = must_open(path);
  ASSERT_NE(store, nullptr);
  const Vm old_vm = make_vm(1, State::kRunning);
  must_commit(*store, Batch{{&old_vm}, {}, {make_transition(old_vm, 0)}});
  const Snapshot before = snapshot(*store);

  // Good rows first, the bad one last: all of it must go.
  Vm changed = old_vm;
  changed.record.state = State::kPoweroff;
  const Vm new_vm = make_vm(2, State::kInit);
  OpMeta past_meta;  // an earlier operation of the new VM
  past_meta.id = 77;
  Batch batch{{&changed, &new_vm},
              {OperationRow{new_vm.id, *new_vm.record.op, past_meta}},
              {make_transition(changed, 1), make_transition(new_vm, 1)}};
  Vm ghost = make_vm(99, State::kRunning);
  if (GetParam().unknown_vm_in_transition) {
    batch.transitions.push_back(make_transition(ghost, 2));
  } else {
    batch.operations.push_back(OperationRow{ghost.id, *ghost.record.op, ghost.op});
  }
  Status s = store->commit(batch);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, ErrorCode::kInternal);
  EXPECT_THAT(s.error().message, HasSubstr("FOREIGN KEY"));
  EXPECT_THAT(s.error().message, HasSubstr(path));

  expect_unchanged(*store, before);
  Result<std::optional<OperationRow>> op = store->operation(77);
  ASSERT_TRUE(op.has_value());
  EXPECT_FALSE(op->has_value());

  // The store is still usable, and the file holds exactly what was committed.
  must_commit(*store, Batch{{&changed}, {}, {make_transition(changed, 1)}});
  store.reset();
  store = must_open(path);
  ASSERT_NE(store, nullptr);
  expect_vms_eq(must_load(*store).vms, {changed});
  EXPECT_EQ(*store->count_transitions(), 2);
  EXPECT_EQ(*store->integrity_check(), "ok");
}

INSTANTIATE_TEST_SUITE_P(ForeignKeys, BadBatchTest,
                         ::testing::Values(BadBatch{"TransitionOfAnUnknownVm", true},
                                           BadBatch{"OperationOfAnUnknownVm", false}),
                         param_name<BadBatch>);

// Caps the size of any file this process writes, as a full disk would; restores it on exit.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    old_handler_ = signal(SIGXFSZ, SIG_IGN);  // a write past the limit fails with EFBIG
    getrlimit(RLIMIT_FSIZE, &old_);
    rlimit limit = old_;
    limit.rlim_cur = bytes;
    EXPECT_EQ(setrlimit(RLIMIT_FSIZE, &limit), 0);
  }
  ~FileSizeLimit() {
    setrlimit(RLIMIT_FSIZE, &old_);
    signal(SIGXFSZ, old_handler_);
  }
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;

 private:
  rlimit old_{};
  sighandler_t old_handler_;
};

TEST(SqliteStoreTest, AWriteFailureIsUnavailableAndRolledBack) {
  TempDir dir;
  const std::string path = dir.file("corral.db");
  std::unique_ptr<Store> store = must_open(path);
  ASSERT_NE(store, nullptr);
  const Vm vm = make_vm(1, State::kRunning);
  must_commit(*store, Batch{{&vm}, {}, {make_transition(vm, 0)}});
  const Snapshot before = snapshot(*store);

  Vm changed = vm;
  changed.record.state = State::kPaused;
  Batch big{{&changed}, {}, {}};
  for (int n = 0; n < 2000; ++n) {
    big.transitions.push_back(make_transition(changed, n));
    big.transitions.back().reason = std::string(1024, 'r');
  }
  Status s;
  {
    const auto wal_size = std::filesystem::file_size(path + "-wal");
    FileSizeLimit limit(wal_size + 64 * 1024);  // room for far less than 2 MB of history
    s = store->commit(big);
  }
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, ErrorCode::kUnavailable);
  EXPECT_THAT(s.error().message, HasSubstr(path));
  expect_unchanged(*store, before);

  // Space is back: the same store commits again, and a reopened file agrees.
  must_commit(*store, big);
  store.reset();
  store = must_open(path);
  ASSERT_NE(store, nullptr);
  expect_vms_eq(must_load(*store).vms, {changed});
  EXPECT_EQ(*store->count_transitions(), 2001);
  EXPECT_EQ(*store->integrity_check(), "ok");
}

// ---- Integrity and concurrency --------------------------------------------------------------

TEST(SqliteStoreTest, IntegrityCheckSaysOk) {
  TempDir dir;
  std::unique_ptr<Store> store = must_open(dir.file("corral.db"));
  ASSERT_NE(store, nullptr);
  const std::vector<Vm> vms = sample_vms();
  Batch batch;
  for (const Vm& vm : vms) {
    batch.vms.push_back(&vm);
    batch.transitions.push_back(make_transition(vm, 0));
  }
  must_commit(*store, batch);
  Result<std::string> check = store->integrity_check();
  ASSERT_TRUE(check.has_value()) << check.error().message;
  EXPECT_EQ(*check, "ok");
}

TEST(SqliteStoreTest, ReadsRunWhileTheWriterCommits) {
  TempDir dir;
  std::unique_ptr<Store> store = must_open(dir.file("corral.db"));
  ASSERT_NE(store, nullptr);
  Vm vm = make_vm(1, State::kRunning);
  must_commit(*store, Batch{{&vm}, {}, {}});

  constexpr int kBatches = 40;
  constexpr int kPerBatch = 25;
  std::atomic<bool> done{false};
  std::atomic<int> read_errors{0};
  std::atomic<int> went_backwards{0};
  std::thread reader([&] {
    std::int64_t last = 0;
    while (!done.load()) {
      Result<std::int64_t> n = store->count_transitions();
      Result<std::vector<TransitionRow>> h = store->history(vm.id, 0, 10);
      Result<std::optional<OperationRow>> op = store->operation(vm.op.id);
      if (!n || !h || !op) {
        ++read_errors;
        continue;
      }
      // A reader sees whole batches only, and never an older snapshot than before.
      if (*n < last || *n % kPerBatch != 0) ++went_backwards;
      last = *n;
    }
  });
  for (int b = 0; b < kBatches; ++b) {
    vm.updated_at = kT0 + b;
    Batch batch{{&vm}, {}, {}};
    for (int n = 0; n < kPerBatch; ++n) batch.transitions.push_back(make_transition(vm, n));
    must_commit(*store, batch);
  }
  done = true;
  reader.join();
  EXPECT_EQ(read_errors.load(), 0);
  EXPECT_EQ(went_backwards.load(), 0);
  EXPECT_EQ(*store->count_transitions(), kBatches * kPerBatch);
}

}  // namespace
}  // namespace corral::store
