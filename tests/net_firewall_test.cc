// Security groups with real packets (src/net/firewall.h): a "host" namespace with a bridge, and
// three "guests", each a namespace joined to the bridge by a veth whose host end is named as a
// VM's tap (t1n0, t2n0, t3n0), with the MAC and address a VM would have. TCP connects, pings
// and a forged ARP answer go through the bridge and meet Corral's tables. Needs root, as CI
// runs. Every namespace is named after the test's pid (support/netns.h) and removed by that
// name when the fixture goes, also on failure; nothing outside them is touched.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <memory>
#include <thread>

#include "net/firewall.h"
#include "net/links.h"
#include "net/netns.h"
#include "support/netns.h"

namespace corral::net {
namespace {

using corral::testing::Netns;
using corral::testing::run_command;

constexpr int kGuests = 3;
const char* const kGuestIp[kGuests] = {"10.66.0.11", "10.66.0.12", "10.66.0.13"};
constexpr const char* kSpoofIp = "10.66.0.99";
constexpr const char* kSpoofMac = "02:00:0a:42:00:63";
constexpr const char* kBridge = "br1";

SecurityGroupRule rule(RuleDirection d, RuleProtocol p, const char* range = "",
                       const char* remote = "") {
  SecurityGroupRule r{d, p, {}, std::nullopt};
  if (*range != '\0') r.ports = *parse_port_ranges(range);
  if (*remote != '\0') r.remote = *parse_remote_prefix(remote);
  return r;
}
const SecurityGroupRule kEgressAll = rule(RuleDirection::kEgress, RuleProtocol::kAll);
const SecurityGroupRule kIngressAll = rule(RuleDirection::kIngress, RuleProtocol::kAll);

class NetFirewallTest : public ::testing::Test {
 protected:
  void SetUp() override {
    host_ = Netns::create("fwh");
    ASSERT_TRUE(host_);
    // apply() must turn bridged IPv4 towards the inet table itself: start with it off.
    ASSERT_EQ(run_command({"ip", "netns", "exec", host_->name(), "sysctl", "-q", "-w",
                           "net.bridge.bridge-nf-call-iptables=0"}),
              0);
    for (int i = 0; i < kGuests; ++i) {
      guests_[i] = Netns::create("fwg" + std::to_string(i + 1));
      ASSERT_TRUE(guests_[i]);
    }
    Status built = in_netns(host_->name(), [&]() -> Status {
      Result<Netlink> nl = Netlink::open();
      if (!nl) return fail(nl.error());
      if (Status s = nl->ensure_bridge(kBridge); !s) return s;
      if (Status s = nl->set_up(kBridge); !s) return s;
      for (int i = 0; i < kGuests; ++i) {
        const int fd = ::open(netns_path(guests_[i]->name()).c_str(), O_RDONLY | O_CLOEXEC);
        Status v = nl->ensure_veth(tap(i), "eth0", fd);
        ::close(fd);
        if (!v) return v;
        if (Status s = nl->set_master(tap(i), kBridge); !s) return s;
        if (Status s = nl->set_up(tap(i)); !s) return s;
      }
      return {};
    });
    ASSERT_TRUE(built) << built.error().message;
    for (int i = 0; i < kGuests; ++i) {
      ASSERT_EQ(guest_ip(i, "add", kGuestIp[i]), 0);
      ASSERT_EQ(guest_mac(i, mac(i)), 0);
      ASSERT_EQ(run_command({"ip", "-n", guests_[i]->name(), "link", "set", "eth0", "up"}), 0);
    }
    // Listeners on guest 1: the kernel completes handshakes into the backlog, no accept().
    for (const int port : {22, 8080}) {
      Result<int> fd =
          in_netns(guests_[0]->name(), [&]() -> Result<int> { return listen_on(port); });
      ASSERT_TRUE(fd) << fd.error().message;
      listeners_.push_back(*fd);
    }
  }
  void TearDown() override {
    for (const int fd : listeners_) ::close(fd);
    if (host_) {
      EXPECT_TRUE(remove_firewall(host_->name()));
    }
  }

