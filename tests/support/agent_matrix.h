// Shared pieces of the agent crash matrices (tests/agents_crash_*_test.cc): the points of the
// transition table an agent runs, a controller with two real `corral agent --driver sim`
// processes whose phases are held long enough for a strike to land inside them, and the checks
// made after recovery (the VM idle, the hosts' heartbeats agreeing with the store).
//
// Contract: every function fails the running test (ADD_FAILURE / EXPECT) when what it waits
// for does not come, and returns what it saw; none throws.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "lifecycle/table.h"
#include "support/agent_process.h"
#include "support/cluster.h"

namespace corral::testing {

// Epoch milliseconds (the clock of the hosts' last_heartbeat_ms).
std::int64_t now_ms();

// Whether the host's last heartbeat arrived after `after_ms` (epoch milliseconds).
bool fresh(const nlohmann::json& host, std::int64_t after_ms);

// One phase of a row an agent runs, from one origin; `undo`: of the row's undo phases.
struct AgentPoint {
  const lifecycle::Transition* row = nullptr;
  lifecycle::State origin = lifecycle::State::kInit;
  lifecycle::Phase phase = lifecycle::Phase::kInit;
  lifecycle::RunsOn side = lifecycle::RunsOn::kHost;
  bool undo = false;
  std::string describe() const;
};

// Every (row, origin, phase) an agent runs — forward phases but the engine's own schedule,
// and the undo phases — of the idle rows `selects` keeps that run phases, in table order.
std::vector<AgentPoint> agent_points_from_table(
    const std::function<bool(const lifecycle::Transition&)>& selects);

// A controller with agents h1 and h2, every phase in `held` taking kHoldMs on them.
class AgentRig {
 public:
  static constexpr int kHoldMs = 300;

  explicit AgentRig(ClusterOptions options = {}) : cluster_(std::move(options)) {}

  [[nodiscard]] bool start(const std::set<lifecycle::Phase>& held);

  Cluster& cluster() { return cluster_; }
  AgentProcess& agent(const std::string& host) { return *agents_.at(host); }
  static std::string other(const std::string& host) { return host == "h1" ? "h2" : "h1"; }

  // Restarts the agent and waits until the controller has it back.
  void restart_agent(const std::string& host);

 private:
  Cluster cluster_;
  std::map<std::string, std::unique_ptr<AgentProcess>> agents_;
};

// A new VM named `name` (POST /v1/vms with `extra` too) brought to `origin` on an agent, idle:
// RUNNING, POWEROFF, SUSPENDED, UNKNOWN, PAUSED or RESIZED (resize_migrate to 192 MiB); its id,
// 0 and a test failure if that does not work.
std::int64_t bring_vm_to(Cluster& c, lifecycle::State origin, const std::string& name,
                         const nlohmann::json& extra = nlohmann::json::object());

// Polls until the VM's operation runs `p`'s phase (forward or undoing); false at 10 s.
bool wait_in_phase(Cluster& c, std::int64_t id, const AgentPoint& p);

// Whether the store says the VM's process runs on its host: a state whose VM runs there, with
// a power that says it does (OpenNebula keeps a PAUSED VM missing from its host PAUSED, with
// power nostate; a RESIZED VM that was off is off).
bool store_says_runs(const nlohmann::json& vm);

// What the hosts' heartbeats said, once all were sent after the operation ended.
struct HostsSeen {
  bool agree = false;                  // exactly one runs it (on `at`) when it runs, none otherwise
  bool doubled = false;                // more than one ran it at some point
  std::map<std::string, int> running;  // running_vms, by host, in the last look
  std::string describe() const;
};

// Waits (8 s) until every host in `hosts` has reported more than one heartbeat interval after
// now, and until their running VMs agree with the store: one VM in all, on `at`, when `runs`;
// none otherwise. Only the VM under test may exist on them.
HostsSeen hosts_agree(Cluster& c, const std::vector<std::string>& hosts, const std::string& at,
                      bool runs);

// terminate_hard, and waits until the VM is DONE or gone (out of the way of the next case).
void terminate_out_of_the_way(Cluster& c, std::int64_t id);

}  // namespace corral::testing
