#include "wire/firewall_wire.h"

#include <gtest/gtest.h>

#include <functional>

namespace corral::wire {
namespace {

namespace v1 = agent::v1;

net::Cidr cidr(std::string_view text) { return *net::parse_remote_prefix(text); }

// The wire's enum numbers are net's (stable, stored), so either side may be read by the other.
TEST(FirewallWire, EnumNumbersAreNets) {
  EXPECT_EQ(v1::FirewallRule::DIRECTION_INGRESS, static_cast<int>(net::RuleDirection::kIngress));
  EXPECT_EQ(v1::FirewallRule::DIRECTION_EGRESS, static_cast<int>(net::RuleDirection::kEgress));
  EXPECT_EQ(v1::FirewallRule::PROTOCOL_ALL, static_cast<int>(net::RuleProtocol::kAll));
  EXPECT_EQ(v1::FirewallRule::PROTOCOL_TCP, static_cast<int>(net::RuleProtocol::kTcp));
  EXPECT_EQ(v1::FirewallRule::PROTOCOL_UDP, static_cast<int>(net::RuleProtocol::kUdp));
  EXPECT_EQ(v1::FirewallRule::PROTOCOL_ICMP, static_cast<int>(net::RuleProtocol::kIcmp));
}

TEST(FirewallWire, RulesRoundTrip) {
  using D = net::RuleDirection;
  using P = net::RuleProtocol;
  const net::SecurityGroupRule rules[] = {
      {D::kIngress, P::kAll, {}, std::nullopt},
      {D::kEgress, P::kAll, {}, std::nullopt},
      {D::kIngress, P::kTcp, {{22, 22}}, std::nullopt},
      {D::kIngress, P::kTcp, {{22, 22}, {80, 80}, {1000, 2000}}, cidr("10.0.0.0/8")},
      {D::kEgress, P::kUdp, {{53, 53}}, cidr("0.0.0.0/0")},
      {D::kIngress, P::kIcmp, {}, cidr("192.168.1.7/32")},
      {D::kIngress, P::kAll, {}, cidr("10.77.0.0/24")},
  };
  for (const net::SecurityGroupRule& rule : rules) {
    const v1::FirewallRule wire = rule_to_wire(rule);
    Result<net::SecurityGroupRule> back = rule_of(wire);
    ASSERT_TRUE(back) << wire.ShortDebugString() << ": " << back.error().message;
    EXPECT_EQ(*back, rule) << wire.ShortDebugString();
  }
  // What the text fields look like (the agent of another build parses them).
  const v1::FirewallRule wire = rule_to_wire(rules[3]);
  EXPECT_EQ(wire.ports(), "22,80,1000:2000");
  EXPECT_EQ(wire.remote(), "10.0.0.0/8");
  EXPECT_EQ(rule_to_wire(rules[0]).remote(), "");
}

TEST(FirewallWire, BadRulesAreRefusedWithTheField) {
  struct Case {
    const char* name;
    std::function<void(v1::FirewallRule&)> spoil;
    const char* error_has;
  };
  const Case cases[] = {
      {"no direction",
       [](v1::FirewallRule& r) { r.set_direction(v1::FirewallRule::DIRECTION_UNSPECIFIED); },
       "direction 0"},
      {"unknown direction",
       [](v1::FirewallRule& r) { r.set_direction(static_cast<v1::FirewallRule::Direction>(9)); },
       "direction 9"},
      {"no protocol",
       [](v1::FirewallRule& r) { r.set_protocol(v1::FirewallRule::PROTOCOL_UNSPECIFIED); },
       "protocol 0"},
      {"unknown protocol",
       [](v1::FirewallRule& r) { r.set_protocol(static_cast<v1::FirewallRule::Protocol>(6)); },
       "protocol 6"},
      {"port text", [](v1::FirewallRule& r) { r.set_ports("22;80"); }, "ports:"},
      {"port zero", [](v1::FirewallRule& r) { r.set_ports("0"); }, "ports:"},
      {"reversed range", [](v1::FirewallRule& r) { r.set_ports("2000:1000"); }, "ports:"},
      {"ports on icmp",
       [](v1::FirewallRule& r) { r.set_protocol(v1::FirewallRule::PROTOCOL_ICMP); },
       "has no ports"},
      {"remote text", [](v1::FirewallRule& r) { r.set_remote("10.0.0.0/33"); }, "remote:"},
      {"remote host bits", [](v1::FirewallRule& r) { r.set_remote("10.0.0.1/8"); }, "remote:"},
      {"remote ipv6", [](v1::FirewallRule& r) { r.set_remote("::/0"); }, "remote:"},
  };
  for (const Case& c : cases) {
    v1::FirewallRule rule;
    rule.set_direction(v1::FirewallRule::DIRECTION_INGRESS);
    rule.set_protocol(v1::FirewallRule::PROTOCOL_TCP);
    rule.set_ports("22");
    ASSERT_TRUE(rule_of(rule)) << "the unspoilt rule";
    c.spoil(rule);
    Result<net::SecurityGroupRule> got = rule_of(rule);
    ASSERT_FALSE(got) << c.name;
    EXPECT_EQ(got.error().code, ErrorCode::kInvalidArgument) << c.name;
    EXPECT_NE(got.error().message.find(c.error_has), std::string::npos)
        << c.name << ": " << got.error().message;
  }
}

driver::HostFirewallJob two_nics() {
  using D = net::RuleDirection;
  using P = net::RuleProtocol;
  driver::HostFirewallJob job;
  job.host = "h1";
  job.generation = 7;
  job.nics.push_back({3,
                      0,
                      "02:00:0a:4d:00:02",
                      "10.77.0.2",
                      {{D::kEgress, P::kAll, {}, std::nullopt},
                       {D::kIngress, P::kAll, {}, cidr("10.77.0.0/24")}}});
  job.nics.push_back({12,
                      1,
                      "02:00:0a:4e:00:05",
                      "10.78.0.5",
                      {{D::kIngress, P::kTcp, {{22, 22}}, std::nullopt}}});
  return job;
}

TEST(FirewallWire, AJobBecomesTheNicsApplyFirewallTakes) {
  const driver::HostFirewallJob job = two_nics();
  const v1::HostFirewall wire = to_wire(job);
  EXPECT_EQ(wire.generation(), 7U);
  Result<std::vector<net::NicFirewall>> nics = nics_of(wire);
  ASSERT_TRUE(nics) << nics.error().message;
  ASSERT_EQ(nics->size(), 2U);
  EXPECT_EQ((*nics)[0].tap, "t3n0");
  EXPECT_EQ((*nics)[0].mac, "02:00:0a:4d:00:02");
  EXPECT_EQ((*nics)[0].ip.to_string(), "10.77.0.2");
  EXPECT_EQ((*nics)[0].rules, job.nics[0].rules);
  EXPECT_EQ((*nics)[1].tap, "t12n1");
  EXPECT_EQ((*nics)[1].rules, job.nics[1].rules);
  // An empty job is a host with no NIC: its tables hold nothing.
  Result<std::vector<net::NicFirewall>> none = nics_of(v1::HostFirewall{});
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST(FirewallWire, ABadNicFailsTheWholeJob) {
  struct Case {
    const char* name;
    std::function<void(v1::HostFirewall&)> spoil;
    const char* error_has;
  };
  const Case cases[] = {
      {"vm id", [](v1::HostFirewall& f) { f.mutable_nics(1)->set_vm(0); }, "VM 0 NIC 1"},
      {"nic index", [](v1::HostFirewall& f) { f.mutable_nics(1)->set_nic(8); },
       "NIC index is not 0-7"},
      {"address", [](v1::HostFirewall& f) { f.mutable_nics(0)->set_ip("10.77.0"); }, "VM 3 NIC 0"},
      {"rule", [](v1::HostFirewall& f) { f.mutable_nics(1)->mutable_rules(0)->set_ports("x"); },
       "VM 12 NIC 1 rule 0: ports:"},
  };
  for (const Case& c : cases) {
    v1::HostFirewall wire = to_wire(two_nics());
    c.spoil(wire);
    Result<std::vector<net::NicFirewall>> got = nics_of(wire);
    ASSERT_FALSE(got) << c.name;
    EXPECT_NE(got.error().message.find(c.error_has), std::string::npos)
        << c.name << ": " << got.error().message;
  }
}

}  // namespace
}  // namespace corral::wire
