// A VM's lock over HTTP and the CLI against a real `corral server`: the admin locks it with
// `corral vm lock`, a member of its project is refused its actions (409 locked, naming who and
// why) and the unlock (403), the admin unlocks it with `corral vm unlock`, and the member's
// action goes through.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "support/api_call.h"
#include "support/recipes.h"
#include "support/server_process.h"

namespace corral::testing {
namespace {

using nlohmann::json;

TEST(ApiLockTest, TheAdminsLockStopsAMemberUntilTheAdminLiftsIt) {
  ServerProcess server({"--sim-hosts", "1"});
  ASSERT_TRUE(server.start()) << server.log();
  Api api(server);
  ASSERT_EQ(api.post("/v1/projects", {{"name", "lab"}}).status, 201);
  ASSERT_EQ(api.post("/v1/users", {{"name", "ann"},
                                   {"password", "password-ann"},
                                   {"project", "lab"},
                                   {"role", "member"}})
                .status,
            201);
  const ApiReply login = api_call(server.url(), "", "POST", "/v1/auth/tokens",
                                  {{"user", "ann"}, {"password", "password-ann"}});
  ASSERT_EQ(login.status, 201) << login.text;
  const std::string ann = login.body.value("token", "");
  const ApiReply made =
      api_call(server.url(), ann, "POST", "/v1/vms",
               {{"name", "w"}, {"image", "tiny"}, {"vcpus", 1}, {"memory_mib", 128}});
  ASSERT_EQ(made.status, 202) << made.text;
  const std::string id = std::to_string(made.body["vm"]["id"].get<std::int64_t>());
  ASSERT_EQ(api.wait_idle(std::stoll(id))["state"], "RUNNING");

  const CliResult locked = run_cli({"vm", "lock", id, "--reason", "kernel upgrade"}, server.url());
  ASSERT_EQ(locked.exit_code, 0) << locked.out;
  EXPECT_NE(locked.out.find("kernel upgrade"), std::string::npos) << locked.out;
  EXPECT_EQ(api.get("/v1/vms/" + id).body["lock"],
            json::parse(R"({"by": "admin", "reason": "kernel upgrade"})"));

  const ApiReply refused =
      api_call(server.url(), ann, "POST", "/v1/vms/" + id + "/actions", {{"action", "shutdown"}});
  EXPECT_EQ(refused.status, 409) << refused.text;
  EXPECT_EQ(refused.body["error"]["code"], "locked") << refused.text;
  EXPECT_EQ(refused.body["error"]["message"],
            "VM " + id + " is locked by the cloud's admin (kernel upgrade)");
  EXPECT_EQ(api_call(server.url(), ann, "DELETE", "/v1/vms/" + id).status, 409);
  EXPECT_EQ(api_call(server.url(), ann, "DELETE", "/v1/vms/" + id + "/lock").status, 403);
  EXPECT_EQ(api.get("/v1/vms/" + id).body["state"], "RUNNING");

  const CliResult unlocked = run_cli({"vm", "unlock", id}, server.url());
  ASSERT_EQ(unlocked.exit_code, 0) << unlocked.out;
  EXPECT_TRUE(api.get("/v1/vms/" + id).body["lock"].is_null());
  EXPECT_EQ(
      api_call(server.url(), ann, "POST", "/v1/vms/" + id + "/actions", {{"action", "shutdown"}})
          .status,
      202);
  EXPECT_EQ(api.wait_idle(std::stoll(id))["state"], "POWEROFF");
  // A lock's body is optional or {"reason"}; anything else is 400 and changes nothing.
  EXPECT_EQ(api.put("/v1/vms/" + id + "/lock", {{"why", "x"}}).status, 400);
  EXPECT_TRUE(api.get("/v1/vms/" + id).body["lock"].is_null());
}

}  // namespace
}  // namespace corral::testing
