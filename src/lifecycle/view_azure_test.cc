// Seed 000, line by line: every status code and displayStatus, and the billing class of every
// power state, are produced by the Azure view.
#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>

#include "lifecycle/reachable.h"
#include "lifecycle/seed_text.h"
#include "lifecycle/views.h"

namespace corral::lifecycle {
namespace {

std::string strip_spaces(std::string s) {
  std::erase(s, ' ');
  return s;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Every ("code", "displayStatus") pair written in seed 000.
std::vector<std::pair<std::string, std::string>> seed_statuses() {
  const std::string text = testing::seed_text("000");
  std::vector<std::pair<std::string, std::string>> out;
  const std::regex pair(R"rx("code":\s*"([^"]+)"[\s\S]*?"displayStatus":\s*"([^"]+)")rx");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), pair); it != std::sregex_iterator();
       ++it) {
    // The seed writes "ProvisioningState/ OSProvisioningInprogress": the space is typesetting.
    out.emplace_back(strip_spaces((*it)[1].str()), (*it)[2].str());
  }
  return out;
}

TEST(AzureViewTest, EverySeedStatusIsProduced) {
  const auto seed = seed_statuses();
  ASSERT_GE(seed.size(), 15U);
  std::set<std::pair<std::string, std::string>> produced;
  for (const testing::Reached& r : testing::reachable_records()) {
    const AzureView v = azure_view(r.record);
    for (std::size_t i = 0; i < v.status_count; ++i) {
      produced.emplace(std::string(v.statuses[i].code), std::string(v.statuses[i].display_status));
    }
  }
  for (const auto& [code, display] : seed) {
    EXPECT_TRUE(produced.contains({code, display})) << code << " / " << display;
  }
}

TEST(AzureViewTest, BillingOfEveryPowerStateIsTheSeeds) {
  const std::string text = testing::seed_text("000");
  const std::regex row(
      R"rx(<strong>(Starting|Running|Stopping|Stopped|Deallocating|Deallocated)</strong>[\s\S]*?<strong>((?:Not )?[Bb]illed[^<]*)</strong>)rx");
  const std::map<std::string, AzurePower> power = {
      {"Starting", AzurePower::kStarting},         {"Running", AzurePower::kRunning},
      {"Stopping", AzurePower::kStopping},         {"Stopped", AzurePower::kStopped},
      {"Deallocating", AzurePower::kDeallocating}, {"Deallocated", AzurePower::kDeallocated}};
  int rows = 0;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), row); it != std::sregex_iterator();
       ++it) {
    ++rows;
    std::string billing = (*it)[2].str();
    while (!billing.empty() && billing.back() == ' ') billing.pop_back();
    EXPECT_EQ(lower(std::string(billing_display(billing_of(power.at((*it)[1].str()))))),
              lower(billing))
        << (*it)[1].str();
  }
  EXPECT_EQ(rows, 6);
}

TEST(AzureViewTest, EveryPowerStateIsReachableWithItsBilling) {
  std::set<AzurePower> seen;
  for (const testing::Reached& r : testing::reachable_records()) {
    const AzureView v = azure_view(r.record);
    seen.insert(v.power);
    EXPECT_EQ(v.billing, billing_of(v.power));
    ASSERT_GE(v.status_count, 1);
    EXPECT_EQ(v.statuses[0].code.rfind("ProvisioningState/", 0), 0U);
    if (v.status_count == 2) {
      EXPECT_EQ(v.statuses[1].code.rfind("PowerState/", 0), 0U);
    }
    // Seed 000 gives "time" to the terminal provisioning statuses only; the power entry has none.
    EXPECT_EQ(v.statuses[0].timed, v.provisioning == AzureProvisioning::kSucceeded ||
                                       v.provisioning == AzureProvisioning::kFailed ||
                                       v.provisioning == AzureProvisioning::kCanceled ||
                                       v.provisioning == AzureProvisioning::kDeleted);
  }
  for (AzurePower p : {AzurePower::kStarting, AzurePower::kRunning, AzurePower::kStopping,
                       AzurePower::kStopped, AzurePower::kDeallocating, AzurePower::kDeallocated}) {
    EXPECT_TRUE(seen.contains(p)) << azure_power_name(p);
  }
}

TEST(AzureViewTest, AFailedUpdateLeavesTheVmRunningWithFailedProvisioning) {
  // Seed 000, "Edge cases": a failed management operation typically leaves the VM running
  // with the original model.
  VmRecord r = begin(record_at_rest(State::kRunning), {Action::kResize})->record;
  r = phase_failed(r).record;
  const AzureView v = azure_view(r);
  EXPECT_EQ(v.provisioning, AzureProvisioning::kFailed);
  EXPECT_EQ(v.power, AzurePower::kRunning);
  EXPECT_EQ(v.statuses[0].code, "ProvisioningState/failed");
  EXPECT_EQ(v.statuses[1].code, "PowerState/running");
  // A retry that succeeds reconciles it.
  r = begin(r, {Action::kResize})->record;
  r = phase_succeeded(r).record;
  EXPECT_EQ(azure_view(r).provisioning, AzureProvisioning::kSucceeded);
}

TEST(AzureViewTest, CreationShowsCreatingStartingThenOsProvisioningThenSucceeded) {
  VmRecord r = new_record();
  EXPECT_EQ(azure_view(r).statuses[0].code, "ProvisioningState/creating");
  EXPECT_EQ(azure_view(r).statuses[1].code, "PowerState/starting");
  EXPECT_EQ(azure_view(r).billing, Billing::kNotBilled);
  while (r.busy()) r = phase_succeeded(r).record;
  r = begin(r, {Action::kDeploy})->record;
  r = phase_succeeded(phase_succeeded(r).record).record;
  EXPECT_EQ(azure_view(r).statuses[0].code, "ProvisioningState/OSProvisioningInprogress");
  EXPECT_EQ(azure_view(r).power, AzurePower::kRunning);
  r = phase_succeeded(r).record;
  EXPECT_EQ(azure_view(r).statuses[0].code, "ProvisioningState/OSProvisioningComplete");
  r = phase_succeeded(r).record;
  EXPECT_EQ(azure_view(r).statuses[0].display_status, "Provisioning succeeded");
  // Canceled: seed 000 "User-initiated cancel will result in this state".
  VmRecord c = begin(r, {Action::kShutdown})->record;
  c = begin(c, {Action::kCancel})->record;
  EXPECT_EQ(azure_view(c).provisioning, AzureProvisioning::kCanceled);
}

TEST(AzureViewTest, DeallocateAndStopAreBilledAsTheSeedSays) {
  EXPECT_EQ(azure_view(record_at_rest(State::kPoweroff)).billing, Billing::kBilledHardwareOnly);
  EXPECT_EQ(azure_view(record_at_rest(State::kDeallocated)).billing, Billing::kNotBilled);
  VmRecord r = begin(record_at_rest(State::kRunning), {Action::kDeallocate})->record;
  EXPECT_EQ(azure_view(r).power, AzurePower::kDeallocating);
  EXPECT_EQ(azure_view(r).statuses[0].code, "ProvisioningState/updating");
  r = begin(record_at_rest(State::kRunning), {Action::kShutdown})->record;
  EXPECT_EQ(azure_view(r).power, AzurePower::kStopping);
}

}  // namespace
}  // namespace corral::lifecycle
