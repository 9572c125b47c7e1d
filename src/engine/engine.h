// Engine: the only owner of VM state.
//
// Contract:
// - One engine thread owns every VM. Other threads send it commands (create, act) and block
//   until the answer is durable; drivers report through the same queue (DriverSink).
// - Every transition is committed to the store before anyone sees it: replies, reads, events
//   and driver calls all happen after the commit of the batch that made them (group commit:
//   one transaction for everything the engine did since the last one).
// - One operation per VM; the transition table decides what is allowed (typed errors);
//   terminate pre-empts; every phase has a deadline, after which the table's failure rule
//   applies; the engine never waits on a driver and holds no lock while calling one.
// - Reads (get, list, hosts) see committed state, from any thread, without the engine thread.
// - Time comes from the injected Clock only.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "common/clock.h"
#include "common/metrics.h"
#include "common/result.h"
#include "driver/driver.h"
#include "driver/network_fabric.h"
#include "driver/volume_storage.h"
#include "engine/groups.h"
#include "engine/hosts.h"
#include "engine/networks.h"
#include "engine/resource_groups.h"
#include "engine/security_groups.h"
#include "engine/usage.h"
#include "engine/volumes.h"
#include "lifecycle/drift.h"
#include "lifecycle/model.h"
#include "lifecycle/quota_table.h"
#include "store/store.h"

