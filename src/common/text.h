// Small text helpers shared by every layer.
#pragma once

#include <algorithm>
#include <cctype>
#include <string_view>

namespace corral {

// ASCII case-insensitive equality: names typed by people ("BOOT", "Deallocate") against
// the canonical spelling. Not locale-aware, on purpose: names are ASCII.
inline bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace corral
