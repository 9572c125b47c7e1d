// The engine thread: queue, batch, group commit, publish. See engine.h.
#include "engine/engine.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "engine/engine_impl.h"

namespace corral::engine {

namespace lc = corral::lifecycle;
using internal::Command;

Engine::Engine(store::Store& store, driver::Driver& driver, Clock& clock, EngineOptions options)
    : impl_(std::make_unique<Impl>(store, driver, clock, std::move(options))) {}

Engine::~Engine() { stop(); }

Status Engine::start() {
  Impl& e = *impl_;
  if (e.running) return {};
  if (Status loaded = e.load(); !loaded) return loaded;
  e.clock.on_advance([&e] { e.queue_cv.notify_all(); });
  e.driver.start(this);
  e.running = true;
  e.thread = std::thread([&e] { e.loop(); });
  return {};
}

void Engine::stop() {
  Impl& e = *impl_;
  if (!e.running) return;
  {
    std::lock_guard lock(e.queue_mu);
    e.stopping = true;
  }
  e.queue_cv.notify_all();
  e.thread.join();
  e.driver.stop();
  e.clock.on_advance(nullptr);
  e.running = false;
  // Whatever arrived after the last batch is answered, never left waiting.
  std::deque<Command> left;
  {
    std::lock_guard lock(e.queue_mu);
    left.swap(e.queue);
  }
  for (Command& c : left) {
    const Error shutting_down{ErrorCode::kUnavailable, "corral is shutting down", {}, {}};
    std::visit(
        [&](auto& command) {
          if constexpr (requires { command.reply.set_value(fail(shutting_down)); }) {
            command.reply.set_value(fail(shutting_down));
          }
        },
        c);
  }
}

Result<Accepted> Engine::create(CreateRequest request) {
  // Parsed here, on the caller's thread: a bad expression changes nothing and costs the
  // engine thread nothing.
  if (!request.requirements.empty()) {
    auto parsed = sched::Requirements::parse(request.requirements);
    if (!parsed) return fail(parsed.error().to_error());
  }
  return impl_->submit(internal::CreateCommand{std::move(request), {}});
}

Result<Accepted> Engine::act(ActionRequest request) {
  return impl_->submit(internal::ActionCommand{std::move(request), {}});
}

std::optional<store::Vm> Engine::get(VmId id) const {
  std::shared_lock lock(impl_->published_mu);
  if (id < 1 || static_cast<std::size_t>(id) > impl_->vms.size()) return std::nullopt;
  return impl_->vms[static_cast<std::size_t>(id - 1)];
}

ListPage Engine::list(const ListQuery& query) const {
  ListPage page;
  const std::size_t limit = std::max<std::size_t>(1, query.limit);
  std::shared_lock lock(impl_->published_mu);
  const std::vector<store::Vm>& vms = impl_->vms;
  std::size_t skipped = 0;
  for (std::size_t i = static_cast<std::size_t>(std::max<VmId>(0, query.marker)); i < vms.size();
       ++i) {
    const store::Vm& vm = vms[i];
    if (query.state && vm.record.state != *query.state) continue;
    if (!query.name.empty() && vm.name != query.name) continue;
    if (query.project && vm.project != *query.project) continue;
    if (query.live_only && vm.record.state == lifecycle::State::kDone) continue;
    if (skipped < query.offset) {
      ++skipped;
      continue;
    }
    if (page.vms.size() == limit) {
      page.next_marker = page.vms.back().id;
      break;
    }
    page.vms.push_back(vm);
  }
  return page;
}

std::vector<HostUsage> Engine::hosts() const {
  std::shared_lock lock(impl_->published_mu);
  std::vector<HostUsage> out;
  for (const internal::HostSlot& h : impl_->published_hosts) {
    out.push_back({h.info, h.used_vcpus, h.used_memory_mib, h.vms});
  }
  return out;
}

EngineStats Engine::stats() const {
  std::shared_lock lock(impl_->published_mu);
  return impl_->published_stats;
}

std::map<std::pair<store::ProjectId, lc::State>, int> Engine::vm_counts() const {
  std::map<std::pair<store::ProjectId, lc::State>, int> counts;
  std::shared_lock lock(impl_->published_mu);
  for (const store::Vm& vm : impl_->vms) ++counts[{vm.project, vm.record.state}];
  return counts;
}

Result<std::optional<store::OperationRow>> Engine::operation(OpId id) const {
  return impl_->store.operation(id);  // every change is committed before it is visible
}

Result<std::vector<store::TransitionRow>> Engine::history(VmId vm, std::int64_t after_id,
                                                          int limit) const {
  return impl_->store.history(vm, after_id, limit);
}

int Engine::subscribe(std::function<void(const std::vector<Event>&)> callback) {
  std::lock_guard lock(impl_->subscribers_mu);
  const int handle = impl_->next_subscriber++;
  impl_->subscribers.emplace(handle, std::move(callback));
  return handle;
}

void Engine::unsubscribe(int handle) {
  std::lock_guard lock(impl_->subscribers_mu);
  impl_->subscribers.erase(handle);
}

void Engine::phase_done(driver::PhaseResult result) { impl_->enqueue(std::move(result)); }

void Engine::power_event(driver::PowerEvent event) { impl_->enqueue(std::move(event)); }

void Engine::phase_progress(driver::PhaseProgress progress) { impl_->enqueue(progress); }

// ---- Impl: the thread -------------------------------------------------------------------

void Engine::Impl::enqueue(Command command) {
  {
    std::lock_guard lock(queue_mu);
    queue.emplace_back(std::move(command));
  }
  queue_cv.notify_one();
}

bool Engine::Impl::exists(VmId id) const {
  return (id >= 1 && static_cast<std::size_t>(id) <= vms.size()) || working.contains(id);
}

const store::Vm& Engine::Impl::current(VmId id) const {
  if (auto it = working.find(id); it != working.end()) return it->second;
  return vms[static_cast<std::size_t>(id - 1)];
}

store::Vm& Engine::Impl::mutate(VmId id) {
  auto it = working.find(id);
  if (it == working.end()) {
    it = working.emplace(id, vms[static_cast<std::size_t>(id - 1)]).first;
    dirty_order.push_back(id);
  }
  return it->second;
}

void Engine::Impl::loop() {
  using namespace std::chrono_literals;
  std::deque<Command> batch;
  std::size_t previous_batch = 0;
  for (;;) {
    {
      std::unique_lock lock(queue_mu);
      if (queue.empty() && !stopping) {
        // Sleep until work arrives or the next deadline; deadlines are on the injected clock,
        // so never sleep long (a fake clock wakes us through on_advance anyway).
        auto wait = std::chrono::milliseconds(100);
        if (!deadlines.empty()) {
          const Millis left = deadlines.top().at - clock.now_ms();
          wait = std::clamp(std::chrono::milliseconds(left), 0ms, wait);
        }
        queue_cv.wait_for(lock, wait);
      }
      if (stopping && queue.empty()) break;
      const std::size_t n = std::min(queue.size(), options.max_batch);
      for (std::size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(queue.front()));
        queue.pop_front();
      }
    }
    for (Command& command : batch) handle(command);
    std::size_t taken = batch.size();
    batch.clear();
    // Group commit: while the batch is small, give concurrent clients a moment to join it —
    // only when there are concurrent clients (the last batch held more than one command, as
    // PostgreSQL's commit_siblings): a lone request is not made to wait for company.
    const bool concurrent = previous_batch > 1;
    if (concurrent && taken > 0 && taken < options.commit_delay_below &&
        options.commit_delay.count() > 0) {
      std::unique_lock lock(queue_mu);
      queue_cv.wait_for(lock, options.commit_delay,
                        [this] { return queue.size() >= options.commit_delay_below || stopping; });
      const std::size_t n = std::min(queue.size(), options.max_batch - taken);
      for (std::size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(queue.front()));
        queue.pop_front();
      }
    }
    for (Command& command : batch) handle(command);
    taken += batch.size();
    batch.clear();
    commands_in_batch += taken;
    previous_batch = taken;
    expire_deadlines();
    check_hosts();
    settle_vanished();
    if (options.auto_schedule) schedule();
    flush();
  }
  flush();
}

