// The network plumbing with real packets (src/net): a network node and two hosts on a cluster
// of this test's own (namespaces corral-<cluster8>-*, named after the test's pid), "VMs" that
// are namespaces joined to a host's bridge by a veth, DHCP from dnsmasq in Neutron's static
// mode, and ping across hosts over VXLAN. Needs root, as CI runs. Everything is removed by the
// names the test made, never by a pattern.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "net/fabric.h"
#include "net/links.h"
#include "net/local_fabric.h"
#include "net/netns.h"
#include "support/netns.h"

namespace corral::net {
namespace {

namespace fs = std::filesystem;
using corral::testing::run_command;

class NetFabricTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char buf[16];
    std::snprintf(buf, sizeof buf, "t%07d", static_cast<int>(::getpid()) % 10000000);
    names_.cluster8 = buf;
    state_ = fs::temp_directory_path() / ("corral-fabric-" + names_.cluster8);
    fs::create_directories(state_);
    script_ = (state_ / "udhcpc.script").string();
    std::ofstream out(script_);
    // udhcpc's hook: put the address it was given on the interface (busybox's simple.script).
    out << "#!/bin/sh\n[ \"$1\" = bound ] || exit 0\nip addr add \"$ip/$mask\" dev "
           "\"$interface\"\n";
    out.close();
    fs::permissions(script_, fs::perms::owner_all);
  }
  void TearDown() override {
    for (const std::string& ns : vms_) (void)delete_netns(ns);
    for (auto& host : hosts_) EXPECT_TRUE(host->teardown());
    if (net_) EXPECT_TRUE(net_->teardown());
    (void)delete_netns(names_.underlay_ns());  // the hosts' shared one, when no node removed it
    EXPECT_FALSE(netns_exists(names_.network_ns()));
    EXPECT_FALSE(netns_exists(names_.underlay_ns()));
    std::error_code ec;
    fs::remove_all(state_, ec);
  }

  HostNode& host(const std::string& name) {
    hosts_.push_back(std::make_unique<HostNode>(names_, name));
    return *hosts_.back();
  }

  // A "VM": a namespace with eth0 (MAC = mac_for(ip)) on `host`'s bridge for `network`.
  std::string vm(HostNode& on, std::int64_t network, int index, const std::string& ip) {
    const std::string ns = "corral-" + names_.cluster8 + "-vm" + std::to_string(index);
    EXPECT_TRUE(create_netns(ns));
    vms_.push_back(ns);
    EXPECT_TRUE(on.ensure_network(network));
    const std::string port = "v" + std::to_string(index);
    Status joined = in_netns(on.netns(), [&]() -> Status {
      Result<Netlink> nl = Netlink::open();
      if (!nl) return fail(nl.error());
      const int fd = ::open(netns_path(ns).c_str(), O_RDONLY | O_CLOEXEC);
      Status v = nl->ensure_veth(port, "eth0", fd);
      ::close(fd);
      if (!v) return v;
      return nl->set_master(port, bridge_name(network));
    });
    EXPECT_TRUE(joined) << (joined ? "" : joined.error().message);
    const std::string mac = mac_for(*Ipv4::parse(ip));
    EXPECT_EQ(run_command({"ip", "netns", "exec", ns, "ip", "link", "set", "eth0", "address", mac}),
              0);
    EXPECT_EQ(run_command({"ip", "netns", "exec", ns, "ip", "link", "set", "eth0", "up"}), 0);
    EXPECT_EQ(run_command({"ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"}), 0);
    return ns;
  }
  // busybox udhcpc: asks once (-n -q), a few tries; 0 when it got an address.
  int dhcp(const std::string& ns) {
    return run_command({"ip", "netns", "exec", ns, "busybox", "udhcpc", "-i", "eth0", "-n", "-q",
                        "-t", "5", "-T", "1", "-s", script_});
  }
  int ping(const std::string& ns, const std::string& ip) {
    return run_command({"ip", "netns", "exec", ns, "busybox", "ping", "-c", "1", "-W", "2", ip});
  }

  FabricNames names_;
  fs::path state_;
  std::string script_;
  std::unique_ptr<NetNode> net_;
  std::vector<std::unique_ptr<HostNode>> hosts_;
  std::vector<std::string> vms_;
};

