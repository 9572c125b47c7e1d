#include "cluster/server_names.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>

namespace corral::cluster {
namespace {

bool has(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

TEST(ServerNames, LoopbackIsDecidedOnTheTextAlone) {
  for (const char* host : {"localhost", "127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"}) {
    EXPECT_TRUE(is_loopback_host(host)) << host;
  }
  for (const char* host :
       {"0.0.0.0", "::", "", "10.0.0.1", "128.0.0.1", "::2", "localhost.", "localhost.example.com",
        "127.0.0.1.example", "::ffff:10.0.0.1", "myhost"}) {
    EXPECT_FALSE(is_loopback_host(host)) << host;
  }
  EXPECT_TRUE(is_wildcard_host("0.0.0.0"));
  EXPECT_TRUE(is_wildcard_host("::"));
  EXPECT_FALSE(is_wildcard_host("127.0.0.1"));
}

TEST(ServerNames, TheLoopbackNamesTheBindHostAndTheMachinesNameOnceEach) {
  const std::vector<std::string> names = server_cert_names({"127.0.0.1", "api.lan", "api.lan"});
  ASSERT_GE(names.size(), 4U);
  EXPECT_EQ(names[0], "localhost");
  EXPECT_EQ(names[1], "127.0.0.1");
  EXPECT_EQ(names[2], "::1");
  EXPECT_EQ(names[3], "api.lan");
  EXPECT_EQ(std::count(names.begin(), names.end(), "api.lan"), 1);
  EXPECT_EQ(std::count(names.begin(), names.end(), "127.0.0.1"), 1);
  char hostname[256] = {};
  ASSERT_EQ(::gethostname(hostname, sizeof hostname - 1), 0);
  EXPECT_TRUE(has(names, hostname));
}

TEST(ServerNames, AWildcardNamesEveryAddressOfTheMachineButNotItself) {
  const std::vector<std::string> names = server_cert_names({"0.0.0.0"});
  EXPECT_FALSE(has(names, "0.0.0.0"));
  for (const std::string& address : local_addresses()) EXPECT_TRUE(has(names, address)) << address;
}

}  // namespace
}  // namespace corral::cluster
