// Measurements of the SQLite store, DISABLED_ so that they run only when asked
// (--gtest_also_run_disabled_tests): commit rates by batch size and the load time of 100,000
// VMs. They print; they never assert timings.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "store/sqlite_test_support.h"
#include "store/store.h"

namespace corral::store {
namespace {

using namespace test_support;  // NOLINT(google-build-using-namespace): test fixtures

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

long rss_kib() {
  std::ifstream status("/proc/self/status");
  std::string key;
  long value = 0;
  while (status >> key) {
    if (key == "VmRSS:") {
      status >> value;
      return value;
    }
  }
  return 0;
}

// Commits `total` transitions in batches of `per_batch`, each with its VM row and its
// operation row (the VM's current operation), over a population of 10,000 VMs.
TEST(SqliteStoreTest, DISABLED_CommitThroughput) {
  // CORRAL_STORE_BENCH_DIR puts the file on another disk; the default is /tmp.
  const char* where = std::getenv("CORRAL_STORE_BENCH_DIR");
  TempDir dir;
  const std::string path =
      where != nullptr ? std::string(where) + "/corral_bench.db" : dir.file("corral.db");
  std::filesystem::remove(path);
  std::unique_ptr<Store> store = must_open(path);
  ASSERT_NE(store, nullptr);

  constexpr int kVms = 10'000;
  std::vector<Vm> vms;
  vms.reserve(kVms);
  for (VmId id = 1; id <= kVms; ++id) vms.push_back(make_vm(id, State::kRunning));
  for (int start = 0; start < kVms; start += 1000) {
    Batch batch;
    for (int i = start; i < start + 1000; ++i) batch.vms.push_back(&vms[i]);
    must_commit(*store, batch);
  }

  struct Case {
    int per_batch;
    int total;
  };
  int next = 0;
  for (const Case c : {Case{1, 500}, Case{64, 32'000}, Case{1000, 100'000}}) {
    const auto start = std::chrono::steady_clock::now();
    for (int done = 0; done < c.total; done += c.per_batch) {
      Batch batch;
      for (int i = 0; i < c.per_batch; ++i) {
        Vm& vm = vms[next++ % kVms];
        vm.updated_at += 1;
        vm.record.op->step ^= 1;
        batch.vms.push_back(&vm);
        batch.transitions.push_back(make_transition(vm, i));
      }
      must_commit(*store, batch);
    }
    const double s = seconds_since(start);
    std::printf("batch %5d: %7d transitions in %6.3f s = %9.0f transitions/s (%.2f ms/commit)\n",
                c.per_batch, c.total, s, c.total / s, 1000.0 * s / (c.total / c.per_batch));
  }
  store.reset();
  if (where != nullptr) {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  }
}

TEST(SqliteStoreTest, DISABLED_Load100kVms) {
  TempDir dir;
  const std::string path = dir.file("corral.db");
  constexpr int kVms = 100'000;
  {
    std::unique_ptr<Store> store = must_open(path);
    ASSERT_NE(store, nullptr);
    for (int start = 1; start <= kVms; start += 1000) {
      std::vector<Vm> vms;
      Batch batch;
      vms.reserve(1000);
      for (int id = start; id < start + 1000; ++id) {
        Vm& vm = vms.emplace_back(make_vm(id, lifecycle::kAllStates[id % lifecycle::kStateCount]));
        if (id % 3 == 0) vm.host = fmt::format("host-{}", id % 97);
        batch.vms.push_back(&vm);
        batch.transitions.push_back(make_transition(vm, 0));
      }
      must_commit(*store, batch);
    }
  }
  const long rss_before = rss_kib();
  const auto start = std::chrono::steady_clock::now();
  std::unique_ptr<Store> store = must_open(path);
  ASSERT_NE(store, nullptr);
  Loaded loaded = must_load(*store);
  const double s = seconds_since(start);
  ASSERT_EQ(loaded.vms.size(), static_cast<std::size_t>(kVms));
  std::printf("open + load of %d VMs: %.3f s; RSS +%ld KiB (%.0f bytes/VM, sizeof(Vm) = %zu)\n",
              kVms, s, rss_kib() - rss_before, 1024.0 * (rss_kib() - rss_before) / kVms,
              sizeof(Vm));
}

}  // namespace
}  // namespace corral::store
