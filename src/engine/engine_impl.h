// The engine's private implementation (see engine.h for the contract). engine.cc holds the
// thread, the queue, the batch/commit cycle and the public API; apply.cc holds what a command
// or a driver answer does to a VM; placement.cc holds host accounting and the scheduler.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <queue>
#include <set>
#include <shared_mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "engine/engine.h"
#include "engine/engine_metrics.h"
#include "engine/engine_state.h"
#include "engine/records.h"
#include "sched/scheduler.h"

namespace corral::engine {

// The host a VM resized across hosts left, which keeps its copy and the old model's room
// (source_claims) and whose agent must not discard it: from the resize's end until a confirm
// or revert is over (or, failed, until recover ends FAILED). nullptr for any other VM.
const std::string* claimed_source(const store::Vm& vm);

struct Engine::Impl {
  Impl(store::Store& s, driver::Driver& d, Clock& c, EngineOptions o)
      : store(s), driver(d), clock(c), options(std::move(o)) {
    if (options.metrics != nullptr) metrics = std::make_unique<EngineMetrics>(*options.metrics);
  }

  store::Store& store;
  driver::Driver& driver;
  Clock& clock;
  const EngineOptions options;

  // ---- Committed state: written by the engine thread under `published_mu` (exclusive);
  // read by anyone under a shared lock. The engine thread reads it without locking.
  mutable std::shared_mutex published_mu;
  std::vector<store::Vm> vms;  // vms[id - 1]; ids are dense and never reused
  std::vector<internal::HostSlot> published_hosts;
  // Agents' heartbeats, by host name: written by any thread (atomics), slots added and removed
  // by the engine thread under the exclusive lock.
  mutable std::shared_mutex live_mu;
  std::map<std::string, std::shared_ptr<internal::HostLiveness>, std::less<>> live;
  EngineStats published_stats;
  std::vector<store::ServerGroupRow> published_groups;             // by id
  std::vector<NetworkDetail> published_networks;                   // by id
  std::vector<store::VolumeRow> published_volumes;                 // by id
  std::vector<store::SecurityGroupRow> published_security_groups;  // by id
  std::vector<store::ResourceGroupRow> published_resource_groups;  // by id
  std::map<std::string, std::string> published_firewall_errors;    // by host

