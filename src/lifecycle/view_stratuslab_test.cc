// Seed 002: the StratusLab states and the tutorial's walkthrough.
#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "lifecycle/reachable.h"
#include "lifecycle/seed_text.h"
#include "lifecycle/views.h"
#include "lifecycle/vocabulary.h"

namespace corral::lifecycle {
namespace {

// The state words the seed uses: the "Common VM States" table and describe's outputs.
std::set<std::string> seed_states() {
  const std::string text = testing::seed_text("002");
  std::set<std::string> out;
  const std::regex table_row(R"(\n(Prolog|Boot|Running|Failed|Unknown)\s{2,})");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), table_row);
       it != std::sregex_iterator(); ++it) {
    out.insert((*it)[1].str());
  }
  const std::regex describe(R"(\n\s+\d{4} (\w+)\s+\d)");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), describe);
       it != std::sregex_iterator(); ++it) {
    out.insert((*it)[1].str());
  }
  return out;
}

TEST(StratusLabViewTest, SeedStatesAreExactlyOurs) {
  const std::set<std::string> seed = seed_states();
  std::set<std::string> ours;
  for (SlState s : kAllSlStates) ours.insert(std::string(sl_state_name(s)));
  EXPECT_EQ(seed, ours);
}

TEST(StratusLabViewTest, EveryStateIsProducedBySomeReachableRecord) {
  std::set<std::string> seen;
  for (const testing::Reached& r : testing::reachable_records()) {
    seen.insert(std::string(sl_state_name(stratuslab_view(r.record).state)));
  }
  for (const std::string& s : seed_states()) EXPECT_TRUE(seen.contains(s)) << s;
}

TEST(StratusLabViewTest, TheTutorialWalkthrough) {
  // run: Pending -> Prolog -> Boot -> Running.
  VmRecord r = new_record();
  std::vector<std::string> seen = {std::string(sl_state_name(stratuslab_view(r).state))};
  auto note = [&] {
    const std::string s(sl_state_name(stratuslab_view(r).state));
    if (seen.back() != s) seen.push_back(s);
  };
  while (r.busy()) {
    r = phase_succeeded(r).record;
    note();
  }
  r = begin(r, {Action::kDeploy})->record;  // the scheduler places it
  note();
  while (r.busy()) {
    r = phase_succeeded(r).record;
    note();
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"Pending", "Prolog", "Boot", "Running"}));
  // "shutdown -h" inside the guest: "The machine will stop and the state will eventually
  // become unknown" — stopped, but still has resources allocated.
  r = begin(r, {Action::kObservedPoweroff})->record;
  EXPECT_EQ(sl_state_name(stratuslab_view(r).state), "Unknown");
  EXPECT_EQ(nova_vm_state_name(nova_view(r).vm_state), "stopped");
  // stratus-kill-instance: Done, and the record is kept.
  const Result<Action> kill = resolve(r, Vocabulary::kStratusLab, "kill");
  ASSERT_TRUE(kill.has_value());
  r = begin(r, {*kill})->record;
  while (r.busy()) r = phase_succeeded(r).record;
  EXPECT_EQ(sl_state_name(stratuslab_view(r).state), "Done");
  // "can also be used for a running machine ... forcibly stop and remove the machine".
  VmRecord running = record_at_rest(State::kRunning);
  EXPECT_EQ(resolve(running, Vocabulary::kStratusLab, "kill"), Action::kTerminateHard);
}

TEST(StratusLabViewTest, AFailedBootIsFailed) {
  VmRecord r = begin(record_at_rest(State::kPending), {Action::kDeploy})->record;
  r = phase_failed(phase_succeeded(r).record).record;
  EXPECT_EQ(sl_state_name(stratuslab_view(r).state), "Failed");
}

}  // namespace
}  // namespace corral::lifecycle
