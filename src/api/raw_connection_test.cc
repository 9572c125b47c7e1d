// Taking over a plain HTTP connection from cpp-httplib (the socket found by its addresses) and
// speaking a WebSocket on it: a real httplib::Server on a loopback port, a real socket client.
// The TLS path (the request's own session) runs with a real guest's console in
// tests/qemu_console_test.cc.
#include "api/raw_connection.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "common/websocket/codec.h"

namespace corral::api {
namespace {

// Echoes every message back upper-cased until the client closes; then what httplib writes
// after the handler must go nowhere.
void echo_session(const httplib::Request& req, httplib::Response& res) {
  Result<RawConnection> conn = RawConnection::of(req);
  ASSERT_TRUE(conn) << conn.error().message;
  std::vector<std::string> inbox;
  bool ended = false;
  websocket::ServerCodec codec("echo.v1",
                               {[&](const char* d, std::size_t n) { return conn->write(d, n); },
                                [&](const std::string& m, bool) { inbox.push_back(m); }, nullptr,
                                [&](const std::string&) { ended = true; }});
  std::string head = req.method + " " + req.target + " HTTP/1.1\r\n";
  for (const auto& [k, v] : req.headers) head += k + ": " + v + "\r\n";
  head += "\r\n";
  codec.feed(head.data(), head.size());
  char buffer[4096];
  while (!ended && !codec.is_closed()) {
    pollfd p{conn->fd(), POLLIN, 0};
    if (::poll(&p, 1, 2000) <= 0) break;
    const long n = conn->read(buffer, sizeof buffer);
    if (n < 0) {
      codec.eof();
      break;
    }
    codec.feed(buffer, static_cast<std::size_t>(n));
    for (std::string& m : inbox) {
      for (char& c : m) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      codec.send(m, false);
    }
    inbox.clear();
  }
  conn->shutdown();
  res.status = 101;
}

TEST(RawConnection, APlainConnectionIsTakenOverForAWebSocket) {
  httplib::Server server;
  server.Get("/ws", echo_session);
  server.Get("/plain", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("still HTTP", "text/plain");
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  std::thread serving([&] { server.listen_after_bind(); });

  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  std::vector<std::string> got;
  bool open = false;
  std::string closed;
  websocket::ClientCodec client("ws://127.0.0.1:" + std::to_string(port) + "/ws", {"echo.v1"},
                                {[&](const char* d, std::size_t n) {
                                   return ::send(fd, d, n, MSG_NOSIGNAL) == static_cast<ssize_t>(n);
                                 },
                                 [&](const std::string& m, bool) { got.push_back(m); },
                                 [&] { open = true; }, [&](const std::string& r) { closed = r; }});
  std::string error;
  ASSERT_TRUE(client.start(error)) << error;
  char buffer[4096];
  const auto pump_until = [&](const auto& done) {
    for (int i = 0; i < 50 && !done(); ++i) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) {
        client.eof();
        return;
      }
      client.feed(buffer, static_cast<std::size_t>(n));
    }
  };
  pump_until([&] { return open; });
  ASSERT_TRUE(open) << closed;
  ASSERT_TRUE(client.send("uname", false));
  ASSERT_TRUE(client.send("two", true));
  pump_until([&] { return got.size() == 2; });
  EXPECT_EQ(got, (std::vector<std::string>{"UNAME", "TWO"}));
  client.close(1000, "done");
  pump_until([&] { return client.is_closed(); });
  EXPECT_TRUE(client.is_closed()) << closed;
  ::close(fd);

  // The server goes on serving plain HTTP on other connections.
  httplib::Client http("127.0.0.1", port);
  const httplib::Result r = http.Get("/plain");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "still HTTP");
  server.stop();
  serving.join();
}

// Catches: a server's stop waiting out an idle keep-alive connection (the library waits for
// every connection's thread, and an idle one waits for its next request up to the timeout).
TEST(RawConnection, ShuttingReadsEndsIdleKeepAliveConnectionsAtOnce) {
  httplib::Server server;
  server.set_keep_alive_timeout(60);
  server.Get("/x", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("x", "text/plain");
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  std::thread serving([&] { server.listen_after_bind(); });
  httplib::Client client("127.0.0.1", port);
  client.set_keep_alive(true);
  ASSERT_TRUE(client.Get("/x"));  // the connection stays open, idle
  const auto start = std::chrono::steady_clock::now();
  server.stop();
  shut_reads_of_connections(port);
  serving.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5))
      << "the stop waited for the idle connection's keep-alive timeout";
}

}  // namespace
}  // namespace corral::api