void Engine::Impl::handle(Command& command) {
  std::visit(
      [this](auto& c) {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, internal::CreateCommand>) {
          handle_create(c);
        } else if constexpr (std::is_same_v<T, internal::ActionCommand>) {
          handle_action(c);
        } else if constexpr (std::is_same_v<T, driver::PhaseResult>) {
          handle_result(c);
        } else if constexpr (std::is_same_v<T, driver::PowerEvent>) {
          handle_power(c);
        } else if constexpr (std::is_same_v<T, driver::PhaseProgress>) {
          handle_progress(c);
        } else if constexpr (std::is_same_v<T, internal::AddHostCommand>) {
          handle_add_host(c);
        } else if constexpr (std::is_same_v<T, internal::HostActionCommand>) {
          handle_host_action(c);
        } else if constexpr (std::is_same_v<T, internal::GroupCommand>) {
          handle_group(c);
        } else if constexpr (std::is_same_v<T, internal::NetworkCommand>) {
          handle_network(c);
        } else if constexpr (std::is_same_v<T, driver::NetworkDone>) {
          handle_network_done(c);
        } else if constexpr (std::is_same_v<T, internal::SecurityGroupCommand>) {
          handle_security_group(c);
        } else if constexpr (std::is_same_v<T, driver::FirewallDone>) {
          handle_firewall_done(c);
        } else if constexpr (std::is_same_v<T, internal::LockCommand>) {
          handle_lock(c);
        } else if constexpr (std::is_same_v<T, internal::ResourceGroupCommand>) {
          handle_resource_group(c);
        } else if constexpr (std::is_same_v<T, internal::VolumeCommand>) {
          handle_volume(c);
        } else if constexpr (std::is_same_v<T, driver::VolumeJobDone>) {
          handle_volume_done(c);
        } else {
          handle_agent_connected(c);
        }
      },
      command);
}

