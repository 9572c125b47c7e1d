#include "agent/state.h"

#include "agent/convert.h"
#include "agent/firewall.h"
#include "agent/metrics.h"
#include "agent/transfer_files.h"
#include "common/log.h"
#include "wire/protocol.h"

namespace corral::agent {

v1::AgentMessage AgentState::make_hello() {
  v1::AgentMessage m;
  v1::Hello* h = m.mutable_hello();
  h->set_protocol_version(wire::kProtocolVersion);
  h->set_agent_version(hello_.agent_version);
  h->set_host(hello_.host);
  *h->mutable_capacity() = hello_.capacity;
  for (const auto& [k, v] : hello_.labels) (*h->mutable_labels())[k] = v;
  for (const driver::FoundVm& vm : driver_.found()) *h->add_vms() = to_wire(vm);
  h->set_driver(hello_.driver);
  h->set_transfer_address(hello_.transfer_address);
  std::vector<std::pair<std::string, std::string>> images;
  for (const driver::ImageInfo& image : driver_.images()) {
    v1::Image* out = h->add_images();
    out->set_name(image.name);
    out->set_kind(image.kind);
    images.emplace_back(image.name, image.kind);
  }
  std::lock_guard lock(mu_);
  h->set_last_epoch(epoch_);
  images_sent_ = std::move(images);
  return m;
}

std::optional<v1::AgentMessage> AgentState::image_change() {
  std::vector<std::pair<std::string, std::string>> now;
  for (const driver::ImageInfo& image : driver_.images()) now.emplace_back(image.name, image.kind);
  std::lock_guard lock(mu_);
  if (now == images_sent_) return std::nullopt;
  v1::AgentMessage m;
  for (const auto& [name, kind] : now) {
    v1::Image* out = m.mutable_image_list()->add_images();
    out->set_name(name);
    out->set_kind(kind);
  }
  images_sent_ = std::move(now);
  return m;
}

std::vector<store::VmId> AgentState::on_welcome(const v1::Welcome& w) {
  {
    std::lock_guard lock(mu_);
    epoch_ = w.epoch();
    heartbeat_ms_ = w.heartbeat_interval_ms() > 0 ? w.heartbeat_interval_ms() : 2000;
    lease_.welcome(w.lease_ms());
    placed_.clear();
    for (const v1::PlacedVm& vm : w.vms()) {
      placed_[vm.vm()] = {vm.may_fence(), vm.model().vcpus(), vm.model().memory_mib(), 0};
    }
  }
  std::vector<store::VmId> discarded;
  for (const driver::FoundVm& vm : driver_.found()) {
    bool placed = false;
    {
      std::lock_guard lock(mu_);
      placed = placed_.contains(vm.vm);
    }
    if (placed) continue;
    log(LogLevel::kWarn, "discard",
        {{"vm", std::to_string(vm.vm)}, {"reason", "the controller does not place it here"}});
    driver_.discard(vm.vm);
    discarded.push_back(vm.vm);
  }
  return discarded;
}

bool AgentState::on_phase_request(const v1::PhaseRequest& request) {
  {
    std::lock_guard lock(mu_);
    if (request.epoch() != 0 && request.epoch() != epoch_) {
      log(LogLevel::kInfo, "stale_request",
          {{"vm", std::to_string(request.vm())}, {"epoch", std::to_string(request.epoch())}});
      return false;
    }
  }
  Result<driver::PhaseRequest> converted = to_driver(request);
  if (!converted) {
    v1::AgentMessage m;
    v1::PhaseResult* r = m.mutable_phase_result();
    r->set_vm(request.vm());
    r->set_op(request.op());
    r->set_step(request.step());
    r->set_attempt(request.attempt());
    r->set_ok(false);
    r->set_error("agent: " + converted.error().message);
    outbox_.push(std::move(m));
    return false;
  }
  {
    std::lock_guard lock(mu_);
    Placed& p = placed_[request.vm()];
    p.vcpus = request.model().vcpus();
    p.memory_mib = request.model().memory_mib();
    if (request.may_fence()) p.may_fence = true;
    if (request.ends_vm()) p.ending_op = request.op();
  }
  driver_.run_phase(*converted);
  return true;
}

void AgentState::heard() {
  std::lock_guard lock(mu_);
  lease_.heard();
}

std::vector<store::VmId> AgentState::check_lease(bool* expired_now) {
  std::vector<store::VmId> fence;
  {
    std::lock_guard lock(mu_);
    const bool due = lease_.fence_due();
    if (expired_now != nullptr) *expired_now = due;
    if (!due) return {};
    for (const auto& [vm, p] : placed_) {
      if (p.may_fence) fence.push_back(vm);
    }
    fenced_.insert(fenced_.end(), fence.begin(), fence.end());
  }
  for (store::VmId vm : fence) {
    log(LogLevel::kWarn, "fence",
        {{"vm", std::to_string(vm)}, {"reason", "no word from the controller within the lease"}});
    driver_.fence(vm);
  }
  return fence;
}

v1::AgentMessage AgentState::make_heartbeat(std::uint64_t ping_seq) {
  const std::vector<driver::FoundVm> found = driver_.found();
  v1::AgentMessage m;
  v1::Heartbeat* hb = m.mutable_heartbeat();
  hb->set_sent_at_ms(SystemClock().now_ms());
  hb->set_ping_seq(ping_seq);
  v1::HostMetrics* metrics = hb->mutable_metrics();
  int running = 0;
  int vcpus = 0;
  std::int64_t memory = 0;
  {
    std::lock_guard lock(mu_);
    hb->set_seq(++heartbeat_seq_);
    metrics->set_free_cpu_percent(cpu_idle_.free_percent());
    // The sim's VMs live in this process: they end with it, and the agent's own lease stops
    // them while it lives. A hypervisor's processes outlive the agent: only the guard's count.
    if (driver_.name() == "sim") {
      if (lease_.lease_ms() != 0) {
        for (const auto& [vm, p] : placed_) {
          if (p.may_fence) metrics->add_guarded_vms(vm);
        }
      }
    } else {
      for (const store::VmId vm : guarded_) metrics->add_guarded_vms(vm);
    }
    for (const driver::FoundVm& vm : found) {
      if (vm.power != lifecycle::Power::kRunning && vm.power != lifecycle::Power::kPaused) continue;
      ++running;
      if (auto it = placed_.find(vm.vm); it != placed_.end()) {
        vcpus += it->second.vcpus;
        memory += it->second.memory_mib;
      }
    }
  }
  metrics->set_running_vms(running);
  metrics->set_used_vcpus(vcpus);
  metrics->set_used_memory_mib(memory);
  metrics->set_load1(read_load1().value_or(0));
  for (const driver::VmUsage& u : driver_.usage()) {
    v1::VmUsage* w = metrics->add_vm_usage();
    w->set_vm(u.vm);
    w->set_cpu_percent(u.cpu_percent);
  }
  return m;
}

std::vector<store::VmId> AgentState::fenced() const {
  std::lock_guard lock(mu_);
  return fenced_;
}

std::uint64_t AgentState::epoch() const {
  std::lock_guard lock(mu_);
  return epoch_;
}

std::uint32_t AgentState::heartbeat_interval_ms() const {
  std::lock_guard lock(mu_);
  return heartbeat_ms_;
}

AgentState::GuardLease AgentState::guard_lease() const {
  std::lock_guard lock(mu_);
  GuardLease out;
  if (lease_.lease_ms() == 0) return out;
  if (lease_.expired()) {
    out.expired = true;
    return out;
  }
  out.remaining_ms = lease_.remaining_ms();
  for (const auto& [vm, p] : placed_) {
    if (p.may_fence) out.vms.push_back(vm);
  }
  return out;
}

void AgentState::set_guarded(std::vector<store::VmId> vms) {
  std::lock_guard lock(mu_);
  guarded_ = std::move(vms);
}

Millis AgentState::lease_remaining_ms() const {
  std::lock_guard lock(mu_);
  return lease_.remaining_ms();
}

void AgentState::phase_done(driver::PhaseResult result) {
  if (result.ok) {
    std::lock_guard lock(mu_);
    if (auto it = placed_.find(result.vm);
        it != placed_.end() && it->second.ending_op != 0 && it->second.ending_op == result.op) {
      placed_.erase(it);
    }
  }
  v1::AgentMessage m;
  *m.mutable_phase_result() = to_wire(result);
  outbox_.push(std::move(m));
}

void AgentState::phase_progress(driver::PhaseProgress progress) {
  v1::AgentMessage m;
  *m.mutable_phase_progress() = to_wire(progress);
  outbox_.push_progress(std::move(m));
}

void AgentState::power_event(driver::PowerEvent event) {
  v1::AgentMessage m;
  *m.mutable_power_event() = to_wire(event);
  outbox_.push(std::move(m));
}

void AgentState::on_transfer_grant(const v1::TransferGrant& grant) {
  const std::string vm = std::to_string(grant.vm());
  if (transfer_ == nullptr) {
    log(LogLevel::kWarn, "transfer_grant_refused",
        {{"vm", vm}, {"target", grant.target_host()}, {"error", "this agent serves no files"}});
    return;
  }
  const transfer::Ticket ticket{grant.vm(), grant.op(), grant.source_host(), grant.target_host(),
                                grant.secret()};
  if (Status granted = transfer_->grant(ticket, grant.ttl_ms()); !granted) {
    log(LogLevel::kWarn, "transfer_grant_refused",
        {{"vm", vm}, {"target", grant.target_host()}, {"error", granted.error().message}});
    return;
  }
  log(LogLevel::kInfo, "transfer_granted", {{"vm", vm}, {"target", grant.target_host()}});
}

}  // namespace corral::agent

namespace corral::agent {

void AgentState::on_firewall(const v1::HostFirewall& job) {
  if (firewall_ != nullptr) {
    firewall_->submit(job);
    return;
  }
  v1::AgentMessage m;
  m.mutable_firewall_result()->set_generation(job.generation());
  outbox_.push(std::move(m));
}

}  // namespace corral::agent
