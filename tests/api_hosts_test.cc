// Hosts over HTTP and the CLI against a real `corral server` (sim driver): the local hosts,
// adding one with a join token, operator actions with Nova's disabled_reason, refusals that
// change nothing, deletion, and host changes on /v1/events.
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "support/recipes.h"
#include "support/server_process.h"

namespace corral::testing {
namespace {

using nlohmann::json;

class ApiHostsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerProcess>(std::vector<std::string>{"--sim-hosts", "2"});
    ASSERT_TRUE(server_->start()) << server_->log();
    api_ = std::make_unique<Api>(*server_);
  }
  json hosts() { return api_->get("/v1/hosts").body["hosts"]; }

  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<Api> api_;
};

TEST_F(ApiHostsTest, LocalHostsAreMonitoredAndLocal) {
  const json list = hosts();
  ASSERT_EQ(list.size(), 2u) << list.dump();
  for (const json& h : list) {
    EXPECT_EQ(h["state"], "MONITORED");
    EXPECT_EQ(h["state_id"], 2);
    EXPECT_TRUE(h["local"].get<bool>());
    EXPECT_EQ(h["nova"]["status"], "enabled");
    EXPECT_EQ(h["nova"]["state"], "up");
  }
  EXPECT_EQ(api_->get("/v1/hosts/sim-1").body["name"], "sim-1");
  EXPECT_EQ(api_->get("/v1/hosts/nope").status, 404);
}

TEST_F(ApiHostsTest, AddGivesAOneTimeJoinTokenAndTheAgentCommand) {
  const auto r = api_->post("/v1/hosts", {{"name", "h2"}, {"labels", {{"zone", "a"}}}});
  ASSERT_EQ(r.status, 201) << r.body.dump();
  EXPECT_EQ(r.body["host"]["state"], "INIT");
  EXPECT_EQ(r.body["host"]["labels"]["zone"], "a");
  EXPECT_EQ(r.body["host"]["cpu_allocation_ratio"], 4.0);
  const std::string token = r.body["join_token"];
  EXPECT_EQ(token.rfind("cjt1:h2:", 0), 0u) << token;
  const std::string command = r.body["agent_command"];
  EXPECT_NE(command.find("--join " + token), std::string::npos) << command;
  EXPECT_NE(command.find("--controller 127.0.0.1:"), std::string::npos) << command;
  // Another token for the same host; a local host has none.
  const auto again = api_->post("/v1/hosts/h2/join-token", json::object());
  EXPECT_EQ(again.status, 200) << again.body.dump();
  EXPECT_NE(again.body["join_token"], token);
  EXPECT_EQ(api_->post("/v1/hosts/sim-1/join-token", json::object()).status, 409);
  EXPECT_EQ(api_->post("/v1/hosts", {{"name", "h2"}}).status, 409);
  EXPECT_EQ(hosts().size(), 3u);
}

TEST_F(ApiHostsTest, BadInputIsRefusedAndChangesNothing) {
  const json before = hosts();
  struct Case {
    const char* path;
    std::string body;
    int status;
  };
  const Case cases[] = {
      {"/v1/hosts", "{", 400},
      {"/v1/hosts", R"({"name":"Bad Name"})", 400},
      {"/v1/hosts", R"({"name":"h3","color":"red"})", 400},
      {"/v1/hosts", R"({"name":"h3","cpu_allocation_ratio":-2})", 400},
      {"/v1/hosts/sim-1/action", R"({"action":"reboot"})", 400},
      {"/v1/hosts/sim-1/action", R"({"action":"delete"})", 400},
      {"/v1/hosts/sim-1/action", R"({})", 400},
      {"/v1/hosts/nope/action", R"({"action":"disable"})", 404},
      {"/v1/hosts/sim-1/action", R"({"action":"enable"})", 409},
  };
  auto client = server_->client();
  for (const Case& c : cases) {
    const auto res = client->Post(c.path, c.body, "application/json");
    ASSERT_TRUE(res) << c.path;
    EXPECT_EQ(res->status, c.status) << c.path << " " << c.body << " -> " << res->body;
    const json body = json::parse(res->body, nullptr, false);
    EXPECT_TRUE(body.is_object() && body.contains("error")) << res->body;
  }
  const auto refused =
      client->Post("/v1/hosts/sim-1/action", R"({"action":"enable"})", "application/json");
  const json error = json::parse(refused->body)["error"];
  EXPECT_EQ(error["state"], "MONITORED") << error.dump();
  EXPECT_FALSE(error["allowed_actions"].empty()) << error.dump();
  EXPECT_EQ(hosts(), before);
}

