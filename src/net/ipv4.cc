#include "net/ipv4.h"

#include <fmt/format.h>

#include <charconv>

namespace corral::net {

Result<Ipv4> Ipv4::parse(std::string_view text) {
  auto bad = [&] {
    return fail(Error::invalid_argument("'" + std::string(text.substr(0, 32)) +
                                        "' is not an IPv4 address (a.b.c.d, each 0-255)"));
  };
  std::uint32_t value = 0;
  std::string_view rest = text;
  for (int i = 0; i < 4; ++i) {
    const std::size_t dot = i < 3 ? rest.find('.') : rest.size();
    if (dot == std::string_view::npos) return bad();
    const std::string_view part = rest.substr(0, dot);
    if (part.empty() || part.size() > 3 || (part.size() > 1 && part.front() == '0')) return bad();
    unsigned octet = 0;
    const auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), octet);
    if (ec != std::errc{} || end != part.data() + part.size() || octet > 255) return bad();
    value = value << 8 | octet;
    rest = i < 3 ? rest.substr(dot + 1) : std::string_view{};
  }
  return Ipv4{value};
}

std::string Ipv4::to_string() const {
  return fmt::format("{}.{}.{}.{}", value >> 24, (value >> 16) & 0xff, (value >> 8) & 0xff,
                     value & 0xff);
}

Result<Cidr> Cidr::parse(std::string_view text) {
  const std::size_t slash = text.find('/');
  if (slash == std::string_view::npos) {
    return fail(Error::invalid_argument("'" + std::string(text.substr(0, 32)) +
                                        "' is not a CIDR (address/prefix, e.g. 10.77.0.0/24)"));
  }
  Result<Ipv4> base = Ipv4::parse(text.substr(0, slash));
  if (!base) return fail(std::move(base.error()));
  const std::string_view digits = text.substr(slash + 1);
  int prefix = -1;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
  if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size() ||
      prefix < kMinPrefix || prefix > kMaxPrefix) {
    return fail(Error::invalid_argument(fmt::format("the prefix of '{}' must be {} to {}",
                                                    text.substr(0, 32), kMinPrefix, kMaxPrefix)));
  }
  Cidr cidr{*base, prefix};
  if ((base->value & cidr.netmask()) != base->value) {
    const Cidr meant{Ipv4{base->value & cidr.netmask()}, prefix};
    return fail(Error::invalid_argument(fmt::format("'{}' has host bits set (did you mean {}?)",
                                                    text.substr(0, 32), meant.to_string())));
  }
  return cidr;
}

std::string Cidr::to_string() const { return fmt::format("{}/{}", base.to_string(), prefix); }

std::string mac_for(Ipv4 ip) {
  return fmt::format("02:00:{:02x}:{:02x}:{:02x}:{:02x}", ip.value >> 24, (ip.value >> 16) & 0xff,
                     (ip.value >> 8) & 0xff, ip.value & 0xff);
}

std::optional<Ipv4> ip_from_mac(std::string_view mac) {
  if (mac.size() != 17 || !mac.starts_with("02:00:")) {
    return std::nullopt;
  }
  std::uint32_t value = 0;
  for (int i = 0; i < 4; ++i) {
    const std::string_view part = mac.substr(6 + static_cast<std::size_t>(i) * 3, 2);
    if (i < 3 && mac[8 + static_cast<std::size_t>(i) * 3] != ':') return std::nullopt;
    unsigned byte = 0;
    const auto [end, ec] = std::from_chars(part.data(), part.data() + 2, byte, 16);
    if (ec != std::errc{} || end != part.data() + 2) return std::nullopt;
    value = value << 8 | byte;
  }
  if (mac_for(Ipv4{value}) != mac) return std::nullopt;  // uppercase or odd forms
  return Ipv4{value};
}

}  // namespace corral::net
