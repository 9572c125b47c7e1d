// Crash of an agent or of the controller in every hotplug phase, generated from the transition
// table (issue 13): for every row that plugs or unplugs a device (a kHotplug phase: disk_attach,
// disk_detach, nic_attach, nic_detach today), every origin it allows and every phase an agent
// runs (forward, and the undo phases if a row has them), the VM's agent is SIGKILLed while the
// phase runs and started again, and — in a second test — the controller is SIGKILLed and
// started again. Real `corral agent --driver sim` processes, each phase held by --sim-latency;
// the controller has a network `default` (data only with the sim driver) and a volume
// directory every host reaches (--volume-dir-shared: without it volumes pin VMs to the
// controller's own hosts, where no agent runs).
//
// After recovery, the truth: the VM idle (never stuck); the hosts' heartbeats, sent after the
// operation ended, agree with the store on whether it runs; each of its volumes (bring_to's
// pair: one attached, one free) in-use and attached to it, or available and attached to none —
// never reserved, attaching or detaching — and as the operation's outcome says; each of its
// NICs holding an attached lease on its network, and no other lease held for it. A sim
// agent's VMs live in its process, so a killed agent loses what it ran: "agree" means the store
// says so. A new hotplug row, origin or phase is covered without new test code. (The server
// alone, with the sim's crash fault: tests/crash_phases_test.cc.)
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "lifecycle/table.h"
#include "support/agent_matrix.h"
#include "support/cluster.h"
#include "support/recipes.h"