  // ---- Engine thread only --------------------------------------------------------------
  std::unique_ptr<EngineMetrics> metrics;       // nullptr: no registry given
  std::unordered_map<VmId, store::Vm> working;  // copies changed in this batch, not committed
  std::vector<VmId> dirty_order;                // working's keys, in first-touch order
  std::vector<internal::HostSlot> hosts;        // includes uncommitted changes
  std::map<std::string, std::size_t> host_index;
  std::set<VmId> pending;                // PENDING, idle: waiting for a host
  std::set<VmId> waiting_schedule;       // in an operation's schedule phase
  bool schedule_needed = true;           // room was freed or a VM started waiting
  bool hosts_changed = true;             // publish `hosts` whole at the next commit (list changed)
  std::vector<std::size_t> dirty_hosts;  // else publish only these slots
  // The scheduler's view of `hosts` (same order), kept up to date by account()/unaccount()
  // and refresh_host(): placing a VM costs no copy of the host list.
  std::vector<sched::HostSnapshot> sched_view;
  std::unordered_map<std::string, std::set<VmId>> vms_on_host;  // accounted VMs, by host
  // The room a VM RESIZED across hosts keeps on the host it left (its old model), until confirm
  // or revert ends the resize: Nova keeps the source's claim. Not listed in vms_on_host: the
  // VM runs on its target.
  std::unordered_map<VmId, std::pair<std::string, store::VmModel>> source_claims;
  // Busy VMs an agent reconnected without, by the host that lacked them: "that operation
  // decides" (handle_power) leaves them alone, but a move that ends on the host (a target
  // that died during the source's cleanup) would end RUNNING where nothing runs. Not
  // persisted: after a restart the agent's next Hello reports the same.
  std::unordered_map<VmId, std::string> vanished_during_op;
  store::HostId max_host_id = 0;
  Millis started_at = 0;  // the engine's start, on its clock (evacuation waits a lease after it)
  // Host changes of the batch being built.
  std::vector<store::HostRow> host_rows;
  std::vector<std::string> deleted_hosts;
  std::vector<HostChange> host_changes;
  // VMs changed in the batch without a transition (a lock), published as Event::changed_vm.
  std::vector<VmId> changed_vms;
  // Answers for host commands, called after the commit (nullptr) or with its error.
  std::vector<std::function<void(const Error*)>> host_replies;
  // Server groups (groups.cc): rows as committed or to be committed in this batch; the
  // members of each (every VM created into it; DONE ones are skipped where it matters).
  std::map<store::GroupId, store::ServerGroupRow> groups;
  std::unordered_map<store::GroupId, std::set<VmId>> group_members;
  store::GroupId max_group_id = 0;
  std::vector<store::ServerGroupRow> group_rows;  // the batch's upserts
  std::vector<store::GroupId> deleted_groups;     // the batch's deletes
  bool groups_changed = false;                    // publish `groups` at the next commit
  // Networks (networks.cc): rows as committed or to be committed in this batch, and the
  // leases their NICs hold, by network and address (an address's number: sorted).
  driver::NetworkFabric* fabric = nullptr;
  std::map<store::NetworkId, store::NetworkRow> networks;
  std::map<store::NetworkId, std::map<std::uint32_t, NetworkLease>> leases;
  store::NetworkId max_network_id = 0;
  std::vector<store::NetworkRow> network_rows;     // the batch's upserts
  std::vector<store::NetworkId> deleted_networks;  // the batch's deletes
  std::set<store::NetworkId> network_jobs;         // networks to send the fabric after commit
  std::map<store::NetworkId, std::uint64_t> network_generation;  // of the last job sent
  bool networks_changed = false;                                 // publish at the next commit
  // Volumes (volumes.cc): rows as committed or to be committed in this batch.
  driver::VolumeStorage* volume_storage = nullptr;
  std::map<store::VolumeId, store::VolumeRow> volumes;
  store::VolumeId max_volume_id = 0;
  std::int64_t max_snapshot_id = 0;
  std::vector<store::VolumeRow> volume_rows;     // the batch's upserts (the last one wins)
  std::vector<store::VolumeId> deleted_volumes;  // the batch's deletes
  std::set<store::VolumeId> volume_jobs;         // volumes whose job goes out after commit
  std::map<store::VolumeId, std::uint64_t> volume_generation;  // of the last job sent
  bool volumes_changed = false;                                // publish at the next commit
  // Security groups (security_groups.cc): rows as committed or to be committed in this batch,
  // and the hosts whose firewall goes out after the commit.
  std::map<store::SecurityGroupId, store::SecurityGroupRow> security_groups;
  store::SecurityGroupId max_security_group_id = 0;
  std::vector<store::SecurityGroupRow> security_group_rows;     // the batch's upserts
  std::vector<store::SecurityGroupId> deleted_security_groups;  // the batch's deletes
  bool security_groups_changed = false;                         // publish at the next commit
  std::set<std::string> firewall_hosts;                         // hosts to send after commit
  // Resource groups (resource_groups.cc): as server groups; every VM created into each.
  std::map<store::ResourceGroupId, store::ResourceGroupRow> resource_groups;
  std::unordered_map<store::ResourceGroupId, std::set<VmId>> resource_group_members;
  store::ResourceGroupId max_resource_group_id = 0;
  std::vector<store::ResourceGroupRow> resource_group_rows;     // the batch's upserts
  std::vector<store::ResourceGroupId> deleted_resource_groups;  // the batch's deletes
  bool resource_groups_changed = false;                         // publish at the next commit
  std::map<std::string, std::uint64_t> firewall_generation;     // of the last job sent
  // Parsed requirements by text: one parse per distinct expression (stable addresses).
  std::unordered_map<std::string, std::expected<sched::Requirements, sched::SyntaxError>>
      parsed_requirements;
  VmId max_vm_id = 0;
  OpId max_op_id = 0;
  std::int64_t max_transition_id = 0;  // ids are the engine's, so events carry them
  std::int64_t committed_transition_id = 0;
  std::priority_queue<internal::DeadlineEntry, std::vector<internal::DeadlineEntry>, std::greater<>>
      deadlines;
  // The batch being built.
  std::vector<store::OperationRow> op_rows;
  std::vector<store::TransitionRow> transitions;
  std::vector<driver::PhaseRequest> dispatch;
  std::vector<internal::DeadlineEntry> new_deadlines;
  std::vector<internal::PendingReply> replies;
  internal::MoveRecords records;  // migration records and host stays (records.h)
  // The audit outbox: the batch's entries, the last id given, and how far entries are deleted.
  std::vector<store::AuditOutboxRow> audit_outbox;
  std::int64_t max_audit_outbox_id = 0;
  std::int64_t audit_outbox_deleted = 0;
  std::uint64_t commands_in_batch = 0;
  EngineStats stats;

