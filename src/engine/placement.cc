// Hosts, their room, and the scheduler (first fit). Engine thread only.
#include <fmt/core.h>

#include "engine/engine_impl.h"

namespace corral::engine {

namespace lc = corral::lifecycle;

void Engine::Impl::init_hosts() {
  hosts.clear();
  host_index.clear();
  for (const driver::HostInfo& info : driver.hosts()) {
    host_index.emplace(info.name, hosts.size());
    hosts.push_back({info, 0, 0, 0});
  }
}

// A VM takes room on its host while it has one (set when placed, cleared when it leaves).
void Engine::Impl::unaccount(const store::Vm& vm) {
  if (vm.host.empty()) return;
  const auto it = host_index.find(vm.host);
  if (it == host_index.end()) return;
  internal::HostSlot& h = hosts[it->second];
  h.used_vcpus -= vm.model.vcpus;
  h.used_memory_mib -= vm.model.memory_mib;
  h.vms -= 1;
  schedule_needed = true;
}

void Engine::Impl::account(const store::Vm& vm) {
  if (vm.host.empty()) return;
  const auto it = host_index.find(vm.host);
  if (it == host_index.end()) return;
  internal::HostSlot& h = hosts[it->second];
  h.used_vcpus += vm.model.vcpus;
  h.used_memory_mib += vm.model.memory_mib;
  h.vms += 1;
}

void Engine::Impl::track_pending(const store::Vm& vm) {
  if (vm.record.state == lc::State::kPending && !vm.record.busy()) {
    if (pending.insert(vm.id).second) schedule_needed = true;
  } else {
    pending.erase(vm.id);
  }
  if (vm.record.busy() && lc::current_phase(*vm.record.op) == lc::Phase::kSchedule) {
    if (waiting_schedule.insert(vm.id).second) schedule_needed = true;
  } else {
    waiting_schedule.erase(vm.id);
  }
}

std::optional<std::string> Engine::Impl::place(const store::VmModel& model,
                                               const std::string& preferred,
                                               const std::string& exclude) const {
  for (const internal::HostSlot& h : hosts) {
    if (!preferred.empty() && h.info.name != preferred) continue;
    if (h.info.name == exclude) continue;
    if (h.info.vcpus - h.used_vcpus >= model.vcpus &&
        h.info.memory_mib - h.used_memory_mib >= model.memory_mib) {
      return h.info.name;
    }
  }
  return std::nullopt;
}

namespace {

std::string no_room_reason(const store::VmModel& model,
                           const std::vector<internal::HostSlot>& hosts) {
  std::string reason =
      fmt::format("no host has room for {} vCPU and {} MiB", model.vcpus, model.memory_mib);
  const internal::HostSlot* best = nullptr;
  for (const internal::HostSlot& h : hosts) {
    if (best == nullptr ||
        h.info.memory_mib - h.used_memory_mib > best->info.memory_mib - best->used_memory_mib) {
      best = &h;
    }
  }
  if (best != nullptr) {
    reason += fmt::format(" (most free: {} with {} vCPU, {} MiB)", best->info.name,
                          best->info.vcpus - best->used_vcpus,
                          best->info.memory_mib - best->used_memory_mib);
  } else {
    reason += " (the driver has no hosts)";
  }
  return reason;
}

}  // namespace

void Engine::Impl::try_schedule_phase(VmId id) {
  store::Vm& vm = mutate(id);
  const std::optional<std::string> host = place(vm.model, {}, {});
  if (!host) {
    const std::string reason = no_room_reason(vm.model, hosts);
    if (vm.pending_reason != reason) vm.pending_reason = reason;
    track_pending(vm);
    return;
  }
  vm.pending_reason.clear();
  vm.host = *host;
  account(vm);
  apply(id, lc::phase_succeeded(vm.record), false, {},
        {vm.record.op->action, "scheduler", {}, "placed on " + *host});
}

void Engine::Impl::schedule() {
  if (!schedule_needed) return;
  schedule_needed = false;
  const std::vector<VmId> waiting(waiting_schedule.begin(), waiting_schedule.end());
  for (VmId id : waiting) {
    const store::Vm& vm = current(id);
    if (vm.record.busy() && lc::current_phase(*vm.record.op) == lc::Phase::kSchedule) {
      try_schedule_phase(id);
    }
  }
  const std::vector<VmId> ids(pending.begin(), pending.end());
  for (VmId id : ids) {
    const store::Vm& vm = current(id);
    if (vm.record.state != lc::State::kPending || vm.record.busy()) {
      pending.erase(id);
      continue;
    }
    const std::optional<std::string> host = place(vm.model, {}, {});
    if (!host) {
      const std::string reason = no_room_reason(vm.model, hosts);
      if (vm.pending_reason != reason) mutate(id).pending_reason = reason;
      continue;
    }
    Result<lc::Step> step = lc::begin(vm.record, {lc::Action::kDeploy, lc::State::kRunning});
    if (!step) continue;
    store::OpParams params;
    params.target_host = *host;
    apply(id, *step, true, params, {lc::Action::kDeploy, "scheduler", {}, "placed on " + *host});
  }
}

}  // namespace corral::engine
