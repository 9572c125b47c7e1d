// Host JSON and the host request bodies: what /v1/hosts shows, and what it refuses.
#include "api/host_json.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace corral::api {
namespace {

using nlohmann::json;

TEST(HostJsonTest, ShowsOpenNebulasStateAndNovasServiceView) {
  engine::HostDetail h;
  h.row.name = "h2";
  h.row.id = 3;
  h.row.state = lifecycle::HostState::kDisabled;
  h.row.enabled = false;
  h.row.disabled_reason = "maintenance";
  h.row.capacity = {8, 16384};
  h.row.reserved = {1, 1024};
  h.row.cpu_allocation_ratio = 4.0;
  h.row.labels = {{"zone", "a"}};
  h.up = true;
  h.connected = true;
  h.used_vcpus = 2;
  h.vms = {5, 6};
  h.allowed_actions = {lifecycle::HostEvent::kEnable, lifecycle::HostEvent::kFlush};
  const json j = host_json(h);
  EXPECT_EQ(j["state"], "DISABLED");
  EXPECT_EQ(j["state_id"], 4);
  EXPECT_EQ(j["nova"]["status"], "disabled");
  EXPECT_EQ(j["nova"]["disabled_reason"], "maintenance");
  EXPECT_EQ(j["nova"]["state"], "up");
  EXPECT_EQ(j["vcpus"], 8);
  EXPECT_EQ(j["capacity"]["memory_mib"], 16384);
  EXPECT_EQ(j["reserved"]["vcpus"], 1);
  EXPECT_EQ(j["used_vcpus"], 2);
  EXPECT_EQ(j["vms"], json::array({5, 6}));
  EXPECT_EQ(j["labels"]["zone"], "a");
  EXPECT_EQ(j["allowed_actions"], json::array({"enable", "flush"}));
  EXPECT_TRUE(j["last_heartbeat_ms"].is_null());
  ASSERT_TRUE(j.contains("firewall_error"));
  EXPECT_TRUE(j["firewall_error"].is_null());
  h.firewall_error = "br_netfilter is not loaded";
  EXPECT_EQ(host_json(h)["firewall_error"], "br_netfilter is not loaded");
}

TEST(HostJsonTest, ParsesAHostSpec) {
  const auto spec = parse_host_spec(json::parse(
      R"({"name":"h2","labels":{"zone":"a"},"reserved":{"vcpus":1,"memory_mib":-512},
          "cpu_allocation_ratio":8,"ram_allocation_ratio":1.5})"));
  ASSERT_TRUE(spec) << spec.error().message;
  EXPECT_EQ(spec->name, "h2");
  EXPECT_EQ(spec->labels.at("zone"), "a");
  EXPECT_EQ(spec->reserved.memory_mib, -512);
  EXPECT_EQ(spec->cpu_allocation_ratio, 8);
  EXPECT_EQ(spec->ram_allocation_ratio, 1.5);
}

TEST(HostJsonTest, RefusesBadHostSpecs) {
  const std::vector<std::string> bad = {
      R"([])",
      R"({})",
      R"({"name":7})",
      R"({"name":"h","color":"red"})",
      R"({"name":"h","labels":[]})",
      R"({"name":"h","labels":{"zone":1}})",
      R"({"name":"h","labels":{"a b":"x"}})",
      R"({"name":"h","reserved":{"vcpus":"1"}})",
      R"({"name":"h","reserved":{"disks":1}})",
      R"({"name":"h","cpu_allocation_ratio":0})",
      R"({"name":"h","cpu_allocation_ratio":-1})",
      R"({"name":"h","ram_allocation_ratio":"2"})",
  };
  for (const auto& text : bad) {
    const auto spec = parse_host_spec(json::parse(text));
    EXPECT_FALSE(spec) << text;
    if (!spec) {
      EXPECT_EQ(spec.error().code, ErrorCode::kInvalidArgument) << text;
    }
  }
}

TEST(HostJsonTest, ParsesActionsByCorralsNames) {
  struct Case {
    const char* action;
    lifecycle::HostEvent event;
  };
  for (const Case c : {Case{"enable", lifecycle::HostEvent::kEnable},
                       Case{"disable", lifecycle::HostEvent::kDisable},
                       Case{"offline", lifecycle::HostEvent::kOffline},
                       Case{"flush", lifecycle::HostEvent::kFlush},
                       Case{"force_down", lifecycle::HostEvent::kForceDown},
                       Case{"force-down", lifecycle::HostEvent::kForceDown},
                       Case{"unforce_down", lifecycle::HostEvent::kUnforceDown}}) {
    const auto r = parse_host_action("h", json{{"action", c.action}, {"reason", "x"}});
    ASSERT_TRUE(r) << c.action;
    EXPECT_EQ(r->event, c.event);
    EXPECT_EQ(r->reason, "x");
  }
  for (const char* bad : {"delete", "heartbeat", "agent_connected", "reboot", ""}) {
    const auto r = parse_host_action("h", json{{"action", bad}});
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kUnknownAction);
  }
  EXPECT_FALSE(parse_host_action("h", json{{"action", "enable"}, {"why", "x"}}));
  EXPECT_FALSE(parse_host_action("h", json{{"action", 1}}));
}

TEST(HostJsonTest, HostChangesReadInOpenNebulasNames) {
  engine::HostChange c;
  c.host = "h2";
  c.event = lifecycle::HostEvent::kHeartbeatsMissed;
  c.from = lifecycle::HostState::kMonitored;
  c.to = lifecycle::HostState::kError;
  c.actor = "monitor";
  const json j = host_change_json(c);
  EXPECT_EQ(j["from"], "MONITORED");
  EXPECT_EQ(j["to"], "ERROR");
  EXPECT_EQ(j["event"], "heartbeats_missed");
}

}  // namespace
}  // namespace corral::api