  // ---- Queue ------------------------------------------------------------------------------
  std::mutex queue_mu;
  std::condition_variable queue_cv;
  std::deque<internal::Command> queue;
  bool stopping = false;
  bool running = false;
  std::thread thread;

  // ---- Subscribers --------------------------------------------------------------------------
  std::mutex subscribers_mu;
  std::map<int, std::function<void(const std::vector<Event>&)>> subscribers;
  int next_subscriber = 1;

  // engine.cc
  // Queues a command that answers through its promise, and waits for the answer (which comes
  // after the batch holding the command is durable). Every command kind goes through here.
  template <typename CommandT>
  auto submit(CommandT command) -> decltype(command.reply.get_future().get()) {
    auto answer = command.reply.get_future();
    {
      std::lock_guard lock(queue_mu);
      if (stopping || !running) {
        return fail(Error{ErrorCode::kUnavailable, "corral is shutting down", {}, {}});
      }
      queue.emplace_back(std::move(command));
    }
    queue_cv.notify_one();
    return answer.get();
  }
  Status load();
  void loop();
  void enqueue(internal::Command command);
  void handle(internal::Command& command);
  void flush();
  void rollback_batch();
  void expire_deadlines();
  bool exists(VmId id) const;
  const store::Vm& current(VmId id) const;
  store::Vm& mutate(VmId id);

  // apply.cc
  void handle_create(internal::CreateCommand& command);
  void handle_action(internal::ActionCommand& command);
  // An accepted request's audit record joins the batch (EngineOptions::audit_sink), and its
  // reply (the last) says so.
  void keep_audit_record(VmId vm, std::string& record);
  void handle_result(const driver::PhaseResult& result);
  void handle_power(const driver::PowerEvent& event);
  // records.cc: a running phase's progress, for the VM's migration record.
  void handle_progress(const driver::PhaseProgress& progress);
  // Applies a model step to a VM: op meta, host, model, history, deadline, dispatch.
  void apply(VmId id, const lifecycle::Step& step, bool new_operation,
             const store::OpParams& params, const internal::Cause& cause);
  // Sets the phase's deadline (or keeps `deadline` if given) and dispatches it.
  void after_phase_started(store::Vm& vm, Millis deadline = 0);
  void on_operation_finished(store::Vm& vm, const internal::Cause& cause);
  Millis deadline_for(lifecycle::Action action, lifecycle::Phase phase) const;
  std::optional<Error> prepare_action(const store::Vm& vm, ActionRequest& request,
                                      store::OpParams& params);

  // quotas.cc: a project's use now (this batch included), and whether `requested` more fits
  // its limits (kQuotaExceeded naming the first resource that does not).
  lifecycle::QuotaUsage usage_of(store::ProjectId project) const;
  std::optional<Error> over_quota(store::ProjectId project, const lifecycle::QuotaLimits& limits,
                                  const lifecycle::QuotaUsage& requested) const;
  static lifecycle::QuotaUsage create_use(const CreateRequest& request);
  // Whether one more VM fits in `group` (server_group_members counts each group alone).
  std::optional<Error> over_group_members(store::GroupId group,
                                          const lifecycle::QuotaLimits& limits) const;
  // What the action adds to the VM's use if it succeeds (negative: what it releases).
  static lifecycle::QuotaUsage action_use(const store::Vm& vm, const ActionRequest& request);

  // host_registry.cc: host rows, operator actions, what reads see
  Status init_hosts();
  void handle_add_host(internal::AddHostCommand& command);
  void handle_host_action(internal::HostActionCommand& command);
  // Applies a host event through lifecycle/host_table; records the row and the change.
  Result<lifecycle::HostStep> host_event(internal::HostSlot& slot, lifecycle::HostEvent event,
                                         const std::string& actor, const std::string& reason);
  void commit_host(internal::HostSlot& slot);
  void remove_host(const std::string& name);
  void rebuild_host_index();
  internal::HostSlot* find_host(std::string_view name);
  HostDetail detail_of(const internal::HostSlot& slot, std::vector<VmId> vm_ids) const;
  bool host_up(const internal::HostSlot& slot, Millis now) const;
  void reply_host(std::promise<Result<HostDetail>>&& promise, const std::string& name,
                  std::optional<Error> error);

