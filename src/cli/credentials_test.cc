// Where the CLI's token comes from, in order: --token, CORRAL_TOKEN, the saved login for the
// server, and the local admin credential — the last only for a server on loopback.
#include "cli/credentials.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace corral::cli {
namespace {

namespace fs = std::filesystem;

class CredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "corral-cred-XXXXXX").string();
    dir_ = ::mkdtemp(pattern.data());
    fs::create_directories(dir_ / "var");
    std::ofstream(dir_ / "var" / kAdminTokenFile) << "crl_local\n";
    ::setenv("XDG_CONFIG_HOME", (dir_ / "cfg").c_str(), 1);
    ::setenv(kDataDirEnv, (dir_ / "var").c_str(), 1);
    ::unsetenv(kTokenEnv);
  }
  void TearDown() override {
    ::unsetenv("XDG_CONFIG_HOME");
    ::unsetenv(kDataDirEnv);
    ::unsetenv(kTokenEnv);
    fs::remove_all(dir_);
  }
  fs::path dir_;
};

TEST_F(CredentialsTest, TheFirstSourceThatHasATokenWins) {
  const std::string local = "http://127.0.0.1:8780";
  EXPECT_EQ(token_for(local, ""), "crl_local");
  EXPECT_EQ(token_for("http://localhost:8780", ""), "crl_local");
  EXPECT_EQ(token_for("http://[::1]:8780", ""), "crl_local");
  ASSERT_TRUE(save_token(local, "crl_saved"));
  EXPECT_EQ(token_for(local, ""), "crl_saved");
  EXPECT_EQ(fs::status(credentials_path()).permissions() & fs::perms::others_read, fs::perms::none);
  ::setenv(kTokenEnv, "crl_env", 1);
  EXPECT_EQ(token_for(local, ""), "crl_env");
  EXPECT_EQ(token_for(local, "crl_flag"), "crl_flag");
  ::unsetenv(kTokenEnv);
  ASSERT_TRUE(forget_token(local));
  EXPECT_EQ(token_for(local, ""), "crl_local");
}

TEST_F(CredentialsTest, TheLocalAdminCredentialNeverGoesToAServerElsewhere) {
  for (const char* url :
       {"http://10.0.0.5:8780", "https://corral.example.com", "http://127.0.0.1.evil.example:80",
        "http://[::2]:8780", "https://10.0.0.5:8780", "https://127.0.0.1.evil.example",
        "https://[::2]:8780", "https://localhost.evil.example:8780"}) {
    EXPECT_EQ(token_for(url, ""), "") << url;
  }
}

// HTTPS changes what the wire shows, not who may receive the local credential: loopback only.
TEST_F(CredentialsTest, HttpsOnTheLoopbackGetsTheLocalAdminCredentialToo) {
  for (const char* url : {"https://127.0.0.1:8780", "https://localhost:8780", "https://[::1]:8780",
                          "https://127.0.0.1:8780/api"}) {
    EXPECT_EQ(token_for(url, ""), "crl_local") << url;
  }
  EXPECT_EQ(local_data_dir(), (dir_ / "var").string());
  ::unsetenv(kDataDirEnv);
  EXPECT_EQ(local_data_dir(), "var");
}

}  // namespace
}  // namespace corral::cli
