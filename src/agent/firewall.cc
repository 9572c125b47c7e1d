#include "agent/firewall.h"

#include "common/log.h"
#include "wire/firewall_wire.h"

namespace corral::agent {

void HostFirewallWorker::start(Outbox* outbox) {
  outbox_ = outbox;
  if (apply_) worker_ = std::thread([this] { loop(); });
}

void HostFirewallWorker::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void HostFirewallWorker::submit(const v1::HostFirewall& job) {
  if (!apply_) {
    // No taps on this host: nothing to filter, so the job is as applied.
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      applied_ = job.generation();
    }
    answer(job.generation(), "");
    return;
  }
  {
    std::lock_guard lock(mu_);
    latest_ = job;
    ++latest_seq_;
    pending_ = true;
  }
  cv_.notify_one();
}

Status HostFirewallWorker::apply_latest() {
  if (!apply_) return {};
  std::lock_guard one(apply_mu_);  // after the job in hand, which may be older
  v1::HostFirewall job;
  std::uint64_t seq = 0;
  bool answer_it = false;
  {
    std::lock_guard lock(mu_);
    if (!latest_ || stopping_) return {};
    job = *latest_;
    seq = latest_seq_;
    answer_it = pending_;  // else the worker has it, and answers it
    pending_ = false;
  }
  // Applied even when it already was: the namespace may have been made only now.
  Status applied = apply_job(job, seq);
  if (answer_it) answer(job.generation(), applied ? "" : applied.error().message);
  return applied;
}

Status HostFirewallWorker::apply_job(const v1::HostFirewall& job, std::uint64_t seq) {
  Result<std::vector<net::NicFirewall>> nics = wire::nics_of(job);
  if (!nics) return fail(Error::invalid_argument("agent: " + nics.error().message));
  if (Status applied = apply_(*nics); !applied) return applied;
  std::lock_guard lock(mu_);
  applied_ = job.generation();
  applied_seq_ = seq;
  return {};
}

std::uint64_t HostFirewallWorker::applied_generation() const {
  std::lock_guard lock(mu_);
  return applied_;
}

void HostFirewallWorker::loop() {
  for (;;) {
    v1::HostFirewall job;
    std::uint64_t seq = 0;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || pending_; });
      if (stopping_) return;
      job = *latest_;
      seq = latest_seq_;
      pending_ = false;
    }
    run(job, seq);
  }
}

void HostFirewallWorker::run(const v1::HostFirewall& job, std::uint64_t seq) {
  Status applied;
  {
    std::lock_guard one(apply_mu_);
    bool done = false;
    {
      std::lock_guard lock(mu_);
      // A newer job came while this one waited for the lock: it goes next (or a phase's
      // apply_latest() applied and answered it), and applying this one now would undo it.
      if (latest_seq_ != seq) return;
      done = applied_seq_ == seq;  // a phase's apply_latest() applied it: answer only
    }
    if (!done) applied = apply_job(job, seq);
  }
  if (!applied) {
    log(LogLevel::kWarn, "firewall",
        {{"generation", std::to_string(job.generation())}, {"error", applied.error().message}});
  }
  answer(job.generation(), applied ? "" : applied.error().message);
}

void HostFirewallWorker::answer(std::uint64_t generation, const std::string& error) {
  {
    std::lock_guard lock(mu_);
    if (stopping_ || outbox_ == nullptr) return;
  }
  v1::AgentMessage m;
  m.mutable_firewall_result()->set_generation(generation);
  m.mutable_firewall_result()->set_error(error);
  outbox_->push(std::move(m));
}

}  // namespace corral::agent
