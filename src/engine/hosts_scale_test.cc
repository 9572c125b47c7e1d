// The scheduler under concurrency: 64 threads creating VMs at once on 1,000 hosts never take
// a host beyond (total - reserved) * allocation ratio, and what cannot be placed waits PENDING.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <thread>

#include "engine/hosts_testing.h"
#include "sched/host_snapshot.h"

namespace corral::engine {
namespace {

namespace lc = corral::lifecycle;
using testing::HostsTest;

TEST_F(HostsTest, SixtyFourConcurrentCreatesOnAThousandHostsNeverOvercommit) {
  start();
  constexpr int kHosts = 1000;
  for (int i = 0; i < kHosts; ++i) {
    const std::string name = "h" + std::to_string(i);
    HostSpec spec;
    spec.reserved = {1, 0};  // (2 - 1) * 4.0 = 4 vCPUs to place
    ASSERT_TRUE(add(name, spec));
    ASSERT_TRUE(connect(name, {}, 2, 2048));
  }
  // 3 vCPUs each: one VM per host, so 1,280 creates leave 280 PENDING.
  constexpr int kThreads = 64;
  constexpr int kEach = 20;
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        CreateRequest request;
        request.name = "vm";
        request.model = {3, 256, "img"};
        if (!engine_->create(std::move(request))) ++failed;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failed, 0);
  auto settled = [&] {
    ListQuery q;
    q.limit = 100'000;
    int running = 0;
    int pending = 0;
    for (const store::Vm& vm : engine_->list(q).vms) {
      if (vm.record.busy()) return false;
      running += vm.record.state == lc::State::kRunning;
      pending += vm.record.state == lc::State::kPending;
    }
    return running == kHosts && pending == kThreads * kEach - kHosts;
  };
  ASSERT_TRUE(eventually(settled));
  std::map<std::string, int> vcpus;
  ListQuery q;
  q.limit = 100'000;
  for (const store::Vm& vm : engine_->list(q).vms) {
    if (!vm.host.empty()) vcpus[vm.host] += vm.model.vcpus;
  }
  for (const HostDetail& h : engine_->host_details()) {
    const std::int64_t cap =
        sched::scaled(h.row.capacity.vcpus, h.row.reserved.vcpus, h.row.cpu_allocation_ratio);
    EXPECT_LE(h.used_vcpus, cap) << h.row.name;
    EXPECT_LE(vcpus[h.row.name], cap) << h.row.name;
    EXPECT_EQ(vcpus[h.row.name], h.used_vcpus) << h.row.name;
  }
}

}  // namespace
}  // namespace corral::engine
