// The fence guard's lease: pure logic, time injected.
//
// Contract: the agent renews the lease with the set of VM processes that must die if it is
// not renewed in time (its may_fence VMs). The deadline is the last renewal + lease_ms, read
// on the clock the caller passes (production: BoottimeClock, so time spent suspended counts:
// the controller's clock kept running while this host slept). A renewal replaces the whole
// set. lease_ms 0 means "never fence" (the controller's lease 0), and an empty set never
// expires either (nothing to kill). take_expired() hands the set out exactly once and disarms
// the lease: after a fence the agent must renew again to re-arm it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"

namespace corral::agent::guard {

// One VM the guard may have to kill: the VM's id (for logs) and its process, identified by
// pid and start time (field 22 of /proc/<pid>/stat, clock ticks since boot) so that a pid
// reused by another process is never killed.
struct FencedVm {
  std::string vm;
  pid_t pid = 0;
  std::uint64_t start_time = 0;

  bool operator==(const FencedVm&) const = default;
};

// CLOCK_BOOTTIME in milliseconds: monotonic, and it keeps counting while suspended.
// (Not Unix time: only differences between two readings mean anything.)
class BoottimeClock final : public Clock {
 public:
  Millis now_ms() const override;
};

class FenceLease {
 public:
  // Replaces the lease: deadline = now + lease_ms, the set to kill = vms.
  void renew(Millis now, Millis lease_ms, std::vector<FencedVm> vms);
  // Disarms the lease (the agent shut its VMs down or gave them up on purpose).
  void clear();

  // True when renewed with lease_ms > 0 and at least one VM, and not yet expired/cleared.
  bool armed() const { return lease_ms_ > 0 && !vms_.empty(); }
  // When the lease runs out; nullopt when not armed.
  std::optional<Millis> deadline() const;
  // Milliseconds left (0 when due); nullopt when not armed.
  std::optional<Millis> remaining(Millis now) const;

  // When armed and now >= deadline: returns the set and disarms. Otherwise empty.
  std::vector<FencedVm> take_expired(Millis now);

  Millis lease_ms() const { return lease_ms_; }
  const std::vector<FencedVm>& vms() const { return vms_; }

 private:
  Millis renewed_at_ = 0;
  Millis lease_ms_ = 0;
  std::vector<FencedVm> vms_;
};

}  // namespace corral::agent::guard
