// Fixtures and helpers shared by the SQLite store's tests: a temporary directory, raw SQL on
// the file, VMs and history entries to store, and field-by-field comparisons that name the
// field that differs.
#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/store.h"

namespace corral::store::test_support {

using lifecycle::Action;
using lifecycle::OpStatus;
using lifecycle::Phase;
using lifecycle::Power;
using lifecycle::State;

inline constexpr Millis kT0 = 1'700'000'000'000;

class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/corral_store_test_XXXXXX";
    const char* made = mkdtemp(pattern);
    EXPECT_NE(made, nullptr) << "mkdtemp failed";
    path_ = made != nullptr ? made : "/tmp";
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline std::unique_ptr<Store> must_open(const std::string& path) {
  Result<std::unique_ptr<Store>> store = open_sqlite_store(path);
  EXPECT_TRUE(store.has_value()) << (store ? "" : store.error().message);
  return store ? std::move(*store) : nullptr;
}

inline Loaded must_load(Store& store) {
  Result<Loaded> loaded = store.load();
  EXPECT_TRUE(loaded.has_value()) << (loaded ? "" : loaded.error().message);
  return loaded ? std::move(*loaded) : Loaded{};
}

inline void must_commit(Store& store, const Batch& batch) {
  Status s = store.commit(batch);
  ASSERT_TRUE(s.has_value()) << s.error().message;
}

// Direct SQL on the file, for what the Store interface does not expose (user_version) and for
// damage the store must notice.
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
  }
  ~RawDb() { sqlite3_close_v2(db_); }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;
  void exec(const std::string& sql) {
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK)
        << sql << ": " << (err ? err : "");
    sqlite3_free(err);
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

inline Vm make_vm(VmId id, State state) {
  Vm vm;
  vm.id = id;
  vm.name = fmt::format("vm-{}", id);
  vm.model = VmModel{2, 2048, "debian-12"};
  vm.record = lifecycle::record_at_rest(state);
  if (vm.record.op) {
    vm.op = OpMeta{.id = id * 10,
                   .params = {},
                   .actor = "api",
                   .request_id = fmt::format("req-{}", id),
                   .started_at = kT0 + id,
                   .deadline = vm.record.op->running() ? kT0 + id + 300'000 : 0,
                   .finished_at = vm.record.op->running() ? 0 : kT0 + id + 5,
                   .error = "",
                   .attempt = 1};
  }
  vm.created_at = kT0 + id;
  vm.updated_at = kT0 + id + 5;
  return vm;
}

inline TransitionRow make_transition(const Vm& vm, int n) {
  TransitionRow t;
  t.vm_id = vm.id;
  t.op_id = vm.op.id;
  t.from = State::kPending;
  t.to = vm.record.state;
  t.action = Action::kDeploy;
  t.phase = static_cast<Phase>(n % lifecycle::kPhaseCount);
  t.status = n % 2 == 0 ? OpStatus::kRunning : OpStatus::kSucceeded;
  t.actor = "scheduler";
  t.request_id = fmt::format("req-{}-{}", vm.id, n);
  t.at = kT0 + n;
  t.reason = fmt::format("step {}", n);
  // The record after it (migration 10): absent in the first entry, as in one written before.
  if (n > 0) {
    lifecycle::VmRecord r;
    r.state = t.to;
    r.op = lifecycle::Operation{
        Action::kDeploy, State::kPending, static_cast<std::uint8_t>(n),
        t.status,        n == 2,          n == 2 ? std::optional(OpStatus::kFailed) : std::nullopt};
    r.power = lifecycle::Power::kRunning;
    t.after = TransitionRow::After{r, 2 + n, 256 * n};
  }
  return t;
}

inline void expect_meta_eq(const OpMeta& got, const OpMeta& want) {
  EXPECT_EQ(got.id, want.id);
  EXPECT_EQ(got.params, want.params);
  EXPECT_EQ(got.actor, want.actor);
  EXPECT_EQ(got.request_id, want.request_id);
  EXPECT_EQ(got.started_at, want.started_at);
  EXPECT_EQ(got.deadline, want.deadline);
  EXPECT_EQ(got.finished_at, want.finished_at);
  EXPECT_EQ(got.error, want.error);
  EXPECT_EQ(got.attempt, want.attempt);
}

