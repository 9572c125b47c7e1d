#include "wire/firewall_wire.h"

#include <string>

#include "net/fabric.h"

namespace corral::wire {

namespace v1 = agent::v1;

v1::FirewallRule rule_to_wire(const net::SecurityGroupRule& rule) {
  v1::FirewallRule out;
  switch (rule.direction) {
    case net::RuleDirection::kIngress:
      out.set_direction(v1::FirewallRule::DIRECTION_INGRESS);
      break;
    case net::RuleDirection::kEgress:
      out.set_direction(v1::FirewallRule::DIRECTION_EGRESS);
      break;
  }
  switch (rule.protocol) {
    case net::RuleProtocol::kAll:
      out.set_protocol(v1::FirewallRule::PROTOCOL_ALL);
      break;
    case net::RuleProtocol::kTcp:
      out.set_protocol(v1::FirewallRule::PROTOCOL_TCP);
      break;
    case net::RuleProtocol::kUdp:
      out.set_protocol(v1::FirewallRule::PROTOCOL_UDP);
      break;
    case net::RuleProtocol::kIcmp:
      out.set_protocol(v1::FirewallRule::PROTOCOL_ICMP);
      break;
  }
  out.set_ports(net::format_port_ranges(rule.ports));
  if (rule.remote) out.set_remote(rule.remote->to_string());
  return out;
}

Result<net::SecurityGroupRule> rule_of(const v1::FirewallRule& rule) {
  net::SecurityGroupRule out;
  switch (rule.direction()) {
    case v1::FirewallRule::DIRECTION_INGRESS:
      out.direction = net::RuleDirection::kIngress;
      break;
    case v1::FirewallRule::DIRECTION_EGRESS:
      out.direction = net::RuleDirection::kEgress;
      break;
    default:  // DIRECTION_UNSPECIFIED or a number this build does not know
      return fail(Error::invalid_argument("direction " + std::to_string(rule.direction()) +
                                          " is not ingress (1) or egress (2)"));
  }
  switch (rule.protocol()) {
    case v1::FirewallRule::PROTOCOL_ALL:
      out.protocol = net::RuleProtocol::kAll;
      break;
    case v1::FirewallRule::PROTOCOL_TCP:
      out.protocol = net::RuleProtocol::kTcp;
      break;
    case v1::FirewallRule::PROTOCOL_UDP:
      out.protocol = net::RuleProtocol::kUdp;
      break;
    case v1::FirewallRule::PROTOCOL_ICMP:
      out.protocol = net::RuleProtocol::kIcmp;
      break;
    default:
      return fail(Error::invalid_argument("protocol " + std::to_string(rule.protocol()) +
                                          " is not all, tcp, udp or icmp (1-4)"));
  }
  if (!rule.ports().empty()) {
    Result<std::vector<net::PortRange>> ports = net::parse_port_ranges(rule.ports());
    if (!ports) return fail(Error::invalid_argument("ports: " + ports.error().message));
    out.ports = std::move(*ports);
  }
  if (!rule.remote().empty()) {
    Result<net::Cidr> remote = net::parse_remote_prefix(rule.remote());
    if (!remote) return fail(Error::invalid_argument("remote: " + remote.error().message));
    out.remote = *remote;
  }
  if (Status valid = net::validate(out); !valid) return fail(std::move(valid.error()));
  return out;
}

v1::HostFirewall to_wire(const driver::HostFirewallJob& job) {
  v1::HostFirewall out;
  out.set_generation(job.generation);
  for (const driver::NicFirewallSpec& spec : job.nics) {
    v1::NicFirewall* nic = out.add_nics();
    nic->set_vm(spec.vm);
    nic->set_nic(static_cast<std::uint32_t>(spec.nic));
    nic->set_mac(spec.mac);
    nic->set_ip(spec.ip);
    for (const net::SecurityGroupRule& rule : spec.rules) *nic->add_rules() = rule_to_wire(rule);
  }
  return out;
}

Result<std::vector<net::NicFirewall>> nics_of(const v1::HostFirewall& job) {
  std::vector<net::NicFirewall> out;
  out.reserve(static_cast<std::size_t>(job.nics_size()));
  for (const v1::NicFirewall& nic : job.nics()) {
    const std::string which =
        "VM " + std::to_string(nic.vm()) + " NIC " + std::to_string(nic.nic());
    if (nic.vm() <= 0) return fail(Error::invalid_argument(which + ": VM id is not positive"));
    if (nic.nic() > 7) return fail(Error::invalid_argument(which + ": NIC index is not 0-7"));
    Result<net::Ipv4> ip = net::Ipv4::parse(nic.ip());
    if (!ip) return fail(Error::invalid_argument(which + ": " + ip.error().message));
    net::NicFirewall converted{
        net::tap_name(nic.vm(), static_cast<int>(nic.nic())), nic.mac(), *ip, {}};
    converted.rules.reserve(static_cast<std::size_t>(nic.rules_size()));
    for (int i = 0; i < nic.rules_size(); ++i) {
      Result<net::SecurityGroupRule> rule = rule_of(nic.rules(i));
      if (!rule) {
        return fail(Error::invalid_argument(which + " rule " + std::to_string(i) + ": " +
                                            rule.error().message));
      }
      converted.rules.push_back(std::move(*rule));
    }
    out.push_back(std::move(converted));
  }
  return out;
}

}  // namespace corral::wire