  static std::string tap(int i) { return "t" + std::to_string(i + 1) + "n0"; }
  static std::string mac(int i) { return mac_for(*Ipv4::parse(kGuestIp[i])); }
  int guest_ip(int i, const char* verb, const std::string& ip) {
    return run_command({"ip", "-n", guests_[i]->name(), "addr", verb, ip + "/24", "dev", "eth0"});
  }
  int guest_mac(int i, const std::string& address) {
    return run_command({"ip", "-n", guests_[i]->name(), "link", "set", "eth0", "address", address});
  }
  // The NICs of the three guests with the given rules each.
  static std::vector<NicFirewall> nics(std::vector<SecurityGroupRule> one,
                                       std::vector<SecurityGroupRule> two,
                                       std::vector<SecurityGroupRule> three) {
    std::vector<std::vector<SecurityGroupRule>> rules = {one, two, three};
    std::vector<NicFirewall> out;
    for (int i = 0; i < kGuests; ++i) {
      out.push_back({tap(i), mac(i), *Ipv4::parse(kGuestIp[i]), rules[i]});
    }
    return out;
  }
  void apply(const std::vector<NicFirewall>& nics) {
    Status s = apply_firewall(host_->name(), nics);
    ASSERT_TRUE(s) << s.error().message;
  }

  static Result<int> listen_on(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd, 128) != 0) {
      if (fd >= 0) ::close(fd);
      return fail(Error::internal("cannot listen on port " + std::to_string(port)));
    }
    return fd;
  }
  // A TCP connect from guest `from` to guest 1's `port`: true when the handshake completes
  // within `wait_ms` (a dropped SYN leaves it pending: false). Allowed traffic gets time for
  // an ARP retry (1 s); traffic expected dropped is given a second, not to wait for nothing.
  bool connects(int from, int port, const char* to = kGuestIp[0], int wait_ms = 3000) {
    Result<bool> r = in_netns(guests_[from]->name(), [&]() -> Result<bool> {
      const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(static_cast<std::uint16_t>(port));
      ::inet_pton(AF_INET, to, &addr.sin_addr);
      bool ok = false;
      if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
        ok = true;
      } else if (errno == EINPROGRESS) {
        pollfd p{fd, POLLOUT, 0};
        int err = -1;
        socklen_t len = sizeof err;
        ok = ::poll(&p, 1, wait_ms) == 1 &&
             ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0;
      }
      ::close(fd);
      return ok;
    });
    return r && *r;
  }
  bool blocked(int from, int port, const char* to = kGuestIp[0]) {
    return !connects(from, port, to, 1000);
  }
  bool pings(int from, const char* to, const char* wait_s = "3") {
    return run_command({"ip", "netns", "exec", guests_[from]->name(), "busybox", "ping", "-c", "1",
                        "-W", wait_s, to}) == 0;
  }
  bool ping_blocked(int from, const char* to) { return !pings(from, to, "1"); }
  // `ip neigh replace|del` in guest `i` (a permanent entry for `address`).
  int neighbour(int i, const char* verb, const char* ip, const std::string& address) {
    std::vector<std::string> argv = {"ip", "-n", guests_[i]->name(), "neigh", verb, ip};
    if (!address.empty()) {
      for (const char* word : {"lladdr", address.c_str(), "nud", "permanent"}) argv.push_back(word);
    }
    argv.insert(argv.end(), {"dev", "eth0"});
    return run_command(argv);
  }
  // Guest `i`'s neighbour entry for `ip` has `mac`.
  bool neighbour_is(int i, const char* ip, const std::string& address) {
    return run_command({"sh", "-c",
                        "ip -n " + guests_[i]->name() + " neigh show " + ip + " | grep -q " +
                            address}) == 0;
  }
  // Guest 2 answers guest 3 with an ARP reply it has no right to: "guest 1's address is at my
  // MAC" (unsolicited, as a poisoner would).
  void forge_arp_reply() {
    Status sent = in_netns(guests_[1]->name(), [&]() -> Status {
      const int fd = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ARP));
      if (fd < 0) return fail(Error::internal("no packet socket"));
      std::array<std::uint8_t, 42> frame{};
      auto put_mac = [&](std::size_t at, const std::string& text) {
        for (std::size_t b = 0; b < 6; ++b) {
          frame[at + b] = static_cast<std::uint8_t>(std::stoi(text.substr(b * 3, 2), nullptr, 16));
        }
      };
      auto put_ip = [&](std::size_t at, const char* text) {
        const std::uint32_t v = Ipv4::parse(text)->value;
        for (std::size_t b = 0; b < 4; ++b)
          frame[at + b] = static_cast<std::uint8_t>(v >> (24 - 8 * b));
      };
      put_mac(0, mac(2));  // to guest 3
      put_mac(6, mac(1));  // from guest 2's real MAC
      frame[12] = 0x08, frame[13] = 0x06;
      frame[14] = 0, frame[15] = 1, frame[16] = 0x08, frame[17] = 0, frame[18] = 6, frame[19] = 4;
      frame[20] = 0, frame[21] = 2;  // reply
      put_mac(22, mac(1));
      put_ip(28, kGuestIp[0]);  // the lie: guest 1's address
      put_mac(32, mac(2));
      put_ip(38, kGuestIp[2]);
      sockaddr_ll to{};
      to.sll_family = AF_PACKET;
      to.sll_protocol = htons(ETH_P_ARP);
      to.sll_ifindex = static_cast<int>(::if_nametoindex("eth0"));
      to.sll_halen = 6;
      std::copy_n(frame.begin(), 6, to.sll_addr);
      bool ok = true;
      for (int n = 0; n < 3; ++n) {
        ok = ok && ::sendto(fd, frame.data(), frame.size(), 0, reinterpret_cast<sockaddr*>(&to),
                            sizeof to) == static_cast<ssize_t>(frame.size());
      }
      ::close(fd);
      return ok ? Status{} : fail(Error::internal("sendto failed"));
    });
    ASSERT_TRUE(sent) << sent.error().message;
  }

  std::unique_ptr<Netns> host_;
  std::array<std::unique_ptr<Netns>, kGuests> guests_;
  std::vector<int> listeners_;
};

