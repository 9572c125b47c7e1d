// What commands, driver answers and hypervisor events do to a VM. Engine thread only.
#include <algorithm>

#include "engine/engine_impl.h"
#include "lifecycle/table.h"

namespace corral::engine {

namespace lc = corral::lifecycle;
using lc::Action;
using lc::Phase;
using lc::State;

namespace {

// What the drift policy is told a hypervisor's event means; nullopt: nothing it acts on
// (a guest's readiness completes a phase instead; an unusual power is only noted).
// The states that say the VM's process runs on its host. Not RESIZED: a resize from
// POWEROFF waits for its confirm with the VM off.
constexpr lc::StateSet kProcessRuns = {State::kRunning, State::kPaused, State::kRescued};

std::optional<lc::Observation> observation_of(const driver::PowerEvent& event) {
  switch (event.kind) {
    case driver::PowerEventKind::kGuestReady:
      return std::nullopt;
    case driver::PowerEventKind::kGuestPoweroff:
      return lc::Observation::kGuestPoweroff;
    case driver::PowerEventKind::kVanished:
      return lc::Observation::kVanished;
    case driver::PowerEventKind::kUnresponsive:
      return lc::Observation::kUnresponsive;
    case driver::PowerEventKind::kPowerChanged:
      break;
  }
  if (event.power == lc::Power::kShutdown || event.power == lc::Power::kCrashed) {
    return lc::Observation::kGuestPoweroff;
  }
  if (event.power == lc::Power::kPaused) return lc::Observation::kPaused;
  if (event.power == lc::Power::kRunning) return lc::Observation::kRunning;
  return std::nullopt;
}

// The host a busy VM's current phase runs on, and the other side of a move (empty if none).
// A move's phases run on the side the table names. Its source is the VM's host and its
// target the placed one; a row that ends a resize that moved (params.source_host) has the
// host the resize left as its source, the VM's as its target.
struct PhaseHosts {
  std::string host;
  std::string peer;
};
PhaseHosts phase_hosts(const store::Vm& vm) {
  const store::OpParams& params = vm.op.params;
  const std::string& source = params.source_host.empty() ? vm.host : params.source_host;
  const std::string& target = params.target_host.empty() ? vm.host : params.target_host;
  const bool two_sides = !params.target_host.empty() || !params.source_host.empty();
  const lc::RunsOn side = lc::current_runs_on(*vm.record.op);
  if (side == lc::RunsOn::kTarget && two_sides) return {target, source};
  if (side == lc::RunsOn::kSource && two_sides) return {source, target};
  return {vm.host, {}};
}

}  // namespace

Millis Engine::Impl::deadline_for(Action action, Phase phase) const {
  if (auto it = options.deadlines.find({action, phase}); it != options.deadlines.end()) {
    return it->second;
  }
  if (auto it = options.deadlines.find({action, Phase::kNone}); it != options.deadlines.end()) {
    return it->second;
  }
  return options.default_phase_deadline_ms;
}

void Engine::Impl::handle_create(internal::CreateCommand& command) {
  const CreateRequest& request = command.request;
  const Millis now = clock.now_ms();
  store::GroupId group = 0;
  if (!request.group.empty()) {
    const store::ServerGroupRow* g = find_group(request.group);
    if (g == nullptr) {
      replies.push_back({std::move(command.reply),
                         Error::invalid_argument("no server group " + request.group), 0, 0});
      return;
    }
    group = g->id;
  }
  store::Vm vm;
  vm.id = ++max_vm_id;
  vm.name = request.name;
  vm.model = request.model;
  vm.requirements = request.requirements;  // parsed by Engine::create
  vm.group = group;
  vm.ssh_keys = request.ssh_keys;
  Result<std::vector<store::SecurityGroupId>> security =
      security_group_ids(request.security_groups);
  if (!security) {
    --max_vm_id;
    replies.push_back({std::move(command.reply), security.error(), 0, 0});
    return;
  }
  // NIC i on the i-th network named. A lease refused undoes the ones taken before it.
  for (const std::string& network : request.networks) {
    const int index = static_cast<int>(vm.nics.size());
    Result<store::Nic> nic =
        index < store::kMaxNics
            ? lease_nic(network, {}, vm.id, index, true)
            : fail(Error::invalid_argument("a VM has at most " + std::to_string(store::kMaxNics) +
                                           " NICs"));
    if (!nic) {
      for (const store::Nic& taken : vm.nics) release_nic(taken);
      --max_vm_id;
      replies.push_back({std::move(command.reply), nic.error(), 0, 0});
      return;
    }
    nic->security_groups = *security;
    vm.nics.push_back(std::move(*nic));
  }
  if (group != 0) group_members[group].insert(vm.id);
  vm.created_at = vm.updated_at = now;
  working.emplace(vm.id, std::move(vm));
  dirty_order.push_back(max_vm_id);
  store::OpParams params;
  params.hold = request.hold;
  const lc::Step step{lc::new_record(), State::kInit, State::kInit, Phase::kInit, std::nullopt};
  apply(max_vm_id, step, true, params, {Action::kCreate, request.actor, request.request_id, {}});
  replies.push_back({std::move(command.reply), std::nullopt, max_vm_id, max_op_id});
}

std::optional<Error> Engine::Impl::prepare_action(const store::Vm& vm, ActionRequest& request,
                                                  store::OpParams& params) {
  params = request.params;
  const Action a = request.action;
  if (a == Action::kNicAttach) {
    // The lowest free NIC index (OpenNebula reuses NIC_IDs once detached).
    int index = 0;
    while (std::ranges::any_of(vm.nics, [&](const store::Nic& n) { return n.index == index; })) {
      ++index;
    }
    if (request.network.empty()) return Error::invalid_argument("nic_attach needs 'network'");
    if (index >= store::kMaxNics) {
      return Error{ErrorCode::kConflict,
                   "VM " + std::to_string(vm.id) + " has " + std::to_string(store::kMaxNics) +
                       " NICs, the most it can have",
                   {},
                   {}};
    }
    Result<std::vector<store::SecurityGroupId>> security =
        security_group_ids(request.security_groups);
    if (!security) return security.error();
    Result<store::Nic> nic = lease_nic(request.network, request.ip, vm.id, index, false);
    if (!nic) return nic.error();
    nic->security_groups = std::move(*security);
    params.nic = std::move(*nic);
    return std::nullopt;
  }
  if (a == Action::kDiskAttach || a == Action::kDiskDetach) {
    return prepare_volume(vm, request, params);
  }
  if (a == Action::kNicDetach) {
    const auto it = std::ranges::find(vm.nics, request.nic, &store::Nic::index);
    if (request.nic < 0) return Error::invalid_argument("nic_detach needs 'nic' (its index)");
    if (it == vm.nics.end()) {
      return Error::not_found("VM " + std::to_string(vm.id) + " has no NIC " +
                              std::to_string(request.nic));
    }
    params.nic = *it;
    return std::nullopt;
  }
  // The side effects come from the row that allows the request (lifecycle/table.h Effect).
  const lc::Transition* row = lc::allowed_row(vm.record, a);
  const lc::Effects effects = row != nullptr ? row->effects : lc::Effects{};
  if (effects.has(lc::Effect::kPlacesVm)) {
    const std::expected<std::string, std::string> host = place(vm, request.host, {});
    if (!host) {
      return Error{ErrorCode::kConflict,
                   (request.host.empty() ? "no host can take this VM: "
                                         : "host " + request.host + " cannot take this VM: ") +
                       host.error(),
                   {},
                   {}};
    }
    params.target_host = *host;
  } else if (effects.has(lc::Effect::kMovesVm) && effects.has(lc::Effect::kAppliesModel)) {
    // A resize that moves (Nova's resize): a host that fits the new model. With none but
    // its own, the VM resizes where it is (Nova's allow_resize_to_same_host): both sides are
    // its host and nothing is kept for a revert to go back to.
    if (!request.model) {
      return Error::invalid_argument(std::string(lc::action_name(a)) +
                                     " needs the new model (vcpus, memory_mib or image)");
    }
    params.previous = vm.model;
    store::Vm resized = vm;
    resized.model = *request.model;
    const std::expected<std::string, std::string> host = place(resized, request.host, vm.host);
    if (host) {
      params.target_host = *host;
      // The copy left behind, for confirm to remove or revert to go back to.
      params.source_host = vm.host;
    } else if (request.host.empty() || request.host == vm.host) {
      params.target_host = vm.host;
    } else {
      return Error{ErrorCode::kConflict,
                   "host " + request.host + " cannot take this VM: " + host.error(),
                   {},
                   {}};
    }
  } else if (effects.has(lc::Effect::kMovesVm)) {
    const std::expected<std::string, std::string> host = place(vm, request.host, vm.host);
    if (!host) {
      return Error{ErrorCode::kConflict, "no other host can take this VM: " + host.error(), {}, {}};
    }
    params.target_host = *host;
  } else if (effects.has(lc::Effect::kAppliesModel) && !effects.has(lc::Effect::kRestoresModel)) {
    if (!request.model) {
      return Error::invalid_argument(std::string(lc::action_name(a)) +
                                     " needs the new model (vcpus, memory_mib or image)");
    }
    params.previous = vm.model;
  } else if (effects.has(lc::Effect::kRestoresModel)) {
    // Back to the model the operation that applied the new one started from.
    if (vm.record.op && lc::has_effect(*vm.record.op, lc::Effect::kAppliesModel)) {
      if (vm.op.params.previous) request.model = vm.op.params.previous;
    }
    if (!request.model) return Error::internal("the resize to revert left no previous model");
  }
  // A row from RESIZED ends the resize: its `source` side is the host the resize left.
  if (vm.record.state == State::kResized && !vm.record.busy() && vm.record.op) {
    params.source_host = vm.op.params.source_host;
    // The old model, whose room the source keeps until this row ends (source_claims).
    if (!params.previous) params.previous = vm.op.params.previous;
  }
  return std::nullopt;
}

void Engine::Impl::handle_action(internal::ActionCommand& command) {
  ActionRequest& request = command.request;
  auto refuse = [&](Error error) {
    replies.push_back({std::move(command.reply), std::move(error), 0, 0});
  };
  if (!exists(request.vm)) {
    refuse(Error::not_found("no VM with id " + std::to_string(request.vm)));
    return;
  }
  if (lc::is_system_action(request.action)) {
    refuse(Error::invalid_argument("system actions are not requests"));
    return;
  }
  const store::Vm& vm = current(request.vm);
  Result<lc::Step> step = lc::begin(vm.record, {request.action, request.reset_to});
  if (!step) {
    refuse(std::move(step.error()));
    return;
  }
  store::OpParams params;
  if (std::optional<Error> error = prepare_action(vm, request, params)) {
    refuse(std::move(*error));
    return;
  }
  const lc::Transition* row = lc::allowed_row(vm.record, request.action);
  const bool on_operation = row != nullptr && (row->target == lc::Target::kFailPhase ||
                                               row->target == lc::Target::kNextPhase ||
                                               row->target == lc::Target::kRetryPhase);
  internal::Cause cause{request.action, request.actor, request.request_id, {}};
  if (step->replaced) {
    // The operation cut short is recorded as canceled, with who cut it.
    store::Vm& old = mutate(request.vm);
    lc::Operation canceled = *old.record.op;
    canceled.status = lc::OpStatus::kCanceled;
    old.op.error = "pre-empted by " + std::string(lc::action_name(request.action));
    old.op.finished_at = clock.now_ms();
    old.op.deadline = 0;
    op_rows.push_back({old.id, canceled, old.op});
    cause.reason = old.op.error;
  }
  if (request.action == Action::kCancel) cause.reason = "canceled by request";
  if (request.action == Action::kRecoverFailure) cause.reason = "declared failed by request";
  if (request.action == Action::kResetState) {
    cause.reason = "state set to " + std::string(lc::state_name(request.reset_to)) +
                   " by reset_state; nothing on the host was touched";
  }
  if (request.model) {
    store::Vm& target = mutate(request.vm);
    if (row != nullptr && row->has(lc::Effect::kAppliesModel)) {
      target.desired = *request.model;
      target.model_error.clear();
    }
  }
  // What a meta row does to the operation is its target, not its action's name.
  const bool retries = row != nullptr && row->target == lc::Target::kRetryPhase;
  if (retries || (row != nullptr && row->target == lc::Target::kNextPhase)) {
    store::Vm& again = mutate(request.vm);
    again.op.error.clear();
    // A retry re-sends the phase under a new attempt, so the old attempt's answer is dropped.
    if (retries) again.op.attempt += 1;
  }
  const OpId before = current(request.vm).op.id;
  apply(request.vm, *step, !on_operation, params, cause);
  replies.push_back(
      {std::move(command.reply), std::nullopt, request.vm, on_operation ? before : max_op_id});
}

void Engine::Impl::handle_result(const driver::PhaseResult& result) {
  if (!exists(result.vm)) return;
  const store::Vm& vm = current(result.vm);
  if (!vm.record.busy() || vm.op.id != result.op || vm.record.op->step != result.step ||
      vm.op.attempt != result.attempt) {
    return;  // an answer for a phase that already ended (deadline, pre-emption, retry)
  }
  const Action action = vm.record.op->action;
  // A phase that removes a copy on one side of a move, or any undo phase, reports the power
  // of a copy that is not (or no longer) the VM: the table names the VM's power then.
  const bool other_copy =
      vm.record.op->undoing.has_value() || lc::current_removes_copy(*vm.record.op);
  const bool power_known = result.power_known && !other_copy;
  if (result.ok) {
    // The host that lacked the VM at its agent's reconnect has worked on it again since —
    // unless the phase, meant to leave it running, found nothing running there (a hotplug into
    // a process that is gone succeeds with power shutdown): the VM is still missing, and the
    // drift policy must settle it once the operation ends, not leave it RUNNING and off.
    auto powered = [](lc::Power p) { return p == lc::Power::kRunning || p == lc::Power::kPaused; };
    const bool still_missing =
        power_known && powered(lc::power_after_phase(vm.record)) && !powered(result.power);
    if (auto note = vanished_during_op.find(result.vm); note != vanished_during_op.end() &&
                                                        note->second == phase_hosts(vm).host &&
                                                        !still_missing) {
      vanished_during_op.erase(note);
    }
    // The power this phase left is recorded first: the next phase's power_after is named
    // from it (lifecycle::power_after_phase), e.g. a migration's prolog after its save.
    if (power_known && vm.record.power != result.power) {
      mutate(result.vm).record.power = result.power;
    }
    // A live migration's target answered where to send: kept with the operation (persisted
    // with this step), so the source's phase gets it even after a restart.
    if (result.endpoint) mutate(result.vm).op.params.endpoint = result.endpoint;
    const lc::Step step = lc::phase_succeeded(current(result.vm).record);
    apply(result.vm, step, false, {}, {action, "driver", {}, {}});
  } else {
    // The driver says whether the origin is intact: a kRollbackIfIntact phase reads it.
    const lc::Step step = lc::phase_failed(vm.record, lc::OpStatus::kFailed, result.integrity);
    apply(result.vm, step, false, {}, {action, "driver", {}, result.error});
  }
  if (power_known) {
    store::Vm& changed = mutate(result.vm);
    // A terminated VM has no power state, whatever the driver last saw.
    if (changed.record.state != State::kDone) changed.record.power = result.power;
  }
  // An operation that ended with the VM in a state that says its process runs, and the
  // driver saying it is off: its QEMU ended during the operation (a hotplug, a pause), whose
  // power events were not acted on while it ran (handle_power). The drift policy settles it
  // now, as the monitor would have, so it never stays RUNNING and off. A VM its host's agent
  // came back without is settled as vanished instead (settle_vanished), the truer word.
  if (!exists(result.vm)) return;
  const store::Vm& after = current(result.vm);
  if (power_known && !after.record.busy() && kProcessRuns.contains(after.record.state) &&
      !vanished_during_op.contains(result.vm) &&
      (after.record.power == lc::Power::kShutdown || after.record.power == lc::Power::kCrashed)) {
    handle_power({result.vm, driver::PowerEventKind::kPowerChanged, after.record.power,
                  "found off when its operation ended"});
  }
}

void Engine::Impl::handle_power(const driver::PowerEvent& event) {
  if (!exists(event.vm)) return;
  const store::Vm& vm = current(event.vm);
  if (event.kind == driver::PowerEventKind::kGuestReady) {
    // Azure: OS provisioning completes when the guest says it is ready — even after the
    // deadline turned the operation to failed.
    if (vm.record.busy() && lc::current_phase(*vm.record.op) == Phase::kOsProvisioning) {
      apply(event.vm, lc::phase_succeeded(vm.record), false, {},
            {vm.record.op->action, "monitor", {}, "guest ready"});
    } else if (std::optional<lc::Step> late = lc::late_success(vm.record)) {
      apply(event.vm, *late, false, {}, {vm.record.op->action, "monitor", {}, "guest ready late"});
    }
    return;
  }
  // Never reconcile a VM while its own operation runs: that operation decides.
  if (vm.record.busy()) return;
  const std::optional<lc::Observation> observed = observation_of(event);
  if (!observed) {
    // Nothing a policy acts on (e.g. a guest's own S3 suspend): its power is noted.
    if (vm.record.power != event.power) mutate(event.vm).record.power = event.power;
    return;
  }
  const lc::Observation seen = *observed;
  const std::optional<lc::DriftStep> drift = lc::react(options.drift, vm.record, seen, event.power);
  if (!drift) {
    // No rule of the policy moves the VM (OpenNebula keeps a PAUSED VM missing from its host
    // PAUSED): the power it was seen in is noted all the same, so it never shows one it lost.
    if (vm.record.state != State::kDone && vm.record.power != event.power) {
      mutate(event.vm).record.power = event.power;
    }
    return;
  }
  // A FAILED VM keeps the failed operation its recover options act on (seed 001: a *_FAILURE
  // state is left by recover; retry runs the failed phase again). A power the policy only
  // records is noted without an operation that would replace it.
  if (vm.record.state == State::kFailed && drift->observed == Action::kObservedPower) {
    if (vm.record.power != drift->power) mutate(event.vm).record.power = drift->power;
    return;
  }
  Result<lc::Step> step = lc::begin(vm.record, {drift->observed, State::kRunning});
  if (!step) {  // the table refuses what the policy asked: keep the state, note the power
    if (vm.record.power != drift->power) mutate(event.vm).record.power = drift->power;
    return;
  }
  std::string cause = event.cause.empty() ? std::string(lc::observation_name(seen)) : event.cause;
  cause += " (" + std::string(drift->why) + ")";
  apply(event.vm, *step, true, {}, {drift->observed, "monitor", {}, cause});
  mutate(event.vm).record.power = drift->power;
  if (!drift->then) return;
  // The policy starts an operation of its own (Nova's force_stop), as a request would.
  const store::Vm& now = current(event.vm);
  Result<lc::Step> then = lc::begin(now.record, {*drift->then, State::kRunning});
  if (!then) return;
  apply(event.vm, *then, true, {}, {*drift->then, "monitor", {}, std::string(drift->why)});
}

void Engine::Impl::apply(VmId id, const lc::Step& step, bool new_operation,
                         const store::OpParams& params, const internal::Cause& cause) {
  store::Vm& vm = mutate(id);
  unaccount(vm);
  const bool was_running = vm.record.busy();
  const bool was_undoing = was_running && vm.record.op->undoing.has_value();
  const Millis now = clock.now_ms();
  vm.record = step.record;
  // Undo phases count their steps from 0 again: a new attempt, so a late answer of the
  // forward phase with the same step number is dropped.
  // The failure that started the undo is the operation's error.
  if (!was_undoing && vm.record.busy() && vm.record.op->undoing) {
    vm.op.attempt += 1;
    vm.op.error = cause.reason.empty() ? "failed" : cause.reason;
  }
  if (new_operation && vm.record.op) {
    vm.op = store::OpMeta{};
    vm.op.id = ++max_op_id;
    vm.op.params = params;
    vm.op.actor = cause.actor;
    vm.op.request_id = cause.request_id;
    vm.op.started_at = now;
  }
  const bool busy_now = vm.record.busy();
  if (!busy_now) vm.op.deadline = 0;
  if ((was_running || new_operation) && !busy_now && vm.record.op) {
    vm.op.finished_at = now;
    if (vm.record.op->status != lc::OpStatus::kSucceeded && vm.op.error.empty()) {
      vm.op.error = cause.reason.empty() ? "failed" : cause.reason;
    }
  }
  if (busy_now && !was_running) vm.op.finished_at = 0;
  if (vm.record.op && vm.record.op->status == lc::OpStatus::kSucceeded &&
      vm.record.op->action == Action::kRecoverRetry) {
    vm.op.error.clear();
  }

  // History first, so on_operation_finished's follow-ups come after it.
  const Phase phase = vm.record.op ? lc::current_phase(*vm.record.op) : Phase::kNone;
  transitions.push_back({0, id, vm.op.id, step.from, step.to, cause.action, phase,
                         vm.record.op ? vm.record.op->status : lc::OpStatus::kSucceeded,
                         cause.actor, cause.request_id, now, cause.reason});
  if (vm.record.op) op_rows.push_back({id, *vm.record.op, vm.op});

  if (!busy_now && vm.record.op) on_operation_finished(vm, cause);
  settle_nics(vm);
  settle_volumes(vm);
  if (!lc::holds_host(vm.record.state) && !vm.record.busy()) vm.host.clear();
  if (vm.record.state != State::kPending) vm.pending_reason.clear();
  account(vm);
  track_pending(vm);
  if (vm.record.busy() && (step.phase != Phase::kNone || new_operation)) after_phase_started(vm);
  records.observe(vm, now);  // migration record and host stay, in this transition's batch
}

void Engine::Impl::on_operation_finished(store::Vm& vm, const internal::Cause& cause) {
  const lc::Operation& op = *vm.record.op;
  const bool ok = op.status == lc::OpStatus::kSucceeded;
  const store::OpParams& params = vm.op.params;
  const lc::Effects effects = lc::effects(op);
  const bool applies_model = effects.has(lc::Effect::kAppliesModel);
  nic_operation_finished(vm);
  volume_operation_finished(vm);
  if (ok && applies_model && vm.desired) {
    vm.model = *vm.desired;
    vm.desired.reset();
    vm.model_error.clear();
  } else if (!ok && applies_model && vm.desired) {
    // Seed 000's edge case: the VM keeps running with its old model; both are shown.
    vm.model_error = vm.op.error;
  }
  // A move whose source cleanup failed is done all the same: the VM runs on the target.
  if (lc::reached_target(op) && effects.has(lc::Effect::kMovesVm) && !params.target_host.empty()) {
    vm.host = params.target_host;
  }
  // A revert of a resize that moved goes back to the host the resize left.
  if (ok && effects.has(lc::Effect::kRestoresModel) && !params.source_host.empty()) {
    vm.host = params.source_host;
  }
  if (ok && op.action == Action::kCreate && params.hold) {
    Result<lc::Step> hold = lc::begin(vm.record, {Action::kHold, State::kRunning});
    if (hold) apply(vm.id, *hold, true, {}, {Action::kHold, cause.actor, cause.request_id, {}});
  }
}

void Engine::Impl::after_phase_started(store::Vm& vm, Millis deadline) {
  const lc::Operation& op = *vm.record.op;
  const Phase phase = lc::current_phase(op);
  const Millis now = clock.now_ms();
  vm.op.deadline = deadline != 0 ? deadline : now + deadline_for(op.action, phase);
  new_deadlines.push_back({vm.op.deadline, vm.id, vm.op.id, op.step, vm.op.attempt});
  const store::OpParams& params = vm.op.params;
  const lc::Effects effects = lc::effects(op);
  if (effects.has(lc::Effect::kPlacesVm) && vm.host.empty() && !params.target_host.empty()) {
    vm.host = params.target_host;
    account(vm);  // placed: the host's room is taken from now on
  }
  if (phase == Phase::kSchedule) {
    try_schedule_phase(vm.id);
    return;
  }
  driver::PhaseRequest request;
  request.vm = vm.id;
  request.op = vm.op.id;
  request.step = op.step;
  request.attempt = vm.op.attempt;
  request.action = op.action;
  request.phase = phase;
  request.origin = op.origin;
  // Undo phases put the VM back as it was: with the model it had (a resize's new one never
  // took effect), not the one the operation was applying.
  request.model = op.undoing ? vm.model : vm.desired.value_or(vm.model);
  request.runs_on = lc::current_runs_on(op);
  PhaseHosts sides = phase_hosts(vm);
  request.host = std::move(sides.host);
  request.peer_host = std::move(sides.peer);
  // The VM's files go in the last phase of a row that deletes them (an operation that ends
  // the VM, or recover_recreate that starts it again from nothing).
  const bool last_phase = lc::in_last_phase(op);
  request.ends_vm = last_phase && effects.has(lc::Effect::kEndsVm);
  request.delete_files = last_phase && effects.has(lc::Effect::kDeletesFiles);
  // A step the table marks as removing a copy on one side of a move (the source's once the
  // target holds the VM, the target's in an undo): that host's files go, its driver forgets.
  // A side that is the other's too (a resize that stayed on its host) holds the only copy.
  if (lc::current_removes_copy(op) && !request.peer_host.empty() &&
      request.host != request.peer_host) {
    request.delete_files = true;
    request.ends_vm = true;
  }
  request.power_after = lc::power_after_phase(vm.record);
  request.name = params.name;
  request.size_mib = params.size_mib;
  request.migration = params.migration;
  request.endpoint = params.endpoint;
  // As the Welcome marks the VMs already there (host_monitor.cc), for VMs that arrive later.
  request.may_fence = options.hosts.failure_policy == HostFailurePolicy::kEvacuate;
  request.nics = phase_nics(vm);
  request.volumes = phase_volumes(vm);
  request.ssh_keys = vm.ssh_keys;
  dispatch.push_back(std::move(request));
}

}  // namespace corral::engine
