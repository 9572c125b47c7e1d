// Images, consoles and fault injection of a VM on an agent host are asked of that host's agent
// (`corral agent --driver sim`, a real process) over its stream, not answered by the
// controller's own driver: the agent's answers name its host ("on host h2: ..."), which the
// controller's local sim never does. The sim's VMs have no serial console, so the agent's
// answer is its driver's 409; the bytes path (a driver with a console) is covered by
// src/controller/agent_consoles_test.cc and src/agent/console_test.cc.
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "support/cluster.h"

namespace corral::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

std::string message_of(const ApiResult& r) {
  return r.body.contains("error") ? r.body["error"].value("message", std::string()) : r.body.dump();
}

TEST(AgentServicesTest, ConsoleImagesAndFaultsOfAnAgentHostGoToItsAgent) {
  Cluster cluster;
  ASSERT_TRUE(cluster.start());
  auto h2 = cluster.join("h2");
  auto& api = cluster.api();
  const std::int64_t id = cluster.create("on-agent");
  ASSERT_TRUE(cluster.wait_vm(id, "RUNNING")) << cluster.vm(id).dump();
  ASSERT_EQ(cluster.host_of(id), "h2");
  const std::string vm = "/v1/vms/" + std::to_string(id);

  // Console: each request travels to the agent and back with its answer.
  struct Case {
    std::string what;
    ApiResult reply;
  };
  const Case cases[] = {
      {"log", api.get(vm + "/console/log?bytes=1024")},
      {"stream", api.get(vm + "/console")},
      {"input", api.post(vm + "/console", {{"input", "root\n"}})},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    EXPECT_EQ(c.reply.status, 409) << c.reply.body.dump();
    EXPECT_EQ(message_of(c.reply), "on host h2: the sim driver's VMs have no serial console");
  }

  // Images: the default listing is this server's driver's, as before; ?host= the agent's.
  const ApiResult local = api.get("/v1/images");
  ASSERT_EQ(local.status, 200) << local.body.dump();
  EXPECT_EQ(local.body.value("driver", std::string()), "sim");
  EXPECT_FALSE(local.body.contains("host")) << local.body.dump();
  const ApiResult remote = api.get("/v1/images?host=h2");
  ASSERT_EQ(remote.status, 200) << remote.body.dump();
  EXPECT_EQ(remote.body.value("host", std::string()), "h2");
  EXPECT_EQ(remote.body.value("driver", std::string()), "sim");
  EXPECT_TRUE(remote.body.value("connected", false));
  EXPECT_TRUE(remote.body["images"].empty());  // the sim takes any image name
  EXPECT_EQ(api.get("/v1/images?host=nowhere").status, 404);

  // The sim of an agent host runs inside the agent: an external event is forwarded to it, and
  // the VM's power comes back from it (this server's own sim does not have the VM).
  const ApiResult paused =
      api.post("/v1/admin/vms/" + std::to_string(id) + "/external", {{"event", "paused"}});
  EXPECT_EQ(paused.status, 202) << paused.body.dump();
  // (The drift policy, opennebula, records the observed power and keeps the state.)
  EXPECT_TRUE(
      eventually([&] { return cluster.vm(id).value("power", std::string()) == "paused"; }, 20s))
      << cluster.vm(id).dump();
  // Faults are not forwarded: this server's sim would never match one of h2's phases.
  const ApiResult kept = api.post("/v1/admin/faults", {{"kind", "fail"}, {"vm", id}});
  EXPECT_EQ(kept.status, 409) << kept.body.dump();  // this server's sim would never match it
  EXPECT_NE(message_of(kept).find("agent host h2"), std::string::npos) << kept.body.dump();
  EXPECT_EQ(api.get("/v1/admin/faults").body["faults"].size(), 0U);

  // The agent goes away: its console is a clear 503 at once, its images are the last known.
  ASSERT_EQ(h2->stop(), 0) << h2->log();
  ASSERT_TRUE(eventually([&] { return !cluster.host("h2").value("connected", true); }, 20s));
  const auto started = std::chrono::steady_clock::now();
  const ApiResult away = api.get(vm + "/console/log");
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);  // not the agent timeout
  EXPECT_EQ(away.status, 503) << away.body.dump();
  EXPECT_NE(message_of(away).find("host h2 is not connected"), std::string::npos)
      << away.body.dump();
  const ApiResult known = api.get("/v1/images?host=h2");
  ASSERT_EQ(known.status, 200) << known.body.dump();
  EXPECT_FALSE(known.body.value("connected", true));
}

}  // namespace
}  // namespace corral::testing
