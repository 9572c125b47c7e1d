#include "driver/qemu/cpu_usage.h"

#include <unistd.h>

#include <charconv>
#include <fstream>
#include <sstream>
#include <string>

namespace corral::driver::qemu {
namespace {

std::optional<std::string> read_small_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Seconds since boot (/proc/uptime's first figure).
std::optional<double> uptime_seconds() {
  const std::optional<std::string> text = read_small_file("/proc/uptime");
  if (!text) return std::nullopt;
  try {
    return std::stod(*text);
  } catch (...) {
    return std::nullopt;
  }
}

}  // namespace

std::optional<ProcCpu> parse_proc_stat(std::string_view text) {
  const std::size_t close = text.rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  // After ")": field 3 (state) is the first; utime is field 14, stime 15, starttime 22.
  std::string_view rest = text.substr(close + 1);
  std::uint64_t fields[23] = {};
  int field = 2;
  while (field < 22) {
    const std::size_t begin = rest.find_first_not_of(' ');
    if (begin == std::string_view::npos) return std::nullopt;
    rest.remove_prefix(begin);
    const std::size_t end = std::min(rest.find(' '), rest.size());
    ++field;
    if (field >= 14) {
      const std::string_view word = rest.substr(0, end);
      const auto [ptr, ec] = std::from_chars(word.data(), word.data() + word.size(), fields[field]);
      if (ec != std::errc() || ptr != word.data() + word.size()) return std::nullopt;
    }
    rest.remove_prefix(end);
  }
  return ProcCpu{fields[14] + fields[15], fields[22]};
}

std::optional<double> CpuMeter::percent(pid_t pid) {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mu_);
  const auto known = samples_.find(pid);
  if (known != samples_.end() && now - known->second.at < kMinInterval) {
    return known->second.percent;
  }
  const std::optional<std::string> text = read_small_file("/proc/" + std::to_string(pid) + "/stat");
  if (!text) {
    samples_.erase(pid);
    return std::nullopt;
  }
  const std::optional<ProcCpu> cpu = parse_proc_stat(*text);
  if (!cpu) return std::nullopt;
  const double hz = static_cast<double>(::sysconf(_SC_CLK_TCK));
  double percent = 0;
  if (known != samples_.end() && cpu->busy_ticks >= known->second.busy_ticks) {
    const double seconds = std::chrono::duration<double>(now - known->second.at).count();
    percent = static_cast<double>(cpu->busy_ticks - known->second.busy_ticks) / hz / seconds * 100;
  } else if (const std::optional<double> up = uptime_seconds()) {
    const double age = *up - static_cast<double>(cpu->start_ticks) / hz;
    if (age > 0) percent = static_cast<double>(cpu->busy_ticks) / hz / age * 100;
  }
  samples_[pid] = {cpu->busy_ticks, now, percent};
  return percent;
}

void CpuMeter::keep_only(const std::set<pid_t>& alive) {
  std::lock_guard lock(mu_);
  std::erase_if(samples_, [&](const auto& s) { return !alive.contains(s.first); });
}

}  // namespace corral::driver::qemu
