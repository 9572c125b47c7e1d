// What the benches print of their runs: the median, "median [min-max]" in whole milliseconds,
// and a steady-clock interval in ms. Header-only: each bench is one executable.
#pragma once

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

namespace corral::bench {

// The middle run (the upper one of an even count); 0 without runs.
inline double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// "median [min-max]", or "-" without runs.
inline std::string figure(const std::vector<double>& v) {
  if (v.empty()) return "-";
  return fmt::format("{:.0f} [{:.0f}-{:.0f}]", median(v), *std::min_element(v.begin(), v.end()),
                     *std::max_element(v.begin(), v.end()));
}

inline double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace corral::bench
