// Claims with compare-and-set on the host generation (placement's resource-provider
// generation, ../shared/reference/hosts-migration.md:94), and the property that matters:
// under concurrent scheduling no host ever exceeds its capacity.
#include "sched/claim_book.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace corral::sched {
namespace {

HostSnapshot host(std::string name, Resources total) {
  HostSnapshot h;
  h.name = std::move(name);
  h.record = {lifecycle::HostState::kMonitored, false};
  h.total = total;
  h.cpu_allocation_ratio = 1.0;
  return h;
}

TEST(ClaimBookTest, ClaimFailsWhenTheGenerationMoved) {
  ClaimBook book({host("a", {4, 4096})});
  const std::uint64_t g0 = book.host(0).generation;
  auto first = book.claim(0, g0, {1, 1024});
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(*first, g0 + 1);
  // A second plan made on the same snapshot must re-plan.
  auto stale = book.claim(0, g0, {1, 1024});
  ASSERT_FALSE(stale.has_value());
  EXPECT_EQ(stale.error().code, ErrorCode::kConflict);
  EXPECT_EQ(book.host(0).used.vcpus, 1);
  ASSERT_TRUE(book.claim(0, *first, {1, 1024}).has_value());
  EXPECT_EQ(book.host(0).running_vms, 2);
}

TEST(ClaimBookTest, ClaimNeverOvercommitsAndReleaseGivesBack) {
  ClaimBook book({host("a", {2, 2048})});
  ASSERT_TRUE(book.claim(0, book.host(0).generation, {2, 1024}).has_value());
  auto over = book.claim(0, book.host(0).generation, {1, 512});
  ASSERT_FALSE(over.has_value());
  EXPECT_EQ(over.error().code, ErrorCode::kConflict);
  EXPECT_FALSE(book.release(0, {3, 0}).has_value()) << "cannot release more than in use";
  const std::uint64_t before = book.host(0).generation;
  ASSERT_TRUE(book.release(0, {2, 1024}).has_value());
  EXPECT_EQ(book.host(0).generation, before + 1);
  EXPECT_EQ(book.host(0).used.vcpus, 0);
  EXPECT_EQ(book.host(0).running_vms, 0);
  EXPECT_FALSE(book.claim(5, 0, {1, 1}).has_value());
  EXPECT_EQ(book.index_of("a"), 0u);
  EXPECT_FALSE(book.index_of("b").has_value());
}

TEST(ClaimBookTest, ScheduleReplansAndReportsNoValidHost) {
  ClaimBook book({host("a", {1, 1024}), host("b", {1, 1024})});
  std::vector<HostSnapshot> view = book.snapshot();
  PlacementRequest r;
  r.resources = {1, 1024};
  auto first = schedule(book, view, r, RankPolicy::kStriping);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->host, 0u);
  // A state change between the view and the claim moves the generation.
  book.set_record(1, {lifecycle::HostState::kMonitored, false});
  auto second = schedule(book, view, r, RankPolicy::kStriping);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->host, 1u);
  auto third = schedule(book, view, r, RankPolicy::kStriping);
  ASSERT_FALSE(third.has_value());
  EXPECT_EQ(third.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(third.error().message.find("No valid host"), std::string::npos);
}

// 64 threads create VMs concurrently against 1,000 hosts with room for fewer VMs than are
// asked for. After every claim the host is within capacity; at the end each host's use is
// exactly the sum of the claims the threads recorded on it, and within capacity.
TEST(ClaimBookTest, ConcurrentSchedulingNeverExceedsCapacity) {
  constexpr int kHosts = 1000;
  constexpr int kThreads = 64;
  constexpr int kVmsPerThread = 40;  // 2,560 asked for; about 2,000 fit
  std::vector<HostSnapshot> hosts;
  for (int i = 0; i < kHosts; ++i) {
    HostSnapshot h = host("h" + std::to_string(i), {2, 4096});
    if (i % 10 == 0) h.reserved = {0, 1024};  // room for one 2 GiB VM only
    hosts.push_back(std::move(h));
  }
  ClaimBook book(hosts);
  std::vector<std::vector<int>> claimed(kThreads, std::vector<int>(kHosts, 0));
  std::atomic<int> violations{0};
  std::atomic<int> placed{0};
  std::atomic<int> no_host{0};
  std::atomic<int> replans{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<HostSnapshot> view = book.snapshot();
      PlacementRequest r;
      r.resources = {1, 2048};
      const auto policy = static_cast<RankPolicy>(t % 3);  // packing collides the most
      for (int v = 0; v < kVmsPerThread; ++v) {
        auto s = schedule(book, view, r, policy, 10000);
        if (!s) {
          if (s.error().code == ErrorCode::kUnavailable) ++no_host;
          continue;
        }
        ++placed;
        replans += s->attempts - 1;
        ++claimed[t][s->host];
        const HostSnapshot now = book.host(s->host);
        const Resources cap = capacity(now);
        if (now.used.vcpus > cap.vcpus || now.used.memory_mib > cap.memory_mib) ++violations;
      }
    });
  }
  for (std::thread& th : threads) th.join();

  EXPECT_EQ(violations.load(), 0);
  EXPECT_EQ(placed.load() + no_host.load(), kThreads * kVmsPerThread);
  // Capacity: 900 hosts x 2 VMs + 100 hosts x 1 VM (memory-bound) = 1,900.
  EXPECT_EQ(placed.load(), 1900);
  int total = 0;
  for (int i = 0; i < kHosts; ++i) {
    int sum = 0;
    for (int t = 0; t < kThreads; ++t) sum += claimed[t][i];
    const HostSnapshot h = book.host(i);
    EXPECT_EQ(h.running_vms, sum) << h.name;
    EXPECT_EQ(h.used.memory_mib, sum * 2048) << h.name;
    EXPECT_LE(h.used.vcpus, capacity(h).vcpus) << h.name;
    EXPECT_LE(h.used.memory_mib, capacity(h).memory_mib) << h.name;
    total += sum;
  }
  EXPECT_EQ(total, placed.load());
  RecordProperty("replans", replans.load());
}

}  // namespace
}  // namespace corral::sched
