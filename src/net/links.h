// Links and addresses of the network namespace the calling thread is in, through netlink
// (libnl-route-3): bridges, veth pairs, VXLAN, addresses, up and master. Run it inside
// in_netns() (netns.h): the socket belongs to the namespace it was opened in.
//
// Contract: every ensure_* is idempotent (an existing link of that name and kind is kept, its
// settings made right where they can change), so a plumbing job that is run again after a
// crash converges. Errors: kUnavailable naming the link and libnl's reason.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "common/result.h"
#include "net/ipv4.h"

struct nl_sock;

namespace corral::net {

inline constexpr int kVxlanPort = 4789;  // IANA's, as `ip link add ... type vxlan dstport 4789`
// Every network's MTU: a guest's frame plus VXLAN's 50 bytes fit the underlay's 1500. The
// bridges take it from their VXLAN port, and DHCP gives it to the guests (option 26, as
// Neutron does): a guest left at 1500 would send frames the bridge drops on their way into
// the VXLAN link, without a word (no ICMP from a bridge), so large packets between hosts vanish.
inline constexpr int kNetworkMtu = 1450;

class Netlink {
 public:
  [[nodiscard]] static Result<Netlink> open();
  Netlink(Netlink&&) noexcept;
  Netlink& operator=(Netlink&&) noexcept;
  ~Netlink();

  // The link's index, 0 when there is none of that name.
  [[nodiscard]] Result<int> ifindex(const std::string& name);
  [[nodiscard]] Status ensure_bridge(const std::string& name);
  // A veth pair: `name` here, `peer` in the namespace open at `peer_netns_fd`.
  [[nodiscard]] Status ensure_veth(const std::string& name, const std::string& peer,
                                   int peer_netns_fd);
  // A VXLAN device for `vni` that floods through multicast `group` on `underlay` (as
  // OpenNebula's VXLAN driver does by default: no peer lists to keep), from `local`.
  [[nodiscard]] Status ensure_vxlan(const std::string& name, std::uint32_t vni, Ipv4 group,
                                    Ipv4 local, const std::string& underlay);
  [[nodiscard]] Status add_address(const std::string& name, Ipv4 address, int prefix);
  [[nodiscard]] Status set_master(const std::string& name, const std::string& master);
  [[nodiscard]] Status set_up(const std::string& name);
  [[nodiscard]] Status delete_link(const std::string& name);  // absent: ok

 private:
  explicit Netlink(nl_sock* sock) : sock_(sock) {}
  nl_sock* sock_ = nullptr;
};

}  // namespace corral::net