namespace corral::testing {
namespace {

namespace lc = corral::lifecycle;
using nlohmann::json;

// A row that plugs or unplugs a device: one of its phases is the hotplug phase.
bool plugs(const lc::Transition& t) {
  auto hotplug = [](const lc::PhaseStep& s) { return s.phase == lc::Phase::kHotplug; };
  return std::ranges::any_of(t.phases(), hotplug) || std::ranges::any_of(t.undo(), hotplug);
}

std::vector<AgentPoint> hotplug_points_from_table() { return agent_points_from_table(plugs); }

enum class Party { kAgent, kController };
const char* party_name(Party p) {
  switch (p) {
    case Party::kAgent:
      return "VM's agent SIGKILL";
    case Party::kController:
      return "controller SIGKILL";
  }
  return "?";
}

struct Counts {
  int cases = 0;
  int struck = 0;  // the strike landed inside the phase
  int lost = 0;    // the hosts disagree with the store on whether the VM runs
  int stuck = 0;   // not idle after recovery
  int untrue = 0;  // a volume or NIC half-way, or not as the operation's outcome says
};

// A volume directory for the controller, removed with the test.
class VolumeDir {
 public:
  VolumeDir() {
    std::string templ = (std::filesystem::temp_directory_path() / "corral-volumes-XXXXXX").string();
    if (::mkdtemp(templ.data()) != nullptr) path_ = templ;
  }
  ~VolumeDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

bool make_default_network(Api& api) {
  const ApiResult made = api.post("/v1/networks", {{"name", "default"}, {"cidr", "10.77.0.0/24"}});
  EXPECT_EQ(made.status, 201) << made.body.dump();
  return eventually(
      [&] { return api.get("/v1/networks/default").body["network"]["state"] == "READY"; },
      std::chrono::seconds(10));
}

// The request body of the point's row: default_params' volumes, and the network `default`.
json body_of(const AgentPoint& p, std::int64_t vm) {
  json body = default_params(p.row->action, vm);
  if (p.row->action == lc::Action::kNicAttach) body["network"] = "default";
  body["action"] = lc::action_name(p.row->action);
  return body;
}

// Whether the volume says the truth about VM `vm`: in-use and attached to it, or available
// and attached to none. Appends what is wrong to `why`.
bool volume_true(Api& api, const std::string& name, std::int64_t vm, std::string& why) {
  const ApiResult r = api.get("/v1/volumes/" + name);
  const json& v = r.body["volume"];
  const std::string status = r.status == 200 ? v.value("status", "") : "absent";
  const json attachments = r.status == 200 ? v["attachments"] : json::array();
  const bool ok =
      (status == "in-use" && attachments.size() == 1 && attachments[0].value("vm", 0) == vm) ||
      (status == "available" && attachments.empty());
  if (!ok) why += " volume " + name + " is " + status + " with " + attachments.dump() + ";";
  return ok;
}

// Whether VM `vm`'s NICs and the leases of the network `default` match: an attached lease for
// each NIC (same index and address), none other for the VM.
bool nics_true(Api& api, const json& vm, std::string& why) {
  std::set<std::pair<int, std::string>> nics;
  const json listed = vm.value("nics", json::array());
  for (const json& n : listed) nics.insert({n.value("nic", -1), n.value("ip", "")});
  std::set<std::pair<int, std::string>> leases;
  bool attached = true;
  const json leases_now = api.get("/v1/networks/default")
                              .body.value("network", json::object())
                              .value("leases", json::array());
  for (const json& l : leases_now) {
    if (l.value("vm", std::int64_t{0}) != vm.value("id", std::int64_t{0})) continue;
    leases.insert({l.value("nic", -1), l.value("ip", "")});
    attached = attached && l.value("attached", false);
  }
  const bool ok = nics == leases && attached;
  if (!ok) {
    why += " nics " + listed.dump() + " but leases " + leases_now.dump() + ";";
  }
  return ok;
}

// The outcome the store shows agrees with the devices: a succeeded attach has the device, a
// failed or canceled one does not; the same for a detach, the other way round.
bool outcome_true(const AgentPoint& p, const json& op, Api& api, const json& vm, std::string& why) {
  const std::string status = op.value("status", "");
  const bool done = status == "succeeded";
  const std::int64_t id = vm.value("id", std::int64_t{0});
  const std::size_t nics = vm.value("nics", json::array()).size();
  bool ok = true;
  switch (p.row->action) {
    case lc::Action::kDiskAttach:
      ok = volume_status(api, free_volume(id)) == (done ? "in-use" : "available");
      break;
    case lc::Action::kDiskDetach:
      ok = volume_status(api, attached_volume(id)) == (done ? "available" : "in-use");
      break;
    case lc::Action::kNicAttach:
      ok = nics == (done ? 2U : 1U);
      break;
    case lc::Action::kNicDetach:
      ok = nics == (done ? 0U : 1U);
      break;
    default:
      break;  // a new hotplug row: the generic checks above hold for it
  }
  if (!ok) why += " the operation " + status + " but the devices say otherwise;";
  return ok;
}

// One party struck in every hotplug point of the table; the counts are printed and must be 0.
// CORRAL_MATRIX_ONLY=TEXT runs only the points whose description contains TEXT (a rerun).
void run_matrix(Party party) {
  const auto began = std::chrono::steady_clock::now();
  VolumeDir volumes;
  ASSERT_FALSE(volumes.path().empty());
  AgentRig rig({.server_args = {"--volume-dir", volumes.path(), "--volume-dir-shared"}});
  const std::vector<AgentPoint> points = hotplug_points_from_table();
  ASSERT_FALSE(points.empty());
  std::set<lc::Phase> held;
  for (const AgentPoint& p : points) held.insert(p.phase);
  ASSERT_TRUE(rig.start(held));
  Cluster& c = rig.cluster();
  ASSERT_TRUE(make_default_network(c.api()));
  Counts counts;
  int n = 0;
  const char* only = std::getenv("CORRAL_MATRIX_ONLY");
  for (const AgentPoint& p : points) {
    if (only != nullptr && p.describe().find(only) == std::string::npos) continue;
    SCOPED_TRACE(p.describe() + ", " + party_name(party));
    ++counts.cases;
    const std::int64_t id =
        bring_vm_to(c, p.origin, "hx-" + std::to_string(n++), {{"networks", {"default"}}});
    ASSERT_NE(id, 0) << "could not bring a VM to " << lc::state_name(p.origin);
    ASSERT_TRUE(give_volumes(c.api(), id));
    const std::string path = "/v1/vms/" + std::to_string(id);
    const std::string at = c.host_of(id);
    const ApiResult plugging = c.api().post(path + "/actions", body_of(p, id));
    ASSERT_EQ(plugging.status, 202) << plugging.body.dump();
    const std::int64_t op_id = plugging.body["operation"].value("id", std::int64_t{0});
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
    switch (party) {
      case Party::kAgent:
        rig.agent(at).kill();
        rig.restart_agent(at);
        break;
      case Party::kController:
        c.kill_controller();
        ASSERT_TRUE(c.start());
        break;
    }
    const json done = c.api().wait_idle(id, 30'000);
    if (!done.is_object() ||
        (done["operation"].is_object() && done["operation"].value("status", "") == "running")) {
      ++counts.stuck;
      ADD_FAILURE() << "stuck: " << c.vm(id).dump();
      continue;
    }
    const std::string state = done.value("state", "");
    const std::string host = done["host"].is_string() ? done["host"].get<std::string>() : "";
    const HostsSeen seen = hosts_agree(c, {"h1", "h2"}, host, store_says_runs(done));
    // An idle VM shown RUNNING runs: power that says otherwise is a lie no policy settled.
    const bool coherent = state != "RUNNING" || done.value("power", "") == "running";
    if (!seen.agree || host != at || !coherent) {
      ++counts.lost;
      ADD_FAILURE() << "the hosts disagree with the store (" << state << " on " << host
                    << "): " << seen.describe() << "; " << done.dump();
    }
    // The operation the request started (a later one, e.g. the drift policy's, may be last).
    const json op = c.api().get("/v1/operations/" + std::to_string(op_id)).body;
    std::string why;
    bool told = volume_true(c.api(), attached_volume(id), id, why);
    told = volume_true(c.api(), free_volume(id), id, why) && told;
    told = nics_true(c.api(), done, why) && told;
    told = outcome_true(p, op, c.api(), done, why) && told;
    if (!told) {
      ++counts.untrue;
      ADD_FAILURE() << "not the truth:" << why << " operation " << op.dump() << "; " << done.dump();
    }
    std::printf("[ matrix ] %-40s %-20s -> %s (%s), %s\n", p.describe().c_str(), party_name(party),
                state.c_str(), done.value("power", "").c_str(), op.value("status", "?").c_str());
    terminate_out_of_the_way(c, id);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  std::printf(
      "[ matrix ] %s: points %zu, cases %d, struck in phase %d, lost %d, stuck %d, untrue %d, "
      "%.1f s\n",
      party_name(party), points.size(), counts.cases, counts.struck, counts.lost, counts.stuck,
      counts.untrue, seconds);
  EXPECT_EQ(counts.lost, 0);
  EXPECT_EQ(counts.stuck, 0);
  EXPECT_EQ(counts.untrue, 0);
}

TEST(AgentsCrashHotplug, AgentKilledInEveryHotplugPhase) { run_matrix(Party::kAgent); }
TEST(AgentsCrashHotplug, ControllerKilledInEveryHotplugPhase) { run_matrix(Party::kController); }

}  // namespace
}  // namespace corral::testing
