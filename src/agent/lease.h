// Lease: how long the agent may keep its may_fence VMs running without hearing from the
// controller. Every controller message proves the controller hears this stream (the wire has
// no field acknowledging a heartbeat; a Ping or any other message counts); when lease_ms pass
// without one, the agent fences its may_fence VMs (the controller may restart them elsewhere
// after lease + margin). lease_ms 0: never expires.
//
// Contract: time is the injected Clock's (tests advance a FakeClock). Not thread-safe by itself;
// the agent's session guards it. fence_due() answers true once per expiry: after it, a new
// heard() is needed before it can be true again.
#pragma once

#include <cstdint>

#include "common/clock.h"

namespace corral::agent {

// CLOCK_BOOTTIME in ms: never jumps with the wall clock and keeps counting through a suspend,
// as the fence guard's clock does — a lease must not stretch because someone set the date.
class BootClock final : public Clock {
 public:
  Millis now_ms() const override;
};

class Lease {
 public:
  explicit Lease(const Clock& clock) : clock_(clock) {}

  // A Welcome: the lease and the time it starts counting from.
  void welcome(std::uint32_t lease_ms);
  void heard();  // any controller message
  // Whether the lease ran out since the last heard(); true once per expiry.
  bool fence_due();
  bool expired() const;
  Millis remaining_ms() const;  // 0 when expired; a large number when the lease is off
  std::uint32_t lease_ms() const { return lease_ms_; }

 private:
  const Clock& clock_;
  std::uint32_t lease_ms_ = 0;
  Millis last_heard_ = 0;
  bool active_ = false;  // welcomed at least once
  bool fenced_ = false;  // fence_due() said true for this expiry
};

}  // namespace corral::agent
