// NetworkFabric: what makes Corral's networks real outside the hypervisors (issue 13): each
// network's gateway bridge, its DHCP server holding every lease, its VXLAN segment. The
// engine owns the networks and their leases; after each commit that changes one it hands the
// fabric the network's whole desired state, and the fabric answers through the sink.
//
// Contract:
// - apply() returns at once; exactly one NetworkDone comes back per call, from any thread.
// - A job is the whole truth for its network (not a delta), so the fabric may drop an older
//   job it has not started when a newer one for the same network arrives, and a job sent
//   again after a restart converges: applying it twice is applying it once.
// - The answer echoes the job's generation: the engine ignores answers to older jobs.
// - remove: everything of the network goes (bridge, VXLAN, DHCP server, files).
// - Security groups (docs/security-groups.md): apply_firewall() takes a host's whole firewall,
//   every NIC running there with the merged rules of its groups (not a delta), so the same
//   coalescing holds per host: a job replaced before it started may go unanswered, and so may
//   one for an agent host whose agent is away (it gets the host's newest job when it returns,
//   driver/fabric_router.h). Every job started is answered with one FirewallDone.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "net/security_group.h"

namespace corral::driver {

// A NIC's address on its network, as the DHCP server's static hosts file lists it.
struct Lease {
  std::string mac;
  std::string ip;
  std::string hostname;  // the VM's name, made safe for DHCP (may be empty)
  friend bool operator==(const Lease&, const Lease&) = default;
};

struct NetworkJob {
  std::int64_t network = 0;  // its id, also its VXLAN VNI and bridge name br<id>
  std::string cidr;          // "10.77.0.0/24"; the gateway is the first usable address
  bool remove = false;
  std::vector<Lease> leases;  // every NIC on the network (remove: empty)
  std::uint64_t generation = 0;
};

struct NetworkDone {
  std::int64_t network = 0;
  std::uint64_t generation = 0;
  std::optional<std::string> error;  // nullopt: the network is as the job said
};

// One VM NIC on a host, with the rules of all its groups (the default group's "own network"
// rule already resolved to the NIC's network). Its tap is net::tap_name(vm, nic).
struct NicFirewallSpec {
  std::int64_t vm = 0;
  int nic = 0;
  std::string mac;
  std::string ip;
  std::vector<net::SecurityGroupRule> rules;
  friend bool operator==(const NicFirewallSpec&, const NicFirewallSpec&) = default;
};

struct HostFirewallJob {
  std::string host;
  std::vector<NicFirewallSpec> nics;  // every NIC running on the host, by (vm, nic)
  std::uint64_t generation = 0;
};

struct FirewallDone {
  std::string host;
  std::uint64_t generation = 0;
  std::optional<std::string> error;  // nullopt: the host's firewall is as the job said
};

class NetworkSink {
 public:
  virtual ~NetworkSink() = default;
  virtual void network_done(NetworkDone done) = 0;
  virtual void firewall_done(FirewallDone done) = 0;
};

class NetworkFabric {
 public:
  virtual ~NetworkFabric() = default;
  // Called once before any apply(); stop(): no callbacks after it returns.
  virtual void start(NetworkSink* sink) = 0;
  virtual void stop() = 0;
  virtual void apply(NetworkJob job) = 0;
  virtual void apply_firewall(HostFirewallJob job) = 0;
};

}  // namespace corral::driver
