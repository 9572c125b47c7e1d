#include "api/request_fields.h"

#include <algorithm>

#include "api/requests.h"
#include "store/vm_model.h"

namespace corral::api {
namespace fields {

using nlohmann::json;

Error bad(std::string message) { return Error::invalid_argument(std::move(message)); }

std::string quoted_list(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "'" : ", '") + n + "'";
  return out;
}

std::string joined(std::span<const std::string_view> names) {
  std::string out;
  for (std::string_view n : names) out += (out.empty() ? "" : ", ") + std::string(n);
  return out;
}

// The fields of `object` that are not in `known`, refused by name.
Status refuse_unknown(const json& object, std::span<const std::string_view> known,
                      std::string_view what) {
  std::vector<std::string> unknown;
  for (const auto& [key, value] : object.items()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) unknown.push_back(key);
  }
  if (unknown.empty()) return {};
  std::string message = (unknown.size() == 1 ? "unknown field " : "unknown fields ") +
                        quoted_list(unknown) + " for " + std::string(what);
  message += known.empty() ? " (it takes no parameters)" : " (allowed: " + joined(known) + ")";
  return fail(bad(std::move(message)));
}

Result<std::int64_t> integer(const json& value, std::string_view field, std::int64_t lo,
                             std::int64_t hi) {
  std::int64_t v = 0;
  if (value.is_number_unsigned()) {
    const auto u = value.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(hi)) {
      return fail(bad("'" + std::string(field) + "' must be between " + std::to_string(lo) +
                      " and " + std::to_string(hi) + " (got " + std::to_string(u) + ")"));
    }
    v = static_cast<std::int64_t>(u);
  } else if (value.is_number_integer()) {
    v = value.get<std::int64_t>();
  } else {
    return fail(bad("'" + std::string(field) + "' must be an integer"));
  }
  if (v < lo || v > hi) {
    return fail(bad("'" + std::string(field) + "' must be between " + std::to_string(lo) + " and " +
                    std::to_string(hi) + " (got " + std::to_string(v) + ")"));
  }
  return v;
}

// A string of 1..max bytes without control characters.
Result<std::string> text(const json& value, std::string_view field, std::size_t max) {
  if (!value.is_string()) return fail(bad("'" + std::string(field) + "' must be a string"));
  const auto& s = value.get_ref<const std::string&>();
  if (s.empty() || s.size() > max) {
    return fail(bad("'" + std::string(field) + "' must be 1 to " + std::to_string(max) +
                    " characters long"));
  }
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return fail(bad("'" + std::string(field) + "' must not contain control characters"));
    }
  }
  return s;
}

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

Result<std::string> image_field(const json& value) {
  if (!value.is_string()) return fail(bad("'image' must be a string"));
  const auto& s = value.get_ref<const std::string&>();
  if (!valid_image(s)) {
    return fail(
        bad("'image' must be 1 to 128 characters, without '/', '..' or control "
            "characters (an image is a file name under the data dir)"));
  }
  return s;
}

Result<std::string> host_field(const json& value) {
  Result<std::string> host = text(value, "host", 255);
  if (!host) return host;
  if (!std::all_of(host->begin(), host->end(), name_char)) {
    return fail(bad("'host' must be a host name of [A-Za-z0-9._-]"));
  }
  return host;
}

// An OpenSSH public key line: "<type> <base64> [comment]", printable ASCII, one line. The guest
// writes it to authorized_keys as given, so a newline (a second key smuggled in) is refused.
bool valid_ssh_key(std::string_view key) {
  if (key.size() < 16 || key.size() > 8192) return false;
  if (!key.starts_with("ssh-") && !key.starts_with("ecdsa-") && !key.starts_with("sk-")) {
    return false;
  }
  return std::all_of(key.begin(), key.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

// A network, volume ... (`what`) named by name or id.
Result<std::string> resource_field(const json& value, std::string_view field,
                                   std::string_view what) {
  if (value.is_number_integer() && value.get<std::int64_t>() > 0) {
    return std::to_string(value.get<std::int64_t>());
  }
  if (value.is_string() && !value.get_ref<const std::string&>().empty() &&
      value.get_ref<const std::string&>().size() <= 64) {
    return value.get<std::string>();
  }
  return fail(
      bad("'" + std::string(field) + "' must name a " + std::string(what) + " (its name or id)"));
}

Result<std::string> network_field(const json& value, std::string_view field) {
  return resource_field(value, field, "network");
}

}  // namespace fields

using fields::bad;
using fields::name_char;
using fields::resource_field;
using nlohmann::json;

// "security_groups": [name or id, ...], at most store::kMaxSecurityGroupsPerNic.
Result<std::vector<std::string>> security_groups_field(const json& value) {
  if (!value.is_array() || value.size() > store::kMaxSecurityGroupsPerNic) {
    return fail(bad("'security_groups' must be a list of at most " +
                    std::to_string(store::kMaxSecurityGroupsPerNic) +
                    " security group names or ids"));
  }
  std::vector<std::string> out;
  for (const json& g : value) {
    Result<std::string> name = resource_field(g, "security_groups", "security group");
    if (!name) return fail(name.error());
    out.push_back(std::move(*name));
  }
  return out;
}

int json_depth(std::string_view text, int limit) {
  int depth = 0;
  int deepest = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      deepest = std::max(deepest, ++depth);
      if (deepest > limit) return deepest;
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

Result<json> parse_body(std::string_view body) {
  if (body.size() > kMaxBodyBytes) {
    return fail(
        Error{ErrorCode::kTooLarge,
              "the request body is larger than " + std::to_string(kMaxBodyBytes / 1024) + " KiB",
              {},
              {}});
  }
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return fail(bad("the request needs a JSON object as its body"));
  }
  // JSON never holds a raw NUL byte, but nlohmann's lexer takes one for the end of the input
  // (as in a C string) and would accept `{...}\0anything`, ignoring the rest.
  if (body.find('\0') != std::string_view::npos) {
    return fail(bad("the request body is not valid JSON (it contains a NUL byte)"));
  }
  if (json_depth(body) > kMaxJsonDepth) {
    return fail(
        bad("the JSON body nests deeper than " + std::to_string(kMaxJsonDepth) + " levels"));
  }
  json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return fail(bad("the request body is not valid JSON"));
  if (!parsed.is_object()) return fail(bad("the request body must be a JSON object"));
  return parsed;
}

bool valid_name(std::string_view name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), name_char);
}

bool valid_image(std::string_view image) {
  if (image.empty() || image.size() > 128 || image == ".") return false;
  if (image.find('/') != std::string_view::npos || image.find("..") != std::string_view::npos) {
    return false;
  }
  return std::none_of(image.begin(), image.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == '\\';
  });
}

}  // namespace corral::api
