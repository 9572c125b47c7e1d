// Which CA the CLI verifies an https:// server with (--ca-cert, CORRAL_CA_CERT, then the local
// server's cluster CA), and that an https:// client is never made without one.
#include "cli/trust.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "cli/client.h"
#include "cli/credentials.h"

namespace corral::cli {
namespace {

namespace fs = std::filesystem;

class TrustTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "corral-trust-XXXXXX").string();
    dir_ = ::mkdtemp(pattern.data());
    fs::create_directories(dir_ / "var" / "cluster");
    std::ofstream(dir_ / "var" / kClusterCaFile) << "-----BEGIN CERTIFICATE-----\n";
    ::setenv(kDataDirEnv, (dir_ / "var").c_str(), 1);
    ::unsetenv(kCaCertEnv);
  }
  void TearDown() override {
    ::unsetenv(kDataDirEnv);
    ::unsetenv(kCaCertEnv);
    fs::remove_all(dir_);
  }
  fs::path dir_;
};

TEST_F(TrustTest, TheFlagThenTheEnvironmentThenTheLocalServersClusterCa) {
  const std::string local = (dir_ / "var" / "cluster" / "ca.crt").string();
  EXPECT_EQ(ca_cert_for(""), local);
  ::setenv(kCaCertEnv, "/etc/corral/ca.crt", 1);
  EXPECT_EQ(ca_cert_for(""), "/etc/corral/ca.crt");
  EXPECT_EQ(ca_cert_for("/tmp/flag.crt"), "/tmp/flag.crt");
  ::unsetenv(kCaCertEnv);
  ::unsetenv(kDataDirEnv);
  EXPECT_EQ(ca_cert_for(""), "var/cluster/ca.crt") << "./var, the server's default data dir";
}

TEST_F(TrustTest, AnHttpsClientNeedsAReadableCaAndAPlainOneNone) {
  const CliResult<Client> trusted = make_client("https://127.0.0.1:8780", "", ca_cert_for(""));
  ASSERT_TRUE(trusted) << trusted.error().error.message;
  EXPECT_TRUE(trusted->server_url().tls);
  EXPECT_EQ(trusted->ca_cert(), ca_cert_for(""));

  for (const std::string& ca : {std::string(), (dir_ / "missing.crt").string()}) {
    const CliResult<Client> untrusted = make_client("https://127.0.0.1:8780", "", ca);
    ASSERT_FALSE(untrusted) << ca;
    EXPECT_EQ(untrusted.error().kind, FailureKind::kUsage);
    const std::string& message = untrusted.error().error.message;
    EXPECT_NE(message.find("no CA certificate"), std::string::npos) << message;
    EXPECT_NE(message.find("--ca-cert"), std::string::npos) << message;
    EXPECT_NE(message.find("CORRAL_DATA_DIR"), std::string::npos) << message;
    if (!ca.empty()) EXPECT_NE(message.find(ca), std::string::npos) << message;
  }

  // Plain HTTP (a server started with --plain-http) verifies nothing, so needs no CA.
  const CliResult<Client> plain = make_client("http://127.0.0.1:8780", "", "");
  ASSERT_TRUE(plain);
  EXPECT_FALSE(plain->server_url().tls);
}

}  // namespace
}  // namespace corral::cli