// Catches: no DHCP answer (static hosts file, flags), a VXLAN that does not carry between
// namespaces (group, underlay), two networks that leak into each other, a teardown that
// leaves a namespace or a dnsmasq behind.
TEST_F(NetFabricTest, VmsOnTwoHostsGetTheirLeasesAndReachEachOtherButNotAnotherNetwork) {
  net_ = std::make_unique<NetNode>(names_, (state_ / "net").string());
  const Cidr a = *Cidr::parse("10.201.0.0/24");
  const Cidr b = *Cidr::parse("10.202.0.0/24");
  const std::vector<DhcpHost> leases_a = {
      {mac_for(*Ipv4::parse("10.201.0.2")), "10.201.0.2", "one"},
      {mac_for(*Ipv4::parse("10.201.0.3")), "10.201.0.3", "two"}};
  const std::vector<DhcpHost> leases_b = {
      {mac_for(*Ipv4::parse("10.202.0.2")), "10.202.0.2", "three"}};
  Status made = net_->ensure_network(1, a, leases_a);
  ASSERT_TRUE(made) << made.error().message;
  ASSERT_TRUE(net_->ensure_network(2, b, leases_b));
  ASSERT_TRUE(net_->ensure_network(1, a, leases_a)) << "idempotent";
  const std::optional<pid_t> dhcp_a = net_->dhcp(1, a).running();
  ASSERT_TRUE(dhcp_a);

  HostNode& h1 = host("h1");
  HostNode& h2 = host("h2");
  const std::string one = vm(h1, 1, 1, "10.201.0.2");
  const std::string two = vm(h2, 1, 2, "10.201.0.3");
  const std::string three = vm(h2, 2, 3, "10.202.0.2");
  ASSERT_EQ(dhcp(one), 0) << "no DHCP answer across VXLAN";
  ASSERT_EQ(dhcp(two), 0);
  ASSERT_EQ(dhcp(three), 0);
  EXPECT_EQ(ping(one, "10.201.0.1"), 0) << "gateway";
  EXPECT_EQ(ping(one, "10.201.0.3"), 0) << "the VM on the other host";
  EXPECT_EQ(ping(three, "10.202.0.1"), 0);
  EXPECT_NE(ping(three, "10.201.0.2"), 0) << "another network";

  // A MAC the hosts file does not list gets nothing (static mode).
  const std::string stranger = vm(h1, 1, 4, "10.201.0.9");
  EXPECT_NE(dhcp(stranger), 0);
  // Listed now: SIGHUP, and the same dnsmasq answers.
  std::vector<DhcpHost> more = leases_a;
  more.push_back({mac_for(*Ipv4::parse("10.201.0.9")), "10.201.0.9", "late"});
  ASSERT_TRUE(net_->ensure_network(1, a, more));
  EXPECT_EQ(net_->dhcp(1, a).running(), dhcp_a) << "reloaded, not restarted";
  EXPECT_EQ(dhcp(stranger), 0);

  ASSERT_TRUE(net_->remove_network(2, b));
  EXPECT_FALSE(net_->dhcp(2, b).running());
  EXPECT_NE(ping(three, "10.202.0.1"), 0);
  EXPECT_TRUE(net_->teardown());
  EXPECT_NE(::kill(*dhcp_a, 0), 0) << "dnsmasq left running";
  net_.reset();
}

