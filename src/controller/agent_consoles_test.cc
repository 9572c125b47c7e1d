// AgentConsoles without gRPC: a scripted "agent" answers (or not) what `send` hands it, so the
// request/reply correlation, the timeout and the stream's end are checked exactly.
#include "controller/agent_consoles.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <vector>

namespace corral::controller {
namespace {

constexpr Millis kShort = 200;  // the timeout under test (a silent agent)

// What the scripted agent does with each request it receives.
enum class Agent : std::uint8_t { kAnswer, kSilent, kAnswerOtherId, kError, kAbsent };

class AgentConsolesTest : public ::testing::Test {
 protected:
  std::uint64_t send(const std::string& host, v1::ControllerMessage m) {
    sent.push_back(m);
    if (behaviour == Agent::kAbsent || host != "h2") return 0;
    std::uint64_t id = 0;
    if (m.has_console_log_request()) id = m.console_log_request().request_id();
    if (m.has_console_attach()) id = m.console_attach().request_id();
    if (m.has_console_input()) id = m.console_input().request_id();
    if (id != 0 && behaviour != Agent::kSilent) {
      v1::ConsoleReply reply;
      reply.set_request_id(behaviour == Agent::kAnswerOtherId ? id + 1000 : id);
      reply.set_ok(behaviour != Agent::kError);
      if (behaviour == Agent::kError) {
        reply.set_code(v1::ConsoleReply::ERROR_CODE_CONFLICT);
        reply.set_error("on host h2: the sim driver's VMs have no serial console");
      } else if (m.has_console_log_request()) {
        reply.set_log("boot line " + std::to_string(m.console_log_request().vm()) + "\n");
      }
      // Answered from another thread, as the gRPC reader would.
      replies.emplace_back([this, reply] { consoles.on_reply(reply); });
    }
    return 3;  // the stream's epoch
  }
  void TearDown() override {
    for (std::thread& t : replies) t.join();
  }

  Agent behaviour = Agent::kAnswer;
  std::vector<v1::ControllerMessage> sent;
  std::vector<std::thread> replies;
  AgentConsoles consoles{
      [this](const std::string& host, v1::ControllerMessage m) { return send(host, std::move(m)); },
      kShort};
};

TEST_F(AgentConsolesTest, EachAnswerReachesTheRequestWithItsId) {
  struct Case {
    Agent agent;
    ErrorCode code;  // kInternal here means: success expected
    std::string says;
  };
  const std::vector<Case> cases = {
      {Agent::kAnswer, ErrorCode::kInternal, "boot line 5\n"},
      {Agent::kError, ErrorCode::kConflict, "on host h2: the sim driver's VMs have no serial"},
      {Agent::kSilent, ErrorCode::kUnavailable, "host h2's agent did not answer within 200 ms"},
      // An answer to another request is not this one's: it times out.
      {Agent::kAnswerOtherId, ErrorCode::kUnavailable, "did not answer"},
      {Agent::kAbsent, ErrorCode::kUnavailable, "host h2 is not connected"},
  };
  for (const Case& c : cases) {
    behaviour = c.agent;
    const auto started = std::chrono::steady_clock::now();
    const Result<std::string> log = consoles.console_log("h2", 5, 1024);
    const auto took = std::chrono::steady_clock::now() - started;
    if (c.code == ErrorCode::kInternal) {
      ASSERT_TRUE(log) << log.error().message;
      EXPECT_EQ(*log, c.says);
    } else {
      ASSERT_FALSE(log);
      EXPECT_EQ(log.error().code, c.code) << log.error().message;
      EXPECT_NE(log.error().message.find(c.says), std::string::npos) << log.error().message;
    }
    // Only a silent agent costs the timeout; and nothing is left waiting.
    const bool waited = c.agent == Agent::kSilent || c.agent == Agent::kAnswerOtherId;
    EXPECT_EQ(took >= std::chrono::milliseconds(kShort), waited) << static_cast<int>(c.agent);
    EXPECT_EQ(consoles.waiting(), 0U);
  }
  // Every request carried its own id.
  std::vector<std::uint64_t> ids;
  for (const v1::ControllerMessage& m : sent) ids.push_back(m.console_log_request().request_id());
  for (std::size_t i = 1; i < ids.size(); ++i) EXPECT_LT(ids[i - 1], ids[i]);
}

TEST_F(AgentConsolesTest, TheStreamsEndFailsTheWaitAtOnce) {
  behaviour = Agent::kSilent;
  AgentConsoles slow(
      [this](const std::string& host, v1::ControllerMessage m) { return send(host, std::move(m)); },
      60'000);
  std::thread ender([&slow] {
    while (slow.waiting() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // past the send
    slow.on_disconnected("h2", 2);  // an older stream's end: not this request's
    slow.on_disconnected("h2", 3);
  });
  const auto started = std::chrono::steady_clock::now();
  const Result<std::string> log = slow.console_log("h2", 5, 1024);
  ender.join();
  ASSERT_FALSE(log);
  EXPECT_EQ(log.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(log.error().message.find("host h2 disconnected"), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(30));
}

TEST_F(AgentConsolesTest, OneAttachmentPerVmFansOutToEverySubscriber) {
  std::vector<std::string> a;
  std::vector<std::string> b;
  const Result<int> first =
      consoles.attach("h2", 5, [&](std::string_view bytes) { a.emplace_back(bytes); });
  const Result<int> second =
      consoles.attach("h2", 5, [&](std::string_view bytes) { b.emplace_back(bytes); });
  ASSERT_TRUE(first && second);
  EXPECT_NE(*first, *second);
  std::size_t attaches = 0;
  for (const v1::ControllerMessage& m : sent) attaches += m.has_console_attach() ? 1 : 0;
  EXPECT_EQ(attaches, 1U);  // the second subscriber shares the first's attachment

  v1::ConsoleOutput out;
  out.set_vm(5);
  out.set_bytes("login: ");
  consoles.on_output("h2", 3, out);
  consoles.on_output("h2", 2, out);  // an older stream's output: not this attachment's
  out.set_vm(6);
  consoles.on_output("h2", 3, out);  // nobody attached VM 6
  EXPECT_EQ(a, std::vector<std::string>{"login: "});
  EXPECT_EQ(b, std::vector<std::string>{"login: "});

  consoles.detach("h2", 5, *first);
  EXPECT_FALSE(sent.back().has_console_detach());  // b still reads
  consoles.detach("h2", 5, *second);
  ASSERT_TRUE(sent.back().has_console_detach());
  EXPECT_EQ(sent.back().console_detach().vm(), 5);
}

TEST_F(AgentConsolesTest, TheStreamsEndClosesTheSubscribers) {
  std::vector<std::string> got;
  ASSERT_TRUE(consoles.attach("h2", 5, [&](std::string_view bytes) { got.emplace_back(bytes); }));
  consoles.on_disconnected("h2", 3);
  EXPECT_EQ(got, std::vector<std::string>{""});  // empty: the console closed
  v1::ConsoleOutput out;
  out.set_vm(5);
  out.set_bytes("late");
  consoles.on_output("h2", 3, out);
  EXPECT_EQ(got.size(), 1U);  // forgotten with the stream

  behaviour = Agent::kAbsent;
  const Result<int> again = consoles.attach("h2", 5, [](std::string_view) {});
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().message.find("host h2 is not connected"), std::string::npos);
  EXPECT_FALSE(consoles.write("h2", 5, "x"));
}

}  // namespace
}  // namespace corral::controller