  // host_monitor.cc: agents, the down-timeout, evacuation
  void handle_agent_connected(internal::AgentConnectedCommand& command);
  void check_hosts();
  void vms_lost(internal::HostSlot& slot, const std::string& why);
  void evacuate(internal::HostSlot& slot, const std::string& why);
  void move_away(internal::HostSlot& slot);
  void redispatch_on(const std::string& host, const std::string& why);
  void redispatch_vm(VmId id, const std::string& why);
  std::vector<VmId> other_side_on(const std::string& host) const;
  // A busy VM a reconnecting agent did not report is reconciled once its operation ends, if
  // it ends on that host and no later phase there succeeded (see vanished_during_op).
  void settle_vanished();

  // groups.cc
  void handle_group(internal::GroupCommand& command);
  const store::ServerGroupRow* find_group(std::string_view name_or_id) const;
  // The hosts a VM's group members hold or are moving to (not the VM's own), one per member.
  std::vector<std::string> member_hosts(store::GroupId group, VmId except) const;
  std::vector<VmId> live_members(store::GroupId group) const;

  // ownership.cc: what a project's VMs may use. Each returns nullptr for another project's
  // object exactly as for one that does not exist, so no caller can tell them apart.
  // The server group `name_or_id` if it is `project`'s.
  const store::ServerGroupRow* find_group_of(std::string_view name_or_id,
                                             store::ProjectId project) const;
  // The network `name_or_id` if `project`'s VMs may use it (its own, or shared).
  const store::NetworkRow* find_network_for(std::string_view name_or_id,
                                            store::ProjectId project) const;
  // An id names a group of any project; a name, `project`'s group of that name.
  const store::SecurityGroupRow* find_security_group(std::string_view name_or_id,
                                                     store::ProjectId project) const;
  // `project`'s "default" group, made (into this batch) if it has none yet.
  store::SecurityGroupId ensure_default_group(store::ProjectId project);
  // Group names or ids to ids, in order, without repeats; empty: `project`'s default group
  // (made if need be). Only `project`'s groups: any other name or id is an error of code
  // `missing`, as one that does not exist.
  Result<std::vector<store::SecurityGroupId>> security_group_ids(
      const std::vector<std::string>& names, store::ProjectId project, ErrorCode missing);

  // networks.cc
  void handle_network(internal::NetworkCommand& command);
  void handle_network_done(const driver::NetworkDone& done);
  const store::NetworkRow* find_network(std::string_view name_or_id) const;
  // kInvalidArgument if a network of `project` may not be shared (only the admin project's).
  [[nodiscard]] Status check_sharing(bool shared, store::ProjectId project) const;
  // PATCH: the row changed in this batch (sharing checked; un-sharing refused, kConflict,
  // while another project's VM has a NIC on it).
  Result<NetworkDetail> update_network_row(std::string_view name_or_id,
                                           const NetworkUpdate& update);
  void set_network_state(store::NetworkRow& row, lifecycle::NetworkState state, std::string error);
  // Takes an address on `network` (name or id) for NIC `index` of `vm` (of `project`): `ip`
  // if given and free, else the lowest free one. Errors: kInvalidArgument (no such network or
  // one `project` may not use, not READY, an address outside its range), kConflict (taken, or
  // none left).
  Result<store::Nic> lease_nic(std::string_view network, const std::string& ip, VmId vm,
                               store::ProjectId project, int index, bool attached);
  void release_nic(const store::Nic& nic);
  void mark_lease_attached(const store::Nic& nic);
  // After every step: a DONE VM's NICs give their leases back.
  void settle_nics(store::Vm& vm);
  // A nic_attach or nic_detach that ended: the VM's NIC list and the leases follow.
  void nic_operation_finished(store::Vm& vm);
  // The NICs a phase's VM has when the phase succeeds (PhaseRequest::nics).
  std::vector<driver::NicSpec> phase_nics(const store::Vm& vm) const;
  NetworkDetail network_detail(const store::NetworkRow& row) const;
  void rebuild_leases();  // from the committed VMs
  void load_networks(const store::Loaded& loaded);
  void publish_networks();   // under published_mu
  void rollback_networks();  // back to the published rows
  void send_network_jobs();  // after a commit

