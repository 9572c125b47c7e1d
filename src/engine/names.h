// The naming rules the engine's named resources share (server groups, networks): a name or an
// id in the same path segment, never ambiguous.
#pragma once

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <optional>
#include <string_view>

namespace corral::engine {

// A positive id in decimal, or nullopt: a name is never all digits, so "12" always means 12.
inline std::optional<std::int64_t> id_of(std::string_view text) {
  std::int64_t id = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc{} || end != text.data() + text.size() || id <= 0) return std::nullopt;
  return id;
}

// [a-z0-9][a-z0-9._-]{0,62}, and not all digits.
inline bool valid_resource_name(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  auto lower_or_digit = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!lower_or_digit(name.front())) return false;
  if (std::ranges::all_of(name, [](char c) { return c >= '0' && c <= '9'; })) return false;
  return std::ranges::all_of(
      name, [&](char c) { return lower_or_digit(c) || c == '.' || c == '_' || c == '-'; });
}

// Whether a row (with id and name) is the one `name_or_id` names.
template <typename Row>
bool names_row(const Row& row, std::string_view name_or_id) {
  const std::optional<std::int64_t> id = id_of(name_or_id);
  return id ? row.id == *id : row.name == name_or_id;
}

}  // namespace corral::engine
