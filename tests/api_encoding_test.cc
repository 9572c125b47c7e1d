// How replies are compressed: a client that accepts Brotli (every browser) gets gzip, because
// cpp-httplib 0.11's Brotli runs at quality 11 (~1 s for a 1,000-VM page against 30 ms with
// gzip: api/server.cc, drop_brotli); a client that accepts nothing gets plain JSON.
#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>
#include <string>

#include "support/server_process.h"

namespace corral::testing {
namespace {

TEST(ApiEncodingTest, BrowsersGetGzipNotBrotli) {
  ServerProcess server({"--sim-hosts", "1"});
  ASSERT_TRUE(server.start()) << server.log();
  const auto client = server.client();
  for (int i = 0; i < 20; ++i) {  // enough JSON that the library compresses it
    ASSERT_EQ(client
                  ->Post("/v1/vms",
                         nlohmann::json{{"name", "vm-" + std::to_string(i)},
                                        {"image", "x"},
                                        {"vcpus", 1},
                                        {"memory_mib", 16}}
                             .dump(),
                         "application/json")
                  ->status,
              202);
  }
  struct Case {
    const char* accept;
    const char* expected;  // Content-Encoding; "" none
  };
  for (const Case& c :
       {Case{"gzip, deflate, br, zstd", "gzip"}, Case{"br;q=1.0, gzip;q=0.8", "gzip"},
        Case{"br", ""}, Case{"identity", ""}}) {
    httplib::Headers headers = {{"Accept-Encoding", c.accept}};
    client->set_decompress(false);
    const httplib::Result r = client->Get("/v1/vms?limit=1000", headers);
    ASSERT_TRUE(r) << c.accept;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->get_header_value("Content-Encoding"), c.expected) << c.accept;
  }
}

}  // namespace
}  // namespace corral::testing