// Catches: inbound rules not applied to the tap a packet goes out to, return traffic of an
// allowed connection dropped (no conntrack), a group change that needs the NIC recreated or
// that leaves the old rules in place, ICMP not told apart from TCP, bridged IPv4 never reaching
// the inet table (bridge-nf-call-iptables left off).
TEST_F(NetFirewallTest, InboundRulesAndAGroupChangeReachARunningNic) {
  ASSERT_TRUE(connects(1, 8080)) << "no firewall yet: the plumbing itself must work";
  const std::vector<SecurityGroupRule> open = {kEgressAll, kIngressAll};
  apply(nics({kEgressAll, rule(RuleDirection::kIngress, RuleProtocol::kTcp, "22")}, open, open));
  EXPECT_TRUE(connects(1, 22)) << "allowed, and the SYN-ACK must come back";
  EXPECT_TRUE(blocked(1, 8080)) << "not allowed";
  EXPECT_TRUE(ping_blocked(1, kGuestIp[0])) << "ICMP not allowed";
  EXPECT_TRUE(pings(0, kGuestIp[1])) << "guest 1's own egress, and its echo reply";

  // The group changes: 8080 and ICMP too. Same namespaces, same links, same listeners.
  apply(nics({kEgressAll, rule(RuleDirection::kIngress, RuleProtocol::kTcp, "22,8080"),
              rule(RuleDirection::kIngress, RuleProtocol::kIcmp)},
             open, open));
  EXPECT_TRUE(connects(1, 8080));
  EXPECT_TRUE(connects(1, 22));
  EXPECT_TRUE(pings(1, kGuestIp[0]));

  // Only from guest 3's address now: guest 2 is refused, guest 3 let in.
  apply(
      nics({kEgressAll, rule(RuleDirection::kIngress, RuleProtocol::kTcp, "8080", "10.66.0.13/32")},
           open, open));
  EXPECT_TRUE(blocked(1, 8080));
  EXPECT_TRUE(connects(2, 8080));
}

// Catches: outbound rules not applied to packets from the tap, an egress match that accepts
// outright (skipping the receiver's ingress rules), ports or remote ignored in egress.
TEST_F(NetFirewallTest, OutboundRulesLimitWhatANicSends) {
  const std::vector<SecurityGroupRule> open = {kEgressAll, kIngressAll};
  apply(nics(open,
             {kIngressAll, rule(RuleDirection::kEgress, RuleProtocol::kTcp, "22", "10.66.0.0/24")},
             open));
  EXPECT_TRUE(connects(1, 22));
  EXPECT_TRUE(blocked(1, 8080)) << "egress allows 22 only";
  EXPECT_TRUE(ping_blocked(1, kGuestIp[0])) << "egress allows TCP only";
  EXPECT_TRUE(pings(0, kGuestIp[1])) << "an echo reply is return traffic";
  EXPECT_TRUE(connects(2, 8080)) << "guest 3 is not restricted";

  // Egress allowed, the receiver's ingress still applies.
  apply(nics({kEgressAll, rule(RuleDirection::kIngress, RuleProtocol::kTcp, "22")},
             {kIngressAll, kEgressAll}, open));
  EXPECT_TRUE(connects(1, 22));
  EXPECT_TRUE(blocked(1, 8080));
}

