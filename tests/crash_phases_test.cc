// A server crash in every phase, generated from the transition table: for every row a user
// can start and every phase of it the driver runs, the sim's "crash" fault SIGKILLs the real
// server in that phase. Restarted on the same data dir, the server must pick the operation up
// where it was (the phase is re-dispatched, and that is in the VM's history), finish it the
// way the model says, and run the acknowledged request exactly once. A new row is covered
// without new test code. (Failures and hangs in every phase: src/engine/faults_test.cc.)
#include <gtest/gtest.h>

#include <set>

#include "lifecycle/table.h"
#include "support/recipes.h"

namespace corral::testing {
namespace {

namespace lc = corral::lifecycle;
using lc::Action;
using lc::Phase;
using lc::State;
using nlohmann::json;
using namespace std::chrono_literals;

json history_of(Api& api, std::int64_t vm) {
  return api.get("/v1/vms/" + std::to_string(vm) + "/history?limit=1000").body["transitions"];
}

TEST(CrashPhases, TheServerDiesInEveryPhaseOfEveryRowAndFinishesTheOperationAfterRestart) {
  ServerProcess server({"--sim-profile", "zero", "--no-schedule", "--sim-hosts", "64"});
  ASSERT_TRUE(server.start()) << server.log();
  int crashes = 0;
  int stuck = 0;  // still busy after the restart
  int lost = 0;   // the acknowledged request not run exactly once
  std::set<std::pair<Action, Phase>> covered;
  for (const lc::Transition& row : lc::transitions()) {
    if (!lc::request_runs_phases(row)) continue;
    const std::optional<State> origin = lc::first_origin(row);
    ASSERT_TRUE(origin.has_value()) << lc::action_name(row.action);
    for (std::uint8_t i = 0; i < row.step_count; ++i) {
      const Phase phase = row.steps[i].phase;
      if (phase == Phase::kSchedule) continue;  // the engine's own phase: no driver to crash in
      SCOPED_TRACE(std::string(lc::action_name(row.action)) + " from " +
                   std::string(lc::state_name(*origin)) + ", crash in " +
                   std::string(lc::phase_name(phase)));
      Api api(server);
      std::optional<Subject> subject = bring_to(api, *origin);
      ASSERT_TRUE(subject.has_value());
      const std::string vm = std::to_string(subject->id);
      lc::VmRecord expected = subject->mirror;
      mirror_run(expected, row.action);

      const ApiResult armed = api.post("/v1/admin/faults", {{"kind", "crash"},
                                                            {"action", lc::action_name(row.action)},
                                                            {"phase", lc::phase_name(phase)},
                                                            {"vm", subject->id},
                                                            {"times", 1}});
      ASSERT_EQ(armed.status, 201) << armed.body.dump();
      // The request is acknowledged before any phase runs; the reply itself may be lost when
      // the crash comes first, so the request id is what the history is searched for.
      const std::string request_id = "crash-" + std::to_string(crashes);
      json body = default_params(row.action);
      body["action"] = lc::action_name(row.action);
      {
        std::unique_ptr<httplib::Client> http = server.client();
        http->set_read_timeout(2, 0);
        auto reply = http->Post("/v1/vms/" + vm + "/actions", {{"X-Request-Id", request_id}},
                                body.dump(), "application/json");
        if (reply) {
          ASSERT_EQ(reply->status, 202) << reply->body;
        }
      }
      ASSERT_TRUE(server.wait_exit(10s)) << "the crash fault never fired";
      ++crashes;
      covered.insert({row.action, phase});
      ASSERT_TRUE(server.start()) << server.log();

      Api after(server);
      const json done = after.wait_idle(subject->id);
      if (done.is_null()) ++stuck;
      ASSERT_FALSE(done.is_null());
      EXPECT_EQ(done["state"], lc::state_name(expected.state));
      EXPECT_EQ(done["operation"]["action"], lc::action_name(row.action));
      EXPECT_EQ(done["operation"]["status"], "succeeded");
      EXPECT_EQ(done["operation"]["request_id"], request_id);

      const json history = history_of(after, subject->id);
      int started = 0;
      bool redispatched = false;
      for (const json& t : history) {
        if (t["request_id"] == request_id) ++started;
        if (t["phase"] == lc::phase_name(phase) && t["reason"].is_string() &&
            t["reason"].get<std::string>().starts_with("re-dispatched after a restart")) {
          redispatched = true;
        }
      }
      if (started != 1) ++lost;
      EXPECT_EQ(started, 1) << "the request ran once: " << history.dump();
      EXPECT_TRUE(redispatched) << history.dump();
      EXPECT_EQ(history.back()["to"], lc::state_name(expected.state));
      after.del("/v1/vms/" + vm + "?hard=true");
    }
  }
  EXPECT_GT(covered.size(), 60U);
  EXPECT_EQ(lost, 0);
  EXPECT_EQ(stuck, 0);
  std::printf("crash phases: %d server crashes over %zu (action, phase) pairs; %d lost, %d stuck\n",
              crashes, covered.size(), lost, stuck);
}

}  // namespace
}  // namespace corral::testing