void Engine::Impl::expire_deadlines() {
  const Millis now = clock.now_ms();
  while (!deadlines.empty() && deadlines.top().at <= now) {
    const internal::DeadlineEntry d = deadlines.top();
    deadlines.pop();
    if (!exists(d.vm)) continue;
    const store::Vm& vm = current(d.vm);
    if (!vm.record.busy() || vm.op.id != d.op || vm.record.op->step != d.step ||
        vm.op.attempt != d.attempt) {
      continue;  // that phase already ended
    }
    const lc::Phase phase = lc::current_phase(*vm.record.op);
    const std::string reason =
        "deadline exceeded: " + std::string(lc::phase_name(phase)) + " took longer than " +
        std::to_string(deadline_for(vm.record.op->action, phase) / 1000) + " s";
    // A phase past its deadline says nothing of the origin: a kRollbackIfIntact phase fails.
    const lc::Step step =
        lc::phase_failed(vm.record, lc::OpStatus::kFailed, lc::Integrity::kUnknown);
    apply(d.vm, step, false, {}, {vm.record.op->action, "engine", {}, reason});
  }
}

void Engine::Impl::rollback_batch() {
  // Forget every uncommitted change: memory goes back to what the store holds.
  for (VmId id : dirty_order) {
    if (static_cast<std::size_t>(id) <= vms.size()) {
      track_pending(vms[static_cast<std::size_t>(id - 1)]);
    } else {
      pending.erase(id);
    }
  }
  working.clear();
  // Hosts go back to their published rows (liveness slots stay: an agent's heartbeat is not
  // part of a batch); use is recounted from the committed VMs.
  {
    std::shared_lock lock(published_mu);
    hosts = published_hosts;
  }
  max_host_id = 0;
  for (const internal::HostSlot& h : hosts) max_host_id = std::max(max_host_id, h.row.id);
  rebuild_host_index();
  host_rows.clear();
  deleted_hosts.clear();
  host_changes.clear();
  changed_vms.clear();
  // Groups go back to their published rows too.
  groups.clear();
  max_group_id = 0;
  {
    std::shared_lock lock(published_mu);
    for (const store::ServerGroupRow& g : published_groups) groups[g.id] = g;
  }
  for (const auto& [id, g] : groups) max_group_id = std::max(max_group_id, id);
  group_rows.clear();
  deleted_groups.clear();
  groups_changed = false;
  max_vm_id = static_cast<VmId>(vms.size());
  for (auto& [group, members] : group_members) {  // creates that were not committed
    std::erase_if(members, [&](VmId id) { return id > max_vm_id; });
  }
  max_transition_id = committed_transition_id;
  working.clear();
  dirty_order.clear();
  rollback_networks();  // after `working` is cleared: leases are rebuilt from committed VMs
  rollback_volumes();
  rollback_security_groups();
  rollback_resource_groups();
  op_rows.clear();
  transitions.clear();
  dispatch.clear();
  new_deadlines.clear();
  records.rolled_back();
}

