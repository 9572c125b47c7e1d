// Every verb of every vocabulary, through the HTTP API of a real `corral server`: each verb
// from a state where its system allows it, idle and (for verbs that pre-empt) while another
// operation runs. The lifecycle library, walking the same path, predicts the outcome; the
// server's views must equal the library's views of the server's own record.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "lifecycle/export.h"
#include "lifecycle/table.h"
#include "lifecycle/vocabulary.h"
#include "support/recipes.h"
#include "support/verb_cases.h"

namespace corral::testing {
namespace {

namespace lc = corral::lifecycle;
using lc::Action;
using lc::State;

// One server for the suite: zero-latency sim, no scheduler (tests deploy by hand).
class ApiVerbsTest : public SharedServerSuite {};

TEST_F(ApiVerbsTest, EveryVerbOfEveryVocabulary) {
  Api api(*server_);
  const std::vector<VerbCase> cases = all_cases();
  std::map<std::string, int> per_vocabulary;
  for (const VerbCase& c : cases) {
    SCOPED_TRACE(case_name(c));
    std::optional<Subject> s = bring_to(api, c.from);
    ASSERT_TRUE(s.has_value());
    if (c.during) {
      // Hang the first phase of the running action so the verb meets it in flight.
      const lc::Transition* row = lc::find_idle(*c.during, c.from);
      ASSERT_NE(row, nullptr);
      const ApiResult fault =
          api.post("/v1/admin/faults", {{"kind", "hang"},
                                        {"action", lc::action_name(*c.during)},
                                        {"phase", lc::phase_name(row->steps[0].phase)},
                                        {"vm", s->id}});
      ASSERT_EQ(fault.status, 201) << fault.body.dump();
      const ApiResult started = api.post("/v1/vms/" + std::to_string(s->id) + "/actions",
                                         {{"action", lc::action_name(*c.during)}});
      ASSERT_EQ(started.status, 202) << started.body.dump();
      s->mirror = lc::begin(s->mirror, {*c.during})->record;
    }
    const Result<Action> action = lc::resolve(s->mirror, c.vocabulary, c.verb, c.variant);
    ASSERT_TRUE(action.has_value()) << action.error().message;
    const nlohmann::json body = case_body(c, *action, s->id);
    const ApiResult r = api.post("/v1/vms/" + std::to_string(s->id) + "/actions", body);
    ASSERT_EQ(r.status, 202) << body.dump() << " -> " << r.body.dump();
    EXPECT_TRUE(r.body.contains("operation")) << r.body.dump();
    mirror_run(s->mirror, *action);
    const nlohmann::json vm = api.wait_idle(s->id);
    ASSERT_FALSE(vm.is_null());
    EXPECT_EQ(vm["state"], lc::state_name(s->mirror.state)) << vm.dump();
    // The server's views are the library's views of the server's record.
    const lc::VmRecord record = record_from_json(vm);
    EXPECT_EQ(comparable_views(vm["views"]), comparable_views(lc::views_json(record))) << vm.dump();
    ++per_vocabulary[std::string(lc::vocabulary_name(c.vocabulary))];
  }
  // Every vocabulary was exercised, the canonical one for every user action.
  EXPECT_GE(per_vocabulary["corral"], 50);
  EXPECT_GE(per_vocabulary["opennebula"], 30);
  EXPECT_GE(per_vocabulary["nova"], 24);
  EXPECT_GE(per_vocabulary["azure"], 5);
  EXPECT_GE(per_vocabulary["stratuslab"], 1);
}

TEST_F(ApiVerbsTest, AVerbItsSystemRefusesIsA409InItsWords) {
  Api api(*server_);
  std::optional<Subject> s = bring_to(api, State::kPoweroff);
  ASSERT_TRUE(s.has_value());
  const ApiResult r = api.post("/v1/vms/" + std::to_string(s->id) + "/actions",
                               {{"action", "pause"}, {"vocabulary", "nova"}});
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.body["error"]["code"], "invalid_state");
  EXPECT_EQ(r.body["error"]["state"], "stopped");
  const auto allowed = r.body["error"]["allowed_actions"].get<std::vector<std::string>>();
  EXPECT_NE(std::find(allowed.begin(), allowed.end(), "start"), allowed.end());
  // Nothing changed.
  EXPECT_EQ(api.get("/v1/vms/" + std::to_string(s->id)).body["state"], "POWEROFF");
}

// The driver names snapshots after their `name` (a directory, a qcow2 tag): one it cannot
// use is refused at the API, before any operation exists — not accepted and failed later.
TEST_F(ApiVerbsTest, ASnapshotNameNoDriverCanUseIsA400AndChangesNothing) {
  Api api(*server_);
  std::optional<Subject> s = bring_to(api, State::kRunning);
  ASSERT_TRUE(s.has_value());
  const std::string path = "/v1/vms/" + std::to_string(s->id);
  const ApiResult before = api.get(path);
  ASSERT_EQ(before.status, 200);
  const std::size_t history = full_history(api, s->id).size();
  for (const char* action : {"disk_snapshot", "snapshot", "checkpoint", "backup"}) {
    SCOPED_TRACE(action);
    const ApiResult r = api.post(path + "/actions", {{"action", action}, {"name", "My disk"}});
    EXPECT_EQ(r.status, 400) << r.body.dump();
    EXPECT_EQ(r.body["error"]["code"], "invalid_argument");
  }
  const ApiResult after = api.get(path);
  EXPECT_EQ(after.body["state"], "RUNNING");
  EXPECT_EQ(after.body["operation"], before.body["operation"]);
  EXPECT_EQ(after.body["updated_at"], before.body["updated_at"]);
  EXPECT_EQ(full_history(api, s->id).size(), history);
}

}  // namespace
}  // namespace corral::testing
