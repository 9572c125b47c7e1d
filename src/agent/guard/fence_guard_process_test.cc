// The real fence guard process (`corral fence-guard`), started by its client as an agent
// starts it: it stops the listed guests when the lease runs out, only then, and outlives the
// client that started it.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "agent/guard/fence_guard_client.h"
#include "agent/guard/fence_guard_server.h"

namespace corral::agent::guard {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class FenceGuardProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "corral-guard-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    dir_ = templ;
  }
  void TearDown() override {
    for (const pid_t pid : children_) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    // The guard exits when its data dir goes (it checks every second); ask it first.
    if (const pid_t guard = guard_pid(); guard > 0) ::kill(guard, SIGTERM);
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  // A stand-in guest: a child that sleeps until killed.
  pid_t guest() {
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::pause();
      ::_exit(0);
    }
    children_.push_back(pid);
    return pid;
  }
  static bool alive(pid_t pid) { return ::waitpid(pid, nullptr, WNOHANG) == 0; }
  bool wait_dead(pid_t pid, std::chrono::milliseconds timeout) {
    for (auto until = std::chrono::steady_clock::now() + timeout;
         std::chrono::steady_clock::now() < until; std::this_thread::sleep_for(20ms)) {
      if (!alive(pid)) return true;
    }
    return !alive(pid);
  }
  // The guard's pid, from the process table (the guard writes none): the process whose
  // command line is `corral fence-guard --data-dir <dir_>`.
  pid_t guard_pid() const {
    for (const auto& e : fs::directory_iterator("/proc")) {
      const std::string name = e.path().filename().string();
      if (name.find_first_not_of("0123456789") != std::string::npos) continue;
      std::ifstream in(e.path() / "cmdline");
      std::string cmd((std::istreambuf_iterator<char>(in)), {});
      if (cmd.find("fence-guard") != std::string::npos &&
          cmd.find(dir_ + std::string(1, '\0')) != std::string::npos) {
        return static_cast<pid_t>(std::stol(name));
      }
    }
    return -1;
  }
  Result<FenceGuardClient> client() {
    return FenceGuardClient::connect_or_spawn(dir_, CORRAL_BINARY);
  }

  std::string dir_;
  std::vector<pid_t> children_;
};

TEST_F(FenceGuardProcessTest, StopsTheGuestsWhenTheLeaseRunsOutEvenWithoutItsAgent) {
  const pid_t fenced = guest();
  const pid_t kept = guest();
  {
    auto c = client();
    ASSERT_TRUE(c) << c.error().message;
    const auto vm = fenced_vm(7, fenced);
    ASSERT_TRUE(vm);
    const auto s = c->renew(800, {*vm});
    ASSERT_TRUE(s) << s.error().message;
    EXPECT_TRUE(s->armed);
  }  // the client (the agent) is gone; the guard holds the lease
  EXPECT_TRUE(alive(fenced));
  EXPECT_TRUE(wait_dead(fenced, 5s)) << "the lease ran out and the guest still runs";
  EXPECT_TRUE(alive(kept)) << "a guest not listed was stopped";
  auto again = client();
  ASSERT_TRUE(again);
  const auto s = again->status();
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->armed);
  EXPECT_EQ(s->fenced, 1);
}

TEST_F(FenceGuardProcessTest, RenewedInTimeOrClearedNothingStops) {
  const pid_t a = guest();
  auto c = client();
  ASSERT_TRUE(c) << c.error().message;
  const auto vm = fenced_vm(1, a);
  ASSERT_TRUE(vm);
  for (int i = 0; i < 8; ++i) {
    ASSERT_TRUE(c->renew(600, {*vm}));
    std::this_thread::sleep_for(200ms);
  }
  EXPECT_TRUE(alive(a));
  ASSERT_TRUE(c->clear());
  std::this_thread::sleep_for(1s);
  EXPECT_TRUE(alive(a));
}

TEST_F(FenceGuardProcessTest, OneGuardPerDataDir) {
  auto c = client();
  ASSERT_TRUE(c) << c.error().message;
  const pid_t first = guard_pid();
  ASSERT_GT(first, 0);
  // A second guard on the same dir refuses at once.
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::execl(CORRAL_BINARY, CORRAL_BINARY, "fence-guard", "--data-dir", dir_.c_str(), nullptr);
    ::_exit(127);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1);
  EXPECT_EQ(guard_pid(), first);
  // A second client reaches the same guard.
  auto c2 = client();
  ASSERT_TRUE(c2);
  EXPECT_TRUE(c2->status());
}

}  // namespace
}  // namespace corral::agent::guard
