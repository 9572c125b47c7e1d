// The OpenStack API (issue 15) driven by the real clients: Debian's `openstack` command
// (python3-openstackclient) and openstacksdk, against a real `corral server` (the sim driver),
// as a Nova user types them. Every state a client prints is checked against Corral's own Nova
// view (GET /v1/vms/{id}?views=nova), and a wrong-state action's refusal is Nova's.
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "support/api_call.h"
#include "support/server_process.h"

namespace corral::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

using Ran = ProgramResult;

class OpenStackClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new ServerProcess(
        {"--sim-profile", "zero", "--sim-hosts", "2", "--sim-images", "tiny,cirros"});
    ASSERT_TRUE(server_->start()) << server_->log();
    const std::string admin = server_->admin_token();
    ASSERT_EQ(api_call(server_->url(), admin, "POST", "/v1/projects", {{"name", "demo"}}).status,
              201);
    const ApiReply user = api_call(
        server_->url(), admin, "POST", "/v1/users",
        {{"name", "demo"}, {"password", "password-demo"}, {"project", "demo"}, {"role", "member"}});
    ASSERT_EQ(user.status, 201) << user.body.dump();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  // `openstack ARGS...` as the user demo of the project demo (OS_* as in the README).
  static Ran openstack(std::vector<std::string> args) {
    args.insert(args.begin(), "openstack");
    return run_program(args,
                       {{"OS_AUTH_URL", server_->url() + "/identity/v3"},
                        {"OS_IDENTITY_API_VERSION", "3"},
                        {"OS_USERNAME", "demo"},
                        {"OS_PASSWORD", "password-demo"},
                        {"OS_PROJECT_NAME", "demo"},
                        {"OS_USER_DOMAIN_NAME", "Default"},
                        {"OS_PROJECT_DOMAIN_NAME", "Default"},
                        {"OS_REGION_NAME", "RegionOne"}},
                       120s);
  }
  static json openstack_json(std::vector<std::string> args) {
    args.insert(args.end(), {"-f", "json"});
    const Ran ran = openstack(args);
    EXPECT_EQ(ran.exit_code, 0) << ran.out << ran.err;
    const json parsed = json::parse(ran.out, nullptr, false);
    EXPECT_FALSE(parsed.is_discarded()) << ran.out << ran.err;
    return parsed.is_discarded() ? json() : parsed;
  }
  // Corral's own Nova view of VM `id`, once no task runs on it.
  static json settled_view(const std::string& id) {
    json view;
    for (int i = 0; i < 500; ++i) {
      const ApiReply r =
          api_call(server_->url(), server_->admin_token(), "GET", "/v1/vms/" + id + "?views=nova");
      view = r.body["views"]["nova"];
      if (view["task_state"].is_null()) break;
      std::this_thread::sleep_for(20ms);
    }
    return view;
  }
  // `openstack server show` agrees with Corral's view and shows `status`.
  static void expect_status(const std::string& id, const std::string& status,
                            const std::string& step) {
    const json view = settled_view(id);
    EXPECT_EQ(view["status"], status) << step << ": " << view.dump();
    const json shown = openstack_json({"server", "show", id});
    EXPECT_EQ(shown["status"], view["status"]) << step << ": " << shown.dump();
    EXPECT_EQ(shown["OS-EXT-STS:vm_state"], view["vm_state"]) << step << ": " << shown.dump();
  }

  static ServerProcess* server_;
};

ServerProcess* OpenStackClientTest::server_ = nullptr;

