#include "lifecycle/export.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "lifecycle/reachable.h"
#include "lifecycle/table.h"
#include "lifecycle/views.h"

namespace corral::lifecycle {
namespace {

// The intents' columns are exported with each row: where each phase runs, the row's power
// and effects (the suspend row names shut off, reference nova.md:13).
TEST(ExportTest, RowsCarryRunsOnPowerAfterAndEffects) {
  const nlohmann::json j = model_json();
  bool saw_suspend = false;
  bool saw_migrate = false;
  bool saw_live = false;
  for (const nlohmann::json& row : j["transitions"]) {
    ASSERT_TRUE(row.contains("effects") && row.contains("power_after")) << row.dump();
    for (const nlohmann::json& step : row["phases"]) ASSERT_TRUE(step.contains("runs_on"));
    if (row["action"] == "suspend") {
      saw_suspend = true;
      EXPECT_EQ(row["power_after"], "shutdown");
    }
    if (row["action"] == "migrate" && row["phases"].size() == 4) {
      saw_migrate = true;
      EXPECT_EQ(row["phases"][0]["runs_on"], "source");
      EXPECT_EQ(row["phases"][2]["runs_on"], "target");
      EXPECT_EQ(row["phases"][3]["runs_on"], "source");
      EXPECT_EQ(row["phases"][2]["removes_copy"], false);
      EXPECT_EQ(row["phases"][3]["removes_copy"], true);  // the source's copy goes last
      EXPECT_EQ(row["effects"], nlohmann::json::array({"moves_vm"}));
    }
    if (row["action"] == "live_migrate") {
      saw_live = true;
      EXPECT_EQ(row["undo"], nlohmann::json::parse(
                                 R"([{"phase":"cleanup","runs_on":"target","removes_copy":true},
                               {"phase":"abort_migrate","runs_on":"source","removes_copy":false}])"));
    } else if (row["action"] != "resize_migrate") {
      EXPECT_EQ(row["undo"], nlohmann::json::array()) << row.dump();
    }
    if (row["action"] == "terminate" && !row["phases"].empty()) {
      EXPECT_EQ(row["effects"], nlohmann::json::array({"deletes_files", "ends_vm"}));
    }
  }
  EXPECT_TRUE(saw_suspend);
  EXPECT_TRUE(saw_migrate);
  EXPECT_TRUE(saw_live);
}

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

// The values of `key` in a JSON array of strings (key empty) or of objects.
std::set<std::string> values(const nlohmann::json& list, const std::string& key = {}) {
  std::set<std::string> out;
  for (const nlohmann::json& item : list) {
    if (key.empty()) {
      out.insert(item.get<std::string>());
    } else if (item.contains(key) && item[key].is_string()) {
      out.insert(item[key].get<std::string>());
    }
  }
  return out;
}

// Every Azure status line in the export, as "code|level|displayStatus|timed".
std::set<std::string> azure_status_lines(const nlohmann::json& names) {
  std::set<std::string> out;
  for (const char* list : {"provisioning_states", "power_states"}) {
    for (const nlohmann::json& item : names[list]) {
      const nlohmann::json& s = item["status"];
      out.insert(s["code"].get<std::string>() + "|" + s["level"].get<std::string>() + "|" +
                 s["displayStatus"].get<std::string>() + "|" +
                 (s["timed"].get<bool>() ? "1" : "0"));
    }
  }
  return out;
}

void expect_in(const std::set<std::string>& exported, std::string_view value, const char* what,
               const VmRecord& record) {
  EXPECT_TRUE(exported.contains(std::string(value)))
      << what << " '" << value << "' is rendered for " << testing::describe(record)
      << " but missing from `corral states --format json`";
}

// Every value any view renders, for every record the model can reach (at rest and in every
// phase of every operation), appears in the export's names: a new view output cannot be
// left out of `corral states --format json`.
TEST(ExportTest, NamesCoverEveryOutputOfEveryView) {
  const nlohmann::json j = model_json();
  const nlohmann::json& voc = j["vocabularies"];
  const nlohmann::json& one = voc["opennebula"]["names"];
  const std::set<std::string> one_states = values(one["states"], "name");
  const std::set<std::string> lcm_states = values(one["lcm_states"], "name");
  std::set<std::string> one_short = values(one["states"], "short");
  one_short.merge(values(one["lcm_states"], "short"));
  const nlohmann::json& nova = voc["nova"]["names"];
  const std::set<std::string> nova_vm = values(nova["vm_states"]);
  const std::set<std::string> nova_tasks = values(nova["task_states"]);
  const std::set<std::string> nova_status = values(nova["statuses"]);
  std::set<int> nova_power;
  for (const nlohmann::json& p : nova["power_states"]) nova_power.insert(p["number"].get<int>());
  const nlohmann::json& azure = voc["azure"]["names"];
  const std::set<std::string> azure_provisioning = values(azure["provisioning_states"], "name");
  const std::set<std::string> azure_power = values(azure["power_states"], "name");
  const std::set<std::string> azure_lines = azure_status_lines(azure);
  const std::set<std::string> billing = values(azure["billing"], "name");
  const std::set<std::string> billing_shown = values(azure["billing"], "display");
  const std::set<std::string> sl = values(voc["stratuslab"]["names"]["states"]);

  std::set<std::string> seen_provisioning;
  std::size_t in_flight = 0;
  for (const testing::Reached& reached : testing::reachable_records()) {
    const VmRecord& r = reached.record;
    if (r.busy()) ++in_flight;
    const Views v = render_views(r);
    expect_in(one_states, one_state_name(v.opennebula.state), "OpenNebula state", r);
    expect_in(lcm_states, lcm_state_name(v.opennebula.lcm_state), "OpenNebula LCM state", r);
    expect_in(one_short, v.opennebula.short_alias, "OpenNebula short alias", r);
    expect_in(nova_vm, nova_vm_state_name(v.nova.vm_state), "Nova vm_state", r);
    if (v.nova.task_state != NovaTaskState::kNone) {
      expect_in(nova_tasks, nova_task_state_name(v.nova.task_state), "Nova task_state", r);
    }
    EXPECT_TRUE(nova_power.contains(v.nova.power_state)) << testing::describe(r);
    expect_in(nova_status, v.nova.status, "Nova status", r);
    expect_in(azure_provisioning, azure_provisioning_name(v.azure.provisioning),
              "Azure provisioning state", r);
    seen_provisioning.insert(std::string(azure_provisioning_name(v.azure.provisioning)));
    if (v.azure.power != AzurePower::kNone) {
      expect_in(azure_power, azure_power_name(v.azure.power), "Azure power state", r);
    }
    for (std::size_t i = 0; i < v.azure.status_count; ++i) {
      const AzureStatus& s = v.azure.statuses[i];
      const std::string line = std::string(s.code) + "|" + std::string(s.level) + "|" +
                               std::string(s.display_status) + "|" + (s.timed ? "1" : "0");
      expect_in(azure_lines, line, "Azure status", r);
    }
    expect_in(billing, billing_name(v.azure.billing), "Azure billing", r);
    expect_in(billing_shown, billing_display(v.azure.billing), "Azure billing display", r);
    expect_in(sl, sl_state_name(v.stratuslab.state), "StratusLab state", r);
  }
  // The walk must reach operations in flight, or the in-progress outputs go unchecked.
  EXPECT_GT(in_flight, 0U);
  EXPECT_TRUE(seen_provisioning.contains("OSProvisioningInprogress"));
}

// Seed 000's provisioning states and display statuses, by name.
TEST(ExportTest, AzureNamesHaveSeed000StatusLines) {
  const nlohmann::json model = model_json();
  const nlohmann::json& azure = model["vocabularies"]["azure"]["names"];
  const std::set<std::string> lines = azure_status_lines(azure);
  for (const char* line :
       {"ProvisioningState/OSProvisioningInprogress|Info|OS Provisioning In progress|0",
        "ProvisioningState/OSProvisioningComplete|Info|OS Provisioning Complete|0",
        "ProvisioningState/succeeded|Info|Provisioning succeeded|1",
        "PowerState/deallocating|Info|VM deallocating|0", "PowerState/running|Info|VM running|0"}) {
    EXPECT_TRUE(lines.contains(line)) << line;
  }
  EXPECT_EQ(azure["provisioning_states"].size(), kAllAzureProvisioning.size());
  EXPECT_EQ(azure["power_states"].size(), kAllAzurePowers.size());
}

}  // namespace
}  // namespace corral::lifecycle
