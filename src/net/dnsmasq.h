// One network's DHCP server: dnsmasq in Neutron's static mode (a hosts file of MAC,IP,name;
// only listed MACs get an address), inside the namespace that holds the network's gateway
// bridge. Its flags are those measured to work here (reference network-volumes.md §2).
//
// Contract:
// - apply(hosts) writes the hosts file atomically (temp file + rename) and then either starts
//   dnsmasq (none of ours runs) or sends it SIGHUP, on which dnsmasq re-reads the file. One
//   of ours started with other options (an older version's) is replaced instead.
// - It gives the guests the network's router and MTU (kNetworkMtu, links.h).
// - A dnsmasq is ours when the pid in our pid file runs /usr/sbin/dnsmasq with our hosts file
//   on its command line: that is how a restarted controller adopts the one it left running
//   (Neutron's DHCP agent does the same), and how stop() never signals anybody else's.
// - dnsmasq daemonizes (it is not our child after start), so nothing is left to reap.
// - Every path is under `dir`, which the caller owns.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "net/ipv4.h"

namespace corral::net {

struct DhcpHost {
  std::string mac;
  std::string ip;
  std::string hostname;  // may be empty
};

class Dnsmasq {
 public:
  Dnsmasq(std::string netns, std::string interface, Cidr cidr, std::string dir);

  [[nodiscard]] Status apply(const std::vector<DhcpHost>& hosts);
  // SIGTERM to ours, if it runs; then its files go.
  [[nodiscard]] Status stop();
  // Ours, if it runs.
  std::optional<pid_t> running() const;

  std::string hosts_file() const { return dir_ + "/hosts"; }
  std::string pid_file() const { return dir_ + "/dnsmasq.pid"; }
  std::string log_file() const { return dir_ + "/dnsmasq.log"; }
  std::string lease_file() const { return dir_ + "/leases"; }
  std::vector<std::string> argv() const;

 private:
  [[nodiscard]] Status start();
  // SIGTERM, then SIGKILL after 2 s (a dnsmasq of ours: running() said so).
  static void end(pid_t pid);

  std::string netns_;
  std::string interface_;
  Cidr cidr_;
  std::string dir_;
};

}  // namespace corral::net
