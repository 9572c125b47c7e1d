// The WebSocket codec both ways in memory: a client's handshake and frames reach the server
// and back, subprotocols are chosen (the bearer one never echoed), a wrong one is refused, and
// the closing handshake ends both sides.
#include "common/websocket/codec.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace corral::websocket {
namespace {

struct Pair {
  std::string to_server, to_client;
  std::vector<std::string> server_got, client_got;
  std::string server_closed, client_closed;
  bool client_open = false;
  ServerCodec server{"corral.console.v1",
                     {[this](const char* d, std::size_t n) {
                        to_client.append(d, n);
                        return true;
                      },
                      [this](const std::string& m, bool) { server_got.push_back(m); }, nullptr,
                      [this](const std::string& r) { server_closed = r; }}};
  ClientCodec client;
  explicit Pair(std::vector<std::string> protocols)
      : client("ws://127.0.0.1:1/v1/vms/1/console/ws", std::move(protocols),
               {[this](const char* d, std::size_t n) {
                  to_server.append(d, n);
                  return true;
                },
                [this](const std::string& m, bool) { client_got.push_back(m); },
                [this] { client_open = true; },
                [this](const std::string& r) { client_closed = r; }}) {}
  // Carries what each side wrote to the other until neither writes more.
  void pump() {
    while (!to_server.empty() || !to_client.empty()) {
      std::string a;
      a.swap(to_server);
      if (!a.empty()) server.feed(a.data(), a.size());
      std::string b;
      b.swap(to_client);
      if (!b.empty()) client.feed(b.data(), b.size());
    }
  }
};

TEST(WebSocketCodec, HandshakeMessagesBothWaysAndClose) {
  Pair p({"corral.console.v1", "bearer.crl_secret"});
  std::string error;
  ASSERT_TRUE(p.client.start(error)) << error;
  const std::string handshake = p.to_server;
  EXPECT_NE(handshake.find("Sec-WebSocket-Protocol: corral.console.v1, bearer.crl_secret"),
            std::string::npos)
      << handshake;
  p.server.feed(p.to_server.data(), p.to_server.size());
  p.to_server.clear();
  EXPECT_NE(p.to_client.find("HTTP/1.1 101"), std::string::npos) << p.to_client;
  EXPECT_NE(p.to_client.find("Sec-WebSocket-Protocol: corral.console.v1\r\n"), std::string::npos);
  EXPECT_EQ(p.to_client.find("bearer"), std::string::npos) << "the token is never echoed";
  p.pump();
  ASSERT_TRUE(p.client_open);
  ASSERT_TRUE(p.server.is_open());
  ASSERT_TRUE(p.client.send("uname\n", false));
  ASSERT_TRUE(p.server.send(std::string("Linux\r\n\x1b[0m", 11), true));
  p.pump();
  EXPECT_EQ(p.server_got, std::vector<std::string>{"uname\n"});
  EXPECT_EQ(p.client_got, std::vector<std::string>{std::string("Linux\r\n\x1b[0m", 11)});
  p.server.close(1000, "the VM's console ended");
  p.pump();
  EXPECT_TRUE(p.server.is_closed());
  p.client.eof();  // the server's socket closes after its closing handshake
  EXPECT_TRUE(p.client.is_closed());
  EXPECT_EQ(p.client_closed, "closed (1000: the VM's console ended)");
}

TEST(WebSocketCodec, AnotherSubprotocolIsRefusedWithTheReason) {
  Pair p({"chat"});
  std::string error;
  ASSERT_TRUE(p.client.start(error)) << error;
  p.pump();
  EXPECT_FALSE(p.server.is_open());
  EXPECT_FALSE(p.client_open);
  EXPECT_EQ(p.client.refused_status(), 400);
  EXPECT_NE(p.client.refused_body().find("corral.console.v1"), std::string::npos);
  EXPECT_FALSE(p.client_closed.empty());
}

TEST(WebSocketCodec, GarbageIsAFailedHandshakeNotACrash) {
  std::string out;
  std::string closed;
  ServerCodec server("corral.console.v1",
                     {[&](const char* d, std::size_t n) {
                        out.append(d, n);
                        return true;
                      },
                      nullptr, nullptr, [&](const std::string& r) { closed = r; }});
  const std::string garbage = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  server.feed(garbage.data(), garbage.size());
  EXPECT_FALSE(server.is_open());
  EXPECT_NE(out.find("HTTP/1.1 4"), std::string::npos) << out;
}

}  // namespace
}  // namespace corral::websocket
