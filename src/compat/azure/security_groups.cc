// Microsoft.Network/networkSecurityGroups as Corral's security groups (issue 13). An NSG in
// `az vm create`'s template becomes the project's security group of its name (lower-cased, as
// Corral's names are), its Allow rules Corral's rules, and Azure's default rules (all outbound,
// inbound from the virtual network) Corral's rules too, so a NIC in it passes what it would on
// Azure. Corral's groups are allow-lists: a Deny rule is refused, not dropped, because a Deny
// above an Allow of lower priority cannot be expressed. Read back, a group is an NSG whose
// securityRules are its rules (Corral's own rules are allow rules, numbered by position).
#include <fmt/format.h>

#include <cctype>

#include "compat/azure/front.h"

namespace corral::compat::azure::internal {

namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Azure's address prefix as Corral's remote: "*", "Internet" and "0.0.0.0/0" are anywhere,
// "VirtualNetwork" the NIC's own network; a CIDR or address as it is.
std::optional<std::string> remote_of(const std::string& prefix, json& rule) {
  if (prefix.empty() || prefix == "*" || iequals(prefix, "Internet") || prefix == "0.0.0.0/0") {
    return "";
  }
  if (iequals(prefix, "VirtualNetwork")) {
    rule["remote_own_network"] = true;
    return "";
  }
  if (prefix.find_first_not_of("0123456789./") != std::string::npos) return std::nullopt;
  return prefix;
}

// Azure's port ranges ("22", "1000-2000", "*") as Corral's ("22,1000:2000", "" for all).
std::string ports_of(const json& props) {
  std::vector<std::string> items;
  if (props.contains("destinationPortRanges") && props["destinationPortRanges"].is_array()) {
    for (const json& p : props["destinationPortRanges"]) {
      if (p.is_string()) items.push_back(p.get<std::string>());
    }
  }
  if (items.empty()) items.push_back(props.value("destinationPortRange", "*"));
  std::string out;
  for (std::string item : items) {
    if (item == "*") return "";
    for (char& c : item) {
      if (c == '-') c = ':';
    }
    out += (out.empty() ? "" : ",") + item;
  }
  return out;
}

}  // namespace

std::expected<json, std::string> nsg_rules(const json& nsg) {
  json rules = json::array(
      // Azure's default rules: AllowVnetInBound, AllowVnetOutBound and AllowInternetOutBound.
      {{{"direction", "ingress"}, {"protocol", "all"}, {"remote_own_network", true}},
       {{"direction", "egress"}, {"protocol", "all"}, {"ports", ""}, {"remote", ""}}});
  const json props = nsg.value("properties", json::object());
  for (const json& r : props.value("securityRules", json::array())) {
    const std::string name = r.value("name", "");
    const json p = r.value("properties", json::object());
    if (!iequals(p.value("access", "Allow"), "Allow")) {
      return std::unexpected("rule '" + name +
                             "' denies: Corral's security groups are allow-lists (what no rule "
                             "allows is dropped), so give Allow rules only");
    }
    const bool inbound = iequals(p.value("direction", "Inbound"), "Inbound");
    json rule = {{"direction", inbound ? "ingress" : "egress"}};
    const std::string protocol = lower(p.value("protocol", "*"));
    if (protocol == "*") {
      rule["protocol"] = "all";
    } else if (protocol == "tcp" || protocol == "udp" || protocol == "icmp") {
      rule["protocol"] = protocol;
      if (protocol != "icmp") rule["ports"] = ports_of(p);
    } else {
      return std::unexpected("rule '" + name + "' has protocol '" + p.value("protocol", "") +
                             "': Tcp, Udp, Icmp or * (IPv4)");
    }
    // Inbound rules filter by source, outbound ones by destination (Corral's remote).
    const std::string prefix =
        p.value(inbound ? "sourceAddressPrefix" : "destinationAddressPrefix", "*");
    const std::optional<std::string> remote = remote_of(prefix, rule);
    if (!remote) {
      return std::unexpected(
          fmt::format("rule '{}' names address prefix '{}': a CIDR, *, Internet or VirtualNetwork",
                      name, prefix));
    }
    if (!rule.contains("remote_own_network")) rule["remote"] = *remote;
    if (!rule.contains("ports")) rule["ports"] = "";
    rules.push_back(std::move(rule));
  }
  return rules;
}

