#include "agent/guard/fence_lease.h"

#include <time.h>

#include <utility>

namespace corral::agent::guard {

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

std::vector<FencedVm> FenceLease::expire(Millis now) {
  const auto at = deadline();
  if (!at || now < *at) return {};
  std::vector<FencedVm> out = std::move(vms_);
  clear();
  return out;
}

Millis boottime_ms() {
  timespec ts{};
  ::clock_gettime(CLOCK_BOOTTIME, &ts);
  return static_cast<Millis>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

}  // namespace corral::agent::guard