TEST_F(ApiHostsTest, DisableWithAReasonShowsInNovasViewAndOnTheEventStream) {
  std::string events;
  std::thread reader([&] {
    auto client = server_->client();
    client->set_read_timeout(3, 0);
    client->Get("/v1/events", [&](const char* data, std::size_t n) {
      events.append(data, n);
      return events.find("event: host") == std::string::npos ||
             events.find("enable") == std::string::npos;
    });
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto r =
      api_->post("/v1/hosts/sim-2/action", {{"action", "disable"}, {"reason", "maintenance"}});
  ASSERT_EQ(r.status, 200) << r.body.dump();
  EXPECT_EQ(r.body["state"], "DISABLED");
  EXPECT_EQ(r.body["nova"]["status"], "disabled");
  EXPECT_EQ(r.body["nova"]["disabled_reason"], "maintenance");
  EXPECT_EQ(api_->post("/v1/hosts/sim-2/action", {{"action", "enable"}}).status, 200);
  reader.join();
  EXPECT_NE(events.find("event: host"), std::string::npos) << events;
  EXPECT_NE(events.find("\"to\":\"DISABLED\""), std::string::npos) << events;
}

TEST_F(ApiHostsTest, DeleteOnlyAnEmptyHostAndTheCliSaysSo) {
  ASSERT_EQ(api_->post("/v1/hosts", {{"name", "h2"}}).status, 201);
  auto cli = run_cli({"host", "disable", "h2", "--reason", "gone"}, server_->url());
  EXPECT_EQ(cli.exit_code, 0) << cli.out;
  EXPECT_NE(cli.out.find("DISABLED"), std::string::npos) << cli.out;
  cli = run_cli({"host", "list"}, server_->url());
  EXPECT_EQ(cli.exit_code, 0) << cli.out;
  EXPECT_NE(cli.out.find("h2"), std::string::npos) << cli.out;
  cli = run_cli({"host", "delete", "h2"}, server_->url());
  EXPECT_EQ(cli.exit_code, 0) << cli.out;
  EXPECT_EQ(api_->get("/v1/hosts/h2").status, 404);
  cli = run_cli({"host", "show", "h2"}, server_->url());
  EXPECT_EQ(cli.exit_code, 1) << cli.out;
  // A host with a VM stays.
  const auto vm =
      api_->post("/v1/vms", {{"name", "v"}, {"image", "tiny"}, {"vcpus", 1}, {"memory_mib", 128}});
  ASSERT_EQ(vm.status, 202) << vm.body.dump();
  const json placed = api_->wait_idle(vm.body["vm"]["id"].get<std::int64_t>());
  ASSERT_TRUE(placed["host"].is_string()) << placed.dump();
  const std::string host = placed["host"];
  EXPECT_EQ(api_->del("/v1/hosts/" + host).status, 409);
}

TEST_F(ApiHostsTest, VmViewsOnDemand) {
  Api api(*server_);
  const ApiResult created =
      api.post("/v1/vms", {{"name", "v-vm"}, {"image", "tiny"}, {"vcpus", 1}, {"memory_mib", 128}});
  ASSERT_EQ(created.status, 202) << created.body.dump();
  const std::string id = std::to_string(created.body["vm"]["id"].get<std::int64_t>());
  const json all = api.get("/v1/vms/" + id).body;
  EXPECT_EQ(all["views"].size(), 4u) << all.dump();
  const json nova = api.get("/v1/vms/" + id + "?views=nova").body;
  ASSERT_EQ(nova["views"].size(), 1u) << nova.dump();
  EXPECT_TRUE(nova["views"].contains("nova"));
  EXPECT_TRUE(api.get("/v1/vms/" + id + "?views=none").body["views"].empty());
  const json page = api.get("/v1/vms?views=azure,stratuslab").body;
  ASSERT_FALSE(page["vms"].empty()) << page.dump();
  EXPECT_EQ(page["vms"][0]["views"].size(), 2u);
  EXPECT_EQ(api.get("/v1/vms?views=ec2").status, 400);
  EXPECT_EQ(api.get("/v1/vms/" + id + "?views=bogus").status, 400);
}

}  // namespace
}  // namespace corral::testing
