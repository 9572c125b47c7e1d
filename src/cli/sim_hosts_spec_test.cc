// The --sim-hosts names and the failure specs (--sim-fail, <data-dir>/sim-control lines).
#include "cli/sim_hosts_spec.h"

#include <gtest/gtest.h>

namespace corral::cli {
namespace {

TEST(SimHostsSpecTest, NamesSortInCreationOrder) {
  struct Case {
    int index;
    int count;
    const char* want;
  };
  for (const Case& c : {Case{1, 50, "sim-0001"}, Case{50, 50, "sim-0050"},
                        Case{7, 12000, "sim-00007"}, Case{12000, 12000, "sim-12000"}}) {
    EXPECT_EQ(sim_host_name("sim", c.index, c.count), c.want);
  }
}

TEST(SimHostsSpecTest, FailureSpecs) {
  struct Case {
    const char* spec;
    bool ok;
    const char* host;
    SimFailMode mode;
    std::int64_t after_ms;
  };
  const Case cases[] = {
      {"host=s-0003,mode=kill,after=10s", true, "s-0003", SimFailMode::kKill, 10'000},
      {"host=s-0003,after=250ms,mode=cut", true, "s-0003", SimFailMode::kCut, 250},
      {"mode=restore,host=a,after=2m", true, "a", SimFailMode::kRestore, 120'000},
      {"host=a,mode=kill", true, "a", SimFailMode::kKill, 0},
      {"host=a", false, "", SimFailMode::kKill, 0},               // no mode
      {"mode=kill", false, "", SimFailMode::kKill, 0},            // no host
      {"host=a,mode=explode", false, "", SimFailMode::kKill, 0},  // unknown mode
      {"host=a,mode=kill,after=soon", false, "", SimFailMode::kKill, 0},
      {"host=a,mode=kill,after=5h", false, "", SimFailMode::kKill, 0},
      {"host=a,mode=kill,when=5s", false, "", SimFailMode::kKill, 0},
      {"host=a,kill", false, "", SimFailMode::kKill, 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.spec);
    Result<SimFailure> got = parse_sim_failure(c.spec);
    ASSERT_EQ(got.has_value(), c.ok) << (got ? "" : got.error().message);
    if (!c.ok) {
      EXPECT_EQ(got.error().code, ErrorCode::kInvalidArgument);
      continue;
    }
    EXPECT_EQ(got->host, c.host);
    EXPECT_EQ(got->mode, c.mode);
    EXPECT_EQ(got->after_ms, c.after_ms);
  }
}

TEST(SimHostsSpecTest, ControlLines) {
  struct Case {
    const char* line;
    bool ok;
    const char* host;
    SimFailMode mode;
  };
  const Case cases[] = {
      {"kill sim-0007", true, "sim-0007", SimFailMode::kKill},
      {"  cut sim-0007\r", true, "sim-0007", SimFailMode::kCut},
      {"restore  sim-0007", true, "sim-0007", SimFailMode::kRestore},
      {"kill", false, "", SimFailMode::kKill},
      {"kill a b", false, "", SimFailMode::kKill},
      {"reboot a", false, "", SimFailMode::kKill},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.line);
    Result<SimFailure> got = parse_sim_control_line(c.line);
    ASSERT_EQ(got.has_value(), c.ok);
    if (!c.ok) continue;
    EXPECT_EQ(got->host, c.host);
    EXPECT_EQ(got->mode, c.mode);
    EXPECT_EQ(got->after_ms, 0);
  }
}

}  // namespace
}  // namespace corral::cli
