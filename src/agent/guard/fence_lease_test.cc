#include "agent/guard/fence_lease.h"

#include <gtest/gtest.h>

#include <thread>

namespace corral::agent::guard {
namespace {

const std::vector<FencedVm> kTwo{{"a", 100, 7}, {"b", 200, 8}};

TEST(FenceLease, NeverRenewedNeverExpires) {
  FenceLease lease;
  EXPECT_FALSE(lease.armed());
  EXPECT_FALSE(lease.deadline());
  EXPECT_TRUE(lease.take_expired(1'000'000'000).empty());
}

struct ExpiryCase {
  const char* name;
  Millis lease_ms;
  Millis elapsed;
  bool fences;
};

TEST(FenceLease, ExpiresAtRenewPlusLease) {
  const ExpiryCase cases[] = {
      {"just renewed", 6000, 0, false},
      {"one ms early", 6000, 5999, false},
      {"exactly at the deadline", 6000, 6000, true},
      {"long after", 6000, 60'000, true},
      {"lease 0 is never", 0, 1'000'000, false},
      {"negative lease is never", -5, 1'000'000, false},
  };
  for (const auto& c : cases) {
    FenceLease lease;
    lease.renew(1000, c.lease_ms, kTwo);
    const auto out = lease.take_expired(1000 + c.elapsed);
    EXPECT_EQ(out.empty(), !c.fences) << c.name;
    if (c.fences) {
      EXPECT_EQ(out, kTwo) << c.name;
      EXPECT_FALSE(lease.armed()) << c.name;
    }
  }
}

TEST(FenceLease, ExpiredSetIsHandedOutOnce) {
  FenceLease lease;
  lease.renew(0, 100, kTwo);
  EXPECT_EQ(lease.take_expired(100).size(), 2U);
  EXPECT_TRUE(lease.take_expired(200).empty());
  EXPECT_TRUE(lease.take_expired(100'000).empty());
}

TEST(FenceLease, RenewMovesTheDeadlineAndReplacesTheSet) {
  FenceLease lease;
  lease.renew(0, 100, kTwo);
  lease.renew(90, 100, {{"c", 300, 9}});
  EXPECT_EQ(lease.deadline(), 190);
  EXPECT_EQ(lease.remaining(150), 40);
  EXPECT_TRUE(lease.take_expired(150).empty());
  const auto out = lease.take_expired(190);
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].vm, "c");
}

TEST(FenceLease, ClearDisarms) {
  FenceLease lease;
  lease.renew(0, 100, kTwo);
  lease.clear();
  EXPECT_FALSE(lease.armed());
  EXPECT_TRUE(lease.take_expired(1000).empty());
}

TEST(FenceLease, EmptySetIsNotArmed) {
  FenceLease lease;
  lease.renew(0, 100, {});
  EXPECT_FALSE(lease.armed());
  EXPECT_FALSE(lease.remaining(50));
  EXPECT_TRUE(lease.take_expired(1000).empty());
}

TEST(FenceLease, RemainingNeverNegative) {
  FenceLease lease;
  lease.renew(0, 100, kTwo);
  EXPECT_EQ(lease.remaining(500), 0);
}

TEST(BoottimeClock, MovesForward) {
  const BoottimeClock clock;
  const Millis a = clock.now_ms();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const Millis b = clock.now_ms();
  EXPECT_GT(a, 0);
  EXPECT_GE(b - a, 19);
}

}  // namespace
}  // namespace corral::agent::guard