// Catches: a VM that takes another address or MAC and still talks, a forged ARP answer that
// poisons a neighbour's cache. Each check first shows, without the firewall, that the spoof
// works: so the test sees the firewall stop it, not something else.
TEST_F(NetFirewallTest, ANicSpeaksOnlyWithItsOwnAddressesAndArp) {
  const std::vector<SecurityGroupRule> open = {kEgressAll, kIngressAll};
  const std::vector<NicFirewall> all_open = nics(open, open, open);
  apply(all_open);
  ASSERT_TRUE(connects(1, 22));

  // Another IPv4 address.
  ASSERT_EQ(guest_ip(1, "del", kGuestIp[1]), 0);
  ASSERT_EQ(guest_ip(1, "add", kSpoofIp), 0);
  // Both ends know each other's MAC already: no ARP (which the firewall checks too), so only
  // the source address check can stop the connect.
  ASSERT_EQ(neighbour(0, "replace", kSpoofIp, mac(1)), 0);
  ASSERT_EQ(neighbour(1, "replace", kGuestIp[0], mac(0)), 0);
  EXPECT_TRUE(blocked(1, 22)) << "a spoofed source address got through";
  ASSERT_TRUE(remove_firewall(host_->name()));
  EXPECT_TRUE(connects(1, 22)) << "control: without the firewall the spoof works";
  apply(all_open);
  ASSERT_EQ(neighbour(0, "del", kSpoofIp, ""), 0);
  ASSERT_EQ(guest_ip(1, "del", kSpoofIp), 0);
  ASSERT_EQ(guest_ip(1, "add", kGuestIp[1]), 0);
  EXPECT_TRUE(connects(1, 22)) << "its own address again";

  // Another MAC. Guest 1 is told the new one (no ARP, as above), so only the source MAC check
  // can stop the connect.
  // (A new MAC flushes the link's neighbours, permanent ones too: guest 2's is set again.)
  ASSERT_EQ(guest_mac(1, kSpoofMac), 0);
  ASSERT_EQ(neighbour(0, "replace", kGuestIp[1], kSpoofMac), 0);
  ASSERT_EQ(neighbour(1, "replace", kGuestIp[0], mac(0)), 0);
  EXPECT_TRUE(blocked(1, 22)) << "a spoofed source MAC got through";
  ASSERT_TRUE(remove_firewall(host_->name()));
  EXPECT_TRUE(connects(1, 22)) << "control: without the firewall the spoof works";
  apply(all_open);
  ASSERT_EQ(neighbour(0, "del", kGuestIp[1], ""), 0);
  ASSERT_EQ(neighbour(1, "del", kGuestIp[0], ""), 0);
  ASSERT_EQ(guest_mac(1, mac(1)), 0);
  EXPECT_TRUE(connects(1, 22)) << "its own MAC again";

  // ARP: guest 3 knows guest 1; guest 2 claims guest 1's address. Linux takes an unsolicited
  // reply for a known neighbour once its locktime (1 s) has passed since the last update.
  auto poisoned_after_forgery = [&] {
    EXPECT_EQ(run_command({"ip", "-n", guests_[2]->name(), "neigh", "flush", "dev", "eth0"}), 0);
    EXPECT_TRUE(pings(2, kGuestIp[0]));
    EXPECT_TRUE(neighbour_is(2, kGuestIp[0], mac(0)));
    std::this_thread::sleep_for(std::chrono::milliseconds(1300));
    forge_arp_reply();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    return neighbour_is(2, kGuestIp[0], mac(1));
  };
  ASSERT_TRUE(remove_firewall(host_->name()));
  EXPECT_TRUE(poisoned_after_forgery()) << "control: without the firewall the forgery works";
  apply(all_open);
  EXPECT_FALSE(poisoned_after_forgery()) << "a forged ARP answer crossed the bridge";
  EXPECT_TRUE(neighbour_is(2, kGuestIp[0], mac(0)));
}

// Catches: a second apply() that fails on the tables the first made, a remove() that leaves a
// table behind or fails when there is none.
TEST_F(NetFirewallTest, ApplyAndRemoveAreIdempotent) {
  const std::vector<NicFirewall> closed = nics({}, {}, {});
  apply(closed);
  apply(closed);
  EXPECT_TRUE(blocked(1, 22)) << "no rule: nothing in";
  const std::vector<std::string> list = {
      "sh", "-c",
      "ip netns exec " + host_->name() + " nft list table bridge corral >/dev/null 2>&1"};
  EXPECT_EQ(run_command(list), 0);
  ASSERT_TRUE(remove_firewall(host_->name()));
  EXPECT_NE(run_command(list), 0);
  EXPECT_TRUE(remove_firewall(host_->name()));
  EXPECT_TRUE(remove_firewall("corral-t" + std::to_string(::getpid()) + "-absent"));
  EXPECT_TRUE(connects(1, 22)) << "unfiltered again";
  apply({});
  EXPECT_TRUE(connects(1, 22)) << "no NICs listed: none filtered";
}

}  // namespace
}  // namespace corral::net
