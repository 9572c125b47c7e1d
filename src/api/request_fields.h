// The checks every request body's fields go through (api/requests.cc builds engine requests
// from them; handlers use them for their own bodies): each refuses with a kInvalidArgument
// that names the field and what it must be.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace corral::api::fields {

Error bad(std::string message);                                  // kInvalidArgument with `message`
std::string quoted_list(const std::vector<std::string>& names);  // 'a', 'b'
std::string joined(std::span<const std::string_view> names);     // a, b

// The fields of `object` that are not in `known`, refused by name (`what`: the request).
[[nodiscard]] Status refuse_unknown(const nlohmann::json& object,
                                    std::span<const std::string_view> known, std::string_view what);
// An integer in [lo, hi].
[[nodiscard]] Result<std::int64_t> integer(const nlohmann::json& value, std::string_view field,
                                           std::int64_t lo, std::int64_t hi);
// A string of 1..max bytes without control characters.
[[nodiscard]] Result<std::string> text(const nlohmann::json& value, std::string_view field,
                                       std::size_t max);
bool name_char(char c);  // [A-Za-z0-9._-]
[[nodiscard]] Result<std::string> image_field(const nlohmann::json& value);
[[nodiscard]] Result<std::string> host_field(const nlohmann::json& value);
// An OpenSSH public key line: "<type> <base64> [comment]", printable ASCII, one line.
bool valid_ssh_key(std::string_view key);
// A network, volume ... (`what`) named by name or id.
[[nodiscard]] Result<std::string> resource_field(const nlohmann::json& value,
                                                 std::string_view field, std::string_view what);
[[nodiscard]] Result<std::string> network_field(const nlohmann::json& value,
                                                std::string_view field);

}  // namespace corral::api::fields
