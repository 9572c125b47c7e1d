// Every verb of every vocabulary through the `corral` CLI (`corral vm action ID VERB
// --vocabulary V ...`) against a real server, plus the StratusLab tutorial's commands and
// the CLI's exit codes. Setup goes through the API; the verb itself through the CLI.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "lifecycle/table.h"
#include "support/recipes.h"
#include "support/verb_cases.h"

namespace corral::testing {
namespace {

namespace lc = corral::lifecycle;
using lc::Action;
using lc::State;

// The CLI flags that carry a request body's parameters.
std::vector<std::string> cli_args(const nlohmann::json& body) {
  std::vector<std::string> out;
  const std::pair<const char*, const char*> flags[] = {{"vcpus", "--vcpus"},
                                                       {"memory_mib", "--memory"},
                                                       {"image", "--image"},
                                                       {"name", "--name"},
                                                       {"backup_type", "--backup-type"},
                                                       {"rotation", "--rotation"},
                                                       {"password", "--password"},
                                                       {"state", "--state"},
                                                       {"type", "--type"},
                                                       {"network", "--network"},
                                                       {"nic", "--nic"},
                                                       {"volume", "--volume"},
                                                       {"op", "--op"}};
  for (const auto& [key, flag] : flags) {
    if (!body.contains(key)) continue;
    out.emplace_back(flag);
    out.push_back(body[key].is_string() ? body[key].get<std::string>() : body[key].dump());
  }
  if (body.contains("offload")) {
    out.emplace_back("--offload");
    out.emplace_back(body["offload"].get<bool>() ? "true" : "false");
  }
  if (body.value("skipShutdown", false)) out.emplace_back("--skip-shutdown");
  return out;
}

// One server for the suite: zero-latency sim, no scheduler (tests deploy by hand).
class CliTest : public SharedServerSuite {};

TEST_F(CliTest, EveryVerbOfEveryVocabulary) {
  Api api(*server_);
  int ran = 0;
  int expected = 0;
  for (const VerbCase& c : all_cases()) expected += c.during ? 0 : 1;
  for (const VerbCase& c : all_cases()) {
    if (c.during) continue;  // pre-emption is covered through the API
    SCOPED_TRACE(case_name(c));
    std::optional<Subject> s = bring_to(api, c.from);
    ASSERT_TRUE(s.has_value());
    const Result<Action> action = lc::resolve(s->mirror, c.vocabulary, c.verb, c.variant);
    ASSERT_TRUE(action.has_value());
    std::vector<std::string> args = {
        "vm",   "action",       std::to_string(s->id),
        c.verb, "--vocabulary", std::string(lc::vocabulary_name(c.vocabulary))};
    const std::vector<std::string> extra = cli_args(case_body(c, *action, s->id));
    args.insert(args.end(), extra.begin(), extra.end());
    const CliResult r = run_cli(args, server_->url());
    ASSERT_EQ(r.exit_code, 0) << r.out;
    mirror_run(s->mirror, *action);
    const nlohmann::json vm = api.wait_idle(s->id);
    EXPECT_EQ(vm["state"], lc::state_name(s->mirror.state)) << vm.dump();
    ++ran;
  }
  EXPECT_EQ(ran, expected);
  EXPECT_GT(ran, 100);
}

TEST_F(CliTest, RefusalsAndUsageHaveTheirExitCodes) {
  Api api(*server_);
  std::optional<Subject> s = bring_to(api, State::kPoweroff);
  ASSERT_TRUE(s.has_value());
  const std::string id = std::to_string(s->id);
  const CliResult refused =
      run_cli({"vm", "action", id, "pause", "--vocabulary", "nova"}, server_->url());
  EXPECT_EQ(refused.exit_code, 1) << refused.out;
  EXPECT_NE(refused.out.find("stopped"), std::string::npos) << refused.out;
  EXPECT_NE(refused.out.find("start"), std::string::npos) << "lists the allowed verbs";
  EXPECT_EQ(run_cli({"vm", "action", id, "explode"}, server_->url()).exit_code, 2);
  EXPECT_EQ(run_cli({"vm", "show", "123456"}, server_->url()).exit_code, 1);
  EXPECT_EQ(run_cli({"vm", "list"}, "http://127.0.0.1:" + std::to_string(free_port())).exit_code,
            3);
}

TEST_F(CliTest, TheStratusLabTutorial) {
  // Seed 002: run, describe, (the guest shuts itself down), describe, kill, describe.
  ServerProcess server({"--sim-profile", "zero"});
  ASSERT_TRUE(server.start()) << server.log();
  const CliResult run = run_cli({"run", "tiny"}, server.url());
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_NE(run.out.find(":: Machine 1 (vm ID: 1)"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("Public ip: sim-1"), std::string::npos) << run.out;
  Api api(server);
  api.wait_idle(1);
  CliResult d = run_cli({"describe", "1"}, server.url());
  EXPECT_NE(d.out.find("id   state     vcpu memory    cpu% host/ip"), std::string::npos) << d.out;
  EXPECT_NE(d.out.find("Running"), std::string::npos) << d.out;
  ASSERT_EQ(api.post("/v1/admin/vms/1/external", {{"event", "guest_poweroff"}}).status, 202);
  for (int i = 0; i < 200 && api.get("/v1/vms/1").body["state"] != "POWEROFF"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  d = run_cli({"describe", "1"}, server.url());
  EXPECT_NE(d.out.find("Unknown"), std::string::npos) << d.out;
  const CliResult kill = run_cli({"kill", "1"}, server.url());
  EXPECT_EQ(kill.exit_code, 0) << kill.out;
  EXPECT_TRUE(kill.out.empty()) << "stratus-kill-instance is silent: " << kill.out;
  api.wait_idle(1);
  d = run_cli({"describe", "1"}, server.url());
  EXPECT_NE(d.out.find("Done"), std::string::npos) << d.out;
  const CliResult list = run_cli({"vm", "list", "--all"}, server.url());
  EXPECT_NE(list.out.find("done"), std::string::npos) << "onevm-style short state: " << list.out;
}

}  // namespace
}  // namespace corral::testing
