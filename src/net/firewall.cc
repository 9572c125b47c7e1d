#include "net/firewall.h"

#include <fmt/format.h>
#include <nftables/libnftables.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <memory>
#include <set>

#include "net/netns.h"

namespace corral::net {
namespace {

// What makes bridged IPv4 go through the inet family's hooks (br_netfilter), per namespace.
constexpr const char* kBridgeNfCallIptables = "/proc/sys/net/bridge/bridge-nf-call-iptables";

// Adding an empty table is a no-op when it exists, so "add, delete" removes it whether or not
// it was there, inside the same transaction as whatever follows.
constexpr const char* kDropTables =
    "table bridge corral {}\n"
    "delete table bridge corral\n"
    "table inet corral {}\n"
    "delete table inet corral\n";

bool valid_tap_name(std::string_view name) {
  return !name.empty() && name.size() <= 15 && std::ranges::all_of(name, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

bool valid_mac(std::string_view mac) {
  if (mac.size() != 17) return false;
  for (std::size_t i = 0; i < mac.size(); ++i) {
    const char c = mac[i];
    const bool ok = i % 3 == 2 ? c == ':' : (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    if (!ok) return false;
  }
  // Bit 0 of the first byte is the group bit: a NIC's own address is unicast.
  const char second = mac[1];
  const int low_nibble = second <= '9' ? second - '0' : second - 'a' + 10;
  return mac != "00:00:00:00:00:00" && (low_nibble & 1) == 0;
}

Status check(const std::vector<NicFirewall>& nics) {
  if (nics.size() > kMaxFirewallNics) {
    return fail(Error::invalid_argument(
        fmt::format("{} NICs on one host; at most {}", nics.size(), kMaxFirewallNics)));
  }
  std::set<std::string_view> taps;
  for (const NicFirewall& nic : nics) {
    if (!valid_tap_name(nic.tap)) {
      return fail(Error::invalid_argument(
          fmt::format("tap name '{}' is not 1-15 of [a-z0-9-]", nic.tap.substr(0, 20))));
    }
    if (!taps.insert(nic.tap).second) {
      return fail(Error::invalid_argument(fmt::format("tap {} is listed twice", nic.tap)));
    }
    if (!valid_mac(nic.mac)) {
      return fail(Error::invalid_argument(
          fmt::format("tap {}: MAC '{}' is not a unicast xx:xx:xx:xx:xx:xx (lowercase)", nic.tap,
                      nic.mac.substr(0, 20))));
    }
    if (nic.ip.value == 0 || nic.ip.value == 0xffffffff) {
      return fail(Error::invalid_argument(
          fmt::format("tap {}: {} is not a NIC's address", nic.tap, nic.ip.to_string())));
    }
    for (const SecurityGroupRule& rule : nic.rules) {
      if (Status s = validate(rule); !s) {
        return fail(Error::invalid_argument(fmt::format("tap {}: {}", nic.tap, s.error().message)));
      }
    }
  }
  return {};
}

// Sorted, overlaps and neighbours merged: nft refuses overlapping intervals in one set.
std::vector<PortRange> merged(std::vector<PortRange> ports) {
  std::ranges::sort(ports, [](const PortRange& a, const PortRange& b) { return a.min < b.min; });
  std::vector<PortRange> out;
  for (const PortRange& p : ports) {
    if (!out.empty() && p.min <= static_cast<unsigned>(out.back().max) + 1) {
      out.back().max = std::max(out.back().max, p.max);
    } else {
      out.push_back(p);
    }
  }
  return out;
}

std::string port_set(const std::vector<PortRange>& ports) {
  std::string out = "{ ";
  for (std::size_t i = 0; i < ports.size(); ++i) {
    if (i > 0) out += ", ";
    out += ports[i].min == ports[i].max ? fmt::format("{}", ports[i].min)
                                        : fmt::format("{}-{}", ports[i].min, ports[i].max);
  }
  return out + " }";
}

// One rule as an nft rule body, from typed fields only. Egress rules `return` (the packet may
// still meet the ingress rules of the NIC it goes to); ingress rules `accept`.
std::string render_rule(const SecurityGroupRule& rule) {
  std::string out = "meta nfproto ipv4";
  const char* verdict = "accept";
  const char* remote_field = "saddr";
  switch (rule.direction) {
    case RuleDirection::kIngress:
      break;
    case RuleDirection::kEgress:
      verdict = "return";
      remote_field = "daddr";
      break;
  }
  if (rule.remote) out += fmt::format(" ip {} {}", remote_field, rule.remote->to_string());
  switch (rule.protocol) {
    case RuleProtocol::kAll:
      break;
    case RuleProtocol::kIcmp:
      out += " meta l4proto icmp";
      break;
    case RuleProtocol::kTcp:
    case RuleProtocol::kUdp: {
      const std::string_view name = protocol_name(rule.protocol);
      out += rule.ports.empty() ? fmt::format(" meta l4proto {}", name)
                                : fmt::format(" {} dport {}", name, port_set(merged(rule.ports)));
      break;
    }
  }
  return out + " " + verdict;
}

void render_bridge(const std::vector<NicFirewall>& nics, std::string& out) {
  out += "table bridge corral {\n";
  out += "  chain prerouting {\n    type filter hook prerouting priority -200; policy accept;\n";
  if (!nics.empty()) {
    out += "    iifname vmap {";
    for (std::size_t i = 0; i < nics.size(); ++i) {
      out += fmt::format("{} \"{}\" : jump from_{}", i > 0 ? "," : "", nics[i].tap, i + 1);
    }
    out += " }\n";
  }
  out += "  }\n";
  for (std::size_t i = 0; i < nics.size(); ++i) {
    const NicFirewall& nic = nics[i];
    const std::string ip = nic.ip.to_string();
    out += fmt::format("  chain from_{} {{\n", i + 1);
    out += fmt::format("    ether saddr != {} drop\n", nic.mac);
    out += fmt::format(
        "    ether type arp arp htype 1 arp ptype ip arp saddr ether {} arp saddr ip {{ {}, "
        "0.0.0.0 }} accept\n",
        nic.mac, ip);
    out += fmt::format("    ether type ip ip saddr {} udp sport 67 drop\n", ip);
    out += fmt::format("    ether type ip ip saddr {} accept\n", ip);
    out +=
        "    ether type ip ip saddr 0.0.0.0 ip daddr 255.255.255.255 udp sport 68 udp dport 67 "
        "accept\n";
    out += "    drop\n  }\n";
  }
  out += "  chain forward {\n    type filter hook forward priority -200; policy accept;\n";
  out += "    meta mark set 0\n";
  if (!nics.empty()) {
    out += "    meta mark set iifname map {";
    for (std::size_t i = 0; i < nics.size(); ++i) {
      out += fmt::format("{} \"{}\" : 0x{:08x}", i > 0 ? "," : "", nics[i].tap, (i + 1) << 16);
    }
    out += " }\n    oifname vmap {";
    for (std::size_t i = 0; i < nics.size(); ++i) {
      out += fmt::format("{} \"{}\" : jump to_{}", i > 0 ? "," : "", nics[i].tap, i + 1);
    }
    out += " }\n";
  }
  out += "  }\n";
  for (std::size_t i = 0; i < nics.size(); ++i) {
    out += fmt::format("  chain to_{} {{\n    ether type != {{ ip, arp }} drop\n", i + 1);
    out += fmt::format("    meta mark set meta mark or 0x{:08x}\n  }}\n", i + 1);
  }
  out += "}\n";
}

void render_inet(const std::vector<NicFirewall>& nics, std::string& out) {
  out += "table inet corral {\n";
  out += "  chain forward {\n    type filter hook forward priority 0; policy accept;\n";
  out += "    ct state established,related accept\n";
  out += "    meta mark != 0 ct state invalid drop\n";
  if (!nics.empty()) {
    out += "    meta mark and 0xffff0000 vmap {";
    for (std::size_t i = 0; i < nics.size(); ++i) {
      out += fmt::format("{} 0x{:08x} : jump egress_{}", i > 0 ? "," : "", (i + 1) << 16, i + 1);
    }
    out += " }\n    meta mark and 0x0000ffff vmap {";
    for (std::size_t i = 0; i < nics.size(); ++i) {
      out += fmt::format("{} 0x{:08x} : jump ingress_{}", i > 0 ? "," : "", i + 1, i + 1);
    }
    out += " }\n";
  }
  out += "  }\n";
  for (std::size_t i = 0; i < nics.size(); ++i) {
    std::string egress;
    std::string ingress = "    udp sport 67 udp dport 68 accept\n";
    for (const SecurityGroupRule& rule : nics[i].rules) {
      switch (rule.direction) {
        case RuleDirection::kIngress:
          ingress += "    " + render_rule(rule) + "\n";
          break;
        case RuleDirection::kEgress:
          egress += "    " + render_rule(rule) + "\n";
          break;
      }
    }
    out += fmt::format("  chain egress_{} {{\n{}    drop\n  }}\n", i + 1, egress);
    out += fmt::format("  chain ingress_{} {{\n{}    drop\n  }}\n", i + 1, ingress);
  }
  out += "}\n";
}

// Bridged IPv4 must reach the inet table. The sysctl is per namespace (kernel 5.3+) and read
// through the calling thread's namespace, which in_netns() has set.
Status enable_bridge_netfilter() {
  std::ofstream out(kBridgeNfCallIptables);
  if (!out) {
    return fail(Error{ErrorCode::kUnavailable,
                      std::string("cannot open ") + kBridgeNfCallIptables +
                          ": the kernel's br_netfilter is not loaded (modprobe br_netfilter)",
                      {},
                      {}});
  }
  out << "1\n";
  out.close();
  if (!out) {
    return fail(Error{
        ErrorCode::kUnavailable, std::string("cannot write ") + kBridgeNfCallIptables, {}, {}});
  }
  return {};
}

// One nft transaction in the calling thread's namespace: all of `script` or nothing.
Status run_nft(const std::string& script) {
  std::unique_ptr<nft_ctx, decltype(&nft_ctx_free)> ctx(nft_ctx_new(NFT_CTX_DEFAULT),
                                                        &nft_ctx_free);
  if (!ctx) return fail(Error{ErrorCode::kUnavailable, "nft: cannot make a context", {}, {}});
  nft_ctx_buffer_output(ctx.get());
  nft_ctx_buffer_error(ctx.get());
  if (nft_run_cmd_from_buffer(ctx.get(), script.c_str()) != 0) {
    const char* why = nft_ctx_get_error_buffer(ctx.get());
    return fail(Error{ErrorCode::kUnavailable,
                      std::string("nft refused Corral's firewall: ") + (why ? why : "no reason"),
                      {},
                      {}});
  }
  return {};
}

}  // namespace

Result<std::string> render_firewall(const std::vector<NicFirewall>& nics) {
  if (Status s = check(nics); !s) return fail(std::move(s.error()));
  std::string out = kDropTables;
  render_bridge(nics, out);
  render_inet(nics, out);
  return out;
}

Status apply_firewall(const std::string& netns, const std::vector<NicFirewall>& nics) {
  Result<std::string> script = render_firewall(nics);
  if (!script) return fail(std::move(script.error()));
  return in_netns(netns, [&]() -> Status {
    if (Status s = enable_bridge_netfilter(); !s) return s;
    return run_nft(*script);
  });
}

Status remove_firewall(const std::string& netns) {
  if (!netns_exists(netns)) return {};  // gone with its namespace
  return in_netns(netns, [&]() -> Status { return run_nft(kDropTables); });
}

}  // namespace corral::net
