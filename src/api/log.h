// Structured logs: one line per event on stderr, "key=value" pairs.
//
//   ts=2026-11-22T03:00:00.123Z level=info event=listening addr=127.0.0.1:8780
//
// Contract: log() is thread-safe and writes each line with one write, so lines never mix.
// Values with spaces, quotes, '=' or control characters are quoted with JSON escapes.
// Below the level set (default info) a call costs one atomic load.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace corral::api {

enum class LogLevel : int { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

void set_log_level(LogLevel level);
bool log_enabled(LogLevel level);
std::optional<LogLevel> parse_log_level(std::string_view name);  // debug|info|warn|error

using LogField = std::pair<std::string_view, std::string_view>;
void log(LogLevel level, std::string_view event, std::initializer_list<LogField> fields = {});

// `value` as it appears after "key=" (quoted when needed).
std::string log_value(std::string_view value);

}  // namespace corral::api
