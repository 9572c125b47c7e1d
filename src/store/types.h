// The rows Corral persists: VMs (with their current operation), operations, transitions, and
// the hypervisor hosts.
//
// Contract: these are plain values. The engine owns them in memory and hands batches of them
// to a Store; nothing else mutates them. Enum fields hold the lifecycle's stable numbers.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "lifecycle/host_types.h"
#include "lifecycle/lock.h"
#include "lifecycle/model.h"
#include "lifecycle/net_table.h"
#include "lifecycle/volume_table.h"
#include "store/op_params.h"
#include "store/vm_model.h"

namespace corral::store {

using VmId = std::int64_t;
using OpId = std::int64_t;
using HostId = std::int64_t;
using GroupId = std::int64_t;
using ResourceGroupId = std::int64_t;
// A tenant (Keystone's project, OpenNebula's group, Azure's subscription): every VM belongs
// to one. Projects live in the identity tables (auth/identity_store.h).
using ProjectId = std::int64_t;
// The project the first server start creates, whose admins administer the whole cloud; the
// VMs stored before projects existed belong to it.
inline constexpr ProjectId kAdminProjectId = 1;

// Everything about an operation that the lifecycle record does not hold.
struct OpMeta {
  OpId id = 0;
  OpParams params;         // the action's parameters (store/op_params.h)
  std::string actor;       // who asked ("api", "scheduler", "monitor", "recovery" ...)
  std::string request_id;  // the API request that asked, if any
  Millis started_at = 0;
  Millis deadline = 0;        // of the current phase; 0 when not running
  Millis finished_at = 0;     // 0 while running
  std::string error;          // why it failed or was canceled
  std::uint32_t attempt = 0;  // bumped by every retry and every dispatch after a restart
};

struct Vm {
  VmId id = 0;
  std::string name;
  ProjectId project = kAdminProjectId;  // fixed at create
  VmModel model;                        // the configuration in effect
  HeapOptional<VmModel> desired;        // the latest requested, while it differs from `model`
  std::string model_error;              // why `desired` is not in effect
  lifecycle::VmRecord record;           // state, operation, power, resched
  OpMeta op;                            // meta of record.op (valid when record.op has a value)
  std::string host;                     // where it is placed; empty if nowhere
  std::string pending_reason;           // why a PENDING VM is not placed
  // Placement constraints, fixed at create: a requirements expression over host labels and
  // metrics (sched/requirements.h; empty: none) and the server group (0: none). Not part of
  // the model: a resize keeps them.
  std::string requirements;
  GroupId group = 0;
  // The resource group (Azure's) it was created in (0: none), fixed at create; always one of
  // its own project's.
  ResourceGroupId resource_group = 0;
  // Its network interfaces, as attached (a nic_attach's NIC joins when the operation
  // succeeds), and the public keys its guest accepts for root (given at create).
  std::vector<Nic> nics;
  std::vector<std::string> ssh_keys;
  Millis created_at = 0;
  Millis updated_at = 0;
  // Its lock (lifecycle/lock.h): who set it, why (Nova's locked_reason; may be empty).
  lifecycle::LockedBy locked_by = lifecycle::LockedBy::kNone;
  std::string lock_reason;
};

// A past or running operation, as GET /v1/operations/{id} shows it.
struct OperationRow {
  store::VmId vm_id = 0;
  lifecycle::Operation op;
  OpMeta meta;
};

// One history entry: every change of state, phase or status of a VM.
struct TransitionRow {
  std::int64_t id = 0;  // assigned by the store
  VmId vm_id = 0;
  OpId op_id = 0;
  lifecycle::State from = lifecycle::State::kInit;
  lifecycle::State to = lifecycle::State::kInit;
  lifecycle::Action action = lifecycle::Action::kCreate;
  lifecycle::Phase phase = lifecycle::Phase::kNone;
  lifecycle::OpStatus status = lifecycle::OpStatus::kRunning;
  std::string actor;
  std::string request_id;
  Millis at = 0;
  std::string reason;
  // The VM as it is after this entry — its whole record and its size — so that usage and
  // billing (lifecycle/billing.h) can be computed from the history alone, exactly, after any
  // crash. Empty for entries written before migration 10.
  struct After {
    lifecycle::VmRecord record;  // record.op is always set
    int vcpus = 0;
    int memory_mib = 0;
    friend bool operator==(const After&, const After&) = default;
  };
  std::optional<After> after{};
};

// An amount of a host's vCPUs and memory.
struct HostResources {
  int vcpus = 0;
  std::int64_t memory_mib = 0;
  friend bool operator==(const HostResources&, const HostResources&) = default;
};

// A hypervisor host: what it is (OpenNebula's state, Nova's service view), what it offers, and
// what its agent last said. The store keeps it whole; the rules that change it live in the host
// state table, not here.
struct HostRow {
  std::string name;  // unique: the key the store writes and deletes by
  HostId id = 0;     // stable, assigned when the host is added (OpenNebula's host ID)
  lifecycle::HostState state = lifecycle::HostState::kInit;
  bool enabled = true;          // Nova's service status
  std::string disabled_reason;  // why an operator disabled it
  bool forced_down = false;     // Nova's forced_down: an operator says it is down (fenced)
  std::map<std::string, std::string> labels;  // for requirement expressions; JSON text on disk
  HostResources capacity;                     // what the host has
  // Kept back from guests. May be negative, as OpenNebula allows: it then adds capacity.
  HostResources reserved;
  double cpu_allocation_ratio = 1.0;  // vCPUs per physical CPU the scheduler may place
  double ram_allocation_ratio = 1.0;
  std::string agent_version;     // of the agent last connected; empty if never
  std::int64_t epoch = 0;        // bumped on every agent (re)connect
  std::int64_t generation = 0;   // bumped on every claim: the scheduler's compare-and-set
  Millis last_heartbeat_at = 0;  // 0: never heard from
  Millis created_at = 0;
  Millis updated_at = 0;
  std::string error;  // why it is in ERROR (or was refused); empty if none
  friend bool operator==(const HostRow&, const HostRow&) = default;
};

// Nova's server group policies; the numbers are persisted (server_groups.policy) and equal
// sched::GroupPolicy's.
enum class GroupPolicy : std::uint8_t {
  kAffinity = 1,
  kAntiAffinity = 2,
  kSoftAffinity = 3,
  kSoftAntiAffinity = 4,
};

// A server group (Nova): its members are the VMs whose `group` is its id. It belongs to a
// project (migration 12): only that project's VMs join it.
struct ServerGroupRow {
  GroupId id = 0;    // stable, assigned at create, never reused
  std::string name;  // unique
  GroupPolicy policy = GroupPolicy::kAntiAffinity;
  Millis created_at = 0;
  ProjectId project = kAdminProjectId;  // fixed at create
  friend bool operator==(const ServerGroupRow&, const ServerGroupRow&) = default;
};

using NetworkId = std::int64_t;

// A virtual network (issue 13): OpenNebula's virtual network with one IPv4 address range,
// Neutron's network with its one subnet. The gateway is the range's first usable address and
// leases are the VMs' NICs on it (Vm::nics): the engine hands out addresses from the rest.
// Its VXLAN VNI is its id, so every host agrees on it without being told.
// It belongs to a project (migration 12); a shared one (Neutron's `shared`, only ever the admin
// project's) is seen and used by every project, the others by their own project only.
struct NetworkRow {
  NetworkId id = 0;  // stable, assigned at create, never reused
  std::string name;  // unique
  std::string cidr;  // "10.77.0.0/24", as net::Cidr formats it
  lifecycle::NetworkState state = lifecycle::NetworkState::kInit;
  std::string error;  // why it is in ERROR or UPDATE_FAILURE; empty if neither
  Millis created_at = 0;
  Millis updated_at = 0;
  ProjectId project = kAdminProjectId;  // fixed at create
  bool shared = false;                  // every project sees it and attaches VMs to it
  std::string description;              // the owner's words (Neutron's description)
  friend bool operator==(const NetworkRow&, const NetworkRow&) = default;
};

using VolumeId = std::int64_t;

// The backend work a volume waits for (stable numbers, persisted): what a restarted controller
// runs again (every backend call is idempotent, storage/volume_backend.h). Attach and detach
// are not here: they are the VM's operations (disk_attach, disk_detach) and end with them.
enum class VolumeJob : std::uint8_t {
  kNone = 0,
  kCreate = 1,
  kExtend = 2,
  kSnapshot = 3,        // VolumeRow::job_snapshot: the snapshot being made
  kDeleteSnapshot = 4,  // VolumeRow::job_snapshot: the snapshot being removed
  kDelete = 5,          // an operator's delete, or a terminate with delete_on_termination
};

// A point-in-time copy of a volume (Cinder's snapshot).
struct VolumeSnapshot {
  std::int64_t id = 0;  // unique among all volumes' snapshots, never reused
  lifecycle::SnapshotStatus status = lifecycle::SnapshotStatus::kCreating;
  std::uint64_t size_mib = 0;  // the volume's size when it was taken
  Millis created_at = 0;
  friend bool operator==(const VolumeSnapshot&, const VolumeSnapshot&) = default;
};

// A persistent volume (issue 13): Cinder's volume, OpenNebula's persistent DATABLOCK image,
// Azure's managed data disk. It outlives the VM it is attached to unless the attachment says
// delete_on_termination. Its status follows lifecycle/volume_table.h; views are derived.
struct VolumeRow {
  VolumeId id = 0;   // stable, assigned at create, never reused
  std::string name;  // unique
  std::uint64_t size_mib = 0;
  lifecycle::VolumeStatus status = lifecycle::VolumeStatus::kCreating;
  VmId vm = 0;   // the VM it is attached to (or being attached to); 0: none
  int slot = 0;  // its slot on that VM (driver::VolumeSpec::slot), kept while attached
  bool delete_on_termination = false;
  std::string path;  // where the backend keeps it (empty until created)
  VolumeJob job = VolumeJob::kNone;
  std::uint64_t job_size_mib = 0;  // extend: the size asked for
  std::int64_t job_snapshot = 0;   // snapshot / delete_snapshot: which
  std::string error;               // the last failure's words; empty after a success
  std::vector<VolumeSnapshot> snapshots;
  Millis created_at = 0;
  Millis updated_at = 0;
  ProjectId project = kAdminProjectId;  // fixed at create
  friend bool operator==(const VolumeRow&, const VolumeRow&) = default;
};
inline constexpr int kMaxVolumesPerVm = 16;

using SecurityGroupId = std::int64_t;

// One allow rule of a security group, as data (net/security_group.h holds its meaning and its
// checks; the engine converts). direction and protocol are net::RuleDirection's and
// net::RuleProtocol's stable numbers.
struct SecurityGroupRuleRow {
  std::int64_t id = 0;  // unique within its group, never reused there
  std::uint8_t direction = 1;
  std::uint8_t protocol = 1;
  std::string ports;   // net::format_port_ranges text; empty: every port
  std::string remote;  // a CIDR; empty: anywhere (or the NIC's own network, below)
  // The default group's ingress rule: the remote is the network of the NIC it applies to.
  bool remote_own_network = false;
  friend bool operator==(const SecurityGroupRuleRow&, const SecurityGroupRuleRow&) = default;
};

// A security group (docs/security-groups.md): OpenNebula's security group, Neutron's. Its
// members are the NICs whose security_groups list its id (Nic::security_groups). Rules are
// stored as a JSON array in one column: they are read and written with their group.
// It belongs to a project (migration 12), and only that project's NICs list it; every project
// has its own "default" (the admin project's is 1; another's is made on its first use).
struct SecurityGroupRow {
  SecurityGroupId id = 0;  // stable, assigned at create, never reused; 1 is admin's "default"
  std::string name;        // unique within its project
  std::string description;
  std::vector<SecurityGroupRuleRow> rules;  // in order
  std::int64_t next_rule_id = 1;
  Millis created_at = 0;
  Millis updated_at = 0;
  ProjectId project = kAdminProjectId;  // fixed at create
  friend bool operator==(const SecurityGroupRow&, const SecurityGroupRow&) = default;
};

// A resource group (Azure's, issue 17): a named set of a project's VMs with a location, made
// and deleted on its own. A VM joins one at create (Vm::resource_group) and stays in it.
struct ResourceGroupRow {
  ResourceGroupId id = 0;  // stable, assigned at create, never reused
  std::string name;        // unique within its project, case-insensitively (as Azure's)
  std::string location;    // fixed at create
  std::string tags;        // a JSON object of strings ("" for none), replaced whole
  Millis created_at = 0;
  Millis updated_at = 0;
  ProjectId project = kAdminProjectId;  // fixed at create
  // Azure's group delete: its VMs are being terminated, and the group goes with the last one.
  bool deleting = false;
  friend bool operator==(const ResourceGroupRow&, const ResourceGroupRow&) = default;
};

}  // namespace corral::store
