#include "net/ipv4.h"

#include <gtest/gtest.h>

namespace corral::net {
namespace {

TEST(Ipv4, ParsesDottedQuadsAndRefusesTheRest) {
  struct Case {
    const char* text;
    std::optional<std::uint32_t> value;
  };
  const Case cases[] = {
      {"10.77.0.10", 0x0a4d000a},
      {"0.0.0.0", 0},
      {"255.255.255.255", 0xffffffff},
      {"1.2.3", std::nullopt},
      {"1.2.3.4.5", std::nullopt},
      {"256.1.1.1", std::nullopt},
      {"01.2.3.4", std::nullopt},
      {"1..3.4", std::nullopt},
      {"", std::nullopt},
      {"a.b.c.d", std::nullopt},
      {"1.2.3.4 ", std::nullopt},
      {"-1.2.3.4", std::nullopt},
  };
  for (const Case& c : cases) {
    Result<Ipv4> ip = Ipv4::parse(c.text);
    ASSERT_EQ(ip.has_value(), c.value.has_value()) << c.text;
    if (ip) {
      EXPECT_EQ(ip->value, *c.value) << c.text;
      EXPECT_EQ(ip->to_string(), c.text);
    } else {
      EXPECT_EQ(ip.error().code, ErrorCode::kInvalidArgument);
    }
  }
}

// The range rule: gateway first, leases up to the address before broadcast.
TEST(Cidr, GatewayAndLeasesFollowTheRange) {
  struct Case {
    const char* text;
    const char* gateway;
    const char* first;
    const char* last;
    std::uint32_t capacity;
    const char* mask;
  };
  const Case cases[] = {
      {"10.77.0.0/24", "10.77.0.1", "10.77.0.2", "10.77.0.254", 253, "255.255.255.0"},
      {"192.168.8.0/29", "192.168.8.1", "192.168.8.2", "192.168.8.6", 5, "255.255.255.248"},
      {"172.16.0.0/16", "172.16.0.1", "172.16.0.2", "172.16.255.254", 65533, "255.255.0.0"},
  };
  for (const Case& c : cases) {
    Result<Cidr> cidr = Cidr::parse(c.text);
    ASSERT_TRUE(cidr) << c.text << ": " << cidr.error().message;
    EXPECT_EQ(cidr->to_string(), c.text);
    EXPECT_EQ(cidr->gateway().to_string(), c.gateway);
    EXPECT_EQ(cidr->first_lease().to_string(), c.first);
    EXPECT_EQ(cidr->last_lease().to_string(), c.last);
    EXPECT_EQ(cidr->capacity(), c.capacity);
    EXPECT_EQ(cidr->netmask_text(), c.mask);
    EXPECT_TRUE(cidr->contains(cidr->last_lease()));
    EXPECT_FALSE(cidr->contains(Ipv4{cidr->broadcast().value + 1}));
  }
}

TEST(Cidr, RefusesWhatIsNotANetworkItCanServe) {
  struct Case {
    const char* text;
    const char* says;
  };
  const Case cases[] = {
      {"10.77.0.0", "not a CIDR"},       {"10.77.0.0/", "prefix"},
      {"10.77.0.0/30", "prefix"},        {"10.0.0.0/8", "prefix"},
      {"10.77.0.0/2x", "prefix"},        {"10.77.0.1/24", "did you mean 10.77.0.0/24"},
      {"10.77.0.300/24", "not an IPv4"},
  };
  for (const Case& c : cases) {
    Result<Cidr> cidr = Cidr::parse(c.text);
    ASSERT_FALSE(cidr) << c.text;
    EXPECT_NE(cidr.error().message.find(c.says), std::string::npos) << cidr.error().message;
  }
  const Cidr a = *Cidr::parse("10.77.0.0/24");
  EXPECT_TRUE(a.overlaps(*Cidr::parse("10.77.0.128/25")));
  EXPECT_TRUE(a.overlaps(*Cidr::parse("10.77.0.0/16")));
  EXPECT_FALSE(a.overlaps(*Cidr::parse("10.78.0.0/24")));
}

// OpenNebula's MAC rule (reference network-volumes.md §1: MAC_PREFIX "02:00" + the IPv4
// bytes), both ways.
TEST(Mac, EncodesTheAddressAsOpenNebulaDoes) {
  EXPECT_EQ(mac_for(*Ipv4::parse("10.77.0.10")), "02:00:0a:4d:00:0a");
  EXPECT_EQ(mac_for(*Ipv4::parse("192.168.1.254")), "02:00:c0:a8:01:fe");
  EXPECT_EQ(ip_from_mac("02:00:0a:4d:00:0a")->to_string(), "10.77.0.10");
  for (const char* other : {"52:54:00:12:34:56", "02:00:0A:4D:00:0A", "02:00:0a:4d:00", "",
                            "02:00:0a-4d:00:0a", "02:00:0g:4d:00:0a"}) {
    EXPECT_FALSE(ip_from_mac(other)) << other;
  }
}

}  // namespace
}  // namespace corral::net
