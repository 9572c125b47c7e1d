// The model against the golden tables written from the sources (golden.h), both ways.
#include "lifecycle/golden/golden.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace corral::lifecycle::golden {
namespace {

class Golden : public ::testing::TestWithParam<NamedCheck> {};

TEST_P(Golden, ModelAgreesWithTheSourcesBothWays) {
  const Mismatches found = GetParam().run(std::numeric_limits<std::size_t>::max());
  std::string shown;
  std::size_t n = 0;
  for (const std::string& line : found.lines()) {
    if (++n > 60) break;
    shown += "\n  " + line;
  }
  EXPECT_TRUE(found.empty()) << found.size() << " mismatches with the " << GetParam().name
                             << " golden table:" << shown;
}

INSTANTIATE_TEST_SUITE_P(Tables, Golden, ::testing::ValuesIn(all_checks()),
                         [](const ::testing::TestParamInfo<NamedCheck>& param) {
                           return std::string(param.param.name);
                         });

// The moments are what the view and outcome tables are checked at: every (row, origin) the
// table allows must produce them, each phase running and failed, and the end.
TEST(GoldenMoments, EveryRowAndOriginHasItsMoments) {
  std::set<std::tuple<Action, State, bool>> seen;
  for (const Moment& m : moments()) {
    if (m.outcome != Outcome::kAtRest) seen.insert({m.action, m.origin, m.during});
  }
  std::size_t expected = 0;
  for (const Transition& t : transitions()) {
    if (is_meta_target(t.target)) continue;
    for (State s : kAllStates) {
      if (!t.from.contains(s)) continue;
      if (t.when_idle && find_idle(t.action, s) == &t) {
        ++expected;
        EXPECT_TRUE(seen.contains({t.action, s, false}))
            << action_name(t.action) << " from " << state_name(s);
      }
    }
  }
  EXPECT_GT(expected, 0U);
}

}  // namespace
}  // namespace corral::lifecycle::golden
