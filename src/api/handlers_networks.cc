// /v1/networks: virtual networks (OpenNebula's virtual network with one address range,
// Neutron's network with its subnet) and their leases. Errors go through failure() like every
// handler's.
#include "api/handlers.h"
#include "api/policy.h"
#include "api/requests.h"
#include "lifecycle/net_table.h"

namespace corral::api::internal {
namespace {

using json = nlohmann::json;
namespace lc = corral::lifecycle;

// Corral's words first; OpenNebula's state number and Neutron's status beside them, as a VM
// shows its views.
// Leases are listed for the VMs the caller may see; the others only counted (used_leases):
// another project's VMs never appear.
json network_json(const Context& ctx, const Call& call, const engine::NetworkDetail& n) {
  const std::string& netns = ctx.options.network_namespace;
  json leases = json::array();
  for (const engine::NetworkLease& l : n.leases) {
    const std::optional<store::Vm> vm = ctx.engine.get(l.vm);
    if (!vm || !can_see(call.who(), vm->project)) continue;
    leases.push_back(
        {{"vm", l.vm}, {"nic", l.nic}, {"ip", l.ip}, {"mac", l.mac}, {"attached", l.attached}});
  }
  return {{"id", n.row.id},
          {"name", n.row.name},
          {"cidr", n.row.cidr},
          {"gateway", n.gateway},
          {"size", n.size},
          {"used_leases", n.leases.size()},
          {"state", std::string(lc::network_state_name(n.row.state))},
          {"opennebula",
           {{"STATE", static_cast<int>(n.row.state)},
            {"STATE_STR", std::string(lc::network_state_name(n.row.state))}}},
          {"neutron", {{"status", std::string(lc::neutron_network_status(n.row.state))}}},
          {"vxlan_vni", n.row.id},
          {"namespace", netns.empty() ? json(nullptr) : json(netns)},
          {"error", n.row.error},
          {"leases", std::move(leases)},
          {"created_at", n.row.created_at},
          {"updated_at", n.row.updated_at}};
}

constexpr std::string_view kNetworkFields[] = {"name", "cidr"};

}  // namespace

HandlerResult list_networks(Context& ctx, Call& call) {
  json networks = json::array();
  for (const engine::NetworkDetail& n : ctx.engine.networks())
    networks.push_back(network_json(ctx, call, n));
  return Reply{200, {{"networks", std::move(networks)}}};
}

HandlerResult get_network(Context& ctx, Call& call) {
  const std::optional<engine::NetworkDetail> n = ctx.engine.network(call.args[0]);
  if (!n) return failure(Error::not_found("no network " + call.args[0].substr(0, 64)));
  return Reply{200, {{"network", network_json(ctx, call, *n)}}};
}

HandlerResult create_network(Context& ctx, Call& call) {
  Result<json> body = parse_body(call.req.body);
  if (!body) return failure(std::move(body.error()));
  for (const auto& [key, value] : body->items()) {
    if (std::ranges::find(kNetworkFields, key) == std::end(kNetworkFields)) {
      return failure(Error::invalid_argument("unknown field '" + key.substr(0, 64) +
                                             "' for POST /v1/networks (name, cidr)"));
    }
  }
  const auto name = body->find("name");
  if (name == body->end() || !name->is_string()) {
    return failure(Error::invalid_argument("'name' must be a string"));
  }
  const auto cidr = body->find("cidr");
  if (cidr == body->end() || !cidr->is_string()) {
    return failure(Error::invalid_argument("'cidr' must be a string such as \"10.77.0.0/24\""));
  }
  Result<engine::NetworkDetail> n =
      ctx.engine.create_network({name->get<std::string>(), cidr->get<std::string>()});
  if (!n) return failure(std::move(n.error()));
  return Reply{201, {{"network", network_json(ctx, call, *n)}}};
}

HandlerResult delete_network(Context& ctx, Call& call) {
  Result<engine::NetworkDetail> n = ctx.engine.delete_network(call.args[0]);
  if (!n) return failure(std::move(n.error()));
  return Reply{202, {{"network", network_json(ctx, call, *n)}}};
}

}  // namespace corral::api::internal