  // volumes.cc
  void handle_volume(internal::VolumeCommand& command);
  void handle_volume_done(const driver::VolumeJobDone& done);
  store::VolumeRow* find_volume(std::string_view name_or_id);
  void touch_volume(store::VolumeRow& row);  // into the batch, published at the commit
  void start_volume_job(store::VolumeRow& row, store::VolumeJob job);
  // disk_attach / disk_detach accepted: the volume is claimed (reserved, its attachment
  // recorded) or set detaching, and named in the operation's parameters.
  // Whether a VM on `host` reaches the volumes (shared storage, none, or a local host), and
  // whether `vm` is pinned to the local hosts by volumes that only they reach.
  bool volumes_reach(const std::string& host) const;
  bool pinned_by_volumes(const store::Vm& vm) const;
  std::optional<Error> prepare_volume(const store::Vm& vm, const ActionRequest& request,
                                      store::OpParams& params);
  // A disk_attach or disk_detach that ended: the volume settles by the volume table's row.
  void volume_operation_finished(store::Vm& vm);
  // After every step: a DONE VM's volumes are detached (or deleted: delete_on_termination).
  void settle_volumes(store::Vm& vm);
  // The volumes a phase's VM has when the phase succeeds (PhaseRequest::volumes); a claimed
  // volume whose plug starts now shows attaching.
  std::vector<driver::VolumeSpec> phase_volumes(const store::Vm& vm);
  void load_volumes(const store::Loaded& loaded);
  void publish_volumes();   // under published_mu
  void rollback_volumes();  // back to the published rows
  void send_volume_jobs();  // after a commit

  // security_groups.cc
  void handle_security_group(internal::SecurityGroupCommand& command);
  // locks.cc: lock or unlock a VM (lifecycle/lock.h); handle_action refuses what a lock stops.
  void handle_lock(internal::LockCommand& command);
  Result<SecurityGroupDetail> set_nic_groups(const SecurityGroupRequest& request);
  void handle_firewall_done(const driver::FirewallDone& done);
  void touch_security_group(store::SecurityGroupRow& row);
  // Before a commit: the hosts where a NIC of the batch's VMs runs or ran get a new job.
  void note_firewall_hosts();
  void firewall_all_hosts();  // a group's rules changed: every host with a NIC
  void load_security_groups(const store::Loaded& loaded);
  void publish_security_groups();   // under published_mu
  void rollback_security_groups();  // back to the published rows
  // resource_groups.cc
  void handle_resource_group(internal::ResourceGroupCommand& command);
  const store::ResourceGroupRow* find_resource_group(std::string_view name,
                                                     store::ProjectId project) const;
  // The VMs created in `group` that are not DONE, including this batch's creates.
  std::vector<VmId> live_resource_group_members(store::ResourceGroupId group) const;
  void erase_resource_group(store::ResourceGroupId id);  // this batch deletes it
  // A VM of the group became DONE: a group being deleted goes once none is live.
  void resource_group_member_done(store::ResourceGroupId id);
  void load_resource_groups(const store::Loaded& loaded);
  void publish_resource_groups();   // under published_mu
  void rollback_resource_groups();  // back to the published rows
  void send_firewall_jobs();        // after a commit
  driver::HostFirewallJob firewall_job(const std::string& host) const;

  // placement.cc
  // The scheduler's request for a VM: its size, requirements and group (members' hosts).
  // A stored expression that does not parse (a newer corral's) matches no host.
  sched::PlacementRequest request_for(const store::Vm& vm);
  // Why the scheduler found no host, naming the constraint that eliminated the most hosts.
  std::string unplaced_reason(const store::Vm& vm, const sched::NoValidHost& none) const;
  void refresh_host(std::size_t index);
  void touch_host(std::size_t index);  // its slot is published at the next commit
  void unaccount(const store::Vm& vm);
  void account(const store::Vm& vm);
  // Adds (sign +1) or returns (-1) `model`'s room on `host`, without listing a VM there.
  void charge(const std::string& host, const store::VmModel& model, int sign);
  void track_pending(const store::Vm& vm);
  // The scheduler's choice for a VM, or why there is none (unplaced_reason).
  std::expected<std::string, std::string> place(const store::Vm& vm, const std::string& preferred,
                                                const std::string& exclude);
  void schedule();
  void try_schedule_phase(VmId id);
};

}  // namespace corral::engine
