#include "lifecycle/export.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "lifecycle/table.h"

namespace corral::lifecycle {
namespace {

TEST(ExportTest, JsonHasTheWholeModel) {
  const nlohmann::json j = model_json();
  EXPECT_EQ(j["states"].size(), static_cast<std::size_t>(kStateCount));
  EXPECT_EQ(j["actions"].size(), static_cast<std::size_t>(kActionCount - 1));
  EXPECT_EQ(j["phases"].size(), static_cast<std::size_t>(kPhaseCount));
  EXPECT_EQ(j["transitions"].size(), transitions().size());
  for (Vocabulary v : kAllVocabularies) {
    EXPECT_TRUE(j["vocabularies"].contains(std::string(vocabulary_name(v))));
  }
  EXPECT_EQ(j["vocabularies"]["opennebula"]["names"]["lcm_states"].size(), 68U);
  const nlohmann::json& running = j["states"][3];
  EXPECT_EQ(running["name"], "RUNNING");
  EXPECT_EQ(running["number"], 3);
  EXPECT_EQ(running["views"]["opennebula"]["lcm_state"], "RUNNING");
  EXPECT_EQ(running["views"]["opennebula"]["short"], "runn");
  EXPECT_EQ(running["views"]["nova"]["vm_state"], "active");
  EXPECT_EQ(running["views"]["nova"]["status"], "ACTIVE");
  EXPECT_EQ(running["views"]["azure"]["statuses"][1]["code"], "PowerState/running");
  EXPECT_EQ(running["views"]["azure"]["billing"], "hardware_and_software");
  EXPECT_EQ(running["views"]["stratuslab"]["state"], "Running");
}

TEST(ExportTest, ViewsJsonCarriesAzureTimeOnlyOnTerminalStatuses) {
  const nlohmann::json v = views_json(record_at_rest(State::kRunning), "2026-11-22T03:00:00Z");
  EXPECT_EQ(v["azure"]["statuses"][0]["time"], "2026-11-22T03:00:00Z");
  EXPECT_FALSE(v["azure"]["statuses"][1].contains("time"));
  EXPECT_TRUE(v["nova"]["task_state"].is_null());
}

TEST(ExportTest, DotInEveryVocabulary) {
  struct Case {
    Vocabulary v;
    std::vector<const char*> must;
  };
  const Case cases[] = {
      {Vocabulary::kCorral,
       {"\"RUNNING\" -> \"POWEROFF\"", "shutdown", "\"FAILED\"", "terminate_hard -> DONE"}},
      {Vocabulary::kOpenNebula, {"\"RUNNING\" -> \"STOPPED\"", "stop", "poweroff", "UNDEPLOYED"}},
      {Vocabulary::kNova, {"\"active\" -> \"stopped\"", "stop", "shelved_offloaded"}},
      {Vocabulary::kAzure, {"\"VM running\" -> \"VM deallocated\"", "deallocate"}},
      {Vocabulary::kStratusLab, {"kill -> Done", "\"Pending\""}},
  };
  for (const Case& c : cases) {
    const std::string dot = to_dot(c.v);
    EXPECT_EQ(dot.rfind("digraph", 0), 0U);
    EXPECT_EQ(dot.back(), '\n');
    for (const char* s : c.must) {
      EXPECT_NE(dot.find(s), std::string::npos) << vocabulary_name(c.v) << " lacks " << s;
    }
  }
}

}  // namespace
}  // namespace corral::lifecycle
