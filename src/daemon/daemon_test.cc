#include "daemon/daemon.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

namespace corral::daemon {
namespace {

// A fresh directory under the test's temp dir, removed after.
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "corral-daemon-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(DataDirLock, SecondLockOnTheSameDirFailsNamingDirAndHolder) {
  TempDir dir;
  Result<DataDirLock> first = DataDirLock::acquire(dir.path(), "corral server");
  ASSERT_TRUE(first) << first.error().message;
  Result<DataDirLock> second = DataDirLock::acquire(dir.path(), "corral server");
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, ErrorCode::kUnavailable);
  const std::string expected = "data dir " + dir.path() +
                               " is in use by another corral server (pid " +
                               std::to_string(::getpid()) + ")";
  EXPECT_EQ(second.error().message, expected);
}

TEST(DataDirLock, ReleasedWhenDestroyedOrMovedFrom) {
  TempDir dir;
  {
    Result<DataDirLock> first = DataDirLock::acquire(dir.path(), "corral agent");
    ASSERT_TRUE(first);
    DataDirLock moved = std::move(*first);  // the moved-from lock must not release it
    EXPECT_FALSE(DataDirLock::acquire(dir.path(), "corral agent"));
  }
  EXPECT_TRUE(DataDirLock::acquire(dir.path(), "corral agent"));
}

TEST(DataDirLock, MissingDirIsAnError) {
  TempDir dir;
  Result<DataDirLock> lock = DataDirLock::acquire(dir.path() + "/absent", "corral server");
  ASSERT_FALSE(lock);
  EXPECT_NE(lock.error().message.find("cannot use data dir"), std::string::npos);
}

TEST(PrepareDataDir, CreatesMissingDirsPrivateAndRefusesAFile) {
  TempDir dir;
  const std::string nested = dir.path() + "/a/b/var";
  ASSERT_TRUE(prepare_data_dir(nested));
  struct stat st {};
  ASSERT_EQ(::stat(nested.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_TRUE(prepare_data_dir(nested)) << "an existing dir is fine";
  ASSERT_TRUE(DataDirLock::acquire(nested, "corral server"));
  const Status file = prepare_data_dir(nested + "/corral.lock");
  ASSERT_FALSE(file);
  EXPECT_NE(file.error().message.find("is not a directory"), std::string::npos);
}

TEST(HostPort, TextBracketsIpv6Hosts) {
  struct Case {
    const char* host;
    int port;
    const char* text;
  };
  for (const Case& c :
       {Case{"127.0.0.1", 8780, "127.0.0.1:8780"}, Case{"localhost", 0, "localhost:0"},
        Case{"::1", 8780, "[::1]:8780"}, Case{"::", 65535, "[::]:65535"},
        Case{"fe80::1%eth0", 80, "[fe80::1%eth0]:80"}}) {
    EXPECT_EQ(host_port_text(c.host, c.port), c.text);
    EXPECT_EQ((HostPort{c.host, c.port}.text()), c.text);
  }
}

TEST(HostPort, ParsesWhatTextWritesAndRefusesTheRest) {
  struct Case {
    const char* text;
    std::optional<HostPort> parsed;
  };
  const Case cases[] = {
      {"127.0.0.1:8780", HostPort{"127.0.0.1", 8780}},
      {"[::1]:8780", HostPort{"::1", 8780}},
      {"localhost:0", HostPort{"localhost", 0}},
      {"[::]:65535", HostPort{"::", 65535}},
      {"::1:8780", std::nullopt},     // IPv6 without brackets
      {"127.0.0.1", std::nullopt},    // no port
      {":8780", std::nullopt},        // no host
      {"[]:8780", std::nullopt},      // empty bracketed host
      {"[::1]8780", std::nullopt},    // no ':' after ']'
      {"[::1:8780", std::nullopt},    // unclosed bracket
      {"host:65536", std::nullopt},   // port out of range
      {"host:123456", std::nullopt},  // too many digits
      {"host:80a", std::nullopt},     // not a number
      {"host:", std::nullopt},        // empty port
      {"host:-1", std::nullopt},      // sign
  };
  for (const Case& c : cases) {
    const std::optional<HostPort> got = parse_host_port(c.text);
    ASSERT_EQ(got.has_value(), c.parsed.has_value()) << c.text;
    if (!got) continue;
    EXPECT_EQ(got->host, c.parsed->host) << c.text;
    EXPECT_EQ(got->port, c.parsed->port) << c.text;
    EXPECT_EQ(got->text(), c.text) << "round trip";
  }
}

TEST(Logging, LevelNamesAreCheckedAndSet) {
  EXPECT_TRUE(set_up_logging("debug"));
  EXPECT_TRUE(set_up_logging("info"));
  const Status bad = set_up_logging("loud");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
}

TEST(Signals, NamesTheStopSignals) {
  EXPECT_EQ(signal_name(SIGTERM), "SIGTERM");
  EXPECT_EQ(signal_name(SIGINT), "SIGINT");
  EXPECT_EQ(signal_name(SIGHUP), "signal");
}

}  // namespace
}  // namespace corral::daemon
