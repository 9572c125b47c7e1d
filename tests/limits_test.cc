// The request limits, each with its own clear error: body size (413 too_large), JSON nesting
// (400 naming the depth), and per-client rate (429 rate_limited with Retry-After, per client
// address, /healthz exempt). A refused request changes nothing.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "support/recipes.h"

namespace corral::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// GET `path` from source address `from` (a loopback address other than 127.0.0.1 is another
// client); the HTTP status, 0 if the exchange failed.
int status_from(const std::string& from, int port, const std::string& path,
                const std::string& token) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in local{};
  local.sin_family = AF_INET;
  ::inet_pton(AF_INET, from.c_str(), &local.sin_addr);
  sockaddr_in server{};
  server.sin_family = AF_INET;
  server.sin_port = htons(static_cast<std::uint16_t>(port));
  ::inet_pton(AF_INET, "127.0.0.1", &server.sin_addr);
  int status = 0;
  // NOLINTBEGIN(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API
  if (::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) == 0 &&
      ::connect(fd, reinterpret_cast<sockaddr*>(&server), sizeof server) == 0) {
    // NOLINTEND(cppcoreguidelines-pro-type-reinterpret-cast)
    const std::string request = "GET " + path +
                                " HTTP/1.1\r\nHost: corral\r\nAuthorization: Bearer " + token +
                                "\r\nConnection: close\r\n\r\n";
    if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
        static_cast<ssize_t>(request.size())) {
      char buf[64] = {};
      const ssize_t n = ::recv(fd, buf, sizeof buf - 1, 0);
      if (n > 12 && std::string_view(buf, 9) == "HTTP/1.1 ") status = std::atoi(buf + 9);
    }
  }
  ::close(fd);
  return status;
}

json error_of(const httplib::Result& r) {
  return r ? json::parse(r->body, nullptr, false).value("error", json()) : json();
}

TEST(Limits, SizeNestingAndRateEachHaveTheirOwnError) {
  ServerProcess server({"--sim-profile", "zero", "--rate-limit", "20", "--rate-burst", "10"});
  ASSERT_TRUE(server.start()) << server.log();
  std::unique_ptr<httplib::Client> http = server.client();

  // Size: a body over 64 KiB.
  const std::string big = R"({"name": ")" + std::string(70 * 1024, 'a') + R"("})";
  httplib::Result r = http->Post("/v1/vms", big, "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(error_of(r)["code"], "too_large") << r->body;

  // Nesting: 17 levels is refused as such; 16 gets past the nesting check.
  auto nested = [](int depth) {
    return R"({"name": "n", "image": "tiny", "vcpus": 1, "memory_mib": 128, "x": )" +
           std::string(static_cast<std::size_t>(depth - 1), '[') +
           std::string(static_cast<std::size_t>(depth - 1), ']') + "}";
  };
  r = http->Post("/v1/vms", nested(17), "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(error_of(r)["message"].get<std::string>().find("nests deeper than 16 levels"),
            std::string::npos)
      << r->body;
  r = http->Post("/v1/vms", nested(16), "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(error_of(r)["message"].get<std::string>().find("unknown field 'x'"), std::string::npos)
      << "refused for its unknown field, not its depth: " << r->body;

  // Rate: 10 at once, then 20 a second; creations beyond are refused and create nothing.
  int limited = 0;
  int created = 0;
  for (int i = 0; i < 60; ++i) {
    r = http->Post(
        "/v1/vms",
        json{
            {"name", "r" + std::to_string(i)}, {"image", "tiny"}, {"vcpus", 1}, {"memory_mib", 128}}
            .dump(),
        "application/json");
    ASSERT_TRUE(r);
    if (r->status == 202) ++created;
    if (r->status != 429) continue;
    ++limited;
    const json error = error_of(r);
    EXPECT_EQ(error["code"], "rate_limited") << r->body;
    EXPECT_NE(error["message"].get<std::string>().find("requests a second"), std::string::npos);
    EXPECT_EQ(r->get_header_value("Retry-After"), "1");
  }
  EXPECT_GT(limited, 0);
  EXPECT_EQ(http->Get("/healthz")->status, 200) << "health checks are never limited";
  EXPECT_EQ(status_from("127.0.0.2", server.port(), "/v1/vms", server.admin_token()), 200)
      << "another client address has its own allowance";
  std::this_thread::sleep_for(1200ms);
  r = http->Get("/v1/vms?limit=1000");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << "the allowance refills";
  EXPECT_EQ(json::parse(r->body)["vms"].size(), static_cast<std::size_t>(created))
      << "a refused creation created nothing";
  std::printf("limits: 60 creations in a burst: %d accepted, %d refused with 429\n", created,
              limited);
}

}  // namespace
}  // namespace corral::testing