std::expected<std::string, api::FrontReply> put_nsg(api::ApiCaller& api, const Caller& caller,
                                                    const json& nsg) {
  const std::string name = lower(nsg.value("name", ""));
  const std::expected<json, std::string> rules = nsg_rules(nsg);
  if (!rules) {
    return std::unexpected(arm_error(
        400, "InvalidTemplate",
        "network security group '" + nsg.value("name", "") + "': " + rules.error() + "."));
  }
  const api::InnerReply made = api.call(
      {"POST",
       "/v1/security-groups",
       {},
       {{"name", name}, {"description", "Azure NSG " + nsg.value("name", "")}, {"rules", *rules}},
       caller.token});
  if (made.status == 201) return name;
  if (made.status != 409) return std::unexpected(from_v1_error(made));
  // ARM's incremental mode updates a resource that exists: the group's rules are replaced.
  const api::InnerReply set = api.call(
      {"PUT", "/v1/security-groups/" + name + "/rules", {}, {{"rules", *rules}}, caller.token});
  if (set.status != 200) return std::unexpected(from_v1_error(set));
  return name;
}

std::string nsg_id(const Caller& caller, const Group& group, const std::string& name) {
  return resource_id_prefix(caller) + "/resourceGroups/" + group.name +
         "/providers/Microsoft.Network/networkSecurityGroups/" + name;
}

json nsg_json(const Caller& caller, const Group& group, const json& sg) {
  const std::string name = sg.value("name", "");
  const std::string id = nsg_id(caller, group, name);
  json rules = json::array();
  int priority = 100;
  for (const json& r : sg.value("rules", json::array())) {
    const bool inbound = r.value("direction", "") == "ingress";
    const std::string protocol = r.value("protocol", "all");
    std::string ports = r.value("ports", "");
    for (char& c : ports) {
      if (c == ':') c = '-';
    }
    std::string remote = r.value("remote_own_network", false) ? std::string("VirtualNetwork")
                         : r["remote"].is_string()            ? r["remote"].get<std::string>()
                                                              : std::string("*");
    if (remote.empty()) remote = "*";
    const std::string rule_name = "rule" + std::to_string(r.value("id", 0L));
    rules.push_back({{"id", fmt::format("{}/securityRules/{}", id, rule_name)},
                     {"name", rule_name},
                     {"properties",
                      {{"protocol", protocol == "tcp"    ? "Tcp"
                                    : protocol == "udp"  ? "Udp"
                                    : protocol == "icmp" ? "Icmp"
                                                         : "*"},
                       {"sourcePortRange", "*"},
                       {"destinationPortRange", ports.empty() ? std::string("*") : ports},
                       {"sourceAddressPrefix", inbound ? remote : std::string("*")},
                       {"destinationAddressPrefix", inbound ? std::string("*") : remote},
                       {"access", "Allow"},
                       {"priority", priority},
                       {"direction", inbound ? "Inbound" : "Outbound"},
                       {"provisioningState", "Succeeded"}}}});
    priority += 10;
  }
  json interfaces = json::array();
  for (const json& n : sg.value("nics", json::array())) {
    interfaces.push_back(
        {{"id", nic_id(caller, group, nic_name(n.value("vm", 0L), n.value("nic", 0)))}});
  }
  return {{"id", id},
          {"name", name},
          {"type", "Microsoft.Network/networkSecurityGroups"},
          {"location", group.location},
          {"properties",
           {{"provisioningState", "Succeeded"},
            {"securityRules", std::move(rules)},
            {"defaultSecurityRules", json::array()},
            {"networkInterfaces", std::move(interfaces)}}}};
}

api::FrontReply security_groups(api::ApiCaller& api, const Caller& caller, const Group& group,
                                const std::vector<std::string>& rest) {
  if (rest.size() == 2) {
    const api::InnerReply r =
        api.call({"GET", "/v1/security-groups/" + lower(rest[1]), {}, nullptr, caller.token});
    if (r.status == 404 || r.status == 400) {
      return arm_error(404, "ResourceNotFound",
                       "The Resource 'Microsoft.Network/networkSecurityGroups/" + rest[1] +
                           "' under resource group '" + group.name + "' was not found.");
    }
    if (r.status != 200) return from_v1_error(r);
    return arm_reply(200, nsg_json(caller, group, r.body.value("security_group", json::object())));
  }
  const api::InnerReply r = api.call({"GET", "/v1/security-groups", {}, nullptr, caller.token});
  if (r.status != 200) return from_v1_error(r);
  json value = json::array();
  for (const json& sg : r.body.value("security_groups", json::array())) {
    value.push_back(nsg_json(caller, group, sg));
  }
  return arm_reply(200, {{"value", std::move(value)}});
}

}  // namespace corral::compat::azure::internal
