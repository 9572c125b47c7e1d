#include "driver/qemu/posix.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <thread>

namespace corral::driver::qemu {
namespace {

using std::chrono::milliseconds;

TEST(PosixTest, RunCommandGivesOutputAndExitCodeWithoutAShell) {
  Result<CommandResult> echo = run_command({"echo", "a;b", "$(x)"}, milliseconds(5000));
  ASSERT_TRUE(echo.has_value());
  EXPECT_EQ(echo->exit_code, 0);
  EXPECT_EQ(echo->output, "a;b $(x)\n") << "arguments reach the program as given";
  Result<CommandResult> false_ = run_command({"false"}, milliseconds(5000));
  ASSERT_TRUE(false_.has_value());
  EXPECT_EQ(false_->exit_code, 1);
  EXPECT_FALSE(run_command({"/nonexistent/program"}, milliseconds(1000)).has_value());
}

TEST(PosixTest, ACommandPastItsTimeoutIsKilled) {
  Result<CommandResult> slow = run_command({"sleep", "30"}, milliseconds(200));
  ASSERT_TRUE(slow.has_value());
  EXPECT_EQ(slow->exit_code, -1) << "killed, not finished";
}

TEST(PosixTest, ProcessesAreWatchedThroughPidfds) {
  EXPECT_TRUE(process_alive(::getpid()));
  EXPECT_FALSE(process_alive(0));
  EXPECT_FALSE(process_alive(1 << 30));
  EXPECT_NE(process_cmdline(::getpid()).find("qemu_driver_test"), std::string::npos);
  EXPECT_FALSE(open_pidfd(1 << 30).valid());
  EXPECT_FALSE(read_pidfile("/nonexistent/pid").has_value());
}

TEST(PosixTest, ProcessesAreFoundByNameAndCommandLine) {
  // run_command waits, so the process to find runs in a thread of ours meanwhile.
  const std::string marker = "987654.321";  // an argument no other process has
  std::thread sleeper([&] { (void)run_command({"sleep", marker}, milliseconds(5000)); });
  std::vector<pid_t> found;
  for (int i = 0; i < 200 && found.empty(); ++i) {
    found = pids_mentioning("sleep", marker);
    std::this_thread::sleep_for(milliseconds(10));
  }
  ASSERT_EQ(found.size(), 1U);
  EXPECT_NE(process_cmdline(found[0]).find(marker), std::string::npos);
  EXPECT_TRUE(pids_mentioning("qemu-system", marker).empty()) << "another name: not listed";
  ::kill(found[0], SIGKILL);
  sleeper.join();
  EXPECT_TRUE(pids_mentioning("sleep", marker).empty());
}

}  // namespace
}  // namespace corral::driver::qemu
