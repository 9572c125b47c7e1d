#include "common/clock.h"

#include <fmt/compile.h>
#include <fmt/core.h>

#include <chrono>
#include <ctime>

namespace corral {

// Every VM the API renders has five times and every event one: calendar arithmetic (no
// gmtime_r) and a format parsed at compile time, not per call (a tenth of the server's
// instructions per transition went here).
std::string format_time(Millis ms) {
  using namespace std::chrono;
  const sys_time<milliseconds> t{milliseconds(ms)};
  const sys_days day = floor<days>(t);
  const year_month_day date{day};
  const hh_mm_ss<milliseconds> clock{t - day};
  std::string out;
  out.reserve(24);
  fmt::format_to(std::back_inserter(out), FMT_COMPILE("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z"),
                 static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
                 static_cast<unsigned>(date.day()), clock.hours().count(), clock.minutes().count(),
                 clock.seconds().count(), clock.subseconds().count());
  return out;
}

std::optional<Millis> parse_time(std::string_view text) {
  if (text.ends_with('Z')) text.remove_suffix(1);
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  int millis = 0;
  const auto digits = [&](std::size_t at, std::size_t n, int& out) {
    if (at + n > text.size()) return false;
    out = 0;
    for (std::size_t i = at; i < at + n; ++i) {
      if (text[i] < '0' || text[i] > '9') return false;
      out = out * 10 + (text[i] - '0');
    }
    return true;
  };
  if (!digits(0, 4, year) || text.size() < 10 || text[4] != '-' || !digits(5, 2, month) ||
      text[7] != '-' || !digits(8, 2, day)) {
    return std::nullopt;
  }
  if (text.size() > 10) {
    if (text.size() < 19 || text[10] != 'T' || !digits(11, 2, hour) || text[13] != ':' ||
        !digits(14, 2, minute) || text[16] != ':' || !digits(17, 2, second)) {
      return std::nullopt;
    }
    if (text.size() > 19) {
      // A fraction: its first three digits are milliseconds, the rest (Nova's %f) dropped.
      if (text[19] != '.' || text.size() == 20) return std::nullopt;
      int scale = 100;
      for (std::size_t i = 20; i < text.size(); ++i) {
        if (text[i] < '0' || text[i] > '9') return std::nullopt;
        millis += (text[i] - '0') * scale;
        scale /= 10;
      }
    }
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  const std::time_t seconds = timegm(&tm);
  if (tm.tm_mday != day) return std::nullopt;  // 2026-02-30 normalized away: not a date
  return static_cast<Millis>(seconds) * 1000 + millis;
}

}  // namespace corral
