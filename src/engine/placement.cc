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

const std::string* claimed_source(const store::Vm& vm) {
  if (vm.op.params.source_host.empty()) return nullptr;
  if (vm.record.state == lc::State::kResized) return &vm.op.params.source_host;
  // A confirm or revert that failed (FAILED, Nova's ERROR) may have left the copy: its room
  // and its agent's hold on it stay until a recover option ends the FAILED state.
  if (vm.record.state == lc::State::kFailed && vm.record.op &&
      (vm.record.op->action == lc::Action::kConfirmResize ||
       vm.record.op->action == lc::Action::kRevertResize)) {
    return &vm.op.params.source_host;
  }
  return nullptr;
}

void Engine::Impl::charge(const std::string& host, const store::VmModel& model, int sign) {
  const auto it = host_index.find(host);
  if (it == host_index.end()) return;
  internal::HostSlot& h = hosts[it->second];
  h.used_vcpus += sign * model.vcpus;
  h.used_memory_mib += sign * model.memory_mib;
  h.generation += 1;
  sched::HostSnapshot& s = sched_view[it->second];
  s.used = {h.used_vcpus, h.used_memory_mib};
  s.generation = h.generation;
  touch_host(it->second);
  if (sign < 0) schedule_needed = true;
}

// A VM takes room on its host while it has one (set when placed, cleared when it leaves).
void Engine::Impl::unaccount(const store::Vm& vm) {
  if (const auto claim = source_claims.find(vm.id); claim != source_claims.end()) {
    charge(claim->second.first, claim->second.second, -1);
    source_claims.erase(claim);
  }
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
  if (const std::string* source = claimed_source(vm);
      source != nullptr && *source != vm.host && !source_claims.contains(vm.id)) {
    const store::VmModel old = vm.op.params.previous.value_or(vm.model);
    source_claims.emplace(vm.id, std::pair{*source, old});
    charge(*source, old, +1);
  }
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
  // A member taking a host can unblock a pending member of an affinity group.
  if (vm.group != 0) schedule_needed = true;
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

namespace {

sched::GroupPolicy sched_policy(store::GroupPolicy policy) {
  switch (policy) {
    case store::GroupPolicy::kAffinity:
      return sched::GroupPolicy::kAffinity;
    case store::GroupPolicy::kAntiAffinity:
      return sched::GroupPolicy::kAntiAffinity;
    case store::GroupPolicy::kSoftAffinity:
      return sched::GroupPolicy::kSoftAffinity;
    case store::GroupPolicy::kSoftAntiAffinity:
      return sched::GroupPolicy::kSoftAntiAffinity;
  }
  return sched::GroupPolicy::kNone;
}

// Matches no host: what a stored expression that does not parse (a newer corral's) means.
const sched::Requirements& matches_nothing() {
  static const sched::Requirements none = *sched::Requirements::parse(R"(NAME = "")");
  return none;
}

bool constrained(const store::Vm& vm) { return !vm.requirements.empty() || vm.group != 0; }

}  // namespace

sched::PlacementRequest Engine::Impl::request_for(const store::Vm& vm) {
  sched::PlacementRequest request;
  request.resources = {vm.model.vcpus, vm.model.memory_mib};
  std::string requirements = vm.requirements;
  if (pinned_by_volumes(vm)) {
    // Volumes only the controller's own hosts reach keep the VM there: its requirements
    // and one of those hosts (none: no host).
    std::string local;
    for (const internal::HostSlot& h : hosts) {
      if (!h.local) continue;
      local += fmt::format("{}NAME = \"{}\"", local.empty() ? "" : " | ", h.row.name);
    }
    if (local.empty()) local = R"(NAME = "")";
    requirements = requirements.empty() ? local : "(" + requirements + ") & (" + local + ")";
  }
  if (!requirements.empty()) {
    auto it = parsed_requirements.find(requirements);
    if (it == parsed_requirements.end()) {
      if (parsed_requirements.size() >= 4096) parsed_requirements.clear();  // bounded
      it =
          parsed_requirements.emplace(requirements, sched::Requirements::parse(requirements)).first;
    }
    request.requirements = it->second ? &*it->second : &matches_nothing();
  }
  if (vm.group != 0) {
    const auto g = groups.find(vm.group);
    // A group deleted under a member (only a store edited by hand): no rule left to follow.
    if (g != groups.end()) {
      request.group.policy = sched_policy(g->second.policy);
      request.group.member_hosts = member_hosts(vm.group, vm.id);
    }
  }
  return request;
}

std::string Engine::Impl::unplaced_reason(const store::Vm& vm,
                                          const sched::NoValidHost& none) const {
  const auto g = groups.find(vm.group);
  const std::string group = g == groups.end() ? std::to_string(vm.group) : g->second.name;
  switch (none.filter) {
    case sched::Filter::kRequirements:
      if (pinned_by_volumes(vm)) {
        return fmt::format(
            "its volumes are in a datastore only the controller's own hosts reach (--volume-dir "
            "is not shared){}: {}",
            vm.requirements.empty() ? "" : ", and requirements '" + vm.requirements + "'",
            none.reason);
      }
      return fmt::format("no host matches requirements '{}': {}", vm.requirements, none.reason);
    case sched::Filter::kAffinity:
      return fmt::format("affinity group {}: no host holding its members can take it: {}", group,
                         none.reason);
    case sched::Filter::kAntiAffinity:
      return fmt::format("anti-affinity group {}: every host already holds a member: {}", group,
                         none.reason);
    case sched::Filter::kRequestedHost:
    case sched::Filter::kHostState:
    case sched::Filter::kCapacity:
      break;
  }
  return no_room_reason(vm.model, none.reason);
}

// The scheduler's choice for `vm` under its constraints: `preferred` names an operator's
// target (a manual deploy: a DISABLED host accepts it), `exclude` the host a migration
// leaves. Pure: the claim is the caller's (account() when the VM takes the host).
std::expected<std::string, std::string> Engine::Impl::place(const store::Vm& vm,
                                                            const std::string& preferred,
                                                            const std::string& exclude) {
  sched::PlacementRequest request = request_for(vm);
  request.requested_host = preferred;
  request.manual = !preferred.empty();
  const sched::RankPolicy policy = rank_policy(options.rank_policy);
  if (exclude.empty()) {
    auto placed = sched::place(sched_view, request, policy);
    if (!placed) return std::unexpected(unplaced_reason(vm, placed.error()));
    return sched_view[placed->host].name;
  }
  // A migration leaves its host: plan without it (rare, so a copy is fine).
  std::vector<sched::HostSnapshot> others;
  others.reserve(sched_view.size());
  for (const sched::HostSnapshot& s : sched_view) {
    if (s.name != exclude) others.push_back(s);
  }
  auto placed = sched::place(others, request, policy);
  if (!placed) return std::unexpected(unplaced_reason(vm, placed.error()));
  return others[placed->host].name;
}

namespace {

// Plans on the view and claims with compare-and-set on the generation; re-plans if it moved.
// Returns the host, or the scheduler's answer.
std::expected<std::size_t, sched::NoValidHost> plan_and_claim(
    const std::vector<sched::HostSnapshot>& view, const std::vector<internal::HostSlot>& hosts,
    const sched::PlacementRequest& request, sched::RankPolicy policy) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto placed = sched::place(view, request, policy);
    if (!placed) return std::unexpected(std::move(placed.error()));
    const internal::HostSlot& slot = hosts[placed->host];
    if (slot.generation == placed->generation &&
        sched::fits(view[placed->host], request.resources)) {
      return placed->host;
    }
  }
  sched::NoValidHost moving;
  moving.reason = "the hosts kept changing while placing";
  return std::unexpected(std::move(moving));
}

}  // namespace

void Engine::Impl::try_schedule_phase(VmId id) {
  store::Vm& vm = mutate(id);
  auto host = plan_and_claim(sched_view, hosts, request_for(vm), rank_policy(options.rank_policy));
  if (!host) {
    const std::string reason = unplaced_reason(vm, host.error());
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
  // Only an unconstrained VM's failure says so: constraints only remove hosts.
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
    auto host = plan_and_claim(sched_view, hosts, request_for(vm), policy);
    if (!host) {
      const std::string reason = unplaced_reason(vm, host.error());
      if (vm.pending_reason != reason) mutate(id).pending_reason = reason;
      if (no_room.size() < 16 && !constrained(vm) && !pinned_by_volumes(vm)) {
        no_room.push_back(vm.model);
      }
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
