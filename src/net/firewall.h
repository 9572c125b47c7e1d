// Security groups applied to a host's NICs with nftables (libnftables), in the host's
// namespace (fabric.h): one NicFirewall per VM NIC (its tap, MAC, address and the rules of all
// its groups), rendered into two tables owned by Corral and replaced as a whole in one nft
// transaction, so a change to a group reaches every running VM in one step and no packet ever
// sees half a ruleset.
//
// Why two tables. The bridge family sees the taps (a tap is a bridge port) but, on a kernel
// without nf_conntrack_bridge (this project's CI kernel is built without it; Debian 12 has it
// as a module), it cannot track connections, and security groups need "return traffic of an
// allowed connection passes". So:
//   table bridge corral  prerouting: anti-spoofing on frames from each tap (its own source MAC;
//                        IPv4 from its own address, or a DHCP discover 0.0.0.0 ->
//                        255.255.255.255 udp 68->67; ARP only with its own sender MAC and
//                        address (or 0.0.0.0, an RFC 5227 probe); nothing else: no IPv6, no
//                        VLAN tags, no DHCP server answers from a VM).
//                        forward: marks each frame with the index of the tap it came from
//                        (high 16 bits) and the tap it goes to (low 16 bits); drops non-IPv4,
//                        non-ARP frames going to a tap.
//   table inet corral    forward (reached through br_netfilter, bridge-nf-call-iptables=1,
//                        which apply() sets in the namespace): conntrack (established and
//                        related accepted, invalid dropped), then the egress rules of the tap
//                        a packet comes from and the ingress rules of the tap it goes to,
//                        chosen by the mark. A NIC's chain drops what no rule allows.
// With nf_conntrack_bridge the inet table could fold into the bridge one; the marks keep the
// rules keyed on tap names either way, never on addresses.
//
// Contract:
// - Ingress rules filter what goes out to the tap (oifname), egress rules what comes from it
//   (iifname). A DHCP answer (udp 67 -> 68) always reaches a NIC, as Neutron allows.
// - A connection set up under the old rules keeps flowing after a change (conntrack), as with
//   Neutron and OpenNebula; new connections meet the new rules.
// - Ports that are not taps listed here (the VXLAN, other VMs' taps not yet listed) are not
//   filtered as ports, only as the other end of a listed NIC's traffic.
// - Traffic to the namespace itself (the bridge's own address, none on a hypervisor host) is
//   not filtered.
// - The namespace's packet marks are Corral's: the bridge forward chain rewrites every
//   forwarded frame's mark (a hypervisor host's namespace has no other user of them).
// - Conntrack has one zone per namespace: two networks with overlapping addresses on one
//   host would share entries (Corral's networks do not overlap).
// - Input is typed and checked before rendering (tap names [a-z0-9-]{1,15}, MAC
//   xx:xx:xx:xx:xx:xx, rules validate()d): no user text reaches nft. Errors: kInvalidArgument
//   for a bad NicFirewall, kUnavailable for nft's or the kernel's refusal (with nft's words).
// - apply() and remove() are idempotent; remove() of an absent table is no error.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "net/ipv4.h"
#include "net/security_group.h"

namespace corral::net {

inline constexpr const char* kFirewallTable = "corral";  // in both the bridge and inet families
inline constexpr std::size_t kMaxFirewallNics = 65535;   // 16 bits of the mark each way

struct NicFirewall {
  std::string tap;  // t<vm>n<nic> (fabric.h tap_name)
  std::string mac;  // 02:00:... (ipv4.h mac_for), lowercase
  Ipv4 ip;
  std::vector<SecurityGroupRule> rules;  // every group of the NIC, both directions
};

// The nft script apply() runs (pure; the tests read it).
[[nodiscard]] Result<std::string> render_firewall(const std::vector<NicFirewall>& nics);

// Replaces Corral's tables in namespace `netns` with the rules for exactly `nics`.
[[nodiscard]] Status apply_firewall(const std::string& netns, const std::vector<NicFirewall>& nics);
// Deletes Corral's tables in `netns` (traffic flows unfiltered again).
[[nodiscard]] Status remove_firewall(const std::string& netns);

}  // namespace corral::net
