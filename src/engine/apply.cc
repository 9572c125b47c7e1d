// What commands do to a VM, and how a step is applied. Engine thread only. What driver
// answers and hypervisor events do is in reports.cc.
#include <algorithm>

#include "engine/engine_impl.h"
#include "lifecycle/lock.h"
#include "lifecycle/table.h"

namespace corral::engine {

namespace lc = corral::lifecycle;
using lc::Action;
using lc::Phase;
using lc::State;

internal::PhaseHosts internal::phase_hosts(const store::Vm& vm) {
  const store::OpParams& params = vm.op.params;
  const std::string& source = params.source_host.empty() ? vm.host : params.source_host;
  const std::string& target = params.target_host.empty() ? vm.host : params.target_host;
  const bool two_sides = !params.target_host.empty() || !params.source_host.empty();
  const lc::RunsOn side = lc::current_runs_on(*vm.record.op);
  if (side == lc::RunsOn::kTarget && two_sides) return {target, source};
  if (side == lc::RunsOn::kSource && two_sides) return {source, target};
  return {vm.host, {}};
}

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
  if (request.quota) {
    if (std::optional<Error> over =
            over_quota(request.project, *request.quota, create_use(request))) {
      replies.push_back({std::move(command.reply), std::move(*over), 0, 0});
      return;
    }
  }
  store::GroupId group = 0;
  if (!request.group.empty()) {
    // Only a group of the VM's own project (ownership.cc): Nova's create says 400.
    const store::ServerGroupRow* g = find_group_of(request.group, request.project);
    if (g == nullptr) {
      replies.push_back({std::move(command.reply),
                         Error::invalid_argument("no server group " + request.group), 0, 0});
      return;
    }
    if (request.quota) {
      if (std::optional<Error> over = over_group_members(g->id, *request.quota)) {
        replies.push_back({std::move(command.reply), std::move(*over), 0, 0});
        return;
      }
    }
    group = g->id;
  }
  store::ResourceGroupId resource_group = 0;
  if (!request.resource_group.empty()) {
    const store::ResourceGroupRow* g = find_resource_group(request.resource_group, request.project);
    if (g == nullptr) {
      replies.push_back({std::move(command.reply),
                         Error::invalid_argument("no resource group " + request.resource_group), 0,
                         0});
      return;
    }
    if (g->deleting) {
      replies.push_back({std::move(command.reply),
                         Error{ErrorCode::kConflict,
                               "resource group " + g->name + " is being deleted with its VMs",
                               {},
                               {}},
                         0, 0});
      return;
    }
    resource_group = g->id;
  }
  store::Vm vm;
  vm.id = ++max_vm_id;
  vm.name = request.name;
  vm.project = request.project;
  vm.model = request.model;
  vm.requirements = request.requirements;  // parsed by Engine::create
  vm.group = group;
  vm.resource_group = resource_group;
  vm.ssh_keys = request.ssh_keys;
  // A VM without NICs lists no group: its project's default is not made for it.
  Result<std::vector<store::SecurityGroupId>> security =
      request.networks.empty() && request.security_groups.empty()
          ? Result<std::vector<store::SecurityGroupId>>(std::vector<store::SecurityGroupId>{})
          : security_group_ids(request.security_groups, request.project,
                               ErrorCode::kInvalidArgument);
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
            ? lease_nic(network, {}, vm.id, vm.project, index, true)
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
  if (resource_group != 0) resource_group_members[resource_group].insert(vm.id);
  vm.created_at = vm.updated_at = now;
  working.emplace(vm.id, std::move(vm));
  dirty_order.push_back(max_vm_id);
  store::OpParams params;
  params.hold = request.hold;
  const lc::Step step{lc::new_record(), State::kInit, State::kInit, Phase::kInit, std::nullopt};
  apply(max_vm_id, step, true, params, {Action::kCreate, request.actor, request.request_id, {}});
  replies.push_back({std::move(command.reply), std::nullopt, max_vm_id, max_op_id});
  keep_audit_record(max_vm_id, command.request.audit_record);
}

void Engine::Impl::keep_audit_record(VmId vm, std::string& record) {
  if (record.empty() || !options.audit_sink) return;
  audit_outbox.push_back({++max_audit_outbox_id, vm, std::move(record)});
  replies.back().audited = true;
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
    // Nova's os-interface: a network the VM's project may not use is not found (404), as
    // Neutron's port update finds no other project's security group.
    if (find_network_for(request.network, vm.project) == nullptr) {
      return Error::not_found("no network " + request.network);
    }
    Result<std::vector<store::SecurityGroupId>> security =
        security_group_ids(request.security_groups, vm.project, ErrorCode::kNotFound);
    if (!security) return security.error();
    Result<store::Nic> nic =
        lease_nic(request.network, request.ip, vm.id, vm.project, index, false);
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
      if (vm.op.params.previous) request.model = *vm.op.params.previous;
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
  // As Nova's @check_instance_lock, before the state is looked at.
  if (vm.locked_by != lc::LockedBy::kNone && !request.admin && lc::lock_blocks(request.action)) {
    refuse(Error{ErrorCode::kLocked,
                 "VM " + std::to_string(vm.id) + " is locked by " +
                     (vm.locked_by == lc::LockedBy::kAdmin ? "the cloud's admin" : "its owner") +
                     (vm.lock_reason.empty() ? "" : " (" + vm.lock_reason + ")"),
                 {},
                 {}});
    return;
  }
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
  if (request.quota) {
    if (std::optional<Error> over =
            over_quota(vm.project, *request.quota, action_use(vm, request))) {
      refuse(std::move(*over));
      return;
    }
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
  keep_audit_record(request.vm, request.audit_record);
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
  transitions.back().after = internal::after_of(vm);
  const std::size_t row = transitions.size() - 1;
  if (vm.record.op) op_rows.push_back({id, *vm.record.op, vm.op});

  if (!busy_now && vm.record.op) on_operation_finished(vm, cause);
  // A finished resize applies its model in on_operation_finished: the size after this entry
  // is the new one (usage bills it from here).
  if (transitions[row].after) {
    transitions[row].after->vcpus = vm.model.vcpus;
    transitions[row].after->memory_mib = vm.model.memory_mib;
  }
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
  // The last VM of a group being deleted takes the group with it, in the same commit.
  if (vm.record.state == State::kDone && vm.resource_group != 0) {
    resource_group_member_done(vm.resource_group);
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
  internal::PhaseHosts sides = internal::phase_hosts(vm);
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
  request.name = params.name.to_optional();
  request.size_mib = params.size_mib;
  request.migration = params.migration;
  request.endpoint = params.endpoint.to_optional();
  // As the Welcome marks the VMs already there (host_monitor.cc), for VMs that arrive later.
  request.may_fence = options.hosts.failure_policy == HostFailurePolicy::kEvacuate;
  request.nics = phase_nics(vm);
  request.volumes = phase_volumes(vm);
  request.ssh_keys = vm.ssh_keys;
  dispatch.push_back(std::move(request));
}

}  // namespace corral::engine
