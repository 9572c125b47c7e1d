// Azure NSG rules as Corral's security-group rules: each row an NSG's one security rule and
// the Corral rule it becomes (after Azure's two default rules), or the refusal's words.
#include <gtest/gtest.h>

#include <cctype>

#include "compat/azure/front.h"

namespace corral::compat::azure::internal {
namespace {

struct Row {
  const char* name;
  const char* azure;   // the rule's properties, JSON
  const char* corral;  // the Corral rule, JSON; "" if refused
  const char* why;     // a word of the refusal
};

constexpr Row kRows[] = {
    {"az's default-allow-ssh",
     R"({"protocol": "Tcp", "sourcePortRange": "*", "destinationPortRange": "22",
         "sourceAddressPrefix": "*", "destinationAddressPrefix": "*", "access": "Allow",
         "priority": 1000, "direction": "Inbound"})",
     R"({"direction": "ingress", "protocol": "tcp", "ports": "22", "remote": ""})", ""},
    {"a range and a list",
     R"({"protocol": "Udp", "destinationPortRanges": ["53", "1000-2000"],
         "sourceAddressPrefix": "10.1.0.0/16", "access": "Allow", "direction": "Inbound"})",
     R"({"direction": "ingress", "protocol": "udp", "ports": "53,1000:2000",
         "remote": "10.1.0.0/16"})",
     ""},
    {"outbound by destination",
     R"({"protocol": "*", "destinationAddressPrefix": "192.0.2.0/24", "sourceAddressPrefix": "10.0.0.0/8",
         "access": "Allow", "direction": "Outbound"})",
     R"({"direction": "egress", "protocol": "all", "ports": "", "remote": "192.0.2.0/24"})", ""},
    {"the virtual network",
     R"({"protocol": "Icmp", "sourceAddressPrefix": "VirtualNetwork", "access": "Allow",
         "direction": "Inbound"})",
     R"({"direction": "ingress", "protocol": "icmp", "ports": "", "remote_own_network": true})",
     ""},
    {"a deny", R"({"protocol": "*", "access": "Deny", "direction": "Inbound"})", "", "allow-lists"},
    {"an unknown protocol", R"({"protocol": "Esp", "access": "Allow", "direction": "Inbound"})", "",
     "Tcp, Udp, Icmp"},
    {"a service tag", R"({"protocol": "Tcp", "sourceAddressPrefix": "AzureLoadBalancer",
         "access": "Allow", "direction": "Inbound"})",
     "", "address prefix"},
};

class NsgRules : public ::testing::TestWithParam<Row> {};

TEST_P(NsgRules, BecomeCorralRulesOrAreRefused) {
  const Row& row = GetParam();
  const json nsg = {{"name", "vmNSG"},
                    {"properties",
                     {{"securityRules",
                       json::array({{{"name", "r1"}, {"properties", json::parse(row.azure)}}})}}}};
  const auto rules = nsg_rules(nsg);
  if (std::string(row.corral).empty()) {
    ASSERT_FALSE(rules.has_value()) << rules->dump();
    EXPECT_NE(rules.error().find(row.why), std::string::npos) << rules.error();
    EXPECT_NE(rules.error().find("'r1'"), std::string::npos) << "names the rule: " << rules.error();
    return;
  }
  ASSERT_TRUE(rules.has_value()) << rules.error();
  ASSERT_EQ(rules->size(), 3u) << rules->dump();
  // Azure's defaults: inbound from the virtual network, all outbound.
  EXPECT_EQ((*rules)[0].value("remote_own_network", false), true);
  EXPECT_EQ((*rules)[1]["direction"], "egress");
  EXPECT_EQ((*rules)[1]["protocol"], "all");
  EXPECT_EQ((*rules)[2], json::parse(row.corral)) << (*rules)[2].dump();
}

INSTANTIATE_TEST_SUITE_P(Azure, NsgRules, ::testing::ValuesIn(kRows), [](const auto& info) {
  std::string n = info.param.name;
  for (char& c : n) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return n;
});

}  // namespace
}  // namespace corral::compat::azure::internal
