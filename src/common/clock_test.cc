// format_time and parse_time are each other's inverse, and parse_time takes Nova's usage
// API forms and nothing else.
#include "common/clock.h"

#include <gtest/gtest.h>

namespace corral {
namespace {

TEST(ClockTest, FormatTimeWritesIso8601UtcWithMilliseconds) {
  const std::pair<Millis, const char*> cases[] = {
      {0, "1970-01-01T00:00:00.000Z"},
      {1'796'518'923'005, "2026-12-06T01:02:03.005Z"},
      {951'782'400'000, "2000-02-29T00:00:00.000Z"},  // a leap day
      {1'798'761'599'999, "2026-12-31T23:59:59.999Z"},
      {-1, "1969-12-31T23:59:59.999Z"},
  };
  for (const auto& [ms, text] : cases) EXPECT_EQ(format_time(ms), text) << ms;
}

TEST(ClockTest, ParseTimeIsFormatTimesInverse) {
  for (const Millis ms : {Millis{0}, Millis{1'700'000'000'123}, Millis{1'798'761'599'999}}) {
    EXPECT_EQ(parse_time(format_time(ms)), ms) << format_time(ms);
  }
}

TEST(ClockTest, ParseTimeTakesNovasFormsAndRefusesTheRest) {
  struct Case {
    const char* text;
    std::optional<Millis> ms;
  };
  const Case cases[] = {
      {"2026-12-06", 1'796'515'200'000},
      {"2026-12-06T01:02:03", 1'796'518'923'000},
      {"2026-12-06T01:02:03Z", 1'796'518'923'000},
      {"2026-12-06T01:02:03.5", 1'796'518'923'500},
      {"2026-12-06T01:02:03.123456", 1'796'518'923'123},
      {"2026-02-30", std::nullopt},
      {"2026-13-01", std::nullopt},
      {"2026-12-06T25:00:00", std::nullopt},
      {"2026-12-06 01:02:03", std::nullopt},
      {"2026-12-06T01:02:03.", std::nullopt},
      {"20261206", std::nullopt},
      {"", std::nullopt},
      {"yesterday", std::nullopt},
  };
  for (const Case& c : cases) EXPECT_EQ(parse_time(c.text), c.ms) << c.text;
}

}  // namespace
}  // namespace corral
