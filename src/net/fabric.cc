#include "net/fabric.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "net/links.h"
#include "net/netns.h"
#include "net/tap.h"

namespace corral::net {
namespace {

constexpr const char* kUnderlayBridge = "ul0";
constexpr const char* kUnderlayLink = "ul";  // inside each node
constexpr int kUnderlayPrefix = 16;

std::uint32_t fnv1a(std::string_view text) {
  std::uint32_t h = 2166136261u;
  for (char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 16777619u;
  }
  return h;
}

// The underlay end of a node's veth: short, and unique per node.
std::string underlay_port(std::string_view node_ns) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "u%08x", fnv1a(node_ns));
  return buf;
}

}  // namespace

std::string FabricNames::host_ns(std::string_view host) const {
  std::string ns = "corral-" + cluster8 + "-h-" + std::string(host);
  if (valid_netns_name(ns)) return ns;
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08x", fnv1a(host));
  return "corral-" + cluster8 + "-h-" + buf;
}

std::string bridge_name(std::int64_t network) { return "br" + std::to_string(network); }
std::string vxlan_name(std::int64_t network) { return "vx" + std::to_string(network); }
std::string tap_name(std::int64_t vm, int nic) {
  return "t" + std::to_string(vm) + "n" + std::to_string(nic);
}

Ipv4 vxlan_group(std::int64_t network) {
  return Ipv4{(239u << 24) | (1u << 16) | (static_cast<std::uint32_t>(network) & 0xffffu)};
}

Ipv4 underlay_address(std::string_view node_ns) {
  if (node_ns.ends_with("-net")) return Ipv4{(169u << 24) | (254u << 16) | 1u};
  // 169.254.1.0 - 169.254.254.255 less .0 and .255: hosts never take the network node's.
  const std::uint32_t h = fnv1a(node_ns);
  const std::uint32_t third = 1 + h % 254;
  const std::uint32_t fourth = 1 + (h >> 8) % 254;
  return Ipv4{(169u << 24) | (254u << 16) | (third << 8) | fourth};
}

Status join_underlay(const FabricNames& names, const std::string& node_ns, Ipv4 address) {
  if (Status s = create_netns(names.underlay_ns()); !s) return s;
  if (Status s = create_netns(node_ns); !s) return s;
  if (Status s =
          in_netns(names.underlay_ns(),
                   [&]() -> Status {
                     Result<Netlink> nl = Netlink::open();
                     if (!nl) return fail(std::move(nl.error()));
                     if (Status b = nl->ensure_bridge(kUnderlayBridge); !b) return b;
                     const std::string port = underlay_port(node_ns);
                     Result<int> present = nl->ifindex(port);
                     if (!present) return fail(std::move(present.error()));
                     if (*present == 0) {
                       const int fd = ::open(netns_path(node_ns).c_str(), O_RDONLY | O_CLOEXEC);
                       if (fd < 0)
                         return fail(Error{ErrorCode::kUnavailable, "open " + node_ns, {}, {}});
                       Status v = nl->ensure_veth(port, kUnderlayLink, fd);
                       ::close(fd);
                       if (!v) return v;
                     }
                     if (Status m = nl->set_master(port, kUnderlayBridge); !m) return m;
                     return nl->set_up(port);
                   });
      !s) {
    return s;
  }
  return in_netns(node_ns, [&]() -> Status {
    Result<Netlink> nl = Netlink::open();
    if (!nl) return fail(std::move(nl.error()));
    if (Status lo = nl->set_up("lo"); !lo) return lo;
    if (Status a = nl->add_address(kUnderlayLink, address, kUnderlayPrefix); !a) return a;
    return nl->set_up(kUnderlayLink);
  });
}

// ---- NetNode --------------------------------------------------------------------------------

NetNode::NetNode(FabricNames names, std::string state_dir)
    : names_(std::move(names)), netns_(names_.network_ns()), state_dir_(std::move(state_dir)) {}