// Catches: a dnsmasq left running with an older version's options (here: without the MTU)
// kept and reloaded, so the network would never serve this version's options.
TEST_F(NetFabricTest, ADnsmasqStartedWithOtherOptionsIsReplaced) {
  net_ = std::make_unique<NetNode>(names_, (state_ / "net").string());
  const Cidr a = *Cidr::parse("10.203.0.0/24");
  const std::vector<DhcpHost> leases = {{mac_for(*Ipv4::parse("10.203.0.2")), "10.203.0.2", "a"}};
  ASSERT_TRUE(net_->ensure_network(1, a, leases));
  Dnsmasq dhcp = net_->dhcp(1, a);
  const std::optional<pid_t> first = dhcp.running();
  ASSERT_TRUE(first);
  ::kill(*first, SIGTERM);
  for (int i = 0; i < 200 && ::kill(*first, 0) == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  // As an older Corral started it: the same hosts and pid file, no MTU option.
  std::vector<std::string> older = {"ip", "netns", "exec", names_.network_ns()};
  for (const std::string& arg : dhcp.argv()) {
    if (arg.find("option:mtu") == std::string::npos) older.push_back(arg);
  }
  ASSERT_EQ(older.size(), dhcp.argv().size() + 3) << "argv() gives the MTU";
  ASSERT_EQ(run_command(older), 0);
  const std::optional<pid_t> old = dhcp.running();
  ASSERT_TRUE(old) << "the older one is ours (our hosts file)";

  ASSERT_TRUE(net_->ensure_network(1, a, leases));
  const std::optional<pid_t> now = dhcp.running();
  ASSERT_TRUE(now);
  EXPECT_NE(*now, *old) << "replaced, not reloaded";
  EXPECT_NE(::kill(*old, 0), 0) << "the older one still runs";
  std::ifstream in("/proc/" + std::to_string(*now) + "/cmdline");
  const std::string cmdline{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  EXPECT_NE(cmdline.find("--dhcp-option=option:mtu,1450"), std::string::npos);
  // And the same one is kept (reloaded) from then on.
  ASSERT_TRUE(net_->ensure_network(1, a, leases));
  EXPECT_EQ(dhcp.running(), now);
}

// Catches: a tap left behind when its last descriptor closes, a tap not on its bridge, a tap
// name shared by two VMs.
TEST_F(NetFabricTest, ATapLivesAsLongAsItsDescriptor) {
  HostNode& h = host("h1");
  Result<int> fd = h.open_tap(7, 0, 3);
  ASSERT_TRUE(fd) << fd.error().message;
  const int on_bridge = run_command({"ip", "netns", "exec", h.netns(), "sh", "-c",
                                     "ip -o link show t7n0 | grep -q 'master br3'"});
  EXPECT_EQ(on_bridge, 0);
  Result<int> again = h.open_tap(7, 0, 3);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kConflict);
  ::close(*fd);
  EXPECT_NE(run_command({"ip", "netns", "exec", h.netns(), "ip", "link", "show", "t7n0"}), 0);
}

// The table's text in a namespace (nft's listing), or "" without it.
std::string nft_table(const std::string& ns, const char* family) {
  const std::string out = fs::temp_directory_path() / ("corral-nft-" + ns);
  (void)run_command(
      {"sh", "-c",
       "ip netns exec " + ns + " nft list table " + family + " corral > " + out + " 2>/dev/null"});
  std::ifstream in(out);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::error_code ec;
  fs::remove(out, ec);
  return text;
}

// Catches: a tap opened before its host's firewall job was applied (the worker had not run
// yet), an older job applied over a newer one, apply_latest with nothing to apply failing.
TEST_F(NetFabricTest, ApplyLatestFiltersATapBeforeItOpensAndNeverGoesBack) {
  HostNode& h = host("h1");
  LocalFabric fabric(names_, (state_ / "fabric").string());  // not started: no worker races
  EXPECT_TRUE(fabric.apply_latest("h1"));                    // no job yet: nothing to do
  ASSERT_TRUE(h.ensure_network(3));
  const SecurityGroupRule ssh{RuleDirection::kIngress, RuleProtocol::kTcp, {{22, 22}}, {}};
  driver::HostFirewallJob job{"h1", {{7, 0, "02:00:0a:4d:00:02", "10.77.0.2", {ssh}}}, 2};
  fabric.apply_firewall(job);
  ASSERT_TRUE(fabric.apply_latest("h1"));
  EXPECT_NE(nft_table(h.netns(), "bridge").find("\"t7n0\""), std::string::npos);
  Result<int> fd = h.open_tap(7, 0, 3);
  ASSERT_TRUE(fd) << fd.error().message;

  // An older job (its answer late, say) does not take the NIC's rules away.
  fabric.apply_firewall({"h1", {}, 1});
  ASSERT_TRUE(fabric.apply_latest("h1"));
  EXPECT_NE(nft_table(h.netns(), "bridge").find("\"t7n0\""), std::string::npos);
  // A newer one does; with nothing waiting, the last applied is applied again.
  fabric.apply_firewall({"h1", {}, 3});
  ASSERT_TRUE(fabric.apply_latest("h1"));
  EXPECT_EQ(nft_table(h.netns(), "bridge").find("\"t7n0\""), std::string::npos);
  EXPECT_TRUE(fabric.apply_latest("h1"));
  EXPECT_NE(nft_table(h.netns(), "bridge").find("table bridge corral"), std::string::npos);
  ::close(*fd);
}

}  // namespace
}  // namespace corral::net
