// Drift through a real server: the sim's external events (what a hypervisor does behind
// Corral's back) move an idle VM as the configured policy says — opennebula (with either
// missing state) or nova — with the cause in its history; a VM with an operation running is
// left to that operation. The policies' full tables: src/lifecycle/golden/drift_golden.cc. The same
// with real QEMU processes: tests/qemu_test.cc.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "support/recipes.h"

namespace corral::testing {
namespace {

namespace lc = corral::lifecycle;
using nlohmann::json;
using namespace std::chrono_literals;

struct DriftCase {
  const char* what;
  std::vector<std::string> policy;  // server arguments
  lc::State from;
  const char* event;  // the sim's external event
  const char* state;  // the VM's state once it is idle again
  const char* power;
  std::vector<std::string> actions;  // the history's new rows' actions, oldest first
  const char* reason;                // in the observed row's reason
};

json history_of(Api& api, std::int64_t id) {
  return api.get("/v1/vms/" + std::to_string(id) + "/history?limit=1000").body["transitions"];
}

// Waits until the VM has `rows` more history rows than `before` and is idle; its JSON.
json wait_rows(Api& api, std::int64_t id, std::size_t rows) {
  // A deadline in time, not in rounds: under ASan each history read is slow, and 2,000 of them
  // ran out before the drift's last entry (the VM was read still RUNNING).
  for (const auto until = std::chrono::steady_clock::now() + 30s;
       std::chrono::steady_clock::now() < until;) {
    if (history_of(api, id).size() >= rows) return api.wait_idle(id);
    std::this_thread::sleep_for(2ms);
  }
  return api.get("/v1/vms/" + std::to_string(id)).body;
}

TEST(Drift, IdleVmsFollowTheConfiguredPolicy) {
  const std::vector<std::string> one = {"--drift-policy", "opennebula"};
  const std::vector<std::string> one_off = {"--drift-policy", "opennebula", "--missing-state",
                                            "poweroff"};
  const std::vector<std::string> nova = {"--drift-policy", "nova"};
  using S = lc::State;
  const DriftCase cases[] = {
      {"guest powers off",
       one,
       S::kRunning,
       "guest_poweroff",
       "POWEROFF",
       "shutdown",
       {"observed_poweroff"},
       "reports off"},
      {"process vanishes",
       one,
       S::kRunning,
       "lost",
       "UNKNOWN",
       "nostate",
       {"observed_lost"},
       "missing state"},
      {"host stops answering",
       one,
       S::kRunning,
       "unresponsive",
       "UNKNOWN",
       "nostate",
       {"observed_lost"},
       "cannot report"},
      {"seen running again",
       one,
       S::kUnknown,
       "running",
       "RUNNING",
       "running",
       {"observed_running"},
       "reports running"},
      {"powered on outside",
       one,
       S::kPoweroff,
       "running",
       "RUNNING",
       "running",
       {"observed_running"},
       "reports running"},
      // opennebula.md:57: a probe reporting RUNNING moves a SUSPENDED VM to RUNNING.
      {"suspended VM seen running",
       one,
       S::kSuspended,
       "running",
       "RUNNING",
       "running",
       {"observed_running"},
       "reports running"},
      // opennebula.md:54, :56: only RUNNING VMs become UNKNOWN; a PAUSED one keeps its state.
      {"paused VM's host stops answering",
       one,
       S::kPaused,
       "unresponsive",
       "PAUSED",
       "nostate",
       {"observed_power"},
       "as the host reports"},
      {"paused VM vanishes",
       one,
       S::kPaused,
       "lost",
       "PAUSED",
       "nostate",
       {"observed_power"},
       "as the host reports"},
      {"vanishes, MISSING_STATE=POWEROFF",
       one_off,
       S::kRunning,
       "lost",
       "POWEROFF",
       "nostate",
       {"observed_poweroff"},
       "missing state"},
      {"guest powers off",
       nova,
       S::kRunning,
       "guest_poweroff",
       "POWEROFF",
       "shutdown",
       {"observed_poweroff"},
       "calling the stop API"},
      {"process vanishes",
       nova,
       S::kRunning,
       "lost",
       "RUNNING",
       "nostate",
       {"observed_power"},
       "unexpectedly not found"},
      {"paused outside",
       nova,
       S::kRunning,
       "paused",
       "RUNNING",
       "paused",
       {"observed_power"},
       "bug 1097806"},
      {"powered on outside",
       nova,
       S::kPoweroff,
       "running",
       "POWEROFF",
       "shutdown",
       {"observed_running", "shutdown_hard", "shutdown_hard"},
       "calling force_stop"},
  };
  for (const DriftCase& c : cases) {
    std::string policy;
    for (const std::string& a : c.policy) policy += a + " ";
    SCOPED_TRACE(policy + "| " + c.what);
    std::vector<std::string> args = {"--sim-profile", "zero", "--no-schedule"};
    args.insert(args.end(), c.policy.begin(), c.policy.end());
    ServerProcess server(args);
    ASSERT_TRUE(server.start()) << server.log();
    Api api(server);
    std::optional<Subject> vm = bring_to(api, c.from);
    ASSERT_TRUE(vm.has_value());
    const std::size_t before = history_of(api, vm->id).size();
    const ApiResult sent =
        api.post("/v1/admin/vms/" + std::to_string(vm->id) + "/external", {{"event", c.event}});
    ASSERT_EQ(sent.status, 202) << sent.body.dump();
    const json after = wait_rows(api, vm->id, before + c.actions.size());
    EXPECT_EQ(after["state"], c.state) << after.dump();
    EXPECT_EQ(after["power"], c.power) << after.dump();
    const json history = history_of(api, vm->id);
    ASSERT_EQ(history.size(), before + c.actions.size()) << history.dump();
    for (std::size_t i = 0; i < c.actions.size(); ++i) {
      const json& row = history[before + i];
      EXPECT_EQ(row["action"], c.actions[i]) << row.dump();
      // The monitor starts each operation (a later row of it is the driver's answer).
      if (i == 0 || c.actions[i] != c.actions[i - 1]) {
        EXPECT_EQ(row["actor"], "monitor") << row.dump();
      }
    }
    const std::string reason = history[before]["reason"].get<std::string>();
    EXPECT_NE(reason.find("sim:"), std::string::npos) << "the driver's cause: " << reason;
    EXPECT_NE(reason.find(c.reason), std::string::npos) << reason;
  }
}

// An operation in flight decides its VM's state: a report arriving meanwhile changes nothing.
TEST(Drift, NoReconciliationWhileTheVmsOwnOperationRuns) {
  for (const char* policy : {"opennebula", "nova"}) {
    SCOPED_TRACE(policy);
    ServerProcess server({"--sim-profile", "zero", "--no-schedule", "--drift-policy", policy});
    ASSERT_TRUE(server.start()) << server.log();
    Api api(server);
    std::optional<Subject> vm = bring_to(api, lc::State::kRunning);
    ASSERT_TRUE(vm.has_value());
    const std::string id = std::to_string(vm->id);
    ASSERT_EQ(api.post("/v1/admin/faults",
                       {{"kind", "hang"}, {"action", "shutdown"}, {"vm", vm->id}, {"times", 1}})
                  .status,
              201);
    ASSERT_EQ(api.post("/v1/vms/" + id + "/actions", {{"action", "shutdown"}}).status, 202);
    const std::size_t before = history_of(api, vm->id).size();
    for (const char* event : {"guest_poweroff", "lost", "unresponsive", "paused", "running"}) {
      ASSERT_EQ(api.post("/v1/admin/vms/" + id + "/external", {{"event", event}}).status, 202);
    }
    std::this_thread::sleep_for(200ms);  // time for the events to be (not) applied
    const json during = api.get("/v1/vms/" + id).body;
    EXPECT_EQ(during["state"], "RUNNING");
    EXPECT_EQ(during["operation"]["action"], "shutdown");
    EXPECT_EQ(during["operation"]["status"], "running");
    EXPECT_EQ(history_of(api, vm->id).size(), before) << history_of(api, vm->id).dump();
    // The operation still decides: cancelled, it rolls back to RUNNING.
    ASSERT_EQ(api.post("/v1/vms/" + id + "/actions", {{"action", "cancel"}}).status, 202);
    EXPECT_EQ(api.wait_idle(vm->id)["state"], "RUNNING");
  }
}

}  // namespace
}  // namespace corral::testing