void Engine::Impl::flush() {
  if (working.empty() && op_rows.empty() && transitions.empty() && replies.empty() &&
      host_rows.empty() && deleted_hosts.empty() && host_changes.empty() && host_replies.empty() &&
      group_rows.empty() && deleted_groups.empty() && !records.pending() && network_rows.empty() &&
      deleted_networks.empty() && network_jobs.empty() && !networks_changed &&
      volume_rows.empty() && deleted_volumes.empty() && volume_jobs.empty() && !volumes_changed &&
      security_group_rows.empty() && deleted_security_groups.empty() && !security_groups_changed &&
      firewall_hosts.empty() && resource_group_rows.empty() && deleted_resource_groups.empty() &&
      !resource_groups_changed) {
    return;
  }
  note_firewall_hosts();
  const Millis now = clock.now_ms();
  store::Batch batch;
  // New VMs are appended in id order after commit; order the batch the same way.
  std::sort(dirty_order.begin(), dirty_order.end());
  for (VmId id : dirty_order) {
    store::Vm& vm = working.at(id);
    vm.updated_at = now;
    batch.vms.push_back(&vm);
  }
  batch.operations = std::move(op_rows);
  batch.transitions = std::move(transitions);
  batch.deleted_hosts = std::move(deleted_hosts);
  batch.hosts = std::move(host_rows);
  batch.deleted_groups = std::move(deleted_groups);
  batch.groups = std::move(group_rows);
  batch.deleted_networks = std::move(deleted_networks);
  batch.networks = std::move(network_rows);
  batch.deleted_volumes = std::move(deleted_volumes);
  batch.volumes = std::move(volume_rows);
  batch.deleted_security_groups = std::move(deleted_security_groups);
  batch.security_groups = std::move(security_group_rows);
  batch.deleted_resource_groups = std::move(deleted_resource_groups);
  batch.resource_groups = std::move(resource_group_rows);
  records.take(batch);
  batch.audit_outbox = std::move(audit_outbox);
  audit_outbox.clear();
  for (store::AuditOutboxRow& row : batch.audit_outbox) row.at = now;  // >= a create's VM's
  // Entries the audit log holds go with a batch that commits anyway: never one of their own.
  if (!batch.empty() && options.audit_copied) {
    if (const std::int64_t copied = options.audit_copied(); copied > audit_outbox_deleted) {
      batch.audit_outbox_done = copied;
    }
  }
  deleted_security_groups.clear();
  security_group_rows.clear();
  deleted_resource_groups.clear();
  resource_group_rows.clear();
  deleted_volumes.clear();
  volume_rows.clear();
  deleted_networks.clear();
  network_rows.clear();
  deleted_groups.clear();
  group_rows.clear();
  op_rows.clear();
  transitions.clear();
  deleted_hosts.clear();
  host_rows.clear();

  if (!batch.empty()) {
    for (store::TransitionRow& t : batch.transitions) t.id = ++max_transition_id;
    const auto commit_started = std::chrono::steady_clock::now();
    Status committed = store.commit(batch);
    if (committed && metrics) {
      metrics->committed(
          batch.transitions,
          std::chrono::duration<double>(std::chrono::steady_clock::now() - commit_started).count());
    }
    if (!committed) {
      std::fprintf(stderr, "corral: engine: commit failed, batch rolled back: %s\n",
                   committed.error().message.c_str());
      rollback_batch();
      const Error error{ErrorCode::kUnavailable,
                        "could not persist the change: " + committed.error().message,
                        {},
                        {}};
      for (internal::PendingReply& r : replies) r.promise.set_value(fail(error));
      replies.clear();
      for (auto& answer : host_replies) answer(&error);
      host_replies.clear();
      return;
    }
  }

  committed_transition_id = max_transition_id;
  records.committed();
  audit_outbox_deleted = std::max(audit_outbox_deleted, batch.audit_outbox_done);
  // Before any reply: an answered request's entry is already the audit log's.
  if (!batch.audit_outbox.empty()) options.audit_sink(std::move(batch.audit_outbox));
  // Committed: publish, then answer, notify and dispatch.
  std::vector<Event> events;
  events.reserve(batch.transitions.size());
  {
    std::unique_lock lock(published_mu);
    for (VmId id : dirty_order) {
      store::Vm& vm = working.at(id);
      if (static_cast<std::size_t>(id) <= vms.size()) {
        vms[static_cast<std::size_t>(id - 1)] = std::move(vm);
      } else {
        vms.push_back(std::move(vm));  // ids are dense: creates arrive in order
      }
    }
    // Only the slots that changed are copied: a commit costs no copy of 1,000 host rows.
    if (hosts_changed || published_hosts.size() != hosts.size()) {
      for (internal::HostSlot& h : hosts) h.dirty = false;
      published_hosts = hosts;
    } else {
      for (std::size_t i : dirty_hosts) {
        hosts[i].dirty = false;
        published_hosts[i] = hosts[i];
      }
    }
    dirty_hosts.clear();
    hosts_changed = false;
    if (networks_changed) publish_networks();
    if (volumes_changed) publish_volumes();
    if (security_groups_changed) publish_security_groups();
    if (resource_groups_changed) publish_resource_groups();
    if (groups_changed) {
      published_groups.clear();
      for (const auto& [id, g] : groups) published_groups.push_back(g);
      groups_changed = false;
    }
    stats.batches += batch.empty() ? 0 : 1;
    stats.transitions += batch.transitions.size();
    stats.commands += commands_in_batch;
    stats.vms = vms.size();
    published_stats = stats;
  }
  commands_in_batch = 0;
  working.clear();
  dirty_order.clear();
  for (const store::TransitionRow& t : batch.transitions) {
    const store::Vm& vm = vms[static_cast<std::size_t>(t.vm_id - 1)];
    events.push_back({t, vm.record.state, std::nullopt, vm.project});
  }
  for (HostChange& change : host_changes)
    events.push_back({{}, lc::State::kInit, std::move(change), 0});
  host_changes.clear();
  for (const VmId id : changed_vms) {
    const store::Vm& vm = vms[static_cast<std::size_t>(id - 1)];
    events.push_back({{}, vm.record.state, std::nullopt, vm.project, id});
  }
  changed_vms.clear();

  for (internal::PendingReply& r : replies) {
    if (r.error) {
      r.promise.set_value(fail(*r.error));
      continue;
    }
    const store::Vm& vm = vms[static_cast<std::size_t>(r.vm - 1)];
    Accepted accepted{vm, std::nullopt};
    accepted.audited = r.audited;
    if (vm.record.op && vm.op.id == r.op) {
      accepted.op = store::OperationRow{vm.id, *vm.record.op, vm.op};
    }
    r.promise.set_value(std::move(accepted));
  }
  replies.clear();
  for (auto& answer : host_replies) answer(nullptr);
  host_replies.clear();

  if (!events.empty()) {
    std::lock_guard lock(subscribers_mu);
    for (auto& [handle, callback] : subscribers) callback(events);
  }
  for (const internal::DeadlineEntry& d : new_deadlines) deadlines.push(d);
  new_deadlines.clear();
  // Firewalls before phases: an agent gets its host's job, listing a deploy's NICs, ahead of
  // the phase that opens their taps on the same stream, and applies it before the tap.
  send_firewall_jobs();
  std::vector<driver::PhaseRequest> to_dispatch;
  to_dispatch.swap(dispatch);
  for (const driver::PhaseRequest& request : to_dispatch) driver.run_phase(request);
  send_network_jobs();
  send_volume_jobs();
}

