// Where Corral's networks live on a machine, and the two kinds of node that build them
// (docs/networks.md):
//
//   corral-<cluster8>-ul      the underlay: bridge ul0, one veth per node, 169.254.0.0/16;
//                             VXLAN packets travel here (on a real site: the hosts' network)
//   corral-<cluster8>-net     the network node (the controller's): each network's bridge with
//                             its gateway address, its VXLAN, its dnsmasq
//   corral-<cluster8>-h-<h>   a hypervisor host's: each network's bridge and VXLAN, and the
//                             VMs' taps
//
// A network is the same VXLAN segment (VNI = its id) on every node, flooding through a
// multicast group on the underlay, as OpenNebula's VXLAN driver does by default: no node keeps
// a list of the others. Nothing is built outside these namespaces.
//
// Contract: every method is idempotent (builds what is missing, keeps what is there), so a
// job run again after a crash converges; teardown() removes everything the node made, by the
// names it made it under. Not thread-safe: one caller at a time (a fabric's worker thread).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "net/dnsmasq.h"
#include "net/ipv4.h"

namespace corral::net {

// The names of one cluster's namespaces and links. `cluster8`: 8 of [a-z0-9], the start of the
// cluster's id, so two clusters (or two tests) on one machine never share a name.
struct FabricNames {
  std::string cluster8;

  // A cluster's names from its CA's fingerprint ("sha256:<hex>", cluster/pki.h): the first 8
  // hex digits, so a controller and its agents agree without being told.
  static FabricNames for_ca(std::string_view ca_fingerprint) {
    const std::string_view hex =
        ca_fingerprint.starts_with("sha256:") ? ca_fingerprint.substr(7) : std::string_view{};
    return {hex.size() >= 8 ? std::string(hex.substr(0, 8)) : std::string("00000000")};
  }

  std::string underlay_ns() const { return "corral-" + cluster8 + "-ul"; }
  std::string network_ns() const { return "corral-" + cluster8 + "-net"; }
  // A host's: its name when that fits a namespace name, else a hash of it.
  std::string host_ns(std::string_view host) const;
};

std::string bridge_name(std::int64_t network);   // br<id>
std::string vxlan_name(std::int64_t network);    // vx<id>
std::string tap_name(std::int64_t vm, int nic);  // t<vm>n<nic>
Ipv4 vxlan_group(std::int64_t network);          // 239.1.x.y
// A node's underlay address, from its namespace's name (169.254.0.1 is the network node's).
Ipv4 underlay_address(std::string_view node_ns);

// Puts `node_ns` on the underlay (both namespaces made if missing): a veth from the
// underlay's bridge to `ul` inside the node, with the node's underlay address.
[[nodiscard]] Status join_underlay(const FabricNames& names, const std::string& node_ns,
                                   Ipv4 address);

// The controller's side: gateways and DHCP.
class NetNode {
 public:
  NetNode(FabricNames names, std::string state_dir);
  // The bridge with the gateway address, the VXLAN, and dnsmasq serving exactly `hosts`.
  [[nodiscard]] Status ensure_network(std::int64_t id, const Cidr& cidr,
                                      const std::vector<DhcpHost>& hosts);
  [[nodiscard]] Status remove_network(std::int64_t id, const Cidr& cidr);
  // Every network's dnsmasq, then the node's and the underlay's namespaces.
  [[nodiscard]] Status teardown();
  const std::string& netns() const { return netns_; }
  Dnsmasq dhcp(std::int64_t id, const Cidr& cidr) const;

 private:
  FabricNames names_;
  std::string netns_;
  std::string state_dir_;
};

// A hypervisor host's side: bridges, VXLAN, taps.
class HostNode {
 public:
  HostNode(FabricNames names, std::string host);
  [[nodiscard]] Status ensure_network(std::int64_t id);
  // A tap for NIC `nic` of `vm` on network `network`'s bridge (made if missing), up; the
  // descriptor is the caller's (tap.h).
  [[nodiscard]] Result<int> open_tap(std::int64_t vm, int nic, std::int64_t network);
  [[nodiscard]] Status teardown();  // the host's namespace (its veth goes with it)
  const std::string& netns() const { return netns_; }

 private:
  FabricNames names_;
  std::string netns_;
};

}  // namespace corral::net
