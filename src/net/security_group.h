// Security group rules as data (issue 13 item 3): the model both OpenNebula's and Neutron's
// vocabularies map onto, checked once here so the firewall (firewall.h) only ever renders
// validated, typed values. Pure: no I/O.
//
// Contract:
// - A rule lets traffic through; a NIC with rules drops what no rule of its direction lets
//   through (both OpenNebula and Neutron are allow-lists). Return traffic of an allowed
//   connection always passes (the firewall tracks connections).
// - Ingress rules filter what reaches the NIC, `remote` being the source; egress rules filter
//   what the NIC sends, `remote` being the destination. Ports are always destination ports
//   (Neutron's port_range_min/max, OpenNebula's RANGE).
// - IPv4 only (Neutron's ethertype IPv6 is refused), ICMP without type/code (any ICMP).
// - Enum numbers are stable: they may be stored and sent on the wire. Never renumber.
// - Every parser returns kInvalidArgument with a message that names the field and the value.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "net/ipv4.h"

namespace corral::net {

enum class RuleDirection : std::uint8_t {
  kIngress = 1,  // OpenNebula RULE_TYPE=inbound,  Neutron direction=ingress
  kEgress = 2,   // OpenNebula RULE_TYPE=outbound, Neutron direction=egress
};

enum class RuleProtocol : std::uint8_t {
  kAll = 1,  // any IPv4 protocol (OpenNebula ALL, Neutron protocol null/"any")
  kTcp = 2,
  kUdp = 3,
  kIcmp = 4,
};

struct PortRange {
  std::uint16_t min = 1;
  std::uint16_t max = 65535;
  friend bool operator==(const PortRange&, const PortRange&) = default;
};

// At most this many port items in one rule (each becomes an element of an nftables set).
inline constexpr std::size_t kMaxPortItems = 64;

struct SecurityGroupRule {
  RuleDirection direction = RuleDirection::kIngress;
  RuleProtocol protocol = RuleProtocol::kAll;
  // TCP/UDP only; empty = every port.
  std::vector<PortRange> ports;
  // nullopt = any address. Any prefix /0-/32 (unlike a network's Cidr::parse).
  std::optional<Cidr> remote;
  friend bool operator==(const SecurityGroupRule&, const SecurityGroupRule&) = default;
};

std::string_view direction_name(RuleDirection direction);  // "ingress" / "egress"
std::string_view protocol_name(RuleProtocol protocol);     // "all" / "tcp" / "udp" / "icmp"

// Ports 1-65535, min <= max, at most kMaxPortItems, no ports for ALL/ICMP, a remote without
// host bits set and a prefix 0-32.
[[nodiscard]] Status validate(const SecurityGroupRule& rule);

// OpenNebula's RANGE: "22", "1000:2000", "22,80,1000:2000" (no spaces, no empty items).
[[nodiscard]] Result<std::vector<PortRange>> parse_port_ranges(std::string_view text);
// The same text back ("22,80,1000:2000"); a one-port range prints as one number.
std::string format_port_ranges(const std::vector<PortRange>& ports);

// "10.0.0.0/8", "0.0.0.0/0", or a bare address ("10.0.0.5" = /32). Host bits set: an error
// that says which network was meant.
[[nodiscard]] Result<Cidr> parse_remote_prefix(std::string_view text);

// OpenNebula's template fields: RULE_TYPE (inbound|outbound), PROTOCOL (ALL|TCP|UDP|ICMP, any
// case), RANGE (empty = all ports), and the remote network as a CIDR (empty = anywhere).
struct OpenNebulaRule {
  std::string rule_type;
  std::string protocol;
  std::string range;
  std::string network;
};
[[nodiscard]] Result<SecurityGroupRule> from_opennebula(const OpenNebulaRule& rule);
OpenNebulaRule to_opennebula(const SecurityGroupRule& rule);

// Neutron's security-group-rule fields: direction (ingress|egress), protocol (tcp|udp|icmp,
// their numbers 6|17|1, or empty/"any" for all), port_range_min/max (both or neither; one
// alone means that port), remote_ip_prefix (empty = anywhere), ethertype (IPv4; empty too).
struct NeutronRule {
  std::string direction;
  std::string protocol;
  std::optional<int> port_range_min;
  std::optional<int> port_range_max;
  std::string remote_ip_prefix;
  std::string ethertype = "IPv4";
};
[[nodiscard]] Result<SecurityGroupRule> from_neutron(const NeutronRule& rule);

// Neutron's default group: every egress allowed, ingress allowed only from members of the
// same group. Group membership is not something a host's firewall knows (it would need the
// addresses of every member, kept current), so it is modelled as "from the NIC's own network"
// (`own_network`): within one network that is the same thing when every NIC of the network is
// in the default group, and wider otherwise.
std::vector<SecurityGroupRule> default_group_rules(const Cidr& own_network);

}  // namespace corral::net
