// Outbox: what the agent must tell the controller (phase results, power events, progress), kept
// while the stream is down and sent, oldest first, once a new stream is welcomed.
//
// Contract: thread-safe. push() never blocks (the driver's sink calls it). take_all() hands
// over everything queued; a message that could not be written goes back with
// put_back_front() in its order, so nothing is lost or reordered across a reconnect. Bounded:
// past `capacity` messages progress reports go first (advisory), then the oldest power events (the
// controller re-reads every VM's state from the next Hello), then the oldest results (the
// controller's phase deadline and re-dispatch cover a lost result); `dropped()` counts them.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <vector>

#include "wire/agent.pb.h"

namespace corral::agent {

namespace v1 = ::corral::agent::v1;

class Outbox {
 public:
  explicit Outbox(std::size_t capacity = 100'000) : capacity_(capacity) {}

  void push(v1::AgentMessage message);
  // A PhaseProgress: advisory, so it replaces a queued report of the same phase (vm, op, step,
  // attempt): at most one per phase waits while the stream is down (the newest says all the
  // older ones did). Trimming drops progress before anything else.
  void push_progress(v1::AgentMessage message);
  std::vector<v1::AgentMessage> take_all();
  void put_back_front(std::vector<v1::AgentMessage> messages);
  // Waits until something is queued, `wake()` is called, or the timeout passes.
  void wait(std::chrono::milliseconds timeout);
  void wake();
  std::size_t size() const;
  std::size_t dropped() const;

 private:
  void trim();  // requires mu_

  const std::size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<v1::AgentMessage> queue_;
  std::size_t dropped_ = 0;
  bool woken_ = false;
};

}  // namespace corral::agent
