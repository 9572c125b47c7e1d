// IPv4 addresses and ranges, and OpenNebula's MAC rule. Pure: no I/O.
//
// Contract: an Ipv4 is the address as a number (host byte order), so ranges are arithmetic;
// a Cidr is a network address and a prefix with no host bits set. A range's first usable
// address is its gateway (OpenNebula's and Neutron's default), leases are the rest up to the
// address before broadcast.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace corral::net {

struct Ipv4 {
  std::uint32_t value = 0;
  // Dotted quad, four decimal numbers 0-255 without leading zeros.
  [[nodiscard]] static Result<Ipv4> parse(std::string_view text);
  std::string to_string() const;
  friend auto operator<=>(const Ipv4&, const Ipv4&) = default;
};

// The prefixes a Corral network may have: /16 (65,533 leases) to /29 (5).
inline constexpr int kMinPrefix = 16;
inline constexpr int kMaxPrefix = 29;

struct Cidr {
  // "10.77.0.0/24". Errors (kInvalidArgument) say what is wrong: no '/', a bad address, a
  // prefix outside kMinPrefix..kMaxPrefix, host bits set ("did you mean 10.77.0.0/24?").
  [[nodiscard]] static Result<Cidr> parse(std::string_view text);
  Ipv4 network() const { return base; }
  std::uint32_t netmask() const { return prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix); }
  Ipv4 broadcast() const { return {base.value | ~netmask()}; }
  Ipv4 gateway() const { return {base.value + 1}; }
  Ipv4 first_lease() const { return {base.value + 2}; }
  Ipv4 last_lease() const { return {broadcast().value - 1}; }
  std::uint32_t capacity() const { return last_lease().value - first_lease().value + 1; }
  bool contains(Ipv4 ip) const { return (ip.value & netmask()) == base.value; }
  bool overlaps(const Cidr& other) const { return contains(other.base) || other.contains(base); }
  std::string to_string() const;
  std::string netmask_text() const { return Ipv4{netmask()}.to_string(); }

  Ipv4 base;
  int prefix = 24;
  friend bool operator==(const Cidr&, const Cidr&) = default;
};

// OpenNebula's rule (src/vnm/AddressRange.cc): MAC = 02:00 + the address's four bytes, so
// 10.77.0.10 is 02:00:0a:4d:00:0a. Lowercase hex.
std::string mac_for(Ipv4 ip);
// The address a MAC of that form encodes; nullopt for any other MAC.
std::optional<Ipv4> ip_from_mac(std::string_view mac);

}  // namespace corral::net
