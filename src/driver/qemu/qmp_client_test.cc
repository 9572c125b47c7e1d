#include "driver/qemu/qmp_client.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "driver/qemu/qmp_fake_testing.h"

namespace corral::driver::qemu {
namespace {

using std::chrono::milliseconds;

std::string id_of(const std::string& line) {
  return std::to_string(nlohmann::json::parse(line)["id"].get<std::uint64_t>());
}

TEST(QmpClientTest, AnswersMatchTheirCommandAndEventsAreKeptInOrder) {
  FakeQmp server([](const std::string& line) -> std::string {
    const auto request = nlohmann::json::parse(line);
    const std::string id = id_of(line);
    if (request["execute"] == "query-status") {
      // Events before the answer, and the answer split across lines in the same write.
      return R"({"event": "STOP", "data": {}, "timestamp": {}})"
             "\r\n"
             R"({"event": "SHUTDOWN", "data": {"guest": true, "reason": "guest-shutdown"}})"
             "\r\n"
             R"({"return": {"status": "running", "running": true}, "id": )" +
             id + "}\r\n";
    }
    if (request["execute"] == "stop") {
      return R"({"error": {"class": "GenericError", "desc": "no can do"}, "id": )" + id + "}\r\n";
    }
    return R"({"return": {}, "id": )" + id + "}\r\n";
  });
  Result<QmpClient> client = QmpClient::connect(server.path(), milliseconds(2000));
  ASSERT_TRUE(client.has_value()) << client.error().message;
  Result<nlohmann::json> status = client->execute("query-status");
  ASSERT_TRUE(status.has_value()) << status.error().message;
  EXPECT_EQ((*status)["status"], "running");
  std::deque<QmpEvent> events = client->take_events();
  ASSERT_EQ(events.size(), 2U);
  EXPECT_EQ(events[0].name, "STOP");
  EXPECT_EQ(events[1].name, "SHUTDOWN");
  EXPECT_TRUE(events[1].data["guest"].get<bool>());

  Result<nlohmann::json> refused = client->execute("stop");
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().message.find("no can do"), std::string::npos);
  EXPECT_TRUE(client->execute("cont").has_value()) << "the connection is still usable";
}

TEST(QmpClientTest, ASilentServerTimesOutAndAClosedOneIsAnError) {
  FakeQmp server([](const std::string& line) -> std::string {
    const auto request = nlohmann::json::parse(line);
    if (request["execute"] == "qmp_capabilities") {
      return R"({"return": {}, "id": )" + id_of(line) + "}\r\n";
    }
    if (request["execute"] == "quit") return "<close>";
    return "";  // never answers
  });
  Result<QmpClient> client = QmpClient::connect(server.path(), milliseconds(2000));
  ASSERT_TRUE(client.has_value()) << client.error().message;
  Result<nlohmann::json> silent = client->execute("query-status", {}, milliseconds(200));
  ASSERT_FALSE(silent.has_value());
  EXPECT_EQ(silent.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(silent.error().message.find("did not answer"), std::string::npos);
  Result<nlohmann::json> closed = client->execute("quit", {}, milliseconds(2000));
  ASSERT_FALSE(closed.has_value());
  EXPECT_NE(closed.error().message.find("closed"), std::string::npos);
  EXPECT_FALSE(client->connected());
}

TEST(QmpClientTest, ADescriptorTravelsWithItsCommandAndTheCallerKeepsIt) {
  FakeQmp server([](const std::string& line) { return FakeQmp::answer(line); });
  Result<QmpClient> client = QmpClient::connect(server.path(), milliseconds(2000));
  ASSERT_TRUE(client.has_value()) << client.error().message;
  int pipe_fds[2] = {-1, -1};
  ASSERT_EQ(::pipe(pipe_fds), 0);
  UniqueFd read_end(pipe_fds[0]);
  UniqueFd write_end(pipe_fds[1]);
  struct stat st {};
  ASSERT_EQ(::fstat(read_end.get(), &st), 0);

  Result<nlohmann::json> passed =
      client->execute_with_fd("getfd", {{"fdname", "tap0"}}, read_end.get());
  ASSERT_TRUE(passed.has_value()) << passed.error().message;
  ASSERT_TRUE(client->execute("query-status").has_value()) << "plain commands still work";
  const auto received = server.fds_received();
  ASSERT_EQ(received.size(), 1U) << "only the getfd carried a descriptor";
  EXPECT_EQ(received[0], std::make_pair(st.st_dev, st.st_ino)) << "the pipe itself arrived";
  EXPECT_EQ(::fcntl(read_end.get(), F_GETFD), 0) << "the caller's descriptor stays open";

  Result<nlohmann::json> none = client->execute_with_fd("getfd", {{"fdname", "x"}}, -1);
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().code, ErrorCode::kInvalidArgument);
}

TEST(QmpClientTest, NoSocketIsUnavailableAfterTheTimeout) {
  Result<QmpClient> client = QmpClient::connect("/nonexistent/corral/qmp.sock", milliseconds(100));
  ASSERT_FALSE(client.has_value());
  EXPECT_EQ(client.error().code, ErrorCode::kUnavailable);
  Result<QmpClient> too_long = QmpClient::connect("/" + std::string(200, 'x'), milliseconds(100));
  ASSERT_FALSE(too_long.has_value());
  EXPECT_EQ(too_long.error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace corral::driver::qemu
