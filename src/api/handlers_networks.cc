// /v1/networks: virtual networks (OpenNebula's virtual network with one address range,
// Neutron's network with its subnet) and their leases. Errors go through failure() like every
// handler's. A network belongs to a project: the project sees its own and the shared ones
// (api/policy.h can_see_network), another project's is not found and never listed.
#include <algorithm>
#include <span>
#include <string>
#include <string_view>

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
          {"project", n.row.project},
          {"shared", n.row.shared},
          {"description", n.row.description},
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

constexpr std::string_view kNetworkFields[] = {"name", "cidr", "shared", "description"};
constexpr std::string_view kNetworkUpdateFields[] = {"shared", "description"};

// The network the path names, if the caller may see it (its project's, a shared one, or any
// for the cloud's admin): another project's is not found, never forbidden.
std::expected<engine::NetworkDetail, Failure> visible_network(const Context& ctx,
                                                              const Call& call) {
  std::optional<engine::NetworkDetail> n = ctx.engine.network(call.args[0]);
  if (!n || !can_see_network(call.who(), n->row.project, n->row.shared)) {
    return failure(Error::not_found("no network " + call.args[0].substr(0, 64)));
  }
  return std::move(*n);
}

// The same, for a change or a delete: a shared network, which every project sees, is the
// cloud's admin's to change (Neutron answers the others 403, as here).
std::expected<engine::NetworkDetail, Failure> changeable_network(const Context& ctx,
                                                                 const Call& call) {
  auto n = visible_network(ctx, call);
  if (n && !can_change_network(call.who(), n->row.project, n->row.shared)) {
    return failure(Error{ErrorCode::kForbidden,
                         "network " + n->row.name +
                             " is shared: only the cloud's admin (the role admin on the admin "
                             "project) changes or deletes it",
                         {},
                         {}});
  }
  return n;
}

// Keys of `body` outside `fields`: the error naming the first, for `what`.
Status only(const json& body, std::span<const std::string_view> fields, std::string_view what) {
  for (const auto& [key, value] : body.items()) {
    if (std::ranges::find(fields, key) == fields.end()) {
      std::string names;
      for (std::string_view f : fields) names += (names.empty() ? "" : ", ") + std::string(f);
      return fail(Error::invalid_argument("unknown field '" + key.substr(0, 64) + "' for " +
                                          std::string(what) + " (" + names + ")"));
    }
  }
  return {};
}

// `shared`, if the body has it. Only the cloud's admin asks for a shared network (Neutron's
// create_network:shared is admin_only); false, the default, is anyone's to say.
Result<std::optional<bool>> shared_of(const json& body, const Call& call) {
  const auto it = body.find("shared");
  if (it == body.end() || it->is_null()) return std::optional<bool>();
  if (!it->is_boolean()) return fail(Error::invalid_argument("'shared' must be true or false"));
  if (it->get<bool>() && !call.who()->cloud_admin()) {
    return fail(Error{ErrorCode::kForbidden,
                      "only the cloud's admin (the role admin on the admin project) shares a "
                      "network",
                      {},
                      {}});
  }
  return std::optional<bool>(it->get<bool>());
}

Result<std::optional<std::string>> description_of(const json& body) {
  const auto it = body.find("description");
  if (it == body.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) return fail(Error::invalid_argument("'description' must be a string"));
  return std::optional<std::string>(it->get<std::string>());
}

}  // namespace

HandlerResult list_networks(Context& ctx, Call& call) {
  Result<std::optional<store::ProjectId>> scope = list_scope(ctx, call);
  if (!scope) return failure(std::move(scope.error()));
  json networks = json::array();
  for (const engine::NetworkDetail& n : ctx.engine.networks()) {
    // A project's list holds its networks and the shared ones (Neutron's); every project's
    // with all_projects (the cloud's admin).
    if (!*scope || n.row.project == **scope || n.row.shared) {
      networks.push_back(network_json(ctx, call, n));
    }
  }
  return Reply{200, {{"networks", std::move(networks)}}};
}

HandlerResult get_network(Context& ctx, Call& call) {
  auto n = visible_network(ctx, call);
  if (!n) return std::unexpected(std::move(n.error()));
  return Reply{200, {{"network", network_json(ctx, call, *n)}}};
}

HandlerResult create_network(Context& ctx, Call& call) {
  Result<json> body = parse_body(call.req.body);
  if (!body) return failure(std::move(body.error()));
  if (Status ok = only(*body, kNetworkFields, "POST /v1/networks"); !ok) {
    return failure(std::move(ok.error()));
  }
  const auto name = body->find("name");
  if (name == body->end() || !name->is_string()) {
    return failure(Error::invalid_argument("'name' must be a string"));
  }
  const auto cidr = body->find("cidr");
  if (cidr == body->end() || !cidr->is_string()) {
    return failure(Error::invalid_argument("'cidr' must be a string such as \"10.77.0.0/24\""));
  }
  Result<std::optional<bool>> shared = shared_of(*body, call);
  if (!shared) return failure(std::move(shared.error()));
  Result<std::optional<std::string>> description = description_of(*body);
  if (!description) return failure(std::move(description.error()));
  // The caller's project owns it (the cloud's admin's: the admin project).
  Result<engine::NetworkDetail> n = ctx.engine.create_network(
      {name->get<std::string>(), cidr->get<std::string>(), call.who()->project,
       shared->value_or(false), description->value_or("")});
  if (!n) return failure(std::move(n.error()));
  return Reply{201, {{"network", network_json(ctx, call, *n)}}};
}

HandlerResult update_network(Context& ctx, Call& call) {
  auto n = changeable_network(ctx, call);
  if (!n) return std::unexpected(std::move(n.error()));
  Result<json> body = parse_body(call.req.body);
  if (!body) return failure(std::move(body.error()));
  if (Status ok = only(*body, kNetworkUpdateFields, "PATCH /v1/networks/{name}"); !ok) {
    return failure(std::move(ok.error()));
  }
  Result<std::optional<bool>> shared = shared_of(*body, call);
  if (!shared) return failure(std::move(shared.error()));
  Result<std::optional<std::string>> description = description_of(*body);
  if (!description) return failure(std::move(description.error()));
  Result<engine::NetworkDetail> done = ctx.engine.update_network(
      std::to_string(n->row.id), engine::NetworkUpdate{*shared, std::move(*description)});
  if (!done) return failure(std::move(done.error()));
  return Reply{200, {{"network", network_json(ctx, call, *done)}}};
}

HandlerResult delete_network(Context& ctx, Call& call) {
  auto found = changeable_network(ctx, call);
  if (!found) return std::unexpected(std::move(found.error()));
  Result<engine::NetworkDetail> n = ctx.engine.delete_network(std::to_string(found->row.id));
  if (!n) return failure(std::move(n.error()));
  return Reply{202, {{"network", network_json(ctx, call, *n)}}};
}

}  // namespace corral::api::internal
