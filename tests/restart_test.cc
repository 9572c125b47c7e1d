// Restarting the server changes nothing: every VM, operation and view survives a clean stop
// (SIGTERM) and a SIGKILL; operations in flight at a SIGKILL finish after the restart.
#include <gtest/gtest.h>

#include <thread>

#include "lifecycle/export.h"
#include "support/recipes.h"

namespace corral::testing {
namespace {

namespace lc = corral::lifecycle;
using lc::State;

nlohmann::json all_vms(Api& api) {
  nlohmann::json out = nlohmann::json::array();
  std::string marker = "0";
  for (;;) {
    const ApiResult r = api.get("/v1/vms?limit=1000&marker=" + marker);
    EXPECT_EQ(r.status, 200) << r.body.dump();
    if (r.status != 200) return out;
    for (const auto& vm : r.body["vms"]) out.push_back(vm);
    if (r.body["next_marker"].is_null()) return out;
    marker = std::to_string(r.body["next_marker"].get<long>());
  }
}

TEST(RestartTest, NothingChangesAcrossSigtermAndSigkill) {
  ServerProcess server({"--sim-profile", "zero", "--no-schedule"});
  ASSERT_TRUE(server.start()) << server.log();
  {
    Api api(server);
    for (State s : {State::kRunning, State::kPoweroff, State::kHold, State::kPending,
                    State::kSuspended, State::kDeallocated, State::kFailed, State::kUnknown}) {
      ASSERT_TRUE(bring_to(api, s).has_value()) << lc::state_name(s);
    }
  }
  nlohmann::json before;
  {
    Api api(server);
    before = all_vms(api);
  }
  ASSERT_EQ(before.size(), 8U);
  EXPECT_EQ(server.stop(), 0) << "a clean shutdown exits 0\n" << server.log();
  ASSERT_TRUE(server.start()) << server.log();
  {
    Api api(server);
    EXPECT_EQ(all_vms(api), before);
  }
  server.kill();
  ASSERT_TRUE(server.start()) << server.log();
  Api api(server);
  const nlohmann::json after = all_vms(api);
  EXPECT_EQ(after, before);
  for (const auto& vm : after) {
    EXPECT_EQ(comparable_views(vm["views"]), comparable_views(lc::views_json(record_from_json(vm))))
        << vm.dump();
  }
}

TEST(RestartTest, AnOperationInFlightAtSigkillFinishesAfterTheRestart) {
  ServerProcess server({"--sim-profile", "zero", "--no-schedule"});
  ASSERT_TRUE(server.start()) << server.log();
  std::int64_t id = 0;
  {
    Api api(server);
    std::optional<Subject> s = bring_to(api, State::kRunning);
    ASSERT_TRUE(s.has_value());
    id = s->id;
    // The driver never answers this suspend: it is in flight when the server dies.
    ASSERT_EQ(api.post("/v1/admin/faults",
                       {{"kind", "hang"}, {"action", "suspend"}, {"phase", "save"}, {"vm", id}})
                  .status,
              201);
    const ApiResult r =
        api.post("/v1/vms/" + std::to_string(id) + "/actions", {{"action", "suspend"}});
    ASSERT_EQ(r.status, 202) << r.body.dump();
    const nlohmann::json vm = api.get("/v1/vms/" + std::to_string(id)).body;
    EXPECT_EQ(vm["operation"]["status"], "running");
    EXPECT_EQ(vm["operation"]["phase"], "save");
  }
  server.kill();
  ASSERT_TRUE(server.start()) << server.log();  // faults lived in the dead process
  Api api(server);
  const nlohmann::json vm = api.wait_idle(id);
  EXPECT_EQ(vm["state"], "SUSPENDED") << vm.dump();
  EXPECT_EQ(vm["operation"]["status"], "succeeded");
  EXPECT_GE(vm["operation"]["attempt"].get<int>(), 1) << "re-dispatched under a new attempt";
  const ApiResult history = api.get("/v1/vms/" + std::to_string(id) + "/history");
  EXPECT_NE(history.body.dump().find("after a restart"), std::string::npos) << history.body.dump();
}

TEST(RestartTest, APortInUseOrAnUnusableDataDirIsAClearError) {
  ServerProcess first({"--sim-profile", "zero"});
  ASSERT_TRUE(first.start());
  const CliResult busy = run_cli({"server", "--listen", "127.0.0.1:" + std::to_string(first.port()),
                                  "--data-dir", first.data_dir() + "/other"},
                                 first.url());
  EXPECT_NE(busy.exit_code, 0);
  EXPECT_NE(busy.out.find(std::to_string(first.port())), std::string::npos) << busy.out;
  const CliResult bad_dir =
      run_cli({"server", "--listen", "127.0.0.1:" + std::to_string(free_port()), "--data-dir",
               "/proc/corral-cannot-be-here"},
              first.url());
  EXPECT_NE(bad_dir.exit_code, 0);
  EXPECT_NE(bad_dir.out.find("/proc/corral-cannot-be-here"), std::string::npos) << bad_dir.out;
}

}  // namespace
}  // namespace corral::testing
