// Crash in every migration phase, of every party, generated from the transition table: for
// every row with a step on either side of a move (E::kMovesVm, and a resize's confirm and
// revert), every origin it allows, every phase an agent runs (forward, and the undo phases,
// reached by cancelling the row in its first phase), the controller, the source agent and the
// target agent are each SIGKILLed while the phase runs and restarted, and the phase's agent
// is cut off (SIGSTOP past the controller's down timeout, then SIGCONT): one test per party.
// Real `corral agent --driver sim` processes, each phase held by `--sim-latency` long enough
// for the strike to land inside it. Real QEMU disks and their checksums under the same
// strikes, sampled: tests/qemu_agents_migrate_test.cc, tests/qemu_agents_cold_migrate_test.cc.
//
// After recovery the VM must be idle (never stuck), the store must name one of the two hosts,
// and the hosts must agree with the store, in heartbeats sent after the operation ended:
// exactly one agent runs the VM when the store says it runs, none otherwise (double runs and
// lost VMs are counted and must be 0). A sim agent's VMs live in its process, so a killed
// agent loses what it ran: the store must say so (not RUNNING there, or power nostate), which
// is what "agrees" means here. A new row, origin or phase is covered without new test code.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "lifecycle/table.h"
#include "support/agent_process.h"
#include "support/cluster.h"
#include "support/recipes.h"

namespace corral::testing {
namespace {

namespace lc = corral::lifecycle;
using nlohmann::json;
using namespace std::chrono_literals;

constexpr int kHoldMs = 300;  // every agent phase takes this long
// A report counts once it is this much newer than the end of the operation: more than one
// heartbeat interval (0.3 s), so that its figures were taken after the last phase.
constexpr std::int64_t kFreshMs = 400;

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Whether the host's last heartbeat arrived after `after_ms` (epoch milliseconds).
bool fresh(const json& host, std::int64_t after_ms) {
  const json& at = host["last_heartbeat_ms"];
  return at.is_number() && at.get<std::int64_t>() > after_ms;
}

// One phase of a move row, from one origin; `undo`: of the row's undo phases.
struct MovePoint {
  const lc::Transition* row = nullptr;
  lc::State origin = lc::State::kInit;
  lc::Phase phase = lc::Phase::kInit;
  lc::RunsOn side = lc::RunsOn::kHost;
  bool undo = false;
  std::string describe() const {
    return std::string(lc::action_name(row->action)) + " from " +
           std::string(lc::state_name(origin)) + (undo ? ", undo phase " : ", phase ") +
           std::string(lc::phase_name(phase));
  }
};

// A row that moves the VM, or runs phases on both sides of a move (a resize's confirm and
// revert, which end what resize_migrate began).
bool two_sided(const lc::Transition& t) {
  if (t.has(lc::Effect::kMovesVm)) return true;
  auto sided = [](const lc::PhaseStep& s) { return s.runs_on != lc::RunsOn::kHost; };
  return std::ranges::any_of(t.phases(), sided) || std::ranges::any_of(t.undo(), sided);
}

std::vector<MovePoint> move_points_from_table() {
  std::vector<MovePoint> out;
  for (const lc::Transition& t : lc::transitions()) {
    if (!two_sided(t) || !t.when_idle || t.instant()) continue;
    for (lc::State origin : lc::kAllStates) {
      if (!t.from.contains(origin)) continue;
      for (const lc::PhaseStep& s : t.phases()) {
        if (s.phase == lc::Phase::kSchedule) continue;  // the engine's own, no agent runs it
        out.push_back({&t, origin, s.phase, s.runs_on, false});
      }
      for (const lc::PhaseStep& s : t.undo()) out.push_back({&t, origin, s.phase, s.runs_on, true});
    }
  }
  return out;
}

enum class Party { kController, kSource, kTarget, kCut };
const char* party_name(Party p) {
  switch (p) {
    case Party::kController:
      return "controller SIGKILL";
    case Party::kSource:
      return "source agent SIGKILL";
    case Party::kTarget:
      return "target agent SIGKILL";
    case Party::kCut:
      return "link cut (phase's agent)";
  }
  return "?";
}

struct Counts {
  int cases = 0;
  int struck = 0;       // the strike landed inside the phase
  int double_runs = 0;  // both agents ran the VM at once
  int lost = 0;         // the store says it runs where no agent runs it, or names no host
  int stuck = 0;        // not idle after recovery
};

class Rig {
 public:
  Rig() = default;

  bool start() {
    if (!cluster_.start()) return false;
    AgentOptions o = cluster_.agent_options();
    // Every phase a move point names, and those that bring a VM to its origin or end it.
    std::set<lc::Phase> held = {lc::Phase::kBoot, lc::Phase::kSave, lc::Phase::kEpilog};
    for (const MovePoint& p : move_points_from_table()) held.insert(p.phase);
    for (lc::Phase phase : held) {
      o.extra.push_back("--sim-latency");
      o.extra.push_back(std::string(lc::phase_name(phase)) + "=" + std::to_string(kHoldMs));
    }
    agents_["h1"] = cluster_.join("h1", o);
    agents_["h2"] = cluster_.join("h2", o);
    return agents_["h1"] && agents_["h2"];
  }

