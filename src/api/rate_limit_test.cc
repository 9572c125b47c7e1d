#include "api/rate_limit.h"

#include <gtest/gtest.h>

#include <string>

namespace corral::api {
namespace {

TEST(RateLimiter, BurstThenSteadyRatePerClient) {
  RateLimiter limiter(10, 5);  // 10/s after a burst of 5
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(limiter.admit("a", 0).admitted) << i;
  const RateLimiter::Verdict refused = limiter.admit("a", 0);
  EXPECT_FALSE(refused.admitted);
  EXPECT_EQ(refused.retry_after_ms, 100);  // one request's worth at 10/s
  // Another client has its own bucket.
  EXPECT_TRUE(limiter.admit("b", 0).admitted);
  // 100 ms later one more request of "a" fits, and only one.
  EXPECT_TRUE(limiter.admit("a", 100).admitted);
  EXPECT_FALSE(limiter.admit("a", 100).admitted);
  // Refused requests cost nothing: after a second the burst is back, never more than it.
  for (int i = 0; i < 20; ++i) (void)limiter.admit("a", 150);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(limiter.admit("a", 5000).admitted) << i;
  EXPECT_FALSE(limiter.admit("a", 5000).admitted);
}

TEST(RateLimiter, ZeroMeansNoLimit) {
  RateLimiter limiter(0, 0);
  EXPECT_FALSE(limiter.enabled());
  for (int i = 0; i < 10'000; ++i) ASSERT_TRUE(limiter.admit("a", 0).admitted);
  EXPECT_EQ(limiter.clients(), 0U);
}

TEST(RateLimiter, KeepsAtMostMaxClients) {
  RateLimiter limiter(1, 1);
  for (std::size_t i = 0; i < RateLimiter::kMaxClients + 10; ++i) {
    (void)limiter.admit("c" + std::to_string(i), static_cast<std::int64_t>(i));
  }
  EXPECT_LE(limiter.clients(), RateLimiter::kMaxClients);
  // The newest client's bucket is still there: it is refused until it refills.
  EXPECT_FALSE(
      limiter
          .admit("c" + std::to_string(RateLimiter::kMaxClients + 9), RateLimiter::kMaxClients + 9)
          .admitted);
}

}  // namespace
}  // namespace corral::api
