// A host's security groups on the agent stream (agent.proto HostFirewall, docs/
// security-groups.md), for both ends: the controller sends the engine's driver::HostFirewallJob,
// the agent turns it into the net::NicFirewall list net::apply_firewall takes.
//
// Contract:
// - to_wire never fails: the engine built the job from validated rows.
// - nics_of checks everything an agent must not trust blindly (it is the last step before nft):
//   a NIC index 0-7, a positive VM id, a dotted IPv4 address, known enum numbers, port text
//   that parses, a remote that is a CIDR /0-/32 without host bits, and net::validate on each
//   rule. The first bad field fails the whole job (kInvalidArgument, naming the VM, NIC and
//   rule): applying part of a host's firewall would drop the rest of its rules.
// - A rule round-trips: nics_of(to_wire(job)) gives back the job's rules, in order.
#pragma once

#include <vector>

#include "common/result.h"
#include "driver/network_fabric.h"
#include "net/firewall.h"
#include "net/security_group.h"
#include "wire/agent.pb.h"

namespace corral::wire {

agent::v1::FirewallRule rule_to_wire(const net::SecurityGroupRule& rule);
[[nodiscard]] Result<net::SecurityGroupRule> rule_of(const agent::v1::FirewallRule& rule);

agent::v1::HostFirewall to_wire(const driver::HostFirewallJob& job);
// Taps are net::tap_name(vm, nic).
[[nodiscard]] Result<std::vector<net::NicFirewall>> nics_of(const agent::v1::HostFirewall& job);

}  // namespace corral::wire
