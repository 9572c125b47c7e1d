// Host accounting and placement through the scheduler (sched/scheduler.h). Engine thread only.
//
// The engine thread is the single writer of every host's use, so a placement made on
// `sched_view` is claimed at once with compare-and-set on the slot's generation (placement's
// resource-provider generation): concurrent creates are serialized by the engine's queue and
// can never overcommit a host, and a claim that finds the generation moved re-plans.
#include <fmt/core.h>

#include <algorithm>

#include "engine/engine_impl.h"

namespace corral::engine {

namespace lc = corral::lifecycle;

namespace {

sched::RankPolicy rank_policy(std::uint8_t policy) {
  switch (policy) {
    case 0:
      return sched::RankPolicy::kPacking;
    case 2:
      return sched::RankPolicy::kLoadAware;
    default:
      return sched::RankPolicy::kStriping;
  }
}

}  // namespace

// Rebuilds the scheduler's copy of one host from its slot (row changes: state, labels, ...).
void Engine::Impl::refresh_host(std::size_t index) {
  if (sched_view.size() < hosts.size()) sched_view.resize(hosts.size());
  const internal::HostSlot& h = hosts[index];
  sched::HostSnapshot& s = sched_view[index];
  s.name = h.row.name;
  s.record = {h.row.state, h.row.forced_down};
  s.total = {h.row.capacity.vcpus, h.row.capacity.memory_mib};
  s.reserved = {h.row.reserved.vcpus, h.row.reserved.memory_mib};
  s.cpu_allocation_ratio = h.row.cpu_allocation_ratio;
  s.ram_allocation_ratio = h.row.ram_allocation_ratio;
  s.used = {h.used_vcpus, h.used_memory_mib};
  s.running_vms = h.vms;
  s.labels = sched::Labels(h.row.labels.begin(), h.row.labels.end());
  s.generation = h.generation;
  touch_host(index);
}

void Engine::Impl::touch_host(std::size_t index) {
  internal::HostSlot& h = hosts[index];
  if (h.dirty) return;
  h.dirty = true;
  dirty_hosts.push_back(index);
}

// A VM takes room on its host while it has one (set when placed, cleared when it leaves).
void Engine::Impl::unaccount(const store::Vm& vm) {
  if (vm.host.empty()) return;
  const auto it = host_index.find(vm.host);
  if (it == host_index.end()) return;
  auto on = vms_on_host.find(vm.host);
  if (on == vms_on_host.end() || on->second.erase(vm.id) == 0) return;  // not accounted
  internal::HostSlot& h = hosts[it->second];
  h.used_vcpus -= vm.model.vcpus;
  h.used_memory_mib -= vm.model.memory_mib;
  h.vms -= 1;
  h.generation += 1;
  sched::HostSnapshot& s = sched_view[it->second];
  s.used = {h.used_vcpus, h.used_memory_mib};
  s.running_vms = h.vms;
  s.generation = h.generation;
  touch_host(it->second);
  schedule_needed = true;
}

void Engine::Impl::account(const store::Vm& vm) {
  if (vm.host.empty()) return;
  const auto it = host_index.find(vm.host);
  if (it == host_index.end()) return;
  if (!vms_on_host[vm.host].insert(vm.id).second) return;  // already accounted
  internal::HostSlot& h = hosts[it->second];
  h.used_vcpus += vm.model.vcpus;
  h.used_memory_mib += vm.model.memory_mib;
  h.vms += 1;
  h.generation += 1;
  sched::HostSnapshot& s = sched_view[it->second];
  s.used = {h.used_vcpus, h.used_memory_mib};
  s.running_vms = h.vms;
  s.generation = h.generation;
  touch_host(it->second);
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

namespace {

std::string no_room_reason(const store::VmModel& model, const std::string& why) {
  return fmt::format("no host has room for {} vCPU and {} MiB: {}", model.vcpus, model.memory_mib,
                     why);
}

}  // namespace

// The scheduler's choice for `model`: `preferred` names an operator's target (a manual deploy:
// a DISABLED host accepts it), `exclude` the host a migration leaves. Pure: the claim is the
// caller's (account() when the VM takes the host).
std::optional<std::string> Engine::Impl::place(const store::VmModel& model,
                                               const std::string& preferred,
                                               const std::string& exclude) const {
  sched::PlacementRequest request;
  request.resources = {model.vcpus, model.memory_mib};
  request.requested_host = preferred;
  request.manual = !preferred.empty();
  const sched::RankPolicy policy = rank_policy(options.rank_policy);
  if (exclude.empty()) {
    auto placed = sched::place(sched_view, request, policy);
    if (!placed) return std::nullopt;
    return sched_view[placed->host].name;
  }
  // A migration leaves its host: plan without it (rare, so a copy is fine).
  std::vector<sched::HostSnapshot> others;
  others.reserve(sched_view.size());
  for (const sched::HostSnapshot& s : sched_view) {
    if (s.name != exclude) others.push_back(s);
  }
  auto placed = sched::place(others, request, policy);
  if (!placed) return std::nullopt;
  return others[placed->host].name;
}

namespace {

// Plans on the view and claims with compare-and-set on the generation; re-plans if it moved.
// Returns the host, or the scheduler's reason.
std::expected<std::size_t, std::string> plan_and_claim(const std::vector<sched::HostSnapshot>& view,
                                                       const std::vector<internal::HostSlot>& hosts,
                                                       const store::VmModel& model,
                                                       sched::RankPolicy policy) {
  sched::PlacementRequest request;
  request.resources = {model.vcpus, model.memory_mib};
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto placed = sched::place(view, request, policy);
    if (!placed) return std::unexpected(placed.error().reason);
    const internal::HostSlot& slot = hosts[placed->host];
    if (slot.generation == placed->generation &&
        sched::fits(view[placed->host], request.resources)) {
      return placed->host;
    }
  }
  return std::unexpected(std::string("the hosts kept changing while placing"));
}

}  // namespace

void Engine::Impl::try_schedule_phase(VmId id) {
  store::Vm& vm = mutate(id);
  auto host = plan_and_claim(sched_view, hosts, vm.model, rank_policy(options.rank_policy));
  if (!host) {
    const std::string reason = no_room_reason(vm.model, host.error());
    if (vm.pending_reason != reason) vm.pending_reason = reason;
    track_pending(vm);
    return;
  }
  const std::string name = hosts[*host].row.name;
  vm.pending_reason.clear();
  vm.host = name;
  account(vm);
  apply(id, lc::phase_succeeded(vm.record), false, {},
        {vm.record.op->action, "scheduler", {}, "placed on " + name});
}

void Engine::Impl::schedule() {
  if (!schedule_needed) return;
  schedule_needed = false;
  // Load-aware ranking reads the agents' last reported idle CPU.
  if (options.rank_policy == 2) {
    for (std::size_t i = 0; i < hosts.size(); ++i) {
      if (hosts[i].live) sched_view[i].free_cpu = hosts[i].live->read_metrics().free_cpu_percent;
    }
  }
  const std::vector<VmId> waiting(waiting_schedule.begin(), waiting_schedule.end());
  for (VmId id : waiting) {
    const store::Vm& vm = current(id);
    if (vm.record.busy() && lc::current_phase(*vm.record.op) == lc::Phase::kSchedule) {
      try_schedule_phase(id);
    }
  }
  const sched::RankPolicy policy = rank_policy(options.rank_policy);
  const std::vector<VmId> ids(pending.begin(), pending.end());
  // Within one pass room only shrinks: a VM at least as large as one that found no host finds
  // none either (and keeps its reason), so many stuck VMs cost one scan of the hosts each size.
  std::vector<store::VmModel> no_room;
  auto hopeless = [&](const store::Vm& vm) {
    return !vm.pending_reason.empty() && std::ranges::any_of(no_room, [&](const store::VmModel& m) {
      return m.vcpus <= vm.model.vcpus && m.memory_mib <= vm.model.memory_mib;
    });
  };
  for (VmId id : ids) {
    const store::Vm& vm = current(id);
    if (vm.record.state != lc::State::kPending || vm.record.busy()) {
      pending.erase(id);
      continue;
    }
    if (hopeless(vm)) continue;
    auto host = plan_and_claim(sched_view, hosts, vm.model, policy);
    if (!host) {
      const std::string reason = no_room_reason(vm.model, host.error());
      if (vm.pending_reason != reason) mutate(id).pending_reason = reason;
      if (no_room.size() < 16) no_room.push_back(vm.model);
      continue;
    }
    Result<lc::Step> step = lc::begin(vm.record, {lc::Action::kDeploy, lc::State::kRunning});
    if (!step) continue;
    const std::string name = hosts[*host].row.name;
    store::OpParams params;
    params.target_host = name;
    // Placed: the reason it waited is history (the deploy runs while the state is PENDING).
    if (!vm.pending_reason.empty()) mutate(id).pending_reason.clear();
    // apply() starts the deploy's first phase, which takes the host (account(): the claim).
    apply(id, *step, true, params, {lc::Action::kDeploy, "scheduler", {}, "placed on " + name});
  }
}

}  // namespace corral::engine
