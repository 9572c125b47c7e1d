// A real `corral agent --driver sim` process against the in-process test controller
// (wire/test_controller.h): joining with a token, a refused token, a restart after SIGKILL
// that reuses the stored certificate, and a controller of another cluster.
#include "support/agent_process.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "cluster/test_dir.h"
#include "common/clock.h"
#include "wire/test_controller.h"

namespace corral::testing {
namespace {

using namespace std::chrono_literals;
namespace v1 = ::corral::agent::v1;
using cluster::testing::TempDir;
using wire::testing::TestController;
using wire::testing::TestControllerOptions;

std::unique_ptr<TestController> start_controller(const std::filesystem::path& dir,
                                                 const Clock& clock,
                                                 TestControllerOptions options = {}) {
  options.dir = dir;
  Result<std::unique_ptr<TestController>> c = TestController::start(options, clock);
  EXPECT_TRUE(c) << c.error().message;
  return c ? std::move(*c) : nullptr;
}

template <typename F>
bool eventually(F done, std::chrono::milliseconds deadline = 20s) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return done();
}

class AgentProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    controller_ = start_controller(dir_.path(), clock_);
    ASSERT_NE(controller_, nullptr);
  }
  AgentOptions options(const TestController& c) const {
    AgentOptions o;
    o.controller = "127.0.0.1:" + std::to_string(c.agent_port());
    o.join_address = "127.0.0.1:" + std::to_string(c.join_port());
    o.extra = {"--sim-profile", "zero", "--label", "zone=a"};
    return o;
  }
  std::string token(const std::string& host = "node-1") {
    Result<std::string> t = controller_->tokens().issue(host);
    EXPECT_TRUE(t);
    return t ? *t : "";
  }

  TempDir dir_;
  SystemClock clock_;
  std::unique_ptr<TestController> controller_;
};

TEST_F(AgentProcessTest, JoinsWithATokenIsWelcomedAndExits0OnSigterm) {
  AgentProcess agent(options(*controller_));
  ASSERT_TRUE(agent.start(token()));
  ASSERT_TRUE(eventually([&] { return controller_->epoch() == 1; })) << agent.log();
  const std::vector<v1::Hello> hellos = controller_->hellos();
  ASSERT_EQ(hellos.size(), 1U);
  EXPECT_EQ(hellos[0].host(), "node-1");
  EXPECT_EQ(hellos[0].driver(), "sim");
  EXPECT_EQ(hellos[0].labels().at("zone"), "a");
  EXPECT_GT(hellos[0].capacity().memory_mib(), 0);
  // Heartbeats follow the Welcome.
  ASSERT_TRUE(eventually([&] {
    for (const v1::AgentMessage& m : controller_->received()) {
      if (m.has_heartbeat()) return true;
    }
    return false;
  })) << agent.log();
  EXPECT_EQ(agent.stop(), 0) << agent.log();
}

TEST_F(AgentProcessTest, ABadTokenExits1SayingToken) {
  std::string bad = token();
  bad.back() = bad.back() == 'a' ? 'b' : 'a';
  AgentProcess agent(options(*controller_));
  ASSERT_TRUE(agent.start(bad));
  EXPECT_EQ(agent.wait_exit(20'000), 1) << agent.log();
  EXPECT_NE(agent.log().find("token"), std::string::npos) << agent.log();
  EXPECT_EQ(controller_->connects(), 0);
}

TEST_F(AgentProcessTest, NoTokenAndNoIdentityExits1) {
  AgentProcess agent(options(*controller_));
  ASSERT_TRUE(agent.start());
  EXPECT_EQ(agent.wait_exit(20'000), 1) << agent.log();
  EXPECT_NE(agent.log().find("--join"), std::string::npos) << agent.log();
}

TEST_F(AgentProcessTest, AfterSigkillARestartReusesItsCertificate) {
  AgentProcess agent(options(*controller_));
  ASSERT_TRUE(agent.start(token()));
  ASSERT_TRUE(eventually([&] { return controller_->epoch() == 1; })) << agent.log();
  agent.kill();
  // No token this time (the first one is spent): the stored identity must do.
  ASSERT_TRUE(agent.start());
  ASSERT_TRUE(eventually([&] { return controller_->epoch() == 2; })) << agent.log();
  const std::vector<v1::Hello> hellos = controller_->hellos();
  ASSERT_GE(hellos.size(), 2U);
  EXPECT_EQ(hellos.back().host(), "node-1");
  EXPECT_EQ(agent.stop(), 0) << agent.log();
}

TEST_F(AgentProcessTest, AControllerOfAnotherClusterIsFatalNamingTheCertificate) {
  AgentProcess agent(options(*controller_));
  ASSERT_TRUE(agent.start(token()));
  ASSERT_TRUE(eventually([&] { return controller_->epoch() == 1; })) << agent.log();
  EXPECT_EQ(agent.stop(), 0);
  const std::size_t earlier = agent.log().size();  // both processes log to the same file
  TempDir other_dir;
  std::unique_ptr<TestController> other = start_controller(other_dir.path(), clock_);
  ASSERT_NE(other, nullptr);
  AgentProcess moved(options(*other), agent.data_dir());
  ASSERT_TRUE(moved.start());
  EXPECT_EQ(moved.wait_exit(20'000), 1) << moved.log();
  EXPECT_NE(moved.log().substr(earlier).find("certificate"), std::string::npos) << moved.log();
  EXPECT_EQ(other->epoch(), 0U);
}

TEST(AgentProcessLease, AQuietControllerGetsOnlyMayFenceVmsFencedThenARedial) {
  TempDir dir;
  SystemClock clock;
  TestControllerOptions options;
  options.heartbeat_interval_ms = 100;
  options.lease_ms = 600;  // the test controller says nothing after its Welcome
  for (const auto& [vm, may_fence] : {std::pair{7, true}, std::pair{8, false}}) {
    v1::PlacedVm p;
    p.set_vm(vm);
    p.set_state(v1::STATE_RUNNING);
    p.set_may_fence(may_fence);
    options.placed.push_back(p);
  }
  std::unique_ptr<TestController> controller = start_controller(dir.path(), clock, options);
  ASSERT_NE(controller, nullptr);
  Result<std::string> token = controller->tokens().issue("node-1");
  ASSERT_TRUE(token);
  AgentOptions o;
  o.controller = "127.0.0.1:" + std::to_string(controller->agent_port());
  o.join_address = "127.0.0.1:" + std::to_string(controller->join_port());
  AgentProcess agent(o);
  ASSERT_TRUE(agent.start(*token));
  ASSERT_TRUE(eventually([&] { return agent.log().find("event=fence vm=7") != std::string::npos; }))
      << agent.log();
  EXPECT_EQ(agent.log().find("event=fence vm=8"), std::string::npos) << agent.log();
  ASSERT_TRUE(eventually([&] { return controller->epoch() >= 2; })) << agent.log();
  EXPECT_EQ(agent.stop(), 0) << agent.log();
}

}  // namespace
}  // namespace corral::testing
