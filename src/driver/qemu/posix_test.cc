#include "driver/qemu/posix.h"

#include <gtest/gtest.h>
#include <unistd.h>

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

}  // namespace
}  // namespace corral::driver::qemu
