#include "net/security_group.h"

#include <gtest/gtest.h>

namespace corral::net {
namespace {

Cidr cidr(std::string_view text) { return *parse_remote_prefix(text); }

TEST(SecurityGroup, EnumNumbersAreStable) {
  EXPECT_EQ(static_cast<int>(RuleDirection::kIngress), 1);
  EXPECT_EQ(static_cast<int>(RuleDirection::kEgress), 2);
  EXPECT_EQ(static_cast<int>(RuleProtocol::kAll), 1);
  EXPECT_EQ(static_cast<int>(RuleProtocol::kTcp), 2);
  EXPECT_EQ(static_cast<int>(RuleProtocol::kUdp), 3);
  EXPECT_EQ(static_cast<int>(RuleProtocol::kIcmp), 4);
}

// OpenNebula's RANGE: what parses, what it parses to, and that it prints back the same.
TEST(SecurityGroup, PortRangesParseAndFormat) {
  struct Case {
    const char* text;
    std::vector<PortRange> ports;  // empty: refused
    const char* error_has = "";
  };
  const Case cases[] = {
      {"22", {{22, 22}}},
      {"1000:2000", {{1000, 2000}}},
      {"22,80,1000:2000", {{22, 22}, {80, 80}, {1000, 2000}}},
      {"1:65535", {{1, 65535}}},
      {"5:5", {{5, 5}}},
      {"", {}, "empty"},
      {"0", {}, "1-65535"},
      {"65536", {}, "1-65535"},
      {"100000", {}, "N or N:M"},
      {"2000:1000", {}, "ends before"},
      {"22,", {}, "N or N:M"},
      {",22", {}, "N or N:M"},
      {"22, 80", {}, "N or N:M"},
      {"22-80", {}, "N or N:M"},
      {"1:2:3", {}, "N or N:M"},
      {":80", {}, "N or N:M"},
      {"-1", {}, "N or N:M"},
      {"ssh", {}, "N or N:M"},
  };
  for (const Case& c : cases) {
    Result<std::vector<PortRange>> ports = parse_port_ranges(c.text);
    ASSERT_EQ(ports.has_value(), !c.ports.empty()) << c.text;
    if (ports) {
      EXPECT_EQ(*ports, c.ports) << c.text;
      const std::string back = format_port_ranges(*ports);
      EXPECT_EQ(back, std::string(c.text) == "5:5" ? "5" : c.text);
    } else {
      EXPECT_EQ(ports.error().code, ErrorCode::kInvalidArgument);
      EXPECT_NE(ports.error().message.find(c.error_has), std::string::npos)
          << c.text << ": " << ports.error().message;
    }
  }
  std::string many;
  for (int i = 1; i <= 65; ++i) many += (i > 1 ? "," : "") + std::to_string(i);
  EXPECT_FALSE(parse_port_ranges(many));
}

TEST(SecurityGroup, RemotePrefixesAnyLengthWithoutHostBits) {
  struct Case {
    const char* text;
    const char* canonical;  // nullptr: refused
  };
  const Case cases[] = {
      {"10.0.0.0/8", "10.0.0.0/8"},   {"0.0.0.0/0", "0.0.0.0/0"},
      {"10.1.2.3/32", "10.1.2.3/32"}, {"10.1.2.3", "10.1.2.3/32"},
      {"10.1.2.3/24", nullptr},       {"10.1.2.0/33", nullptr},
      {"10.1.2.0/", nullptr},         {"10.1.2.0/-1", nullptr},
      {"10.1.2/24", nullptr},         {"", nullptr},
      {"10.1.2.0/024", nullptr},      {"::/0", nullptr},
  };
  for (const Case& c : cases) {
    Result<Cidr> r = parse_remote_prefix(c.text);
    ASSERT_EQ(r.has_value(), c.canonical != nullptr) << c.text;
    if (r) {
      EXPECT_EQ(r->to_string(), c.canonical);
    }
  }
  Result<Cidr> host_bits = parse_remote_prefix("10.1.2.3/24");
  ASSERT_FALSE(host_bits);
  EXPECT_NE(host_bits.error().message.find("did you mean 10.1.2.0/24"), std::string::npos);
}

TEST(SecurityGroup, OpenNebulaRules) {
  struct Case {
    OpenNebulaRule in;
    std::optional<SecurityGroupRule> out;
    const char* error_has = "";
  };
  using D = RuleDirection;
  using P = RuleProtocol;
  const Case cases[] = {
      {{"inbound", "TCP", "22", ""}, SecurityGroupRule{D::kIngress, P::kTcp, {{22, 22}}, {}}},
      {{"outbound", "udp", "53,1000:2000", "10.0.0.0/8"},
       SecurityGroupRule{D::kEgress, P::kUdp, {{53, 53}, {1000, 2000}}, cidr("10.0.0.0/8")}},
      {{"INBOUND", "ALL", "", ""}, SecurityGroupRule{D::kIngress, P::kAll, {}, {}}},
      {{"inbound", "ICMP", "", "192.168.0.0/16"},
       SecurityGroupRule{D::kIngress, P::kIcmp, {}, cidr("192.168.0.0/16")}},
      {{"sideways", "TCP", "22", ""}, std::nullopt, "RULE_TYPE"},
      {{"inbound", "SCTP", "", ""}, std::nullopt, "PROTOCOL"},
      {{"inbound", "ICMPv6", "", ""}, std::nullopt, "PROTOCOL"},
      {{"inbound", "ICMP", "22", ""}, std::nullopt, "no ports"},
      {{"inbound", "ALL", "22", ""}, std::nullopt, "no ports"},
      {{"inbound", "TCP", "0", ""}, std::nullopt, "1-65535"},
      {{"inbound", "TCP", "22", "10.0.0.1/8"}, std::nullopt, "host bits"},
  };
  for (const Case& c : cases) {
    Result<SecurityGroupRule> r = from_opennebula(c.in);
    ASSERT_EQ(r.has_value(), c.out.has_value()) << c.in.rule_type << " " << c.in.protocol;
    if (r) {
      EXPECT_EQ(*r, *c.out);
      // Round trip through OpenNebula's own words.
      Result<SecurityGroupRule> again = from_opennebula(to_opennebula(*r));
      ASSERT_TRUE(again);
      EXPECT_EQ(*again, *r);
    } else {
      EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
      EXPECT_NE(r.error().message.find(c.error_has), std::string::npos) << r.error().message;
    }
  }
  EXPECT_EQ(
      to_opennebula({D::kEgress, P::kTcp, {{80, 80}, {8000, 8080}}, cidr("10.0.0.0/8")}).range,
      "80,8000:8080");
}

TEST(SecurityGroup, NeutronRules) {
  struct Case {
    NeutronRule in;
    std::optional<SecurityGroupRule> out;
    const char* error_has = "";
  };
  using D = RuleDirection;
  using P = RuleProtocol;
  const Case cases[] = {
      {{"ingress", "tcp", 22, 22, "", "IPv4"},
       SecurityGroupRule{D::kIngress, P::kTcp, {{22, 22}}, {}}},
      {{"egress", "", {}, {}, "", "IPv4"}, SecurityGroupRule{D::kEgress, P::kAll, {}, {}}},
      {{"egress", "any", {}, {}, "0.0.0.0/0", ""},
       SecurityGroupRule{D::kEgress, P::kAll, {}, cidr("0.0.0.0/0")}},
      {{"ingress", "17", 5000, 5100, "10.1.0.0/16", "IPv4"},
       SecurityGroupRule{D::kIngress, P::kUdp, {{5000, 5100}}, cidr("10.1.0.0/16")}},
      {{"ingress", "6", 443, {}, "", "IPv4"},
       SecurityGroupRule{D::kIngress, P::kTcp, {{443, 443}}, {}}},
      {{"ingress", "icmp", {}, {}, "", "IPv4"}, SecurityGroupRule{D::kIngress, P::kIcmp, {}, {}}},
      {{"ingress", "icmp", 8, 0, "", "IPv4"}, std::nullopt, "no ports"},
      {{"ingress", "tcp", 80, 22, "", "IPv4"}, std::nullopt, "above"},
      {{"ingress", "tcp", 0, 22, "", "IPv4"}, std::nullopt, "port_range_min 0"},
      {{"ingress", "tcp", 22, 70000, "", "IPv4"}, std::nullopt, "port_range_max 70000"},
      {{"ingress", "tcp", 22, 22, "", "IPv6"}, std::nullopt, "only IPv4"},
      {{"inbound", "tcp", 22, 22, "", "IPv4"}, std::nullopt, "direction"},
      {{"ingress", "gre", {}, {}, "", "IPv4"}, std::nullopt, "protocol"},
      {{"ingress", "tcp", {}, {}, "10.0.0.0/33", "IPv4"}, std::nullopt, "0 to 32"},
  };
  for (const Case& c : cases) {
    Result<SecurityGroupRule> r = from_neutron(c.in);
    ASSERT_EQ(r.has_value(), c.out.has_value()) << c.in.direction << " " << c.in.protocol;
    if (r) {
      EXPECT_EQ(*r, *c.out);
    } else {
      EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
      EXPECT_NE(r.error().message.find(c.error_has), std::string::npos) << r.error().message;
    }
  }
}

// Rules built in code (not parsed) go through the same checks.
TEST(SecurityGroup, ValidateCatchesRulesBuiltByHand) {
  using D = RuleDirection;
  using P = RuleProtocol;
  struct Case {
    SecurityGroupRule rule;
    bool ok;
  };
  const Case cases[] = {
      {{D::kIngress, P::kTcp, {{22, 22}}, {}}, true},
      {{D::kIngress, P::kTcp, {{0, 22}}, {}}, false},
      {{D::kIngress, P::kTcp, {{30, 22}}, {}}, false},
      {{D::kIngress, P::kIcmp, {{1, 1}}, {}}, false},
      {{D::kIngress, P::kAll, {}, Cidr{Ipv4{0x0a000001}, 8}}, false},
      {{D::kIngress, P::kAll, {}, Cidr{Ipv4{0x0a000000}, 33}}, false},
      {{D::kIngress, P::kAll, {}, Cidr{Ipv4{0}, 0}}, true},
      {{D::kIngress, P::kUdp, std::vector<PortRange>(65, {1, 1}), {}}, false},
  };
  for (const Case& c : cases) EXPECT_EQ(validate(c.rule).has_value(), c.ok);
}

TEST(SecurityGroup, DefaultGroupIsNeutronsWithTheNetworkForTheGroup) {
  const Cidr net = *Cidr::parse("10.77.0.0/24");
  const std::vector<SecurityGroupRule> rules = default_group_rules(net);
  ASSERT_EQ(rules.size(), 2u);
  EXPECT_EQ(rules[0], (SecurityGroupRule{RuleDirection::kEgress, RuleProtocol::kAll, {}, {}}));
  EXPECT_EQ(rules[1], (SecurityGroupRule{RuleDirection::kIngress, RuleProtocol::kAll, {}, net}));
  for (const SecurityGroupRule& r : rules) EXPECT_TRUE(validate(r));
}

}  // namespace
}  // namespace corral::net
