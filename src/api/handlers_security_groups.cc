// /v1/security-groups (docs/security-groups.md): named sets of allow rules that NICs list.
// A rule comes in Neutron's words, OpenNebula's, or Corral's own, told apart by its keys, and
// is checked by the same parsers the firewall trusts (net/security_group.h); it goes back in
// Corral's words with both views beside it. Errors go through failure() like every handler's.
// A group belongs to the project that made it: another project's is not found and never
// listed; every project has its own "default", made on its first use.
#include <algorithm>
#include <string_view>

#include "api/handlers.h"
#include "api/policy.h"
#include "api/requests.h"
#include "engine/names.h"

namespace corral::api::internal {
namespace {

using json = nlohmann::json;

constexpr std::string_view kNeutronKeys[] = {"direction",      "protocol",         "port_range_min",
                                             "port_range_max", "remote_ip_prefix", "ethertype"};
constexpr std::string_view kOpenNebulaKeys[] = {"RULE_TYPE", "PROTOCOL", "RANGE", "NETWORK"};
// Corral's words, as a rule is shown: direction and protocol as Neutron's, ports as
// OpenNebula's RANGE, remote a CIDR, remote_own_network the default group's "same network".
constexpr std::string_view kCorralKeys[] = {"direction", "protocol", "ports", "remote",
                                            "remote_own_network"};

template <std::size_t N>
bool in(const std::string_view (&keys)[N], std::string_view key) {
  return std::ranges::find(keys, key) != std::end(keys);
}

Error bad_rule(std::size_t index, const std::string& why) {
  return Error::invalid_argument("rules[" + std::to_string(index) + "]: " + why);
}

Result<std::string> text_of(const json& rule, std::string_view key, std::size_t index) {
  const auto it = rule.find(key);
  if (it == rule.end() || it->is_null()) return std::string();
  if (it->is_string() && it->get_ref<const std::string&>().size() <= 64) {
    return it->get<std::string>();
  }
  return fail(bad_rule(index, "'" + std::string(key) + "' must be a string"));
}

Result<std::optional<int>> port_of(const json& rule, std::string_view key, std::size_t index) {
  const auto it = rule.find(key);
  if (it == rule.end() || it->is_null()) return std::optional<int>();
  if (it->is_number_integer() && it->get<std::int64_t>() >= -1 &&
      it->get<std::int64_t>() <= 65535) {
    return std::optional<int>(static_cast<int>(it->get<std::int64_t>()));
  }
  return fail(bad_rule(index, "'" + std::string(key) + "' must be a port number"));
}

// One rule, in whichever vocabulary its keys are; `index` names it in errors.
Result<engine::RuleSpec> rule_from_json(const json& rule, std::size_t index) {
  if (!rule.is_object()) return fail(bad_rule(index, "a rule is a JSON object"));
  bool neutron = false;
  bool opennebula = false;
  bool corral = false;
  for (const auto& [key, value] : rule.items()) {
    if (in(kOpenNebulaKeys, key)) {
      opennebula = true;
    } else if (key == "ports" || key == "remote" || key == "remote_own_network") {
      corral = true;
    } else if (key == "port_range_min" || key == "port_range_max" || key == "remote_ip_prefix" ||
               key == "ethertype") {
      neutron = true;
    } else if (!in(kNeutronKeys, key) && !in(kCorralKeys, key)) {
      return fail(bad_rule(index, "unknown field '" + key.substr(0, 64) +
                                      "' (Neutron's direction, protocol, port_range_min, "
                                      "port_range_max, remote_ip_prefix, ethertype; or "
                                      "OpenNebula's RULE_TYPE, PROTOCOL, RANGE, NETWORK)"));
    }
  }
  const bool lower = rule.contains("direction") || rule.contains("protocol");
  if (opennebula && (neutron || corral || lower)) {
    return fail(bad_rule(index, "mixes OpenNebula's fields with Neutron's or Corral's"));
  }
  if (neutron && corral) {
    return fail(bad_rule(index,
                         "mixes Neutron's port_range/remote_ip_prefix with Corral's "
                         "ports/remote"));
  }
  engine::RuleSpec out;
  if (opennebula) {
    net::OpenNebulaRule on;
    for (auto [key, field] :
         {std::pair{"RULE_TYPE", &on.rule_type}, std::pair{"PROTOCOL", &on.protocol},
          std::pair{"RANGE", &on.range}, std::pair{"NETWORK", &on.network}}) {
      Result<std::string> v = text_of(rule, key, index);
      if (!v) return fail(v.error());
      *field = std::move(*v);
    }
    Result<net::SecurityGroupRule> parsed = net::from_opennebula(on);
    if (!parsed) return fail(bad_rule(index, parsed.error().message));
    out.rule = std::move(*parsed);
    return out;
  }
  net::NeutronRule nr;
  Result<std::string> direction = text_of(rule, "direction", index);
  if (!direction) return fail(direction.error());
  nr.direction = std::move(*direction);
  if (const auto p = rule.find("protocol"); p != rule.end() && p->is_number_integer()) {
    nr.protocol = std::to_string(p->get<std::int64_t>());
  } else {
    Result<std::string> protocol = text_of(rule, "protocol", index);
    if (!protocol) return fail(protocol.error());
    // "all" is how a rule is shown (Corral's words); Neutron says null or "any".
    nr.protocol = *protocol == "all" ? std::string() : std::move(*protocol);
  }
  if (corral) {
    const auto own = rule.find("remote_own_network");
    if (own != rule.end() && !own->is_boolean()) {
      return fail(bad_rule(index, "'remote_own_network' must be true or false"));
    }
    out.remote_own_network = own != rule.end() && own->get<bool>();
    Result<std::string> ports = text_of(rule, "ports", index);
    if (!ports) return fail(ports.error());
    Result<std::string> remote = text_of(rule, "remote", index);
    if (!remote) return fail(remote.error());
    if (out.remote_own_network && !remote->empty()) {
      return fail(bad_rule(index, "'remote' and 'remote_own_network' exclude each other"));
    }
    Result<net::SecurityGroupRule> parsed = net::from_neutron(nr);
    if (!parsed) return fail(bad_rule(index, parsed.error().message));
    if (!ports->empty()) {
      Result<std::vector<net::PortRange>> ranges = net::parse_port_ranges(*ports);
      if (!ranges) return fail(bad_rule(index, "ports: " + ranges.error().message));
      parsed->ports = std::move(*ranges);
    }
    if (!remote->empty()) {
      Result<net::Cidr> cidr = net::parse_remote_prefix(*remote);
      if (!cidr) return fail(bad_rule(index, "remote: " + cidr.error().message));
      parsed->remote = *cidr;
    }
    if (Status ok = net::validate(*parsed); !ok) return fail(bad_rule(index, ok.error().message));
    out.rule = std::move(*parsed);
    return out;
  }
  Result<std::optional<int>> min = port_of(rule, "port_range_min", index);
  if (!min) return fail(min.error());
  Result<std::optional<int>> max = port_of(rule, "port_range_max", index);
  if (!max) return fail(max.error());
  nr.port_range_min = *min;
  nr.port_range_max = *max;
  Result<std::string> remote = text_of(rule, "remote_ip_prefix", index);
  if (!remote) return fail(remote.error());
  nr.remote_ip_prefix = std::move(*remote);
  if (rule.contains("ethertype")) {
    Result<std::string> ethertype = text_of(rule, "ethertype", index);
    if (!ethertype) return fail(ethertype.error());
    nr.ethertype = std::move(*ethertype);
  }
  Result<net::SecurityGroupRule> parsed = net::from_neutron(nr);
  if (!parsed) return fail(bad_rule(index, parsed.error().message));
  out.rule = std::move(*parsed);
  return out;
}

Result<std::vector<engine::RuleSpec>> rules_from_json(const json& rules) {
  if (!rules.is_array() || rules.size() > engine::kMaxRulesPerGroup) {
    return fail(Error::invalid_argument("'rules' must be a list of at most " +
                                        std::to_string(engine::kMaxRulesPerGroup) + " rules"));
  }
  std::vector<engine::RuleSpec> out;
  for (std::size_t i = 0; i < rules.size(); ++i) {
    Result<engine::RuleSpec> rule = rule_from_json(rules[i], i);
    if (!rule) return fail(rule.error());
    out.push_back(std::move(*rule));
  }
  return out;
}

json rule_json(const store::SecurityGroupRuleRow& row) {
  json out = {{"id", row.id},
              {"ports", row.ports},
              {"remote", row.remote.empty() ? json(nullptr) : json(row.remote)},
              {"remote_own_network", row.remote_own_network}};
  Result<net::SecurityGroupRule> rule = engine::rule_of(row);
  if (!rule) {
    out["error"] = rule.error().message;
    return out;
  }
  out["direction"] = std::string(net::direction_name(rule->direction));
  out["protocol"] = std::string(net::protocol_name(rule->protocol));
  json neutron = {{"direction", out["direction"]},
                  {"protocol", rule->protocol == net::RuleProtocol::kAll ? json(nullptr)
                                                                         : json(out["protocol"])},
                  {"port_range_min", nullptr},
                  {"port_range_max", nullptr},
                  {"remote_ip_prefix", out["remote"]},
                  {"ethertype", "IPv4"}};
  // Neutron has one range per rule: a rule of several ranges has no Neutron form of its own.
  if (rule->ports.size() == 1) {
    neutron["port_range_min"] = rule->ports[0].min;
    neutron["port_range_max"] = rule->ports[0].max;
  }
  const net::OpenNebulaRule on = net::to_opennebula(*rule);
  out["neutron"] = std::move(neutron);
  out["opennebula"] = {{"RULE_TYPE", on.rule_type},
                       {"PROTOCOL", on.protocol},
                       {"RANGE", on.range},
                       {"NETWORK", on.network}};
  return out;
}

// NICs are listed for the VMs the caller may see (another project's NIC could only list a
// group made before groups had owners).
json group_json(const Context& ctx, const Call& call, const engine::SecurityGroupDetail& g) {
  json rules = json::array();
  for (const store::SecurityGroupRuleRow& r : g.row.rules) rules.push_back(rule_json(r));
  json nics = json::array();
  for (const engine::SecurityGroupMember& m : g.nics) {
    const std::optional<store::Vm> vm = ctx.engine.get(m.vm);
    if (vm && can_see(call.who(), vm->project)) nics.push_back({{"vm", m.vm}, {"nic", m.nic}});
  }
  return {{"id", g.row.id},
          {"name", g.row.name},
          {"project", g.row.project},
          {"description", g.row.description},
          {"rules", std::move(rules)},
          {"nics", std::move(nics)},
          {"created_at", g.row.created_at},
          {"updated_at", g.row.updated_at}};
}

Result<engine::SecurityGroupDetail> act(Context& ctx, engine::SecurityGroupRequest request) {
  return ctx.engine.security_group_request(std::move(request));
}

// Neutron makes a project's default group on the project's first use of security groups:
// here its first list, or its first look-up of "default" (a write once per project; the
// engine makes it too when a NIC first needs it).
Status ensure_default(Context& ctx, store::ProjectId project) {
  if (ctx.engine.security_group(engine::kDefaultSecurityGroup, project)) return {};
  engine::SecurityGroupRequest request;
  request.op = engine::SecurityGroupOp::kEnsureDefault;
  request.project = project;
  Result<engine::SecurityGroupDetail> made = act(ctx, std::move(request));
  if (!made) return fail(std::move(made.error()));
  return {};
}

// The group the path names, if the caller's project owns it (or the caller is the cloud's
// admin): a name is looked up among the caller's project's groups, an id among all; another
// project's is not found, never forbidden. The cloud's admin also finds another project's
// group by a name no other group has (names are unique per project only).
Result<engine::SecurityGroupDetail> visible_group(Context& ctx, const Call& call) {
  const store::ProjectId project = call.who()->project;
  if (call.args[0] == engine::kDefaultSecurityGroup) {
    if (Status made = ensure_default(ctx, project); !made) return fail(std::move(made.error()));
  }
  std::optional<engine::SecurityGroupDetail> g = ctx.engine.security_group(call.args[0], project);
  if (!g && call.who()->cloud_admin()) {
    int named = 0;
    for (engine::SecurityGroupDetail& other : ctx.engine.security_groups()) {
      if (other.row.name == call.args[0] && ++named == 1) g = std::move(other);
    }
    if (named > 1) {
      return fail(Error::invalid_argument("security groups of " + std::to_string(named) +
                                          " projects are named " + call.args[0].substr(0, 64) +
                                          ": name the one meant by its id"));
    }
  }
  if (!g || !can_see(call.who(), g->row.project)) {
    return fail(Error::not_found("no security group " + call.args[0].substr(0, 64)));
  }
  return std::move(*g);
}

// A request on the group the path names, by its id (the look-up above decided which).
Result<engine::SecurityGroupDetail> act_on(Context& ctx, const Call& call,
                                           engine::SecurityGroupRequest request) {
  Result<engine::SecurityGroupDetail> g = visible_group(ctx, call);
  if (!g) return fail(std::move(g.error()));
  request.name_or_id = std::to_string(g->row.id);
  request.project = g->row.project;
  return act(ctx, std::move(request));
}

}  // namespace

HandlerResult list_security_groups(Context& ctx, Call& call) {
  Result<std::optional<store::ProjectId>> scope = list_scope(ctx, call);
  if (!scope) return failure(std::move(scope.error()));
  if (Status made = ensure_default(ctx, call.who()->project); !made) {
    return failure(std::move(made.error()));
  }
  json groups = json::array();
  for (const engine::SecurityGroupDetail& g : ctx.engine.security_groups()) {
    if (!*scope || g.row.project == **scope) groups.push_back(group_json(ctx, call, g));
  }
  return Reply{200, {{"security_groups", std::move(groups)}}};
}

HandlerResult get_security_group(Context& ctx, Call& call) {
  Result<engine::SecurityGroupDetail> g = visible_group(ctx, call);
  if (!g) return failure(std::move(g.error()));
  return Reply{200, {{"security_group", group_json(ctx, call, *g)}}};
}

HandlerResult create_security_group(Context& ctx, Call& call) {
  Result<json> body = parse_body(call.req.body);
  if (!body) return failure(std::move(body.error()));
  for (const auto& [key, value] : body->items()) {
    if (key != "name" && key != "description" && key != "rules") {
      return failure(Error::invalid_argument("unknown field '" + key.substr(0, 64) +
                                             "' for POST /v1/security-groups (name, "
                                             "description, rules)"));
    }
  }
  engine::SecurityGroupRequest request;
  request.op = engine::SecurityGroupOp::kCreate;
  request.project = call.who()->project;  // the owner
  const auto name = body->find("name");
  if (name == body->end() || !name->is_string()) {
    return failure(Error::invalid_argument("'name' must be a string"));
  }
  request.name = name->get<std::string>();
  if (const auto d = body->find("description"); d != body->end() && !d->is_null()) {
    if (!d->is_string()) return failure(Error::invalid_argument("'description' must be a string"));
    request.description = d->get<std::string>();
  }
  if (const auto rules = body->find("rules"); rules != body->end()) {
    Result<std::vector<engine::RuleSpec>> parsed = rules_from_json(*rules);
    if (!parsed) return failure(std::move(parsed.error()));
    request.rules = std::move(*parsed);
  }
  Result<engine::SecurityGroupDetail> g = act(ctx, std::move(request));
  if (!g) return failure(std::move(g.error()));
  return Reply{201, {{"security_group", group_json(ctx, call, *g)}}};
}

HandlerResult set_security_group_rules(Context& ctx, Call& call) {
  Result<json> body = parse_body(call.req.body);
  if (!body) return failure(std::move(body.error()));
  const auto rules = body->find("rules");
  if (rules == body->end() || body->size() != 1) {
    return failure(Error::invalid_argument("PUT .../rules takes {\"rules\": [RULE...]}"));
  }
  Result<std::vector<engine::RuleSpec>> parsed = rules_from_json(*rules);
  if (!parsed) return failure(std::move(parsed.error()));
  engine::SecurityGroupRequest request;
  request.op = engine::SecurityGroupOp::kSetRules;
  request.rules = std::move(*parsed);
  Result<engine::SecurityGroupDetail> g = act_on(ctx, call, std::move(request));
  if (!g) return failure(std::move(g.error()));
  return Reply{200, {{"security_group", group_json(ctx, call, *g)}}};
}

HandlerResult add_security_group_rule(Context& ctx, Call& call) {
  Result<json> body = parse_body(call.req.body);
  if (!body) return failure(std::move(body.error()));
  Result<engine::RuleSpec> rule = rule_from_json(*body, 0);
  if (!rule) return failure(std::move(rule.error()));
  engine::SecurityGroupRequest request;
  request.op = engine::SecurityGroupOp::kAddRule;
  request.rules = {std::move(*rule)};
  Result<engine::SecurityGroupDetail> g = act_on(ctx, call, std::move(request));
  if (!g) return failure(std::move(g.error()));
  json added;
  for (const store::SecurityGroupRuleRow& r : g->row.rules) {
    if (r.id == g->added_rule) added = rule_json(r);
  }
  return Reply{201, {{"rule", std::move(added)}, {"security_group", group_json(ctx, call, *g)}}};
}

HandlerResult delete_security_group_rule(Context& ctx, Call& call) {
  const std::optional<std::int64_t> id = engine::id_of(call.args[1]);
  if (!id) {
    return failure(Error::invalid_argument("a rule is named by its id (a positive number)"));
  }
  engine::SecurityGroupRequest request;
  request.op = engine::SecurityGroupOp::kDeleteRule;
  request.rule = *id;
  Result<engine::SecurityGroupDetail> g = act_on(ctx, call, std::move(request));
  if (!g) return failure(std::move(g.error()));
  return Reply{200, {{"security_group", group_json(ctx, call, *g)}}};
}

HandlerResult delete_security_group(Context& ctx, Call& call) {
  engine::SecurityGroupRequest request;
  request.op = engine::SecurityGroupOp::kDelete;
  Result<engine::SecurityGroupDetail> g = act_on(ctx, call, std::move(request));
  if (!g) return failure(std::move(g.error()));
  return Reply{200, {{"security_group", group_json(ctx, call, *g)}}};
}

}  // namespace corral::api::internal
