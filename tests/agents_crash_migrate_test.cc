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
#include "support/agent_matrix.h"
#include "support/agent_process.h"
#include "support/cluster.h"
#include "support/recipes.h"

namespace corral::testing {
namespace {

namespace lc = corral::lifecycle;
using nlohmann::json;
using namespace std::chrono_literals;

// A row that moves the VM, or runs phases on both sides of a move (a resize's confirm and
// revert, which end what resize_migrate began).
bool two_sided(const lc::Transition& t) {
  if (t.has(lc::Effect::kMovesVm)) return true;
  auto sided = [](const lc::PhaseStep& s) { return s.runs_on != lc::RunsOn::kHost; };
  return std::ranges::any_of(t.phases(), sided) || std::ranges::any_of(t.undo(), sided);
}

std::vector<AgentPoint> move_points_from_table() { return agent_points_from_table(two_sided); }

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

// Every phase a move point names, and those that bring a VM to its origin or end it.
std::set<lc::Phase> held_phases() {
  std::set<lc::Phase> held = {lc::Phase::kBoot, lc::Phase::kSave, lc::Phase::kEpilog};
  for (const AgentPoint& p : move_points_from_table()) held.insert(p.phase);
  return held;
}

// The request body of `action` (a resize names its new size).
json body_of(lc::Action action) {
  json body = {{"action", lc::action_name(action)}};
  if (action == lc::Action::kResizeMigrate) body["memory_mib"] = 192;
  return body;
}

// One party struck in every point of the table; the counts are printed and must be 0.
// CORRAL_MATRIX_ONLY=TEXT runs only the points whose description contains TEXT (a rerun).
void run_matrix(Party party) {
  const auto began = std::chrono::steady_clock::now();
  AgentRig rig;
  ASSERT_TRUE(rig.start(held_phases()));
  const std::vector<AgentPoint> points = move_points_from_table();
  ASSERT_FALSE(points.empty());
  Counts counts;
  int n = 0;
  const char* only = std::getenv("CORRAL_MATRIX_ONLY");
  for (const AgentPoint& p : points) {
    if (only != nullptr && p.describe().find(only) == std::string::npos) continue;
    {
      SCOPED_TRACE(p.describe() + ", " + party_name(party));
      Cluster& c = rig.cluster();
      ++counts.cases;
      const std::int64_t id = bring_vm_to(rig.cluster(), p.origin, "mx-" + std::to_string(n++));
      ASSERT_NE(id, 0) << "could not bring a VM to " << lc::state_name(p.origin);
      const std::string path = "/v1/vms/" + std::to_string(id);
      // The move's sides as the table names them: from RESIZED, the source is the host the
      // resize left and the target the VM's host.
      const std::string at = c.host_of(id);
      const bool resized = p.origin == lc::State::kResized;
      const std::string source = resized ? AgentRig::other(at) : at;
      const std::string target = AgentRig::other(source);
      const ApiResult moving = c.api().post(path + "/actions", body_of(p.row->action));
      ASSERT_EQ(moving.status, 202) << moving.body.dump();
      if (p.undo) {
        // Cancelled in its first phase, the row rolls back through its undo phases.
        const AgentPoint first{p.row, p.origin, p.row->phases()[0].phase, lc::RunsOn::kHost, false};
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
      const HostsSeen seen = hosts_agree(c, {source, target}, host, store_says_runs(done));
      if (seen.doubled) {
        ++counts.double_runs;
        ADD_FAILURE() << "both agents ran the VM: " << done.dump();
      }
      if (!seen.agree) {
        ++counts.lost;
        ADD_FAILURE() << "the hosts disagree with the store (" << state << " on " << host
                      << "): " << seen.describe() << "; " << done.dump();
      }
      std::printf("[ matrix ] %-55s %-28s -> %s on %s\n", p.describe().c_str(), party_name(party),
                  state.c_str(), host.c_str());
      terminate_out_of_the_way(c, id);
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
