// Structured logs: one line per event on stderr, "key=value" pairs, written by spdlog.
//
//   ts=2026-11-22T03:00:00.123Z level=info event=listening addr=127.0.0.1:8780
//
// Contract: log() is thread-safe and lines from different threads never mix (spdlog's
// multi-threaded sink writes each formatted line under one lock). Values with spaces, quotes,
// '=' or control characters are quoted with JSON escapes. Time is UTC, to the millisecond.
// Below the level set (default info) a call costs one atomic load.
//
// Used by every process of Corral (`corral server`, the coming `corral agent`); the daemon
// module (src/daemon/) sets the level at start-up.
#pragma once

#include <initializer_list>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace corral {

enum class LogLevel : int { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

void set_log_level(LogLevel level);
bool log_enabled(LogLevel level);
std::optional<LogLevel> parse_log_level(std::string_view name);  // debug|info|warn|error
std::string_view log_level_name(LogLevel level);                 // as printed after "level="

using LogField = std::pair<std::string_view, std::string_view>;
void log(LogLevel level, std::string_view event, std::initializer_list<LogField> fields = {});

// `value` as it appears after "key=" (quoted when needed).
std::string log_value(std::string_view value);

// Sends the lines to `out` instead of stderr (tests read them back); nullptr: stderr again.
// Not thread-safe: call it while no other thread logs.
void set_log_output_for_test(std::ostream* out);

}  // namespace corral
