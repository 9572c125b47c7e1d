#include "api/rate_limit.h"

#include <algorithm>
#include <cmath>

namespace corral::api {

RateLimiter::RateLimiter(double per_second, double burst)
    : per_second_(per_second), burst_(std::max(1.0, burst)) {}

RateLimiter::Verdict RateLimiter::admit(std::string_view client, std::int64_t now_ms) {
  if (!enabled()) return {};
  std::lock_guard lock(mu_);
  auto it = buckets_.find(client);
  if (it == buckets_.end()) {
    if (buckets_.size() >= kMaxClients) evict(now_ms);
    it = buckets_.emplace(std::string(client), Bucket{burst_, now_ms}).first;
  }
  Bucket& b = it->second;
  const auto elapsed = static_cast<double>(std::max<std::int64_t>(0, now_ms - b.updated_ms));
  b.tokens = std::min(burst_, b.tokens + elapsed * per_second_ / 1000.0);
  b.updated_ms = std::max(b.updated_ms, now_ms);
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return {};
  }
  const double missing_ms = (1.0 - b.tokens) * 1000.0 / per_second_;
  return {false, std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(missing_ms)))};
}

std::size_t RateLimiter::clients() const {
  std::lock_guard lock(mu_);
  return buckets_.size();
}

void RateLimiter::evict(std::int64_t now_ms) {
  // Clients whose bucket has refilled are indistinguishable from new ones: drop them.
  std::erase_if(buckets_, [&](const auto& entry) {
    const Bucket& b = entry.second;
    return b.tokens + static_cast<double>(now_ms - b.updated_ms) * per_second_ / 1000.0 >= burst_;
  });
  if (buckets_.size() < kMaxClients) return;
  auto oldest = std::min_element(
      buckets_.begin(), buckets_.end(),
      [](const auto& a, const auto& b) { return a.second.updated_ms < b.second.updated_ms; });
  buckets_.erase(oldest);
}

}  // namespace corral::api
