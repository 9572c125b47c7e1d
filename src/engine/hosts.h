// The engine's host interface: the types of Engine's host methods (engine.h).
//
// Contract:
// - Hosts are store rows (store::HostRow), owned by the engine thread like VMs: every change
//   (add, an operator action, an agent's (re)connect with its new epoch, a state change from
//   missed heartbeats) is committed before it is visible or answered.
// - The host's state follows lifecycle/host_table.h; its VMs follow the table's HostVmEffect
//   (RUNNING -> UNKNOWN through the system action observed_lost; flush moves them away).
// - Hosts of the in-process driver (driver.hosts(): the sim's hosts, this machine under qemu)
//   are "local": registered as rows on start, always connected, never missing heartbeats.
//   Every other host is added by an operator (`corral host add`) and served by an agent.
// - Heartbeats are not commands: agent_heartbeat() stores the time in the host's slot (an
//   atomic) and the engine thread checks the down-timeout on its own clock. A heartbeat costs
//   no commit; only state changes do.
// - Fencing by lease (issue 11): an agent that has heard nothing from the controller for
//   lease_ms stops its VMs marked may_fence. Under HostFailurePolicy::kEvacuate the engine
//   recreates a fenced host's may_fence VMs elsewhere (recover_recreate, the cleanup phase on
//   the dead host completed by the engine: the agent removes the files when it returns), never
//   before down_at + lease_ms + lease_margin_ms, and never before engine start + lease_ms +
//   lease_margin_ms (after a restart it cannot know when agents last heard from it).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "driver/driver.h"
#include "lifecycle/host_table.h"
#include "lifecycle/types.h"
#include "store/types.h"

namespace corral::engine {

// What the controller does with the VMs of a host that stopped answering.
enum class HostFailurePolicy : std::uint8_t {
  kNone = 0,      // nothing: the operator decides (Nova's evacuate is an admin's call)
  kEvacuate = 1,  // recreate its may_fence VMs on other hosts once the lease has run out
};

struct HostOptions {
  Millis heartbeat_interval_ms = 2'000;
  Millis down_timeout_ms = 10'000;  // no heartbeat for this long: the host is ERROR
  Millis lease_ms = 6'000;          // an agent alone for this long fences its may_fence VMs
  Millis lease_margin_ms = 2'000;   // clock and delivery slack added before recreating
  HostFailurePolicy failure_policy = HostFailurePolicy::kNone;
};

// `corral host add NAME`.
struct HostSpec {
  std::string name;  // [a-z0-9][a-z0-9._-]{0,62}
  std::map<std::string, std::string> labels;
  store::HostResources reserved;    // may be negative (overcommit), as OpenNebula allows
  double cpu_allocation_ratio = 0;  // 0: the default (4.0, Nova's)
  double ram_allocation_ratio = 0;  // 0: the default (1.0)
  std::string actor = "api";
  std::string request_id;
};

// An operator action on a host (enable, disable, offline, flush, delete, force_down, ...).
struct HostActionRequest {
  std::string host;
  lifecycle::HostEvent event = lifecycle::HostEvent::kEnable;
  std::string reason;  // disable: Nova's disabled_reason
  std::string actor = "api";
  std::string request_id;
};

// What the last heartbeat reported.
struct HostMetrics {
  int used_vcpus = 0;
  std::int64_t used_memory_mib = 0;
  int running_vms = 0;
  double free_cpu_percent = 0;
  double load1 = 0;
  // Sure to stop when the agent's lease runs out, even if the agent dies (its fence guard
  // holds them): the only VMs evacuate recreates elsewhere without an operator's force_down.
  std::vector<store::VmId> guarded_vms;
  // What its VMs use (driver::Driver::usage on the agent's host).
  std::vector<driver::VmUsage> vm_usage;
};

// A host as the API shows it: the row plus what the engine accounts on it.
struct HostDetail {
  store::HostRow row;
  bool local = false;      // served by the in-process driver
  bool connected = false;  // an agent stream is live (local: always)
  bool up = false;         // heard within the down-timeout (Nova's service state)
  int used_vcpus = 0;      // claimed by the VMs placed there
  std::int64_t used_memory_mib = 0;
  std::vector<store::VmId> vms;  // placed there, by id
  HostMetrics metrics;           // the last heartbeat's
  std::vector<lifecycle::HostEvent> allowed_actions;
  // Why the host's security groups are not as the engine last sent them (its last answer,
  // Engine::firewall_errors()); nullopt: applied, or no answer yet.
  std::optional<std::string> firewall_error;
};

// A VM an agent finds on its host.
struct AgentVm {
  store::VmId vm = 0;
  lifecycle::Power power = lifecycle::Power::kNoState;
};

// An agent's Hello, as the controller's service decoded it.
struct AgentHello {
  std::string host;  // the certificate's host (the service checked Hello.host against it)
  std::string agent_version;
  std::string driver;  // "qemu", "sim"
  store::HostResources capacity;
  std::map<std::string, std::string> labels;
  std::vector<AgentVm> vms;
  std::uint64_t last_epoch = 0;
};

// A VM the store places on the agent's host.
struct PlacedVm {
  store::VmId vm = 0;
  lifecycle::State state = lifecycle::State::kInit;
  lifecycle::Power power = lifecycle::Power::kNoState;
  store::VmModel model;
  bool may_fence = false;
};

// A committed change of a host's record, as /v1/events publishes it (Event::host_change).
// Live only: host changes are not in the VM history, so a client resuming with Last-Event-ID
// gets the VM transitions it missed, not these.
struct HostChange {
  std::string host;
  lifecycle::HostEvent event = lifecycle::HostEvent::kEnable;
  lifecycle::HostState from = lifecycle::HostState::kInit;
  lifecycle::HostState to = lifecycle::HostState::kInit;
  bool removed = false;  // delete
  std::string actor;     // "api", "monitor", ...
  std::string reason;
  Millis at = 0;
};

struct AgentWelcome {
  std::uint64_t epoch = 0;
  std::vector<PlacedVm> vms;
  Millis heartbeat_interval_ms = 0;
  Millis lease_ms = 0;
};

}  // namespace corral::engine
