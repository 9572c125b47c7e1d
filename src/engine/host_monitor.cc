// Agents and the down-timeout: (re)connects with their epoch and VM set, heartbeats (atomics,
// never queued), silent hosts turned ERROR with their VMs UNKNOWN, and the evacuate policy's
// recreation once the agent's lease has surely run out. Engine thread only, except
// agent_heartbeat/agent_disconnected (hosts.cc), which touch only HostLiveness.
#include <fmt/core.h>

#include <algorithm>

#include "engine/engine_impl.h"

namespace corral::engine {

namespace lc = corral::lifecycle;
using lc::HostEvent;
using lc::HostState;
using lc::State;

namespace {

// The states in which a VM's process runs on its host (or may: UNKNOWN): an agent that comes
// back without it lost it.
constexpr lc::StateSet kExpectedRunning = {State::kRunning, State::kPaused, State::kRescued,
                                           State::kResized, State::kUnknown};

std::vector<VmId> ids_on(const std::unordered_map<std::string, std::set<VmId>>& on_host,
                         const std::string& host) {
  const auto it = on_host.find(host);
  if (it == on_host.end()) return {};
  return {it->second.begin(), it->second.end()};
}

}  // namespace

// RUNNING VMs of a host nobody hears from become UNKNOWN, through the table's observed_lost:
// every view renders UNKNOWN from the state. A VM in an operation is left to its deadline.
void Engine::Impl::vms_lost(internal::HostSlot& slot, const std::string& why) {
  for (VmId id : ids_on(vms_on_host, slot.row.name)) {
    const store::Vm& vm = current(id);
    if (vm.record.busy()) continue;
    Result<lc::Step> step = lc::begin(vm.record, {lc::Action::kObservedLost, State::kRunning});
    if (!step) continue;  // only a VM shown RUNNING becomes UNKNOWN
    apply(id, *step, true, {}, {lc::Action::kObservedLost, "monitor", {}, why});
    mutate(id).record.power = lc::Power::kNoState;
  }
}

// Recreates the host's lost VMs elsewhere (recover_recreate). Its cleanup phase belongs to the
// dead host: the engine completes it, and the agent removes the files when it returns (its
// Welcome no longer places them there). The VM goes PENDING and the scheduler places it.
void Engine::Impl::evacuate(internal::HostSlot& slot, const std::string& why) {
  // Without an operator's force_down, only the VMs the agent's last heartbeat said are sure to
  // stop with its lease (its fence guard holds their processes): any other may still run there.
  const HostMetrics last = slot.live ? slot.live->read_metrics() : HostMetrics{};
  const std::set<VmId> guarded(last.guarded_vms.begin(), last.guarded_vms.end());
  for (VmId id : ids_on(vms_on_host, slot.row.name)) {
    if (!slot.row.forced_down && !guarded.contains(id)) continue;
    const store::Vm& vm = current(id);
    // Idle VMs it lost (UNKNOWN), and VMs whose operation was running there: that phase can
    // never end on a fenced host, so recover_recreate cuts it short (its pre-empting row).
    if (!vm.record.busy() && vm.record.state != State::kUnknown) continue;
    Result<lc::Step> step = lc::begin(vm.record, {lc::Action::kRecoverRecreate, State::kRunning});
    if (!step) continue;
    std::string reason = why;
    if (step->replaced) {
      store::Vm& old = mutate(id);
      lc::Operation canceled = *old.record.op;
      canceled.status = lc::OpStatus::kCanceled;
      old.op.error = "pre-empted by recover_recreate: host " + slot.row.name + " is down";
      old.op.finished_at = clock.now_ms();
      old.op.deadline = 0;
      op_rows.push_back({old.id, canceled, old.op});
      reason += " (" + old.op.error + ")";
    }
    apply(id, *step, true, {}, {lc::Action::kRecoverRecreate, "monitor", {}, reason});
    const store::Vm& started = current(id);
    if (!started.record.busy()) continue;
    const OpId op = started.op.id;
    std::erase_if(dispatch,
                  [&](const driver::PhaseRequest& r) { return r.vm == id && r.op == op; });
    apply(
        id, lc::phase_succeeded(started.record), false, {},
        {lc::Action::kRecoverRecreate,
         "monitor",
         {},
         "cleanup left to host " + slot.row.name + "'s agent: it removes the VM when it returns"});
  }
}

// flush: every idle VM of the host migrates to another host the scheduler picks. The plan is
// made on a copy that takes each move's room, so one flush never overcommits a target.
void Engine::Impl::move_away(internal::HostSlot& slot) {
  const std::string name = slot.row.name;
  std::vector<sched::HostSnapshot> view = sched_view;
  sched::RankPolicy policy = options.rank_policy == 0   ? sched::RankPolicy::kPacking
                             : options.rank_policy == 2 ? sched::RankPolicy::kLoadAware
                                                        : sched::RankPolicy::kStriping;
  for (VmId id : ids_on(vms_on_host, name)) {
    const store::Vm& vm = current(id);
    if (vm.record.busy()) continue;
    // A lost VM may still run on a host nobody hears from: starting it elsewhere could run it
    // twice. Only once the operator says the host is fenced (force_down) does flush move it
    // (under kEvacuate the lease does it by itself).
    if (vm.record.state == State::kUnknown && !slot.row.forced_down) continue;
    Result<lc::Step> step = lc::begin(vm.record, {lc::Action::kMigrate, State::kRunning});
    if (!step) continue;
    // Its requirements and group hold on the new host too (members planned to move in this
    // flush count at their targets: member_hosts reads the migrations begun below).
    const sched::PlacementRequest request = request_for(vm);
    for (sched::HostSnapshot& s : view) {
      if (s.name == name) s.record.state = HostState::kOffline;  // never back onto itself
    }
    auto placed = sched::place(view, request, policy);
    if (!placed) continue;  // stays; `corral host show` lists it
    sched::HostSnapshot& target = view[placed->host];
    target.used.vcpus += request.resources.vcpus;
    target.used.memory_mib += request.resources.memory_mib;
    target.running_vms += 1;
    store::OpParams params;
    params.target_host = target.name;
    apply(id, *step, true, params,
          {lc::Action::kMigrate,
           "flush",
           {},
           "host " + name + " is flushed: moved to " + target.name});
  }
}

// Sends again the phases that were running on the host's VMs (the new stream carries them),
// under a new attempt so a late answer from the old stream is dropped.
void Engine::Impl::redispatch_on(const std::string& host, const std::string& why) {
  for (VmId id : ids_on(vms_on_host, host)) redispatch_vm(id, why);
}

void Engine::Impl::redispatch_vm(VmId id, const std::string& why) {
  const Millis now = clock.now_ms();
  const store::Vm& committed = current(id);
  if (!committed.record.busy()) return;
  const lc::Phase phase = lc::current_phase(*committed.record.op);
  if (phase == lc::Phase::kSchedule) return;
  std::erase_if(dispatch, [&](const driver::PhaseRequest& r) { return r.vm == id; });
  store::Vm& vm = mutate(id);
  vm.op.attempt += 1;
  transitions.push_back({0,
                         vm.id,
                         vm.op.id,
                         vm.record.state,
                         vm.record.state,
                         vm.record.op->action,
                         phase,
                         vm.record.op->status,
                         "recovery",
                         {},
                         now,
                         why + " (attempt " + std::to_string(vm.op.attempt) + ")"});
  transitions.back().after = internal::after_of(vm);
  op_rows.push_back({vm.id, *vm.record.op, vm.op});
  // Keep the phase's deadline: a reconnect must not buy a hung phase more time.
  after_phase_started(vm, vm.op.deadline > now ? vm.op.deadline : now);
}

void Engine::Impl::settle_vanished() {
  for (auto it = vanished_during_op.begin(); it != vanished_during_op.end();) {
    const VmId id = it->first;
    if (exists(id) && current(id).record.busy()) {
      ++it;
      continue;
    }
    const std::string host = it->second;
    it = vanished_during_op.erase(it);
    if (!exists(id)) continue;
    const store::Vm& vm = current(id);
    if (vm.host != host || !kExpectedRunning.contains(vm.record.state)) continue;
    handle_power({id, driver::PowerEventKind::kVanished, lc::Power::kNoState,
                  "host " + host + "'s agent reconnected without it during an operation"});
  }
}

// VMs placed elsewhere with a copy on `host`: a busy move's target, or the host a resize left
// (claimed_source: its copy kept, and its room claimed, until confirm or revert is over).
std::vector<VmId> Engine::Impl::other_side_on(const std::string& host) const {
  std::vector<VmId> out;
  auto incoming = [&](const store::Vm& vm) {
    if (vm.host == host) return false;
    if (vm.record.busy() && vm.op.params.target_host == host) return true;
    const std::string* source = claimed_source(vm);
    return source != nullptr && *source == host;
  };
  for (const store::Vm& vm : vms) {
    if (!working.contains(vm.id) && incoming(vm)) out.push_back(vm.id);
  }
  for (const auto& [id, vm] : working) {
    if (incoming(vm)) out.push_back(id);
  }
  return out;
}

void Engine::Impl::handle_agent_connected(internal::AgentConnectedCommand& command) {
  AgentHello& hello = command.hello;
  auto shared = std::make_shared<std::promise<Result<AgentWelcome>>>(std::move(command.reply));
  auto refuse = [&](Error e) {
    host_replies.push_back(
        [shared, e = std::move(e)](const Error*) { shared->set_value(fail(e)); });
  };
  internal::HostSlot* slot = find_host(hello.host);
  if (slot == nullptr) {
    refuse(Error::not_found("no host named " + hello.host + ": add it with `corral host add " +
                            hello.host + "` first"));
    return;
  }
  if (slot->local) {
    refuse(Error{ErrorCode::kConflict,
                 "host " + hello.host + " is served by the server's own driver, not an agent",
                 {},
                 {}});
    return;
  }
  if (slot->row.state == HostState::kOffline) {
    refuse(Error{ErrorCode::kInvalidState,
                 "host " + hello.host + " is offline: enable it (`corral host enable " +
                     hello.host + "`) before its agent connects",
                 {},
                 {}});
    return;
  }
  const Millis now = clock.now_ms();
  store::HostRow& row = slot->row;
  const auto epoch = static_cast<std::uint64_t>(std::max<std::int64_t>(
                         row.epoch, static_cast<std::int64_t>(hello.last_epoch))) +
                     1;
  row.epoch = static_cast<std::int64_t>(epoch);
  row.agent_version = hello.agent_version;
  if (hello.capacity.vcpus > 0 || hello.capacity.memory_mib > 0) row.capacity = hello.capacity;
  for (const auto& [key, value] : hello.labels)
    row.labels.try_emplace(key, value);  // operator's win
  row.error.clear();
  slot->live->epoch = epoch;
  slot->live->connected = true;
  slot->live->last_heard = now;
  slot->down_at = 0;
  const std::string name = row.name;
  if (Result<lc::HostStep> step =
          host_event(*slot, HostEvent::kAgentConnected, "agent",
                     fmt::format("agent {} connected (epoch {})", hello.agent_version, epoch));
      !step) {
    refuse(std::move(step.error()));
    return;
  }
  // Reconcile what the agent reports with the store, through the drift policy (an UNKNOWN VM
  // reported running comes back RUNNING).
  const std::set<VmId> placed_here = [&] {
    const auto it = vms_on_host.find(name);
    return it == vms_on_host.end() ? std::set<VmId>{} : it->second;
  }();
  for (const AgentVm& reported : hello.vms) {
    if (!placed_here.contains(reported.vm)) continue;  // not ours there: the agent discards it
    const store::Vm& vm = current(reported.vm);
    if (vm.record.busy() || vm.record.power == reported.power) continue;
    handle_power({reported.vm, driver::PowerEventKind::kPowerChanged, reported.power,
                  "host " + name + "'s agent reconnected and reports it"});
  }
  // A VM the store shows running there that the agent did not find is gone (a host reboot):
  // the drift policy decides what it becomes, as for any vanished VM. One whose operation
  // runs is noted, for when the operation ends (settle_vanished); so is one moving here.
  std::set<VmId> reported_ids;
  for (const AgentVm& reported : hello.vms) reported_ids.insert(reported.vm);
  const std::vector<VmId> incoming = other_side_on(name);
  auto forget = [&](VmId id) {
    const auto note = vanished_during_op.find(id);
    if (note != vanished_during_op.end() && note->second == name) vanished_during_op.erase(note);
  };
  for (VmId id : placed_here) forget(id);
  for (VmId id : reported_ids) forget(id);
  for (VmId id : incoming) {
    if (!reported_ids.contains(id)) vanished_during_op[id] = name;
  }
  for (VmId id : placed_here) {
    if (reported_ids.contains(id)) continue;
    const store::Vm& vm = current(id);
    if (vm.record.busy()) {
      vanished_during_op[id] = name;
      continue;
    }
    if (!kExpectedRunning.contains(vm.record.state)) continue;
    handle_power({id, driver::PowerEventKind::kVanished, lc::Power::kNoState,
                  "host " + name + "'s agent reconnected without it"});
  }
  redispatch_on(name, "re-dispatched: host " + name + "'s agent reconnected");
  for (VmId id : incoming) {
    redispatch_vm(id, "re-dispatched: host " + name + "'s agent (a side of its move) reconnected");
  }
  schedule_needed = true;

  slot->welcomed = true;  // it learns below which of its VMs it fences when alone
  AgentWelcome welcome;
  welcome.epoch = epoch;
  welcome.heartbeat_interval_ms = options.hosts.heartbeat_interval_ms;
  welcome.lease_ms = options.hosts.lease_ms;
  const bool may_fence = options.hosts.failure_policy == HostFailurePolicy::kEvacuate;
  auto add = [&](const store::Vm& vm) {
    welcome.vms.push_back(
        {vm.id, vm.record.state, vm.record.power, vm.desired.value_or(vm.model), may_fence});
  };
  for (VmId id : ids_on(vms_on_host, name)) add(current(id));
  // VMs moving onto the host are its too, and the copies a resize left there: the agent must
  // not discard what arrives, nor what revert goes back to.
  for (VmId id : other_side_on(name)) add(current(id));
  host_replies.push_back([shared, welcome = std::move(welcome)](const Error* failed) {
    if (failed != nullptr) {
      shared->set_value(fail(*failed));
    } else {
      shared->set_value(welcome);
    }
  });
}

// Each engine cycle: hosts silent past the down-timeout go ERROR (their RUNNING VMs UNKNOWN);
// heard again, they come back; under kEvacuate their lost VMs are recreated elsewhere once
// max(down_at, engine start) + lease + margin has passed (the agent has surely fenced them).
void Engine::Impl::check_hosts() {
  const Millis now = clock.now_ms();
  const HostOptions& o = options.hosts;
  for (internal::HostSlot& slot : hosts) {
    if (slot.local) continue;
    const HostState state = slot.row.state;
    if (state == HostState::kOffline) continue;  // not monitored
    const Millis heard = slot.live->last_heard.load();
    const Millis since = std::max({heard, started_at, slot.row.created_at});
    const bool silent = now - since > o.down_timeout_ms;
    if (silent && slot.down_at == 0) {
      slot.down_at = now;
      const std::string why =
          heard > 0
              ? fmt::format("host {} sent no heartbeat for {} s (down-timeout {} s)", slot.row.name,
                            (now - heard) / 1000, o.down_timeout_ms / 1000)
              : fmt::format("host {}'s agent has not connected within the down-timeout ({} s)",
                            slot.row.name, o.down_timeout_ms / 1000);
      if (state == HostState::kInit || state == HostState::kMonitored ||
          state == HostState::kDisabled) {
        slot.row.error = why;
        Result<lc::HostStep> step = host_event(slot, HostEvent::kHeartbeatsMissed, "monitor", why);
        if (step && step->vms == lc::HostVmEffect::kRunningToUnknown) vms_lost(slot, why);
      }
    } else if (!silent && heard > 0 && slot.down_at != 0) {
      // Heard again on the same stream: back in service (a reconnect goes through Hello).
      slot.down_at = 0;
      if (state == HostState::kError || state == HostState::kInit) {
        slot.row.error.clear();
        (void)host_event(slot, HostEvent::kHeartbeat, "monitor",
                         "host " + slot.row.name + " is heard again");
      }
    }
    if (o.failure_policy != HostFailurePolicy::kEvacuate) continue;
    // forced_down: the operator asserts the host is fenced (Nova's evacuate precondition).
    const bool fenced = slot.row.forced_down || (slot.welcomed && slot.down_at != 0 &&
                                                 now >= std::max(slot.down_at, started_at) +
                                                            o.lease_ms + o.lease_margin_ms);
    if (fenced && (slot.row.forced_down || slot.down_at != 0)) {
      evacuate(slot,
               slot.row.forced_down
                   ? "host " + slot.row.name + " is forced down: recreated elsewhere"
                   : "host " + slot.row.name + " is down past its lease: recreated elsewhere");
    }
  }
}

}  // namespace corral::engine
