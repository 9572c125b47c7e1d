#include "net/links.h"

#include <linux/if.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/link/vxlan.h>
#include <sys/socket.h>

#include <cstring>
#include <utility>

namespace corral::net {
namespace {

Error nl_error(const std::string& what, int rc) {
  return Error{ErrorCode::kUnavailable, what + ": " + nl_geterror(rc), {}, {}};
}

struct LinkDeleter {
  void operator()(rtnl_link* l) const { rtnl_link_put(l); }
};
using LinkPtr = std::unique_ptr<rtnl_link, LinkDeleter>;
struct AddrDeleter {
  void operator()(nl_addr* a) const { nl_addr_put(a); }
};
using AddrPtr = std::unique_ptr<nl_addr, AddrDeleter>;

AddrPtr ipv4_addr(Ipv4 ip, int prefix = 32) {
  const std::uint32_t be = htonl(ip.value);
  nl_addr* a = nl_addr_build(AF_INET, &be, sizeof be);
  if (a != nullptr) nl_addr_set_prefixlen(a, prefix);
  return AddrPtr(a);
}

}  // namespace

Result<Netlink> Netlink::open() {
  nl_sock* sock = nl_socket_alloc();
  if (sock == nullptr) return fail(Error::internal("netlink: out of memory"));
  if (int rc = nl_connect(sock, NETLINK_ROUTE); rc < 0) {
    nl_socket_free(sock);
    return fail(nl_error("netlink connect", rc));
  }
  return Netlink(sock);
}

Netlink::Netlink(Netlink&& other) noexcept : sock_(std::exchange(other.sock_, nullptr)) {}

Netlink& Netlink::operator=(Netlink&& other) noexcept {
  if (this != &other) {
    if (sock_ != nullptr) nl_socket_free(sock_);
    sock_ = std::exchange(other.sock_, nullptr);
  }
  return *this;
}

Netlink::~Netlink() {
  if (sock_ != nullptr) nl_socket_free(sock_);
}

Result<int> Netlink::ifindex(const std::string& name) {
  rtnl_link* link = nullptr;
  const int rc = rtnl_link_get_kernel(sock_, 0, name.c_str(), &link);
  if (rc == -NLE_OBJ_NOTFOUND || rc == -NLE_NODEV) return 0;
  if (rc < 0) return fail(nl_error("link " + name, rc));
  const int index = rtnl_link_get_ifindex(link);
  rtnl_link_put(link);
  return index;
}

Status Netlink::ensure_bridge(const std::string& name) {
  Result<int> index = ifindex(name);
  if (!index) return fail(std::move(index.error()));
  if (*index == 0) {
    if (int rc = rtnl_link_bridge_add(sock_, name.c_str()); rc < 0 && rc != -NLE_EXIST) {
      return fail(nl_error("create bridge " + name, rc));
    }
  }
  return set_up(name);
}

Status Netlink::ensure_veth(const std::string& name, const std::string& peer, int peer_netns_fd) {
  Result<int> index = ifindex(name);
  if (!index) return fail(std::move(index.error()));
  if (*index == 0) {
    LinkPtr link(rtnl_link_veth_alloc());
    if (!link) return fail(Error::internal("netlink: out of memory"));
    rtnl_link_set_name(link.get(), name.c_str());
    rtnl_link* other = rtnl_link_veth_get_peer(link.get());
    rtnl_link_set_name(other, peer.c_str());
    rtnl_link_set_ns_fd(other, peer_netns_fd);
    const int rc = rtnl_link_add(sock_, link.get(), NLM_F_CREATE | NLM_F_EXCL);
    rtnl_link_put(other);
    if (rc < 0 && rc != -NLE_EXIST) return fail(nl_error("create veth " + name, rc));
  }
  return set_up(name);
}

Status Netlink::ensure_vxlan(const std::string& name, std::uint32_t vni, Ipv4 group, Ipv4 local,
                             const std::string& underlay) {
  Result<int> index = ifindex(name);
  if (!index) return fail(std::move(index.error()));
  if (*index == 0) {
    Result<int> dev = ifindex(underlay);
    if (!dev) return fail(std::move(dev.error()));
    if (*dev == 0) return fail(Error{ErrorCode::kUnavailable, "no underlay " + underlay, {}, {}});
    LinkPtr link(rtnl_link_vxlan_alloc());
    if (!link) return fail(Error::internal("netlink: out of memory"));
    rtnl_link_set_name(link.get(), name.c_str());
    rtnl_link_vxlan_set_id(link.get(), vni);
    AddrPtr g = ipv4_addr(group);
    AddrPtr l = ipv4_addr(local);
    rtnl_link_vxlan_set_group(link.get(), g.get());
    rtnl_link_vxlan_set_local(link.get(), l.get());
    rtnl_link_vxlan_set_link(link.get(), static_cast<std::uint32_t>(*dev));
    rtnl_link_vxlan_set_port(link.get(), kVxlanPort);
    rtnl_link_set_mtu(link.get(), kNetworkMtu);
    const int rc = rtnl_link_add(sock_, link.get(), NLM_F_CREATE | NLM_F_EXCL);
    if (rc < 0 && rc != -NLE_EXIST) return fail(nl_error("create vxlan " + name, rc));
  }
  return set_up(name);
}

Status Netlink::add_address(const std::string& name, Ipv4 address, int prefix) {
  Result<int> index = ifindex(name);
  if (!index) return fail(std::move(index.error()));
  if (*index == 0) return fail(Error{ErrorCode::kUnavailable, "no link " + name, {}, {}});
  rtnl_addr* addr = rtnl_addr_alloc();
  if (addr == nullptr) return fail(Error::internal("netlink: out of memory"));
  rtnl_addr_set_ifindex(addr, *index);
  AddrPtr local = ipv4_addr(address, prefix);
  rtnl_addr_set_local(addr, local.get());
  const int rc = rtnl_addr_add(sock_, addr, 0);
  rtnl_addr_put(addr);
  if (rc < 0 && rc != -NLE_EXIST) {
    return fail(nl_error("add " + address.to_string() + " to " + name, rc));
  }
  return {};
}

Status Netlink::set_master(const std::string& name, const std::string& master) {
  rtnl_link* link = nullptr;
  if (int rc = rtnl_link_get_kernel(sock_, 0, name.c_str(), &link); rc < 0) {
    return fail(nl_error("link " + name, rc));
  }
  LinkPtr owned(link);
  Result<int> master_index = ifindex(master);
  if (!master_index) return fail(std::move(master_index.error()));
  if (*master_index == 0) return fail(Error{ErrorCode::kUnavailable, "no link " + master, {}, {}});
  if (rtnl_link_get_master(link) == *master_index) return {};
  LinkPtr change(rtnl_link_alloc());
  rtnl_link_set_master(change.get(), *master_index);
  if (int rc = rtnl_link_change(sock_, link, change.get(), 0); rc < 0) {
    return fail(nl_error("set master of " + name + " to " + master, rc));
  }
  return {};
}

Status Netlink::set_up(const std::string& name) {
  rtnl_link* link = nullptr;
  if (int rc = rtnl_link_get_kernel(sock_, 0, name.c_str(), &link); rc < 0) {
    return fail(nl_error("link " + name, rc));
  }
  LinkPtr owned(link);
  if ((rtnl_link_get_flags(link) & IFF_UP) != 0) return {};
  LinkPtr change(rtnl_link_alloc());
  rtnl_link_set_flags(change.get(), IFF_UP);
  if (int rc = rtnl_link_change(sock_, link, change.get(), 0); rc < 0) {
    return fail(nl_error("set " + name + " up", rc));
  }
  return {};
}

Status Netlink::delete_link(const std::string& name) {
  rtnl_link* link = nullptr;
  const int rc = rtnl_link_get_kernel(sock_, 0, name.c_str(), &link);
  if (rc == -NLE_OBJ_NOTFOUND || rc == -NLE_NODEV) return {};
  if (rc < 0) return fail(nl_error("link " + name, rc));
  LinkPtr owned(link);
  if (int del = rtnl_link_delete(sock_, link); del < 0 && del != -NLE_OBJ_NOTFOUND) {
    return fail(nl_error("delete " + name, del));
  }
  return {};
}

}  // namespace corral::net
