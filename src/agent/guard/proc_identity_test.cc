#include "agent/guard/proc_identity.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <optional>
#include <sstream>
#include <string>

namespace corral::agent::guard {
namespace {

// A child process that sleeps until killed; reaped by the test.
pid_t start_sleeper() {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::execl("/bin/sleep", "sleep", "60", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

// Alive and not a zombie (a SIGKILLed, unreaped child is a zombie: state 'Z').
bool running(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return false;
  const auto close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() && line[close + 2] != 'Z';
}

int reap(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

struct StatCase {
  const char* name;
  std::string line;
  std::optional<std::uint64_t> start;
};

TEST(ProcIdentity, ParsesStartTimeField22) {
  const std::string tail = " S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 424242 19 20 21\n";
  const StatCase cases[] = {
      {"plain", "123 (sleep)" + tail, 424242},
      {"spaces in comm", "123 (my vm 1)" + tail, 424242},
      {"parens in comm", "123 (a) b) (c)" + tail, 424242},
      {"too few fields", "123 (sleep) S 1 2 3", std::nullopt},
      {"no paren", "123 sleep S 1 2", std::nullopt},
      {"not a number", "123 (x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 4x2 19\n",
       std::nullopt},
      {"start time last", "1 (x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 99\n", 99},
  };
  for (const auto& c : cases) {
    auto got = parse_stat_start_time(c.line);
    if (c.start) {
      ASSERT_TRUE(got) << c.name << ": " << got.error().message;
      EXPECT_EQ(*got, *c.start) << c.name;
    } else {
      EXPECT_FALSE(got) << c.name;
    }
  }
}

TEST(ProcIdentity, IdentifiesItself) {
  auto me = identify_process(::getpid());
  ASSERT_TRUE(me) << me.error().message;
  EXPECT_EQ(me->pid, ::getpid());
  EXPECT_GT(me->start_time, 0U);
  auto again = identify_process(::getpid());
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *me);
}

TEST(ProcIdentity, RejectsBadPids) {
  EXPECT_FALSE(identify_process(0));
  EXPECT_FALSE(identify_process(-1));
  EXPECT_FALSE(kill_identified(ProcessIdentity{0, 1}));
  EXPECT_FALSE(kill_identified(ProcessIdentity{-1, 1}));
}

TEST(ProcIdentity, KillsTheIdentifiedChild) {
  const pid_t child = start_sleeper();
  ASSERT_GT(child, 0);
  auto who = identify_process(child);
  ASSERT_TRUE(who) << who.error().message;
  auto outcome = kill_identified(*who);
  ASSERT_TRUE(outcome) << outcome.error().message;
  EXPECT_EQ(*outcome, KillOutcome::kKilled);
  const int status = reap(child);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
  // Reaped: the pid is free (or, rarely, someone else's by now: never killed either way).
  auto again = kill_identified(*who);
  ASSERT_TRUE(again);
  EXPECT_NE(*again, KillOutcome::kKilled);
}

TEST(ProcIdentity, NeverKillsAProcessWithAnotherStartTime) {
  // The pid of an earlier process reused by this child: same pid, different start time.
  const pid_t child = start_sleeper();
  ASSERT_GT(child, 0);
  auto who = identify_process(child);
  ASSERT_TRUE(who) << who.error().message;
  for (const std::uint64_t other : {who->start_time - 1, who->start_time + 1, std::uint64_t{0}}) {
    auto outcome = kill_identified(ProcessIdentity{child, other});
    ASSERT_TRUE(outcome) << outcome.error().message;
    EXPECT_EQ(*outcome, KillOutcome::kReused);
  }
  ::usleep(50'000);
  EXPECT_TRUE(running(child));
  ::kill(child, SIGKILL);
  reap(child);
}

TEST(ProcIdentity, KillingAZombieChildIsHarmless) {
  const pid_t child = start_sleeper();
  auto who = identify_process(child);
  ASSERT_TRUE(who);
  ::kill(child, SIGKILL);
  // Not reaped yet: still in /proc with the same start time.
  for (int i = 0; i < 100 && running(child); ++i) ::usleep(10'000);
  auto outcome = kill_identified(*who);
  ASSERT_TRUE(outcome) << outcome.error().message;
  EXPECT_NE(*outcome, KillOutcome::kReused);
  reap(child);
}

}  // namespace
}  // namespace corral::agent::guard
