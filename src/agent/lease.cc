#include "agent/lease.h"

#include <time.h>

#include <limits>

namespace corral::agent {

Millis BootClock::now_ms() const {
  timespec ts{};
  ::clock_gettime(CLOCK_BOOTTIME, &ts);
  return static_cast<Millis>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

void Lease::welcome(std::uint32_t lease_ms) {
  lease_ms_ = lease_ms;
  active_ = true;
  heard();
}

void Lease::heard() {
  last_heard_ = clock_.now_ms();
  fenced_ = false;
}

bool Lease::expired() const {
  if (!active_ || lease_ms_ == 0) return false;
  return clock_.now_ms() - last_heard_ >= static_cast<Millis>(lease_ms_);
}

bool Lease::fence_due() {
  if (fenced_ || !expired()) return false;
  fenced_ = true;
  return true;
}

Millis Lease::remaining_ms() const {
  if (!active_ || lease_ms_ == 0) return std::numeric_limits<Millis>::max();
  const Millis left = static_cast<Millis>(lease_ms_) - (clock_.now_ms() - last_heard_);
  return left > 0 ? left : 0;
}

}  // namespace corral::agent