  Cluster& cluster() { return cluster_; }
  AgentProcess& agent(const std::string& host) { return *agents_.at(host); }
  static std::string other(const std::string& host) { return host == "h1" ? "h2" : "h1"; }

  // Restarts the agent and waits until the controller has it back.
  void restart_agent(const std::string& host) {
    EXPECT_TRUE(agents_.at(host)->start()) << agents_.at(host)->log();
    EXPECT_TRUE(cluster_.wait_connected(host)) << host << ": " << agents_.at(host)->log();
  }

 private:
  Cluster cluster_;
  std::map<std::string, std::unique_ptr<AgentProcess>> agents_;
};

// The request body of `action` (a resize names its new size).
json body_of(lc::Action action) {
  json body = {{"action", lc::action_name(action)}};
  if (action == lc::Action::kResizeMigrate) body["memory_mib"] = 192;
  return body;
}

// A VM on an agent in `origin`, idle; 0 on failure.
std::int64_t bring_vm_to(Rig& rig, lc::State origin, int n) {
  Cluster& c = rig.cluster();
  const std::int64_t id = c.create("mx-" + std::to_string(n));
  if (id == 0 || !c.wait_vm(id, "RUNNING")) {
    ADD_FAILURE() << c.vm(id).dump();
    return 0;
  }
  const std::string path = "/v1/vms/" + std::to_string(id);
  switch (origin) {
    case lc::State::kRunning:
      return id;
    case lc::State::kPoweroff:
      c.api().post(path + "/actions", {{"action", "shutdown"}});
      return c.wait_vm(id, "POWEROFF") ? id : 0;
    case lc::State::kSuspended:
      c.api().post(path + "/actions", {{"action", "suspend"}});
      return c.wait_vm(id, "SUSPENDED") ? id : 0;
    case lc::State::kUnknown:
      c.api().post("/v1/admin/vms/" + std::to_string(id) + "/external", {{"event", "lost"}});
      return c.wait_vm(id, "UNKNOWN") ? id : 0;
    case lc::State::kPaused:
      c.api().post(path + "/actions", {{"action", "pause"}});
      return c.wait_vm(id, "PAUSED") ? id : 0;
    case lc::State::kResized:
      c.api().post(path + "/actions", body_of(lc::Action::kResizeMigrate));
      return c.wait_vm(id, "RESIZED") ? id : 0;
    default:
      ADD_FAILURE() << "no recipe for origin " << lc::state_name(origin);
      return 0;
  }
}

// Polls until the VM's operation is in `p`'s phase (forward or undoing); false at 10 s.
bool wait_in_phase(Cluster& c, std::int64_t id, const MovePoint& p) {
  return eventually(
      [&] {
        const json vm = c.vm(id);
        const json& op = vm["operation"];
        if (!op.is_object() || op.value("status", "") != "running") return false;
        if (op["phase"] != lc::phase_name(p.phase)) return false;
        return op["undoing"].is_null() != p.undo;
      },
      10s);
}

// One party struck in every point of the table; the counts are printed and must be 0.
// CORRAL_MATRIX_ONLY=TEXT runs only the points whose description contains TEXT (a rerun).
void run_matrix(Party party) {
  const auto began = std::chrono::steady_clock::now();
  Rig rig;
  ASSERT_TRUE(rig.start());
  const std::vector<MovePoint> points = move_points_from_table();
  ASSERT_FALSE(points.empty());
  Counts counts;
  int n = 0;
  const char* only = std::getenv("CORRAL_MATRIX_ONLY");
  for (const MovePoint& p : points) {
    if (only != nullptr && p.describe().find(only) == std::string::npos) continue;
    {
      SCOPED_TRACE(p.describe() + ", " + party_name(party));
      Cluster& c = rig.cluster();
      ++counts.cases;
      const std::int64_t id = bring_vm_to(rig, p.origin, n++);
      ASSERT_NE(id, 0) << "could not bring a VM to " << lc::state_name(p.origin);
      const std::string path = "/v1/vms/" + std::to_string(id);
      // The move's sides as the table names them: from RESIZED, the source is the host the
      // resize left and the target the VM's host.
      const std::string at = c.host_of(id);
      const bool resized = p.origin == lc::State::kResized;
      const std::string source = resized ? Rig::other(at) : at;
      const std::string target = Rig::other(source);
      const ApiResult moving = c.api().post(path + "/actions", body_of(p.row->action));
      ASSERT_EQ(moving.status, 202) << moving.body.dump();
      if (p.undo) {
        // Cancelled in its first phase, the row rolls back through its undo phases.
        const MovePoint first{p.row, p.origin, p.row->phases()[0].phase, lc::RunsOn::kHost, false};
        ASSERT_TRUE(wait_in_phase(c, id, first)) << c.vm(id).dump();
        const ApiResult cancel = c.api().post(path + "/actions", {{"action", "cancel"}});
        ASSERT_EQ(cancel.status, 202) << cancel.body.dump();
      }
      if (wait_in_phase(c, id, p)) {
        ++counts.struck;
      } else {
        ADD_FAILURE() << "never in the phase: " << c.vm(id).dump();
      }
      const std::string phase_host = p.side == lc::RunsOn::kSource ? source : target;
      switch (party) {
        case Party::kController:
          c.kill_controller();
          ASSERT_TRUE(c.start());
          break;
        case Party::kSource:
          rig.agent(source).kill();
          rig.restart_agent(source);
          break;
        case Party::kTarget:
          rig.agent(target).kill();
          rig.restart_agent(target);
          break;
        case Party::kCut: {
          const pid_t pid = rig.agent(phase_host).pid();
          ::kill(pid, SIGSTOP);
          std::this_thread::sleep_for(2500ms);  // past the down timeout (2 s)
          ::kill(pid, SIGCONT);
          EXPECT_TRUE(c.wait_connected(phase_host));
          break;
        }
      }
      const json done = c.api().wait_idle(id, 30'000);
      const json& op = done["operation"];
      if (op.is_object() && op.value("status", "") == "running") {
        ++counts.stuck;
        ADD_FAILURE() << "stuck: " << done.dump();
      }
      const std::string state = done.value("state", "");
      const std::string host = done["host"].is_string() ? done["host"].get<std::string>() : "";
      if (host != source && host != target) {
        ++counts.lost;
        ADD_FAILURE() << "the store names no host of the two: " << done.dump();
      }
      // The hosts agree with the store in the reports they send after the operation ended
      // (a report from before its last phase may still count the source's copy of a live
      // migration): both heartbeats must be newer than the idle VM by more than one interval.
      // A state whose VM runs on its host, when its power says it does (OpenNebula keeps a
      // PAUSED VM missing from its host PAUSED, with power nostate; a RESIZED VM that was off
      // is off).
      const std::string power = done.value("power", "");
      const bool runs = (state == "RUNNING" || state == "PAUSED" || state == "RESIZED") &&
                        (power == "running" || power == "paused");
      const std::int64_t idle_at = now_ms() + kFreshMs;
      bool doubled = false;
      int a = -1;
      int b = -1;
      const bool agree = eventually(
          [&] {
            const json hs = c.host(source);
            const json ht = c.host(target);
            if (!fresh(hs, idle_at) || !fresh(ht, idle_at)) return false;
            a = hs["metrics"].value("running_vms", 0);
            b = ht["metrics"].value("running_vms", 0);
            if (a + b > 1) doubled = true;
            const int there = host == source ? a : b;
            return runs ? (a + b == 1 && there == 1) : a + b == 0;
          },
          8s);
      if (doubled) {
        ++counts.double_runs;
        ADD_FAILURE() << "both agents ran the VM: " << done.dump();
      }
      if (!agree) {
        ++counts.lost;
        ADD_FAILURE() << "the hosts disagree with the store (" << state << " on " << host
                      << "): " << source << " runs " << a << ", " << target << " runs " << b << "; "
                      << done.dump();
      }
      std::printf("[ matrix ] %-55s %-28s -> %s on %s\n", p.describe().c_str(), party_name(party),
                  state.c_str(), host.c_str());
      // Out of the way of the next case.
      c.api().post(path + "/actions", {{"action", "terminate_hard"}});
      EXPECT_TRUE(eventually(
          [&] { return c.api().get(path).status == 404 || c.vm(id).value("state", "") == "DONE"; },
          20s))
          << c.vm(id).dump();
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  std::printf(
      "[ matrix ] %s: points %zu, cases %d, struck in phase %d, double runs %d, lost %d, stuck "
      "%d, %.1f s\n",
      party_name(party), points.size(), counts.cases, counts.struck, counts.double_runs,
      counts.lost, counts.stuck, seconds);
  EXPECT_EQ(counts.double_runs, 0);
  EXPECT_EQ(counts.lost, 0);
  EXPECT_EQ(counts.stuck, 0);
}

// Four tests, one per party, so that ctest runs them beside the others.
TEST(AgentsCrashMigrate, ControllerKilledInEveryMovePhase) { run_matrix(Party::kController); }
TEST(AgentsCrashMigrate, SourceAgentKilledInEveryMovePhase) { run_matrix(Party::kSource); }
TEST(AgentsCrashMigrate, TargetAgentKilledInEveryMovePhase) { run_matrix(Party::kTarget); }
TEST(AgentsCrashMigrate, PhaseAgentCutOffInEveryMovePhase) { run_matrix(Party::kCut); }

}  // namespace
}  // namespace corral::testing
