#include "agent/outbox.h"

#include <algorithm>

namespace corral::agent {

void Outbox::push(v1::AgentMessage message) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(message));
    trim();
  }
  cv_.notify_all();
}

void Outbox::push_progress(v1::AgentMessage message) {
  {
    std::lock_guard lock(mu_);
    // Only a report of the same phase is replaced: one of an earlier phase (its downtime) keeps
    // its place before that phase's result.
    const v1::PhaseProgress& p = message.phase_progress();
    auto queued = std::find_if(queue_.begin(), queue_.end(), [&p](const v1::AgentMessage& m) {
      if (!m.has_phase_progress()) return false;
      const v1::PhaseProgress& q = m.phase_progress();
      return q.vm() == p.vm() && q.op() == p.op() && q.step() == p.step() &&
             q.attempt() == p.attempt();
    });
    if (queued != queue_.end()) {
      *queued = std::move(message);
    } else {
      queue_.push_back(std::move(message));
      trim();
    }
  }
  cv_.notify_all();
}

std::vector<v1::AgentMessage> Outbox::take_all() {
  std::lock_guard lock(mu_);
  std::vector<v1::AgentMessage> out(std::make_move_iterator(queue_.begin()),
                                    std::make_move_iterator(queue_.end()));
  queue_.clear();
  return out;
}

void Outbox::put_back_front(std::vector<v1::AgentMessage> messages) {
  std::lock_guard lock(mu_);
  queue_.insert(queue_.begin(), std::make_move_iterator(messages.begin()),
                std::make_move_iterator(messages.end()));
  trim();
}

void Outbox::wait(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return !queue_.empty() || woken_; });
  woken_ = false;
}

void Outbox::wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

std::size_t Outbox::size() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

std::size_t Outbox::dropped() const {
  std::lock_guard lock(mu_);
  return dropped_;
}

void Outbox::trim() {
  while (queue_.size() > capacity_) {
    auto event = std::find_if(queue_.begin(), queue_.end(),
                              [](const v1::AgentMessage& m) { return m.has_phase_progress(); });
    if (event == queue_.end()) {
      event = std::find_if(queue_.begin(), queue_.end(),
                           [](const v1::AgentMessage& m) { return m.has_power_event(); });
    }
    queue_.erase(event != queue_.end() ? event : queue_.begin());
    ++dropped_;
  }
}

}  // namespace corral::agent
