// What render_firewall() refuses before nft ever runs, and what it writes (no root, no
// namespace: tests/net_firewall_test.cc applies rulesets to real traffic).
#include "net/firewall.h"

#include <gtest/gtest.h>

namespace corral::net {
namespace {

// Rendering (no root needed): what is refused before nft ever runs, and port sets nft accepts.
TEST(FirewallRender, RefusesBadNicsAndMergesPorts) {
  const Ipv4 ip = *Ipv4::parse("10.66.0.11");
  const std::string good_mac = mac_for(ip);
  struct Case {
    NicFirewall nic;
    const char* error_has;  // "" = accepted
  };
  const Case cases[] = {
      {{"t1n0", good_mac, ip, {}}, ""},
      {{"", good_mac, ip, {}}, "tap name"},
      {{"t1n0\"; flush ruleset", good_mac, ip, {}}, "tap name"},
      {{"averyveryverylongname", good_mac, ip, {}}, "tap name"},
      {{"T1N0", good_mac, ip, {}}, "tap name"},
      {{"t1n0", "02:00:0A:42:00:0B", ip, {}}, "MAC"},
      {{"t1n0", "03:00:0a:42:00:0b", ip, {}}, "MAC"},
      {{"t1n0", "02:00:0a:42:00", ip, {}}, "MAC"},
      {{"t1n0", good_mac, Ipv4{0}, {}}, "address"},
      {{"t1n0",
        good_mac,
        ip,
        {SecurityGroupRule{RuleDirection::kIngress, RuleProtocol::kIcmp, {{1, 2}}, {}}}},
       "no ports"},
  };
  for (const Case& c : cases) {
    Result<std::string> r = render_firewall({c.nic});
    ASSERT_EQ(r.has_value(), *c.error_has == '\0') << c.nic.tap << " " << c.nic.mac;
    if (!r) {
      EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
      EXPECT_NE(r.error().message.find(c.error_has), std::string::npos) << r.error().message;
    }
  }
  EXPECT_FALSE(render_firewall({cases[0].nic, cases[0].nic})) << "one tap twice";

  NicFirewall nic = cases[0].nic;
  nic.rules = {SecurityGroupRule{RuleDirection::kIngress,
                                 RuleProtocol::kTcp,
                                 *parse_port_ranges("80,1000:2000,22,1500:2500,2501"),
                                 {}}};
  Result<std::string> text = render_firewall({nic});
  ASSERT_TRUE(text);
  EXPECT_NE(text->find("tcp dport { 22, 80, 1000-2501 } accept"), std::string::npos) << *text;
}

// Catches: a NIC's rules landing in another NIC's chain, an egress rule that accepts (the
// receiver's ingress would be skipped), a remote matched on the wrong side.
TEST(FirewallRender, EachNicGetsItsOwnChainsAndDirections) {
  const Ipv4 one = *Ipv4::parse("10.66.0.11");
  const Ipv4 two = *Ipv4::parse("10.66.0.12");
  const Cidr remote = *parse_remote_prefix("10.1.0.0/16");
  Result<std::string> text = render_firewall(
      {{"t1n0", mac_for(one), one, {{RuleDirection::kIngress, RuleProtocol::kIcmp, {}, remote}}},
       {"t2n0",
        mac_for(two),
        two,
        {{RuleDirection::kEgress, RuleProtocol::kUdp, {{53, 53}}, remote}}}});
  ASSERT_TRUE(text);
  const std::size_t ingress_1 = text->find("chain ingress_1 {");
  const std::size_t egress_2 = text->find("chain egress_2 {");
  ASSERT_NE(ingress_1, std::string::npos);
  ASSERT_NE(egress_2, std::string::npos);
  EXPECT_EQ(text->find("ip saddr 10.1.0.0/16 meta l4proto icmp accept"),
            text->find("ip saddr 10.1.0.0/16", ingress_1));
  EXPECT_GT(text->find("ip daddr 10.1.0.0/16 udp dport { 53 } return"), egress_2);
  EXPECT_NE(text->find("\"t2n0\" : 0x00020000"), std::string::npos);
  EXPECT_NE(text->find("ether saddr != 02:00:0a:42:00:0c drop"), std::string::npos);
  // The tables go and come back in the same script: one transaction.
  EXPECT_EQ(text->find("delete table bridge corral"), text->find("delete table"));
  EXPECT_LT(text->find("delete table inet corral"), text->find("table bridge corral {\n"));
}

}  // namespace
}  // namespace corral::net