TEST_F(OpenStackClientTest, TheOpenstackCommandDrivesAServerThroughItsLife) {
  bool nano = false;
  for (const json& f : openstack_json({"flavor", "list"})) nano = nano || f["Name"] == "m1.nano";
  EXPECT_TRUE(nano);
  bool tiny = false;
  for (const json& i : openstack_json({"image", "list"})) tiny = tiny || i["Name"] == "tiny";
  EXPECT_TRUE(tiny);

  const json made = openstack_json(
      {"server", "create", "--image", "tiny", "--flavor", "m1.nano", "--wait", "c1"});
  ASSERT_EQ(made["status"], "ACTIVE") << made.dump();
  const std::string id = made["id"].get<std::string>();
  EXPECT_EQ(made["OS-EXT-STS:vm_state"], "active");
  bool listed = false;
  for (const json& s : openstack_json({"server", "list"})) {
    listed = listed || (s["Name"] == "c1" && s["Status"] == "ACTIVE");
  }
  EXPECT_TRUE(listed);

  const std::vector<std::pair<std::vector<std::string>, std::string>> steps = {
      {{"server", "stop", "c1"}, "SHUTOFF"},
      {{"server", "start", "c1"}, "ACTIVE"},
      {{"server", "reboot", "--hard", "c1"}, "ACTIVE"},
      {{"server", "pause", "c1"}, "PAUSED"},
      {{"server", "unpause", "c1"}, "ACTIVE"},
      {{"server", "suspend", "c1"}, "SUSPENDED"},
      {{"server", "resume", "c1"}, "ACTIVE"},
      {{"server", "shelve", "c1"}, "SHELVED_OFFLOADED"},
      {{"server", "unshelve", "c1"}, "ACTIVE"},
      {{"server", "rescue", "c1"}, "RESCUE"},
      {{"server", "unrescue", "c1"}, "ACTIVE"},
      {{"server", "resize", "--flavor", "m1.micro", "c1"}, "VERIFY_RESIZE"},
      {{"server", "resize", "confirm", "c1"}, "ACTIVE"},
  };
  for (const auto& [args, status] : steps) {
    const Ran ran = openstack(args);
    EXPECT_EQ(ran.exit_code, 0) << args[1] << ": " << ran.out << ran.err;
    expect_status(id, status, args[1] + " " + args[2]);
  }
  EXPECT_EQ(openstack_json({"server", "show", "c1"})["flavor"], "m1.micro (84)");

  // Nova's instance actions, from the audit log: every accepted request on the server.
  std::set<std::string> actions;
  for (const json& a : openstack_json({"server", "event", "list", "c1"})) {
    actions.insert(a["Action"].get<std::string>());
  }
  for (const char* a : {"create", "stop", "start", "reboot", "pause", "shelve", "unshelve",
                        "resize", "confirmResize"}) {
    EXPECT_TRUE(actions.contains(a)) << a;
  }
  // The project's usage (os-simple-tenant-usage) and quotas (os-quota-sets).
  const json usage = openstack_json({"usage", "show"});
  ASSERT_TRUE(usage["Servers"].is_array()) << usage.dump();
  EXPECT_EQ(usage["Servers"].size(), 1U) << usage.dump();
  EXPECT_GT(usage["CPU Hours"].get<double>(), 0) << usage.dump();
  const json quota = openstack_json({"quota", "show"});
  EXPECT_EQ(quota["instances"], 10) << quota.dump();
  EXPECT_EQ(quota["cores"], 20) << quota.dump();

  // A wrong state: Nova's 409 and sentence, printed by the client, exit 1, nothing changed.
  ASSERT_EQ(openstack({"server", "stop", "c1"}).exit_code, 0);
  expect_status(id, "SHUTOFF", "stop");
  const Ran refused = openstack({"server", "pause", "c1"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("Cannot 'pause' instance " + id + " while it is in vm_state stopped"),
            std::string::npos)
      << refused.out << refused.err;
  expect_status(id, "SHUTOFF", "refused pause");

  const Ran deleted = openstack({"server", "delete", "--wait", "c1"});
  EXPECT_EQ(deleted.exit_code, 0) << deleted.out << deleted.err;
  const Ran gone = openstack({"server", "show", id});
  EXPECT_EQ(gone.exit_code, 1) << gone.out << gone.err;
  for (const json& s : openstack_json({"server", "list"})) EXPECT_NE(s["ID"], id);
}

TEST_F(OpenStackClientTest, OpenstackSdkDrivesAServerThroughItsLife) {
  const Ran ran =
      run_program({"/usr/bin/python3", std::string(CORRAL_TESTS_DIR) + "/openstack_sdk_check.py",
                   server_->url()},
                  {}, 120s);
  EXPECT_EQ(ran.exit_code, 0) << ran.out << ran.err;
  for (const char* line : {"create ACTIVE active", "stop SHUTOFF stopped", "pause PAUSED paused",
                           "refused Cannot 'pause' instance", "suspend SUSPENDED suspended",
                           "resume ACTIVE active", "delete gone"}) {
    EXPECT_NE(ran.out.find(line), std::string::npos) << line << "\n" << ran.out << ran.err;
  }
}

}  // namespace
}  // namespace corral::testing
