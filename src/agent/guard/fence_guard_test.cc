// The fence guard's pure parts: the lease, the protocol, and process identity.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "agent/guard/fence_lease.h"
#include "agent/guard/fence_protocol.h"
#include "agent/guard/proc_identity.h"

namespace corral::agent::guard {
namespace {

const FencedVm kA{1, 100, 5000};
const FencedVm kB{2, 200, 6000};

TEST(FenceLeaseTest, ExpiresOnceAfterTheLeaseAndNotBefore) {
  struct Case {
    const char* name;
    Millis lease_ms;
    std::vector<FencedVm> vms;
    Millis at;  // after the renew at 1000
    std::size_t expired;
  };
  const std::vector<Case> cases = {
      {"before the lease", 6000, {kA, kB}, 6999, 0},
      {"at the lease", 6000, {kA, kB}, 7000, 2},
      {"long after", 6000, {kA}, 100'000, 1},
      {"lease 0 never expires", 0, {kA}, 1'000'000, 0},
      {"nothing to fence", 6000, {}, 100'000, 0},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    FenceLease lease;
    lease.renew(1000, c.lease_ms, c.vms);
    EXPECT_EQ(lease.expire(c.at).size(), c.expired);
    if (c.expired > 0) {
      EXPECT_TRUE(lease.expire(c.at + 10'000).empty()) << "a process is fenced once";
    }
  }
}

TEST(FenceLeaseTest, RenewMovesTheDeadlineAndReplacesTheSet) {
  FenceLease lease;
  lease.renew(0, 6000, {kA, kB});
  lease.renew(5000, 6000, {kB});
  EXPECT_TRUE(lease.expire(10'999).empty());
  EXPECT_EQ(lease.expire(11'000), std::vector<FencedVm>{kB});
}

TEST(FenceLeaseTest, ClearDisarms) {
  FenceLease lease;
  lease.renew(0, 6000, {kA});
  lease.clear();
  EXPECT_FALSE(lease.armed());
  EXPECT_FALSE(lease.deadline());
  EXPECT_TRUE(lease.expire(1'000'000).empty());
}

TEST(FenceProtocolTest, RequestsRoundTrip) {
  for (const auto& request :
       {GuardRequest{GuardOp::kRenew, 6000, {kA, kB}}, GuardRequest{GuardOp::kClear, 0, {}},
        GuardRequest{GuardOp::kStatus, 0, {}}}) {
    std::string line = render_request(request);
    ASSERT_EQ(line.back(), '\n');
    line.pop_back();
    const auto parsed = parse_request(line);
    ASSERT_TRUE(parsed) << parsed.error().message;
    EXPECT_EQ(parsed->op, request.op);
    EXPECT_EQ(parsed->lease_ms, request.lease_ms);
    EXPECT_EQ(parsed->vms, request.vms);
  }
}

TEST(FenceProtocolTest, HostileInputIsAnErrorNeverACrash) {
  const std::vector<std::string> bad = {
      "",
      "null",
      "[]",
      "{",
      R"({"op":"renew"})",
      R"({"v":2,"op":"status"})",
      R"({"v":1})",
      R"({"v":1,"op":"format-disk"})",
      R"({"v":1,"op":"renew"})",
      R"({"v":1,"op":"renew","lease_ms":-1})",
      R"({"v":1,"op":"renew","lease_ms":"6000"})",
      R"({"v":1,"op":"renew","lease_ms":6000,"vms":{}})",
      R"({"v":1,"op":"renew","lease_ms":6000,"vms":[{"vm":1,"pid":1,"start_time":3}]})",
      R"({"v":1,"op":"renew","lease_ms":6000,"vms":[{"vm":1,"pid":-5,"start_time":3}]})",
      R"({"v":1,"op":"renew","lease_ms":6000,"vms":[{"vm":1,"pid":99}]})",
      R"({"v":1,"op":"renew","lease_ms":6000,"vms":[{"vm":1,"pid":99,"start_time":-3}]})",
      std::string(kMaxLineBytes + 1, ' '),
  };
  for (const auto& line : bad) {
    EXPECT_FALSE(parse_request(line)) << line.substr(0, 80);
  }
  EXPECT_FALSE(parse_reply("garbage"));
  EXPECT_FALSE(parse_reply(R"({"ok":false,"error":"x"})"));
}

TEST(FenceProtocolTest, StatusRoundTrips) {
  GuardStatus s{true, 6000, 1234, {kA}, 3};
  std::string line = render_status(s);
  line.pop_back();
  const auto parsed = parse_reply(line);
  ASSERT_TRUE(parsed);
  EXPECT_TRUE(parsed->armed);
  EXPECT_EQ(parsed->remaining_ms, 1234);
  EXPECT_EQ(parsed->vms, std::vector<FencedVm>{kA});
  EXPECT_EQ(parsed->fenced, 3);
}

pid_t sleeper() {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::pause();
    ::_exit(0);
  }
  return pid;
}

TEST(ProcIdentityTest, KillsOnlyTheProcessItWasGiven) {
  const pid_t child = sleeper();
  ASSERT_GT(child, 0);
  const auto start = start_time(child);
  ASSERT_TRUE(start);
  // Another start time: another process with this pid; never signalled.
  EXPECT_FALSE(kill_verified(child, *start + 1));
  EXPECT_EQ(::waitpid(child, nullptr, WNOHANG), 0) << "the wrong identity killed it";
  EXPECT_TRUE(kill_verified(child, *start));
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  // Gone (reaped): nothing to kill.
  EXPECT_FALSE(kill_verified(child, *start));
  EXPECT_FALSE(start_time(child));
}

}  // namespace
}  // namespace corral::agent::guard
