// Per-client request rate limits: a token bucket per client address.
//
// Contract: a client may send `burst` requests at once and `per_second` a second after that;
// a request beyond is refused (the API answers 429 rate_limited with Retry-After) and costs
// nothing. Time is passed in (milliseconds of any monotonic clock), so tests choose it.
// Thread-safe. At most kMaxClients buckets are kept: when full, buckets that have refilled
// (idle clients) are dropped, then the oldest.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace corral::api {

class RateLimiter {
 public:
  static constexpr std::size_t kMaxClients = 65'536;

  // per_second <= 0: no limit.
  RateLimiter(double per_second, double burst);

  struct Verdict {
    bool admitted = true;
    std::int64_t retry_after_ms = 0;  // when refused: until one request's worth has refilled
  };
  Verdict admit(std::string_view client, std::int64_t now_ms);

  bool enabled() const { return per_second_ > 0; }
  double per_second() const { return per_second_; }
  std::size_t clients() const;

 private:
  struct Bucket {
    double tokens = 0;
    std::int64_t updated_ms = 0;
  };
  void evict(std::int64_t now_ms);

  const double per_second_;
  const double burst_;
  mutable std::mutex mu_;
  std::map<std::string, Bucket, std::less<>> buckets_;
};

}  // namespace corral::api