inline void expect_vm_eq(const Vm& got, const Vm& want) {
  SCOPED_TRACE(fmt::format("vm {}", want.id));
  EXPECT_EQ(got.id, want.id);
  EXPECT_EQ(got.name, want.name);
  EXPECT_TRUE(got.model == want.model);
  EXPECT_EQ(got.desired.has_value(), want.desired.has_value());
  EXPECT_TRUE(got.desired == want.desired);
  EXPECT_EQ(got.model_error, want.model_error);
  EXPECT_EQ(got.record.state, want.record.state);
  EXPECT_EQ(got.record.power, want.record.power);
  EXPECT_EQ(got.record.resched, want.record.resched);
  EXPECT_EQ(got.record.op.has_value(), want.record.op.has_value());
  EXPECT_TRUE(got.record == want.record);
  // Vm::op only means something while record.op has a value.
  expect_meta_eq(got.op, want.record.op ? want.op : OpMeta{});
  EXPECT_EQ(got.host, want.host);
  EXPECT_EQ(got.pending_reason, want.pending_reason);
  EXPECT_EQ(got.created_at, want.created_at);
  EXPECT_EQ(got.updated_at, want.updated_at);
  EXPECT_EQ(got.locked_by, want.locked_by);
  EXPECT_EQ(got.lock_reason, want.lock_reason);
}

inline void expect_vms_eq(const std::vector<Vm>& got, const std::vector<Vm>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) expect_vm_eq(got[i], want[i]);
}

inline void expect_transition_eq(const TransitionRow& got, const TransitionRow& want) {
  EXPECT_EQ(got.vm_id, want.vm_id);
  EXPECT_EQ(got.op_id, want.op_id);
  EXPECT_EQ(got.from, want.from);
  EXPECT_EQ(got.to, want.to);
  EXPECT_EQ(got.action, want.action);
  EXPECT_EQ(got.phase, want.phase);
  EXPECT_EQ(got.status, want.status);
  EXPECT_EQ(got.actor, want.actor);
  EXPECT_EQ(got.request_id, want.request_id);
  EXPECT_EQ(got.at, want.at);
  EXPECT_EQ(got.reason, want.reason);
  EXPECT_EQ(got.after, want.after);
}

inline void expect_operation_eq(const std::optional<OperationRow>& got, const OperationRow& want) {
  ASSERT_TRUE(got.has_value()) << "operation " << want.meta.id;
  SCOPED_TRACE(fmt::format("operation {}", want.meta.id));
  EXPECT_EQ(got->vm_id, want.vm_id);
  EXPECT_TRUE(got->op == want.op);
  expect_meta_eq(got->meta, want.meta);
}

// The VMs the round trip stores: one at rest in every state, plus the odd cases.
inline std::vector<Vm> sample_vms() {
  std::vector<Vm> vms;
  VmId id = 1;
  for (State s : lifecycle::kAllStates) vms.push_back(make_vm(id++, s));

  Vm no_op = make_vm(id++, State::kPending);  // a record that never had an operation
  no_op.record = lifecycle::VmRecord{State::kPending, std::nullopt, Power::kNoState, true};
  no_op.pending_reason = "no host has 64 vCPUs free";
  vms.push_back(no_op);

  Vm placed = make_vm(id++, State::kRunning);  // desired model, host, model error
  placed.host = "host-7";
  placed.desired = VmModel{8, 16384, "debian-13"};
  placed.model_error = "host-7 lacks 8 vCPUs";
  vms.push_back(placed);

  Vm creating = make_vm(id++, State::kInit);  // a running operation, pre-empting one
  creating.record = lifecycle::new_record();
  creating.record.op->during = true;
  creating.record.op->step = 255;
  creating.op.attempt = 0xFFFF'FFFF;
  creating.op.params = params_from_json_text(R"({"host":"h1","quote":"it's","name":"s1"})");
  vms.push_back(creating);

  Vm odd = make_vm(id++, State::kFailed);  // text that would break SQL built from strings
  odd.name = "x'); DROP TABLE vms; --";
  odd.model.image = std::string("nul\0inside", 10);
  odd.host = "h\xC3\xB4te";  // UTF-8
  odd.op.error = "boot failed: \"kernel panic\"\n";
  odd.op.started_at = INT64_MIN;
  odd.op.deadline = INT64_MAX;
  odd.desired = VmModel{0, 0, ""};  // empty but present: not the same as none
  odd.locked_by = lifecycle::LockedBy::kAdmin;
  odd.lock_reason = "'; --";
  vms.push_back(odd);
  vms.front().locked_by = lifecycle::LockedBy::kOwner;
  return vms;
}

// Names a parameterized case after its `name` field.
template <typename T>
std::string param_name(const ::testing::TestParamInfo<T>& p) {
  return p.param.name;
}

}  // namespace corral::store::test_support
