#include "agent/guard/fence_lease.h"

#include <time.h>

#include <utility>

namespace corral::agent::guard {

Millis BoottimeClock::now_ms() const {
  timespec ts{};
  // CLOCK_BOOTTIME cannot fail on Linux >= 2.6.39; a zero reading would only delay a fence.
  ::clock_gettime(CLOCK_BOOTTIME, &ts);
  return static_cast<Millis>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

void FenceLease::renew(Millis now, Millis lease_ms, std::vector<FencedVm> vms) {
  renewed_at_ = now;
  lease_ms_ = lease_ms < 0 ? 0 : lease_ms;
  vms_ = std::move(vms);
}

void FenceLease::clear() {
  lease_ms_ = 0;
  vms_.clear();
}

std::optional<Millis> FenceLease::deadline() const {
  if (!armed()) return std::nullopt;
  return renewed_at_ + lease_ms_;
}

std::optional<Millis> FenceLease::remaining(Millis now) const {
  const auto due = deadline();
  if (!due) return std::nullopt;
  return *due > now ? *due - now : 0;
}

std::vector<FencedVm> FenceLease::take_expired(Millis now) {
  const auto due = deadline();
  if (!due || now < *due) return {};
  std::vector<FencedVm> out = std::move(vms_);
  clear();
  return out;
}

}  // namespace corral::agent::guard