Status Engine::Impl::load() {
  Result<store::Loaded> loaded = store.load();
  if (!loaded) return std::unexpected(loaded.error());
  vms = std::move(loaded->vms);
  max_vm_id = loaded->max_vm_id;
  max_op_id = loaded->max_op_id;
  max_transition_id = committed_transition_id = loaded->max_transition_id;
  max_audit_outbox_id = loaded->max_audit_outbox_id;
  for (std::size_t i = 0; i < vms.size(); ++i) {
    if (vms[i].id != static_cast<VmId>(i + 1)) {
      return fail(Error::internal("store returned VM ids with gaps (" + std::to_string(vms[i].id) +
                                  " at position " + std::to_string(i + 1) + ")"));
    }
  }
  for (const store::ServerGroupRow& g : loaded->groups) {
    groups[g.id] = g;
    max_group_id = std::max(max_group_id, g.id);
  }
  for (const store::Vm& vm : vms) {
    if (vm.group != 0) group_members[vm.group].insert(vm.id);
  }
  published_groups = loaded->groups;
  load_networks(*loaded);
  load_volumes(*loaded);
  load_security_groups(*loaded);
  load_resource_groups(*loaded);
  records.load(*loaded);
  started_at = clock.now_ms();
  if (Status registered = init_hosts(); !registered) return registered;
  const Millis now = clock.now_ms();
  for (const store::Vm& vm : vms) {
    account(vm);
    track_pending(vm);
    if (!vm.host.empty()) driver.adopt(vm.id, vm.host, vm.record.power);
  }
  // Operations that were running when the previous process ended: send their current phase
  // again (phases are idempotent), under a new attempt so a late answer from before is dropped.
  for (const store::Vm& committed : vms) {
    if (!committed.record.busy()) continue;
    store::Vm& vm = mutate(committed.id);
    vm.op.attempt += 1;
    const lc::Phase phase = lc::current_phase(*vm.record.op);
    transitions.push_back(
        {0,
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
         "re-dispatched after a restart (attempt " + std::to_string(vm.op.attempt) + ")"});
    transitions.back().after = internal::after_of(vm);
    op_rows.push_back({vm.id, *vm.record.op, vm.op});
    // Keep the deadline the phase had: restarting must not buy a hung phase more time.
    after_phase_started(vm, vm.op.deadline > now ? vm.op.deadline : now);
  }
  {
    std::unique_lock lock(published_mu);
    for (internal::HostSlot& h : hosts) h.dirty = false;
    dirty_hosts.clear();
    published_hosts = hosts;
    hosts_changed = false;
    stats.vms = vms.size();
    published_stats = stats;
  }
  return {};
}

}  // namespace corral::engine
