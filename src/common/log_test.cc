#include "common/log.h"

#include <gtest/gtest.h>

#include <regex>
#include <sstream>
#include <string>

namespace corral {
namespace {

// Redirects the log to a string for one test, and restores stderr and the level after.
class LogCapture {
 public:
  LogCapture() { set_log_output_for_test(&out_); }
  ~LogCapture() {
    set_log_output_for_test(nullptr);
    set_log_level(LogLevel::kInfo);
  }
  std::string text() const { return out_.str(); }

 private:
  std::ostringstream out_;
};

TEST(Log, LineHasTimeLevelEventAndFieldsInOrder) {
  LogCapture capture;
  log(LogLevel::kWarn, "signal", {{"signal", "SIGTERM"}, {"action", "shutting down"}});
  const std::regex line(
      R"(ts=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z level=warn event=signal signal=SIGTERM )"
      R"(action="shutting down"\n)");
  EXPECT_TRUE(std::regex_match(capture.text(), line)) << capture.text();
}

TEST(Log, LevelNamesAreOurs) {
  struct Case {
    LogLevel level;
    const char* printed;
  };
  for (const Case& c :
       {Case{LogLevel::kDebug, "level=debug "}, Case{LogLevel::kInfo, "level=info "},
        Case{LogLevel::kWarn, "level=warn "}, Case{LogLevel::kError, "level=error "}}) {
    LogCapture capture;
    set_log_level(LogLevel::kDebug);
    log(c.level, "e");
    EXPECT_NE(capture.text().find(c.printed), std::string::npos) << capture.text();
  }
}

TEST(Log, BelowTheLevelNothingIsWritten) {
  LogCapture capture;
  set_log_level(LogLevel::kWarn);
  EXPECT_FALSE(log_enabled(LogLevel::kInfo));
  EXPECT_TRUE(log_enabled(LogLevel::kError));
  log(LogLevel::kInfo, "quiet");
  log(LogLevel::kError, "loud");
  EXPECT_EQ(capture.text().find("quiet"), std::string::npos);
  EXPECT_NE(capture.text().find("event=loud"), std::string::npos);
}

TEST(Log, ValuesAreQuotedWhenNeeded) {
  struct Case {
    const char* value;
    const char* printed;
  };
  for (const Case& c : {Case{"plain", "plain"}, Case{"", "\"\""}, Case{"a b", "\"a b\""},
                        Case{"k=v", "\"k=v\""}, Case{"say \"hi\"", R"("say \"hi\"")"},
                        Case{"a\nb", R"("a\nb")"}, Case{"\x01", R"("\u0001")"}}) {
    EXPECT_EQ(log_value(c.value), c.printed) << c.value;
  }
}

TEST(Log, ParsesLevelNames) {
  EXPECT_EQ(parse_log_level("debug"), LogLevel::kDebug);
  EXPECT_EQ(parse_log_level("warning"), LogLevel::kWarn);
  EXPECT_EQ(parse_log_level("error"), LogLevel::kError);
  EXPECT_EQ(parse_log_level("loud"), std::nullopt);
}

}  // namespace
}  // namespace corral
