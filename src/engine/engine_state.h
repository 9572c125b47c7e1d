// Engine internals shared by engine.cc (thread, queue, public API) and apply.cc (how a
// model step changes a VM). Not part of the engine's interface.
#pragma once

#include <atomic>
#include <cstdint>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <queue>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "engine/engine.h"

namespace corral::engine::internal {

// What a history entry records of the VM after it (store::TransitionRow::after): its record
// and the size in effect; empty while it has no operation (never, once created).
inline std::optional<store::TransitionRow::After> after_of(const store::Vm& vm) {
  if (!vm.record.op) return std::nullopt;
  return store::TransitionRow::After{vm.record, vm.model.vcpus, vm.model.memory_mib};
}

struct CreateCommand {
  CreateRequest request;
  std::promise<Result<Accepted>> reply;
};

struct ActionCommand {
  ActionRequest request;
  std::promise<Result<Accepted>> reply;
};

struct AddHostCommand {
  HostSpec spec;
  std::promise<Result<HostDetail>> reply;
};

struct HostActionCommand {
  HostActionRequest request;
  std::promise<Result<HostDetail>> reply;
};

struct AgentConnectedCommand {
  AgentHello hello;
  std::promise<Result<AgentWelcome>> reply;
};

// Create (spec) or delete (name_or_id) a server group.
struct GroupCommand {
  bool remove = false;
  GroupSpec spec;
  std::string name_or_id;
  std::promise<Result<GroupDetail>> reply;
};

// Create or update (spec), or delete (remove: spec.project's group spec.name), a resource group.
struct ResourceGroupCommand {
  bool remove = false;
  bool with_vms = false;  // remove: terminate its VMs, and the group goes with the last
  ResourceGroupSpec spec;
  std::promise<Result<ResourceGroupDetail>> reply;
};

// Create (spec), delete (remove) or update (update) the network `name_or_id`.
struct NetworkCommand {
  bool remove = false;
  NetworkSpec spec;
  std::string name_or_id;
  std::promise<Result<NetworkDetail>> reply;
  std::optional<NetworkUpdate> update{};
};

// Create (create set) or act on (request) a volume.
struct VolumeCommand {
  std::optional<VolumeCreate> create;
  VolumeRequest request;
  std::promise<Result<store::VolumeRow>> reply;
};

struct SecurityGroupCommand {
  SecurityGroupRequest request;
  std::promise<Result<SecurityGroupDetail>> reply;
};

struct LockCommand {
  LockRequest request;
  std::promise<Result<store::Vm>> reply;
};

using Command =
    std::variant<CreateCommand, ActionCommand, driver::PhaseResult, driver::PowerEvent,
                 driver::PhaseProgress, AddHostCommand, HostActionCommand, AgentConnectedCommand,
                 GroupCommand, NetworkCommand, driver::NetworkDone, VolumeCommand,
                 driver::VolumeJobDone, SecurityGroupCommand, driver::FirewallDone, LockCommand,
                 ResourceGroupCommand>;

struct DeadlineEntry {
  Millis at = 0;
  VmId vm = 0;
  OpId op = 0;
  std::uint8_t step = 0;
  std::uint32_t attempt = 0;
  bool operator>(const DeadlineEntry& other) const { return at > other.at; }
};

// An answer waiting for its batch to commit.
struct PendingReply {
  std::promise<Result<Accepted>> promise;
  std::optional<Error> error;  // refused: answer this
  VmId vm = 0;                 // accepted: answer with this VM and its operation
  OpId op = 0;
  bool audited = false;  // accepted with its audit record in the batch
};

// What agents write without the engine thread: heartbeats are atomics, never queued.
struct HostLiveness {
  std::atomic<Millis> last_heard{0};    // the last heartbeat or connect (engine clock)
  std::atomic<std::uint64_t> epoch{0};  // the current agent stream's epoch
  std::atomic<bool> connected{false};   // a stream of that epoch is live
  mutable std::mutex metrics_mu;
  HostMetrics metrics;  // the last heartbeat's (under metrics_mu)
  HostMetrics read_metrics() const {
    std::lock_guard lock(metrics_mu);
    return metrics;
  }
};

struct HostSlot {
  driver::HostInfo info;  // name and raw capacity (HostUsage)
  store::HostRow row;     // as committed (or to be committed in this batch)
  bool local = false;     // served by the in-process driver: always up
  int used_vcpus = 0;
  int used_memory_mib = 0;
  int vms = 0;
  std::uint64_t generation = 0;  // moved by every claim and release (compare-and-set)
  Millis down_at = 0;            // engine thread: when silence was acted on (0: not down)
  // Engine thread: its agent was welcomed by this engine run, so it was told which of its VMs
  // may be fenced under the failure policy in force now. Only such a host's VMs are evacuated
  // by the lease: an agent last welcomed under another policy (or never) has no lease on them.
  bool welcomed = false;
  bool dirty = false;  // engine thread: changed since the last publish
  std::shared_ptr<HostLiveness> live;
};

// Who asked for a step, for the history entry.
struct Cause {
  lifecycle::Action action = lifecycle::Action::kCreate;  // shown in history
  std::string actor;
  std::string request_id;
  std::string reason;
};

// The host a busy VM's current phase runs on, and the other side of a move (empty if none).
// A move's phases run on the side the table names. Its source is the VM's host and its
// target the placed one; a row that ends a resize that moved (params.source_host) has the
// host the resize left as its source, the VM's as its target.
struct PhaseHosts {
  std::string host;
  std::string peer;
};
PhaseHosts phase_hosts(const store::Vm& vm);

}  // namespace corral::engine::internal
