// The fence guard's lease: pure logic, time injected.
//
// Contract: an agent renews the lease with the set of guest processes it may fence (its VMs
// marked may_fence, each identified by pid and start time) and the lease length. If no renew
// comes within lease_ms of the last one, the lease has expired: every process of the set must
// be stopped, once, and the set is cleared. A renew replaces the set; clear() empties it (the
// agent has no VM to fence, or it left on purpose). lease_ms 0 never expires. Time is
// milliseconds of CLOCK_BOOTTIME in production, so a machine that sleeps counts the sleep.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "common/clock.h"

namespace corral::agent::guard {

// A guest process, identified so that a pid reused by another process is never mistaken
// for it: the start time is field 22 of /proc/<pid>/stat (clock ticks since boot).
struct FencedVm {
  std::int64_t vm = 0;
  pid_t pid = 0;
  std::uint64_t start_time = 0;
  friend bool operator==(const FencedVm&, const FencedVm&) = default;
};

class FenceLease {
 public:
  void renew(Millis now, Millis lease_ms, std::vector<FencedVm> vms);
  void clear();
  // At `now`: the processes to stop if the lease ran out (each returned once; the set is
  // cleared), else nothing.
  std::vector<FencedVm> expire(Millis now);

  bool armed() const { return lease_ms_ > 0 && !vms_.empty(); }
  // When the lease runs out; nullopt if it cannot (not armed).
  std::optional<Millis> deadline() const;
  const std::vector<FencedVm>& vms() const { return vms_; }
  Millis lease_ms() const { return lease_ms_; }

 private:
  Millis renewed_at_ = 0;
  Millis lease_ms_ = 0;
  std::vector<FencedVm> vms_;
};

// CLOCK_BOOTTIME in milliseconds.
Millis boottime_ms();

}  // namespace corral::agent::guard
