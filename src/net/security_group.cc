#include "net/security_group.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace corral::net {
namespace {

// User text quoted in errors is cut short: an error message is not an echo chamber.
std::string quote(std::string_view text) { return "'" + std::string(text.substr(0, 40)) + "'"; }

std::string lower(std::string_view text) {
  std::string out(text);
  std::ranges::transform(out, out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::optional<int> parse_number(std::string_view digits) {
  // Digits only: from_chars would take a sign, and "+22" or "-1" are not OpenNebula's words.
  if (digits.empty() || digits.size() > 5 || !std::isdigit(static_cast<unsigned char>(digits[0]))) {
    return std::nullopt;
  }
  int value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc{} || end != digits.data() + digits.size()) return std::nullopt;
  return value;
}

bool has_ports(RuleProtocol protocol) {
  switch (protocol) {
    case RuleProtocol::kTcp:
    case RuleProtocol::kUdp:
      return true;
    case RuleProtocol::kAll:
    case RuleProtocol::kIcmp:
      return false;
  }
  return false;
}

Status check_port(int port, std::string_view what) {
  if (port < 1 || port > 65535) {
    return fail(Error::invalid_argument(fmt::format("{} {} is not a port (1-65535)", what, port)));
  }
  return {};
}

}  // namespace

std::string_view direction_name(RuleDirection direction) {
  switch (direction) {
    case RuleDirection::kIngress:
      return "ingress";
    case RuleDirection::kEgress:
      return "egress";
  }
  return "?";
}

std::string_view protocol_name(RuleProtocol protocol) {
  switch (protocol) {
    case RuleProtocol::kAll:
      return "all";
    case RuleProtocol::kTcp:
      return "tcp";
    case RuleProtocol::kUdp:
      return "udp";
    case RuleProtocol::kIcmp:
      return "icmp";
  }
  return "?";
}

Status validate(const SecurityGroupRule& rule) {
  if (!rule.ports.empty() && !has_ports(rule.protocol)) {
    return fail(Error::invalid_argument(
        fmt::format("protocol {} has no ports: give a port range only with tcp or udp",
                    protocol_name(rule.protocol))));
  }
  if (rule.ports.size() > kMaxPortItems) {
    return fail(Error::invalid_argument(
        fmt::format("{} port ranges in one rule; at most {}", rule.ports.size(), kMaxPortItems)));
  }
  for (const PortRange& range : rule.ports) {
    if (Status s = check_port(range.min, "port"); !s) return s;
    if (Status s = check_port(range.max, "port"); !s) return s;
    if (range.min > range.max) {
      return fail(Error::invalid_argument(
          fmt::format("port range {}:{} ends before it starts", range.min, range.max)));
    }
  }
  if (rule.remote) {
    const Cidr& remote = *rule.remote;
    if (remote.prefix < 0 || remote.prefix > 32) {
      return fail(
          Error::invalid_argument(fmt::format("remote prefix /{} is not 0-32", remote.prefix)));
    }
    if ((remote.base.value & remote.netmask()) != remote.base.value) {
      return fail(
          Error::invalid_argument(fmt::format("remote {} has host bits set", remote.to_string())));
    }
  }
  return {};
}

Result<std::vector<PortRange>> parse_port_ranges(std::string_view text) {
  if (text.empty()) {
    return fail(Error::invalid_argument("empty port range (leave RANGE out for every port)"));
  }
  std::vector<PortRange> out;
  std::string_view rest = text;
  while (true) {
    const std::size_t comma = rest.find(',');
    const std::string_view item = rest.substr(0, comma);
    const std::size_t colon = item.find(':');
    const std::optional<int> min = parse_number(item.substr(0, colon));
    const std::optional<int> max =
        colon == std::string_view::npos ? min : parse_number(item.substr(colon + 1));
    if (!min || !max) {
      return fail(Error::invalid_argument(
          fmt::format("port range {} in {}: expected N or N:M (e.g. 22,80,1000:2000)", quote(item),
                      quote(text))));
    }
    if (Status s = check_port(*min, "port"); !s) return fail(s.error());
    if (Status s = check_port(*max, "port"); !s) return fail(s.error());
    if (*min > *max) {
      return fail(
          Error::invalid_argument(fmt::format("port range {} ends before it starts", quote(item))));
    }
    out.push_back(PortRange{static_cast<std::uint16_t>(*min), static_cast<std::uint16_t>(*max)});
    if (out.size() > kMaxPortItems) {
      return fail(Error::invalid_argument(
          fmt::format("more than {} port ranges in {}", kMaxPortItems, quote(text))));
    }
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  return out;
}

std::string format_port_ranges(const std::vector<PortRange>& ports) {
  std::string out;
  for (const PortRange& range : ports) {
    if (!out.empty()) out += ',';
    out += range.min == range.max ? fmt::format("{}", range.min)
                                  : fmt::format("{}:{}", range.min, range.max);
  }
  return out;
}

Result<Cidr> parse_remote_prefix(std::string_view text) {
  const std::size_t slash = text.find('/');
  Result<Ipv4> base = Ipv4::parse(text.substr(0, slash));
  if (!base) {
    return fail(Error::invalid_argument(
        fmt::format("remote {} is not an IPv4 network (a.b.c.d/N)", quote(text))));
  }
  int prefix = 32;
  if (slash != std::string_view::npos) {
    const std::optional<int> parsed = parse_number(text.substr(slash + 1));
    if (!parsed || *parsed > 32 || text.size() - slash - 1 > 2) {
      return fail(Error::invalid_argument(
          fmt::format("the prefix of remote {} must be 0 to 32", quote(text))));
    }
    prefix = *parsed;
  }
  const Cidr cidr{*base, prefix};
  if ((base->value & cidr.netmask()) != base->value) {
    const Cidr meant{Ipv4{base->value & cidr.netmask()}, prefix};
    return fail(Error::invalid_argument(fmt::format(
        "remote {} has host bits set (did you mean {}?)", quote(text), meant.to_string())));
  }
  return cidr;
}

Result<SecurityGroupRule> from_opennebula(const OpenNebulaRule& in) {
  SecurityGroupRule rule;
  const std::string type = lower(in.rule_type);
  if (type == "inbound") {
    rule.direction = RuleDirection::kIngress;
  } else if (type == "outbound") {
    rule.direction = RuleDirection::kEgress;
  } else {
    return fail(Error::invalid_argument(
        fmt::format("RULE_TYPE {} must be inbound or outbound", quote(in.rule_type))));
  }
  const std::string protocol = lower(in.protocol);
  if (protocol == "all") {
    rule.protocol = RuleProtocol::kAll;
  } else if (protocol == "tcp") {
    rule.protocol = RuleProtocol::kTcp;
  } else if (protocol == "udp") {
    rule.protocol = RuleProtocol::kUdp;
  } else if (protocol == "icmp") {
    rule.protocol = RuleProtocol::kIcmp;
  } else {
    return fail(Error::invalid_argument(
        fmt::format("PROTOCOL {} must be ALL, TCP, UDP or ICMP (IPv4 only)", quote(in.protocol))));
  }
  if (!in.range.empty()) {
    Result<std::vector<PortRange>> ports = parse_port_ranges(in.range);
    if (!ports) return fail(std::move(ports.error()));
    rule.ports = std::move(*ports);
  }
  if (!in.network.empty()) {
    Result<Cidr> remote = parse_remote_prefix(in.network);
    if (!remote) return fail(std::move(remote.error()));
    rule.remote = *remote;
  }
  if (Status s = validate(rule); !s) return fail(std::move(s.error()));
  return rule;
}

OpenNebulaRule to_opennebula(const SecurityGroupRule& rule) {
  OpenNebulaRule out;
  switch (rule.direction) {
    case RuleDirection::kIngress:
      out.rule_type = "inbound";
      break;
    case RuleDirection::kEgress:
      out.rule_type = "outbound";
      break;
  }
  out.protocol = std::string(protocol_name(rule.protocol));
  std::ranges::transform(out.protocol, out.protocol.begin(),
                         [](unsigned char c) { return std::toupper(c); });
  out.range = format_port_ranges(rule.ports);
  if (rule.remote) out.network = rule.remote->to_string();
  return out;
}

Result<SecurityGroupRule> from_neutron(const NeutronRule& in) {
  SecurityGroupRule rule;
  if (in.direction == "ingress") {
    rule.direction = RuleDirection::kIngress;
  } else if (in.direction == "egress") {
    rule.direction = RuleDirection::kEgress;
  } else {
    return fail(Error::invalid_argument(
        fmt::format("direction {} must be ingress or egress", quote(in.direction))));
  }
  if (!in.ethertype.empty() && in.ethertype != "IPv4") {
    return fail(Error::invalid_argument(
        fmt::format("ethertype {}: only IPv4 is supported", quote(in.ethertype))));
  }
  const std::string protocol = lower(in.protocol);
  if (protocol.empty() || protocol == "any") {
    rule.protocol = RuleProtocol::kAll;
  } else if (protocol == "tcp" || protocol == "6") {
    rule.protocol = RuleProtocol::kTcp;
  } else if (protocol == "udp" || protocol == "17") {
    rule.protocol = RuleProtocol::kUdp;
  } else if (protocol == "icmp" || protocol == "1") {
    rule.protocol = RuleProtocol::kIcmp;
  } else {
    return fail(Error::invalid_argument(
        fmt::format("protocol {} must be tcp, udp, icmp or any", quote(in.protocol))));
  }
  if (in.port_range_min || in.port_range_max) {
    const int min = in.port_range_min.value_or(*in.port_range_max);
    const int max = in.port_range_max.value_or(min);
    if (!has_ports(rule.protocol)) {
      return fail(Error::invalid_argument(
          fmt::format("protocol {} has no ports: port_range_min/max only with tcp or udp",
                      protocol_name(rule.protocol))));
    }
    if (Status s = check_port(min, "port_range_min"); !s) return fail(s.error());
    if (Status s = check_port(max, "port_range_max"); !s) return fail(s.error());
    if (min > max) {
      return fail(Error::invalid_argument(
          fmt::format("port_range_min {} is above port_range_max {}", min, max)));
    }
    rule.ports.push_back({static_cast<std::uint16_t>(min), static_cast<std::uint16_t>(max)});
  }
  if (!in.remote_ip_prefix.empty()) {
    Result<Cidr> remote = parse_remote_prefix(in.remote_ip_prefix);
    if (!remote) return fail(std::move(remote.error()));
    rule.remote = *remote;
  }
  if (Status s = validate(rule); !s) return fail(std::move(s.error()));
  return rule;
}

std::vector<SecurityGroupRule> default_group_rules(const Cidr& own_network) {
  return {
      SecurityGroupRule{RuleDirection::kEgress, RuleProtocol::kAll, {}, std::nullopt},
      SecurityGroupRule{RuleDirection::kIngress, RuleProtocol::kAll, {}, own_network},
  };
}

}  // namespace corral::net
