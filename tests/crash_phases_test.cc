// A server crash in every phase, generated from the transition table: for every row whose
// phases a request starts — create and the pre-empting rows included — every origin it allows
// and every phase of it a driver runs, the sim's "crash" fault SIGKILLs the real server in that
// phase. Restarted on the same data dir, the server must pick the operation up where it was
// (the phase is re-dispatched, and that is in the VM's history), finish it the way the model
// says, and run the acknowledged request exactly once; the VM's whole history must replay
// through the model step by step. The crashes made are asserted equal to the set computed from
// the table. Not crashed in: schedule, the engine's own phase, which no driver runs (with room,
// it ends in the batch that starts it, so no committed moment is "in" it).
// A new row or origin is covered without new test code. (Failures and hangs, with the origin
// unknown and intact, in every phase: src/engine/faults_test.cc.)
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <set>
#include <string>

#include "engine/fault_points_testing.h"
#include "lifecycle/table.h"
#include "support/recipes.h"

namespace corral::testing {
namespace {

namespace lc = corral::lifecycle;
using engine::testing::FaultPoint;
using lc::Action;
using lc::Phase;
using lc::State;
using nlohmann::json;
using namespace std::chrono_literals;

std::set<FaultPoint> crash_points_from_table() {
  std::set<FaultPoint> out;
  for (const FaultPoint& p : engine::testing::fault_points_from_table()) {
    if (p.phase() != Phase::kSchedule) out.insert(p);
  }
  return out;
}

// A VM where the point's row can start, and its mirror; id 0 for create (not created yet).
std::optional<Subject> ready_for(Api& api, const FaultPoint& p) {
  const lc::Transition& t = p.transition();
  if (t.when_idle && p.origin == State::kInit) return Subject{0, lc::new_record()};
  if (t.when_idle) return bring_to(api, p.origin);
  // A pre-empting row: an operation from the origin, hung in its first phase, to cut short.
  std::optional<Subject> s;
  Action running = Action::kCreate;
  Phase phase = Phase::kInit;
  if (p.origin == State::kInit) {
    const ApiResult hang =
        api.post("/v1/admin/faults", {{"kind", "hang"}, {"action", "create"}, {"phase", "init"}});
    EXPECT_EQ(hang.status, 201) << hang.body.dump();
    const ApiResult created =
        api.post("/v1/vms",
                 {{"name", "t-hung-create"}, {"image", "tiny"}, {"vcpus", 1}, {"memory_mib", 128}});
    EXPECT_EQ(created.status, 202) << created.body.dump();
    if (created.status != 202) return std::nullopt;
    s = Subject{created.body["vm"]["id"].get<std::int64_t>(), lc::new_record()};
  } else {
    const lc::Transition* q = engine::testing::operation_to_preempt(t, p.origin);
    if (q == nullptr) {
      ADD_FAILURE() << "nothing to pre-empt from " << lc::state_name(p.origin);
      return std::nullopt;
    }
    s = bring_to(api, p.origin);
    if (!s) return std::nullopt;
    running = q->action;
    phase = q->steps[0].phase;
    const ApiResult hang = api.post("/v1/admin/faults", {{"kind", "hang"},
                                                         {"action", lc::action_name(running)},
                                                         {"phase", lc::phase_name(phase)},
                                                         {"vm", s->id}});
    EXPECT_EQ(hang.status, 201) << hang.body.dump();
    json body = default_params(running, s->id);
    body["action"] = lc::action_name(running);
    const ApiResult r = api.post("/v1/vms/" + std::to_string(s->id) + "/actions", body);
    EXPECT_EQ(r.status, 202) << r.body.dump();
    if (r.status != 202) return std::nullopt;
    Result<lc::Step> begun = lc::begin(s->mirror, {running});
    if (!begun) return std::nullopt;
    s->mirror = begun->record;
  }
  const json vm = api.get("/v1/vms/" + std::to_string(s->id)).body;
  if (vm["operation"]["action"] != lc::action_name(running) ||
      vm["operation"]["phase"] != lc::phase_name(phase) || vm["operation"]["status"] != "running") {
    ADD_FAILURE() << "not hung in " << lc::action_name(running) << ": " << vm.dump();
    return std::nullopt;
  }
  if (lc::allowed_row(s->mirror, t.action) != &t) {
    ADD_FAILURE() << lc::action_name(t.action) << " during " << lc::action_name(running)
                  << " is not the pre-empting row";
    return std::nullopt;
  }
  return s;
}

TEST(CrashPhases, TheServerDiesInEveryPhaseOfEveryRowFromEveryOriginAndFinishesAfterRestart) {
  const auto began = std::chrono::steady_clock::now();
  ServerProcess server({"--sim-profile", "zero", "--no-schedule", "--sim-hosts", "64"});
  ASSERT_TRUE(server.start()) << server.log();
  const std::set<FaultPoint> want = crash_points_from_table();
  std::set<FaultPoint> covered;
  int stuck = 0;  // still busy after the restart
  int lost = 0;   // the acknowledged request not run exactly once
  std::size_t replayed = 0;
  int attempts = 0;
  for (const FaultPoint& p : want) {
    const lc::Transition& t = p.transition();
    SCOPED_TRACE(p.describe() + ", crash");
    const std::string request_id = "crash-" + std::to_string(attempts++);
    Api api(server);
    api.del("/v1/admin/faults");  // none left over from a point that went wrong
    std::optional<Subject> subject = ready_for(api, p);
    if (!subject) continue;
    lc::VmRecord expected = subject->mirror;
    if (subject->id != 0) {
      mirror_run(expected, t.action);
    } else {
      for (int i = 0; expected.busy() && i < 10; ++i) {
        expected = lc::phase_succeeded(expected).record;
      }
    }
    json fault = {{"kind", "crash"},
                  {"action", lc::action_name(t.action)},
                  {"phase", lc::phase_name(p.phase())},
                  {"times", 1}};
    if (subject->id != 0) fault["vm"] = subject->id;
    const ApiResult armed = api.post("/v1/admin/faults", fault);
    ASSERT_EQ(armed.status, 201) << armed.body.dump();
    // The request is acknowledged before any phase runs; the reply itself may be lost when
    // the crash comes first, so the request id (and a create's name) is what is searched for.
    const std::string name = "vm-" + request_id;
    {
      std::unique_ptr<httplib::Client> http = server.client();
      http->set_read_timeout(2, 0);
      json body;
      std::string path;
      if (subject->id == 0) {
        path = "/v1/vms";
        body = {{"name", name}, {"image", "tiny"}, {"vcpus", 1}, {"memory_mib", 128}};
      } else {
        path = "/v1/vms/" + std::to_string(subject->id) + "/actions";
        body = default_params(t.action, subject->id);
        body["action"] = lc::action_name(t.action);
      }
      auto reply =
          http->Post(path, {{"X-Request-Id", request_id}}, body.dump(), "application/json");
      if (reply) {
        EXPECT_EQ(reply->status, 202) << reply->body;
      }
    }
    if (!server.wait_exit(10s)) {
      ADD_FAILURE() << "the crash fault never fired";
      continue;
    }
    ASSERT_TRUE(server.start()) << server.log();
    covered.insert(p);

    Api after(server);
    if (subject->id == 0) {
      const json found = after.get("/v1/vms?name=" + name).body["vms"];
      if (found.size() != 1) {
        ++lost;
        ADD_FAILURE() << "the acknowledged create is not there once: " << found.dump();
        continue;
      }
      subject->id = found[0]["id"].get<std::int64_t>();
    }
    const json done = after.wait_idle(subject->id);
    if (done.is_null()) {
      ++stuck;
      continue;
    }
    EXPECT_EQ(done["state"], lc::state_name(expected.state));
    EXPECT_EQ(done["operation"]["action"], lc::action_name(t.action));
    EXPECT_EQ(done["operation"]["status"], "succeeded");
    EXPECT_EQ(done["operation"]["request_id"], request_id);
    // The VM's volumes say the truth after the restart: never left half-way.
    for (const std::string& v : {attached_volume(subject->id), free_volume(subject->id)}) {
      const std::string status = volume_status(after, v);
      EXPECT_TRUE(status == "absent" || status == "available" || status == "in-use")
          << v << " is " << status;
    }
    if (t.action == Action::kDiskAttach) {
      EXPECT_EQ(volume_status(after, free_volume(subject->id)), "in-use");
    }
    if (t.action == Action::kDiskDetach) {
      EXPECT_EQ(volume_status(after, attached_volume(subject->id)), "available");
    }

    const json history = full_history(after, subject->id);
    int started = 0;
    bool redispatched = false;
    for (const json& e : history) {
      if (e["request_id"] == request_id) ++started;
      if (e["phase"] == lc::phase_name(p.phase()) && e["reason"].is_string() &&
          e["reason"].get<std::string>().starts_with("re-dispatched after a restart")) {
        redispatched = true;
      }
    }
    if (started != 1) ++lost;
    EXPECT_EQ(started, 1) << "the request ran once: " << history.dump();
    EXPECT_TRUE(redispatched) << history.dump();
    replayed += expect_history_replays(after, subject->id);
    after.del("/v1/vms/" + std::to_string(subject->id) + "?hard=true");
  }
  // Exactly the table's points: a missing row, origin or phase is a failure.
  EXPECT_TRUE(covered == want) << covered.size() << " of the table's " << want.size()
                               << " crash points made";
  for (const FaultPoint& p : want) {
    if (!covered.contains(p)) ADD_FAILURE() << "no crash in " << p.describe();
  }
  EXPECT_EQ(lost, 0);
  EXPECT_EQ(stuck, 0);
  std::set<std::pair<std::size_t, std::uint8_t>> row_phases;
  for (const FaultPoint& p : covered) row_phases.insert({p.row, p.step});
  std::printf(
      "crash phases: %zu server crashes at (row, origin, phase) points over %zu (row, phase) "
      "pairs; %d lost, %d stuck; %zu history entries replayed through the model; %.1f s\n",
      covered.size(), row_phases.size(), lost, stuck, replayed,
      std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count());
}

// The undo phases too (table.h Transition::undo): for every row that has them, every origin it
// allows and every undo phase, the row's first phase a source runs fails (so the undo starts)
// and the server is SIGKILLed in that undo phase. Restarted, it finishes the undo: the VM is
// back at its origin with the operation failed, once, its history replaying through the model.
TEST(CrashPhases, TheServerDiesInEveryUndoPhaseAndTheUndoFinishesAfterRestart) {
  ServerProcess server({"--sim-profile", "zero", "--no-schedule", "--sim-hosts", "8"});
  ASSERT_TRUE(server.start()) << server.log();
  int points = 0;
  int attempts = 0;
  for (const lc::Transition& t : lc::transitions()) {
    if (t.undo_count == 0 || !lc::request_runs_phases(t)) continue;
    // The forward phase that fails: the first one on the source (the send).
    std::optional<Phase> failing;
    for (const lc::PhaseStep& step : t.phases()) {
      if (step.runs_on == lc::RunsOn::kSource && !failing) failing = step.phase;
    }
    ASSERT_TRUE(failing.has_value());
    for (State origin : lc::kAllStates) {
      if (!t.from.contains(origin) || lc::find_idle(t.action, origin) != &t) continue;
      for (const lc::PhaseStep& undo : t.undo()) {
        SCOPED_TRACE(std::string(lc::action_name(t.action)) + " from " +
                     std::string(lc::state_name(origin)) + ", undo " +
                     std::string(lc::phase_name(undo.phase)));
        Api api(server);
        api.del("/v1/admin/faults");
        std::optional<Subject> subject = bring_to(api, origin);
        ASSERT_TRUE(subject.has_value());
        const std::string request_id = "undo-crash-" + std::to_string(attempts++);
        for (const json& fault : {json{{"kind", "fail"},
                                       {"action", lc::action_name(t.action)},
                                       {"phase", lc::phase_name(*failing)},
                                       {"vm", subject->id}},
                                  json{{"kind", "crash"},
                                       {"action", lc::action_name(t.action)},
                                       {"phase", lc::phase_name(undo.phase)},
                                       {"vm", subject->id}}}) {
          const ApiResult armed = api.post("/v1/admin/faults", fault);
          ASSERT_EQ(armed.status, 201) << armed.body.dump();
        }
        {
          std::unique_ptr<httplib::Client> http = server.client();
          http->set_read_timeout(2, 0);
          json body = default_params(t.action, subject->id);
          body["action"] = lc::action_name(t.action);
          auto reply = http->Post("/v1/vms/" + std::to_string(subject->id) + "/actions",
                                  {{"X-Request-Id", request_id}}, body.dump(), "application/json");
          if (reply) EXPECT_EQ(reply->status, 202) << reply->body;
        }
        ASSERT_TRUE(server.wait_exit(10s)) << "the crash fault never fired";
        ASSERT_TRUE(server.start()) << server.log();
        ++points;
        Api after(server);
        const json done = after.wait_idle(subject->id);
        ASSERT_FALSE(done.is_null()) << "stuck after the restart";
        EXPECT_EQ(done["state"], lc::state_name(origin));
        EXPECT_EQ(done["operation"]["action"], lc::action_name(t.action));
        EXPECT_EQ(done["operation"]["status"], "failed");
        EXPECT_EQ(done["operation"]["request_id"], request_id);
        const json history = full_history(after, subject->id);
        bool redispatched = false;
        for (const json& e : history) {
          if (e["phase"] == lc::phase_name(undo.phase) && e["reason"].is_string() &&
              e["reason"].get<std::string>().starts_with("re-dispatched after a restart")) {
            redispatched = true;
          }
        }
        EXPECT_TRUE(redispatched) << history.dump();
        expect_history_replays(after, subject->id);
        after.del("/v1/vms/" + std::to_string(subject->id) + "?hard=true");
      }
    }
  }
  EXPECT_GT(points, 0) << "no row has undo phases";
  std::printf("crash in undo phases: %d server crashes\n", points);
}

}  // namespace
}  // namespace corral::testing
