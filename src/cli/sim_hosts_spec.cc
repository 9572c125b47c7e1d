#include "cli/sim_hosts_spec.h"

#include <algorithm>
#include <charconv>

namespace corral::cli {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

Result<SimFailMode> parse_mode(std::string_view text) {
  if (text == "kill") return SimFailMode::kKill;
  if (text == "cut") return SimFailMode::kCut;
  if (text == "restore") return SimFailMode::kRestore;
  return fail(
      Error::invalid_argument("mode wants kill, cut or restore, not '" + std::string(text) + "'"));
}

Result<std::int64_t> parse_duration_ms(std::string_view text) {
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  const std::string_view unit(end, text.data() + text.size() - end);
  if (ec != std::errc() || value < 0 || end == text.data()) {
    return fail(Error::invalid_argument("after wants a duration like 500ms, 10s or 2m, not '" +
                                        std::string(text) + "'"));
  }
  if (unit == "ms") return value;
  if (unit == "s" || unit.empty()) return value * 1000;
  if (unit == "m") return value * 60'000;
  return fail(Error::invalid_argument("after wants a duration like 500ms, 10s or 2m, not '" +
                                      std::string(text) + "'"));
}

}  // namespace

std::string sim_host_name(std::string_view prefix, int index, int count) {
  const std::size_t width = std::max<std::size_t>(4, std::to_string(count).size());
  std::string digits = std::to_string(index);
  if (digits.size() < width) digits.insert(0, width - digits.size(), '0');
  return std::string(prefix) + "-" + digits;
}

std::string_view sim_fail_mode_name(SimFailMode mode) {
  switch (mode) {
    case SimFailMode::kKill:
      return "kill";
    case SimFailMode::kCut:
      return "cut";
    case SimFailMode::kRestore:
      return "restore";
  }
  return "kill";
}

Result<SimFailure> parse_sim_failure(std::string_view spec) {
  SimFailure failure;
  bool has_mode = false;
  while (!spec.empty()) {
    const std::size_t comma = spec.find(',');
    const std::string_view item = trim(spec.substr(0, comma));
    spec = comma == std::string_view::npos ? std::string_view() : spec.substr(comma + 1);
    const std::size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      return fail(Error::invalid_argument("--sim-fail wants KEY=VALUE items, not '" +
                                          std::string(item) + "'"));
    }
    const std::string_view key = item.substr(0, eq);
    const std::string_view value = item.substr(eq + 1);
    if (key == "host") {
      failure.host = std::string(value);
    } else if (key == "mode") {
      Result<SimFailMode> mode = parse_mode(value);
      if (!mode) return fail(std::move(mode.error()));
      failure.mode = *mode;
      has_mode = true;
    } else if (key == "after") {
      Result<std::int64_t> after = parse_duration_ms(value);
      if (!after) return fail(std::move(after.error()));
      failure.after_ms = *after;
    } else {
      return fail(Error::invalid_argument("--sim-fail knows host, mode and after, not '" +
                                          std::string(key) + "'"));
    }
  }
  if (failure.host.empty()) return fail(Error::invalid_argument("--sim-fail wants host=NAME"));
  if (!has_mode) return fail(Error::invalid_argument("--sim-fail wants mode=kill|cut|restore"));
  return failure;
}

Result<SimFailure> parse_sim_control_line(std::string_view line) {
  line = trim(line);
  const std::size_t space = line.find(' ');
  if (space == std::string_view::npos) {
    return fail(Error::invalid_argument("a control line is 'kill|cut|restore NAME', not '" +
                                        std::string(line) + "'"));
  }
  Result<SimFailMode> mode = parse_mode(line.substr(0, space));
  if (!mode) return fail(std::move(mode.error()));
  const std::string_view host = trim(line.substr(space + 1));
  if (host.empty() || host.find(' ') != std::string_view::npos) {
    return fail(
        Error::invalid_argument("a control line names one host, not '" + std::string(host) + "'"));
  }
  return SimFailure{std::string(host), *mode, 0};
}

}  // namespace corral::cli