namespace corral::engine {

using store::OpId;
using store::VmId;

struct EngineOptions {
  Millis default_phase_deadline_ms = 300'000;
  // Per (action, phase) deadlines; a phase of kNone matches every phase of the action.
  std::map<std::pair<lifecycle::Action, lifecycle::Phase>, Millis> deadlines;
  bool auto_schedule = true;     // place PENDING VMs on a host with room (first fit)
  std::size_t max_batch = 4096;  // commands per group commit at most
  // Group commit delay: a batch smaller than `commit_delay_below` waits this long for more
  // work before committing (as PostgreSQL's commit_delay): fewer, larger fsyncs under load.
  // Only while the previous batch held more than one command (commit_siblings).
  std::chrono::microseconds commit_delay{300};
  std::size_t commit_delay_below = 32;
  // What the monitor's reports do to an idle VM (lifecycle/drift.h).
  lifecycle::DriftOptions drift;
  // Hosts: heartbeats, down-timeout, lease, and what a dead host's VMs become (hosts.h).
  HostOptions hosts;
  // How the scheduler ranks the hosts that pass its filters (OpenNebula's policies 0-2).
  std::uint8_t rank_policy = 1;  // sched::RankPolicy: 0 packing, 1 striping, 2 load-aware
  // Where operations, phases and commits are counted (engine/engine_metrics.h); nullptr: not.
  MetricsRegistry* metrics = nullptr;
  // The audit outbox (store.h, AuditOutboxRow). A create's or an action's `audit_record` is
  // written in the batch that commits it; after the commit the batch's entries go to
  // `audit_sink`, in id order, on the engine thread and before any reply (so an entry is in
  // the audit log's hands before its request is answered; the sink must not block). Entries
  // up to `audit_copied()` are deleted in a later batch. Without a sink, records are ignored.
  std::function<void(std::vector<store::AuditOutboxRow>)> audit_sink{};
  std::function<std::int64_t()> audit_copied{};
};

struct CreateRequest {
  std::string name;
  store::VmModel model;
  bool hold = false;  // create in HOLD: not scheduled until released
  std::string actor = "api";
  std::string request_id;
  // Placement constraints, fixed for the VM's life (last, so positional initializers of the
  // fields above stay valid): a requirements expression over host labels and metrics
  // (sched/requirements.h; create refuses one that does not parse, with kInvalidArgument and
  // the position) and a server group, by name or id (empty: none; kInvalidArgument if there
  // is no such group).
  std::string requirements;
  std::string group;
  // Networks to give the VM a NIC on, by name or id, in NIC order (NIC i is nic<i>); each gets
  // the network's next free address (kInvalidArgument: no such network, or one not READY;
  // kConflict: no address left). And the public keys its guest accepts for root.
  std::vector<std::string> networks{};
  std::vector<std::string> ssh_keys{};
  // The security groups (names or ids) of every NIC made here; empty: "default".
  // kInvalidArgument: no such group.
  std::vector<std::string> security_groups{};
  store::ProjectId project = store::kAdminProjectId;  // the project the VM belongs to
  // The resource group (Azure's) to create it in, by name in `project` (empty: none;
  // kInvalidArgument if there is no such group).
  std::string resource_group{};
  // The project's limits (lifecycle/quota_table.h); empty: none (the admin project's).
  std::optional<lifecycle::QuotaLimits> quota{};
  // The request's audit entry, the API's encoding: written with the VM if it is accepted
  // (EngineOptions::audit_sink); empty: none.
  std::string audit_record{};
};

struct ActionRequest {
  VmId vm = 0;
  lifecycle::Action action = lifecycle::Action::kCreate;
  lifecycle::State reset_to = lifecycle::State::kRunning;  // reset_state only
  std::optional<store::VmModel> model;  // resize, resize_migrate, rebuild: the requested model
  std::string host;                     // deploy, migrate, live_migrate: target (empty: any)
  store::OpParams params;               // the request's parameters (validated), kept with the op
  // nic_attach: the network (name or id) and, optionally, the address wanted on it (empty:
  // the next free one). nic_detach: the NIC's index.
  std::string network;
  std::string ip;
  std::vector<std::string> security_groups;  // nic_attach: the NIC's groups (empty: "default")
  int nic = -1;
  // disk_attach, disk_detach: the volume (name or id). disk_attach may set the volume's
  // delete_on_termination (Nova's attachment field); unset keeps the volume's.
  std::string volume;
  std::optional<bool> delete_on_termination;
  std::string actor = "api";
  std::string request_id;
  bool admin = false;  // the cloud's admin asks: a VM's lock does not stop it (lifecycle/lock.h)
  // The VM's project's limits, checked against what the action would add (a start from
  // POWEROFF takes RUNNING_* back, a resize the larger size); empty: none.
  std::optional<lifecycle::QuotaLimits> quota{};
  std::string audit_record{};  // as CreateRequest's
};

struct LockRequest {
  VmId vm = 0;
  bool lock = true;    // false: unlock
  bool admin = false;  // the cloud's admin asks
  std::string reason;  // lock: why (Nova's locked_reason; at most 255 bytes)
};

// The answer to an accepted request: the VM and its operation as committed.
struct Accepted {
  store::Vm vm;
  std::optional<store::OperationRow> op;
  bool audited = false;  // the request's audit_record was committed with it
};

struct ListQuery {
  std::optional<lifecycle::State> state;
  std::string name;                           // exact match; empty: any
  std::size_t limit = 100;                    // at most this many
  VmId marker = 0;                            // only ids greater than this (pagination by marker)
  std::size_t offset = 0;                     // or skip this many matches
  std::optional<store::ProjectId> project{};  // only this project's VMs; empty: every project's
  bool live_only = false;                     // leave DONE VMs out
};

struct ListPage {
  std::vector<store::Vm> vms;
  VmId next_marker = 0;  // 0: no more
};

struct HostUsage {
  driver::HostInfo host;
  int used_vcpus = 0;
  int used_memory_mib = 0;
  int vms = 0;
};

struct EngineStats {
  std::uint64_t batches = 0;
  std::uint64_t transitions = 0;
  std::uint64_t commands = 0;
  std::size_t vms = 0;
};

// One committed transition, as the event stream publishes it.
struct Event {
  store::TransitionRow transition;
  lifecycle::State state = lifecycle::State::kInit;  // the VM's state after it
  // Set for a host's change instead of a VM transition (then `transition` is empty).
  std::optional<HostChange> host_change;
  store::ProjectId project = 0;  // the VM's (0 for a host's change)
  // Set for a change of this VM that is no transition (its lock): `transition` is then empty
  // and `state` is the VM's.
  VmId changed_vm = 0;
};

class Engine final : public driver::DriverSink,
                     public driver::NetworkSink,
                     public driver::VolumeSink {
 public:
  Engine(store::Store& store, driver::Driver& driver, Clock& clock, EngineOptions options = {});
  ~Engine() override;
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Loads every VM from the store, re-dispatches the phases that were running (a restart),
  // and starts the engine thread and the driver.
  [[nodiscard]] Status start();
  // Stops accepting commands, finishes the current batch, stops the driver and the thread.
  void stop();

  [[nodiscard]] Result<Accepted> create(CreateRequest request);
  [[nodiscard]] Result<Accepted> act(ActionRequest request);

  std::optional<store::Vm> get(VmId id) const;
  ListPage list(const ListQuery& query) const;
  std::vector<HostUsage> hosts() const;
  EngineStats stats() const;
  // How many VMs each project has in each state, now (for /metrics).
  std::map<std::pair<store::ProjectId, lifecycle::State>, int> vm_counts() const;
  // What a project's VMs use now, as committed (lifecycle/quota_table.h counts it).
  lifecycle::QuotaUsage project_usage(store::ProjectId project) const;
  // Usage and billing over a window from the committed history (engine/usage.h), one report
  // per VM that lived in it. Reads the store on the calling thread.
  [[nodiscard]] Result<std::vector<VmUsageReport>> usage(const UsageQuery& query) const;

  // Past and running operations; history from the store.
  [[nodiscard]] Result<std::optional<store::OperationRow>> operation(OpId id) const;
  [[nodiscard]] Result<std::vector<store::TransitionRow>> history(VmId vm, std::int64_t after_id,
                                                                  int limit) const;
  // A VM's migration records (oldest first) and host stays (by sequence number), as
  // committed; engine/records.h says what they hold.
  [[nodiscard]] Result<std::vector<store::MigrationRow>> migrations(VmId vm) const;
  [[nodiscard]] Result<std::vector<store::HostStayRow>> host_stays(VmId vm) const;
  // Every VM's migration records, newest first, at most `limit` with ids below `before_id`.
  [[nodiscard]] Result<std::vector<store::MigrationRow>> recent_migrations(std::int64_t before_id,
                                                                           int limit) const;

  // Committed transitions, in commit order. The callback runs on the engine thread after
  // each commit: it must only copy or enqueue. Returns a handle for unsubscribe().
  int subscribe(std::function<void(const std::vector<Event>&)> callback);
  void unsubscribe(int handle);

  // ---- Server groups (Nova's os-server-groups; engine/groups.cc) ------------------------------
  // A group's members are the VMs created into it that are not DONE. Durable before they
  // return. create_group: kInvalidArgument for a bad name, kConflict if it is taken.
  // delete_group: kNotFound; kConflict while the group has members (Nova deletes the group
  // and leaves its members without one; corral refuses, so a running member's placement rule
  // never disappears under it — terminate the members first). `name_or_id`: the group's
  // name, or its id in decimal. A group belongs to spec.project: only that project's VMs join
  // it (a create naming another project's group is refused as if it did not exist), and
  // create_group counts against its server_groups quota (kQuotaExceeded), a VM joining
  // against server_group_members. Who may see or delete it is the API's to check.
  [[nodiscard]] Result<GroupDetail> create_group(GroupSpec spec);
  [[nodiscard]] Result<GroupDetail> delete_group(std::string name_or_id);
  std::vector<GroupDetail> groups() const;  // by id
  std::optional<GroupDetail> group(std::string_view name_or_id) const;

  // ---- Resource groups (Azure's; resource_groups.h, engine/resource_groups.cc) --------------
  // Durable before they return. put_resource_group creates the group (created = true) or, if
  // the project has one of that name (regardless of case), replaces its tags: kInvalidArgument
  // for a bad name or location, or no location for a new group; kConflict for another
  // location than the group's, or a group being deleted. delete_resource_group: kNotFound;
  // without `with_vms`, kConflict while a VM in it is not DONE. With it (Azure's group delete),
  // every live VM in it is terminated (terminate_hard, Azure's delete; kLocked, and nothing
  // done, if one is locked) and the group is `deleting` (no VM is created in it) until the
  // last is DONE, then gone, in that VM's commit; asked again, the VMs not being terminated are
  // asked again. The detail returned is the group gone (members empty) or deleting. Reads are
  // scoped to a project (nullopt: every project's, the cloud admin's).
  [[nodiscard]] Result<ResourceGroupDetail> put_resource_group(ResourceGroupSpec spec);
  [[nodiscard]] Result<ResourceGroupDetail> delete_resource_group(store::ProjectId project,
                                                                  std::string name,
                                                                  bool with_vms = false);
  std::vector<ResourceGroupDetail> resource_groups(std::optional<store::ProjectId> project) const;
  std::optional<ResourceGroupDetail> resource_group(store::ProjectId project,
                                                    std::string_view name) const;

  // ---- Networks (networks.h; engine/networks.cc) ---------------------------------------------
  // What makes networks real (their bridges, DHCP, VXLAN); set before start(). Without one a
  // network is data only: its jobs count as done at once (the sim, tests).
  void set_network_fabric(driver::NetworkFabric* fabric);
  // Durable before they return. create_network: kInvalidArgument for a bad name or CIDR (or
  // one overlapping another network's), kConflict if the name is taken; the network starts in
  // LOCK_CREATE and is READY once the fabric has built it (ERROR if it could not).
  // delete_network: kNotFound; kConflict while a NIC holds a lease on it; LOCK_DELETE until
  // the fabric has removed it, then gone. update_network: kNotFound; kInvalidArgument for a
  // description too long or sharing a network that is not the admin project's.
  // A network belongs to spec.project; a NIC goes only on its VM's project's networks and the
  // shared ones (network_usable_by): another is refused as if it did not exist (create:
  // kInvalidArgument, nic_attach: kNotFound). Who may see, change or delete it is the API's to
  // check (api/policy.h).
  [[nodiscard]] Result<NetworkDetail> create_network(NetworkSpec spec);
  [[nodiscard]] Result<NetworkDetail> delete_network(std::string name_or_id);
  [[nodiscard]] Result<NetworkDetail> update_network(std::string name_or_id, NetworkUpdate update);
  std::vector<NetworkDetail> networks() const;  // by id
  std::optional<NetworkDetail> network(std::string_view name_or_id) const;
  // NetworkSink: the fabric's answers; only enqueues.
  void network_done(driver::NetworkDone done) override;
  void firewall_done(driver::FirewallDone done) override;

  // ---- Security groups (security_groups.h; engine/security_groups.cc) -------------------------
  // Durable before it returns; hosts' firewalls follow after the commit. kInvalidArgument for
  // a bad name or rule (rules are net::validate()d), kConflict for a taken name, a group a NIC
  // lists (delete) or "default" (delete), kNotFound for a group or rule that is not there.
  // A group belongs to its request's project, and its name is unique there; every project has
  // its own "default", made on the project's first use (a NIC made without groups, a name
  // "default", kEnsureDefault). A NIC lists only its VM's project's groups: another's is
  // refused as if it did not exist (create: kInvalidArgument; nic_attach, nic update:
  // kNotFound).
  [[nodiscard]] Result<SecurityGroupDetail> security_group_request(SecurityGroupRequest request);

  // Lock or unlock a VM (lifecycle/lock.h: Nova's lock, OpenNebula's USE lock). A lock by the
  // admin is lifted only by the admin (kForbidden); a DONE VM is kInvalidState. The VM as
  // committed.
  [[nodiscard]] Result<store::Vm> lock(LockRequest request);
  std::vector<SecurityGroupDetail> security_groups() const;  // by id
  // An id names a group of any project; a name, `project`'s group of that name.
  std::optional<SecurityGroupDetail> security_group(
      std::string_view name_or_id, store::ProjectId project = store::kAdminProjectId) const;
  // The last error applying a host's firewall, by host (none: every job applied).
  std::map<std::string, std::string> firewall_errors() const;

  // What VMs use now (StratusLab's cpu%): this process's driver's, and each agent host's as
  // its last heartbeat said. Any thread; a VM nobody measured is absent.
  std::vector<driver::VmUsage> vm_usage() const;

  // ---- Volumes (volumes.h; engine/volumes.cc) ------------------------------------------------
  // Where volumes' bytes are kept; set before start(). Without one a volume is data only: its
  // backend work counts as done at once (the sim, tests), at the path "sim:vol-<id>".
  void set_volume_storage(driver::VolumeStorage* storage);
  // Durable before they return (the status then is the claim or the transient: creating,
  // extending, deleting ...; the backend's answer settles it). create_volume:
  // kInvalidArgument (name, size), kConflict (name taken). volume_action: kNotFound; a verb the
  // volume's status refuses is kInvalidState naming the status and the allowed actions (the
  // volume table's refusal); kConflict while backend work runs on it, for a delete while it
  // has snapshots, and for an extend of an attached volume (detach it first).
  // Attach and detach are the VM's actions disk_attach / disk_detach (ActionRequest::volume).
  [[nodiscard]] Result<store::VolumeRow> create_volume(VolumeCreate spec);
  [[nodiscard]] Result<store::VolumeRow> volume_action(VolumeRequest request);
  std::vector<store::VolumeRow> volumes() const;  // by id
  std::optional<store::VolumeRow> volume(std::string_view name_or_id) const;
  // VolumeSink: the storage's answers; only enqueues.
  void volume_done(driver::VolumeJobDone done) override;

  // ---- Hosts (hosts.h; engine/hosts.cc) ----------------------------------------------------
  // Operator side. Durable before they return; errors typed (kConflict: the name is taken;
  // kNotFound; a refused action is kInvalidState with the host's state and its allowed actions,
  // delete with VMs kConflict).
  [[nodiscard]] Result<HostDetail> add_host(HostSpec spec);
  [[nodiscard]] Result<HostDetail> host_action(HostActionRequest request);
  // Committed state, from any thread.
  std::vector<HostDetail> host_details() const;
  std::optional<HostDetail> host(std::string_view name) const;

  // Agent side (the controller's connection threads). agent_connected() admits the agent
  // (kNotFound: no such host; kInvalidState: the host is OFFLINE), bumps and commits the
  // host's epoch, returns the VM set the store places there, and then re-dispatches the
  // phases that were running on the host's VMs (through the driver: the host router sends
  // them on the new stream). agent_heartbeat() is cheap (no queue, no commit); a heartbeat of
  // an older epoch is ignored. agent_disconnected() of the current epoch marks the host not
  // connected (its state changes only when the down-timeout passes).
  [[nodiscard]] Result<AgentWelcome> agent_connected(AgentHello hello);
  void agent_heartbeat(std::string_view host, std::uint64_t epoch, const HostMetrics& metrics);
  void agent_disconnected(std::string_view host, std::uint64_t epoch);

  // DriverSink: called by drivers from their threads; only enqueues.
  void phase_done(driver::PhaseResult result) override;
  void power_event(driver::PowerEvent event) override;
  // Updates the running move's migration record (records.h: throttled; stale ones dropped).
  void phase_progress(driver::PhaseProgress progress) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace corral::engine