Dnsmasq NetNode::dhcp(std::int64_t id, const Cidr& cidr) const {
  return Dnsmasq(netns_, bridge_name(id), cidr, state_dir_ + "/dhcp-" + std::to_string(id));
}

Status NetNode::ensure_network(std::int64_t id, const Cidr& cidr,
                               const std::vector<DhcpHost>& hosts) {
  if (Status s = join_underlay(names_, netns_, underlay_address(netns_)); !s) return s;
  Status built = in_netns(netns_, [&]() -> Status {
    Result<Netlink> nl = Netlink::open();
    if (!nl) return fail(std::move(nl.error()));
    const std::string br = bridge_name(id);
    const std::string vx = vxlan_name(id);
    if (Status b = nl->ensure_bridge(br); !b) return b;
    if (Status a = nl->add_address(br, cidr.gateway(), cidr.prefix); !a) return a;
    if (Status v = nl->ensure_vxlan(vx, static_cast<std::uint32_t>(id), vxlan_group(id),
                                    underlay_address(netns_), kUnderlayLink);
        !v) {
      return v;
    }
    return nl->set_master(vx, br);
  });
  if (!built) return built;
  return dhcp(id, cidr).apply(hosts);
}

Status NetNode::remove_network(std::int64_t id, const Cidr& cidr) {
  if (Status s = dhcp(id, cidr).stop(); !s) return s;
  if (!netns_exists(netns_)) return {};
  return in_netns(netns_, [&]() -> Status {
    Result<Netlink> nl = Netlink::open();
    if (!nl) return fail(std::move(nl.error()));
    if (Status v = nl->delete_link(vxlan_name(id)); !v) return v;
    return nl->delete_link(bridge_name(id));
  });
}

Status NetNode::teardown() {
  // Every dnsmasq this node started: one state directory per network.
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(state_dir_, ec)) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with("dhcp-")) continue;
    Dnsmasq any(netns_, "", Cidr{}, entry.path().string());
    if (Status s = any.stop(); !s) return s;
  }
  if (Status s = delete_netns(netns_); !s) return s;
  return delete_netns(names_.underlay_ns());
}

// ---- HostNode -------------------------------------------------------------------------------

HostNode::HostNode(FabricNames names, std::string host)
    : names_(std::move(names)), netns_(names_.host_ns(host)) {}

Status HostNode::ensure_network(std::int64_t id) {
  if (Status s = join_underlay(names_, netns_, underlay_address(netns_)); !s) return s;
  return in_netns(netns_, [&]() -> Status {
    Result<Netlink> nl = Netlink::open();
    if (!nl) return fail(std::move(nl.error()));
    const std::string br = bridge_name(id);
    const std::string vx = vxlan_name(id);
    if (Status b = nl->ensure_bridge(br); !b) return b;
    if (Status v = nl->ensure_vxlan(vx, static_cast<std::uint32_t>(id), vxlan_group(id),
                                    underlay_address(netns_), kUnderlayLink);
        !v) {
      return v;
    }
    return nl->set_master(vx, br);
  });
}

Result<int> HostNode::open_tap(std::int64_t vm, int nic, std::int64_t network) {
  if (Status s = ensure_network(network); !s) return fail(std::move(s.error()));
  return in_netns(netns_, [&]() -> Result<int> {
    Result<Netlink> nl = Netlink::open();
    if (!nl) return fail(std::move(nl.error()));
    const std::string name = tap_name(vm, nic);
    Result<int> fd = net::open_tap(name);
    if (!fd) return fd;
    Status attached = nl->set_master(name, bridge_name(network));
    if (attached) attached = nl->set_up(name);
    if (!attached) {
      ::close(*fd);
      return fail(std::move(attached.error()));
    }
    return fd;
  });
}

Status HostNode::teardown() {
  if (Status s = delete_netns(netns_); !s) return s;
  // Its veth's other end in the underlay went with the namespace.
  return {};
}

}  // namespace corral::net
