// The sim driver's admin (/v1/admin/*): faults injected into phases, and things the
// hypervisor does by itself. Each answers 404 when the host does not run the sim.
#include <optional>
#include <string>

#include "api/handlers.h"
#include "api/queries.h"
#include "api/requests.h"
#include "driver/sim/sim_driver.h"

namespace corral::api::internal {
namespace {

using nlohmann::json;
namespace sim = corral::driver::sim;

// The sim's admin of `services`' host; 404 when that host does not run the sim.
std::expected<sim::FaultInjector*, Failure> sim_of(const driver::HostServices& services) {
  if (services.fault_injector() == nullptr) {
    return failure(
        Error::not_found("the admin endpoints exist only with the sim driver (this "
                         "server runs the " +
                         services.driver_name() + " driver)"));
  }
  return services.fault_injector();
}

// Faults are not about one VM's host: this process's own sim holds them.
std::expected<sim::FaultInjector*, Failure> sim_of(Context& ctx) {
  return sim_of(ctx.hosts.local());
}

// The 409 for a fault of a VM whose host is an agent's: that host's sim runs inside the agent
// (external events are forwarded to it; faults are not).
std::optional<Error> on_agent_host(Context& ctx, const store::Vm& vm) {
  const std::optional<std::string> agent = ctx.hosts.services_for(vm.host).agent_host();
  if (!agent) return std::nullopt;
  return Error{ErrorCode::kConflict,
               "VM " + std::to_string(vm.id) + " is on agent host " + *agent +
                   ": fault injection for agent hosts is done on the agent (its own sim), not "
                   "through this controller",
               {},
               {}};
}

}  // namespace

HandlerResult add_fault(Context& ctx, Call& call) {
  auto sim = sim_of(ctx);
  if (!sim) return std::unexpected(std::move(sim.error()));
  Result<json> body = parse_body(call.req.body);
  if (!body) return failure(std::move(body.error()));
  Result<sim::Fault> fault = sim::parse_fault(*body);
  if (!fault) return failure(std::move(fault.error()));
  // This server's sim runs only its own hosts' phases: a fault for a VM on an agent host
  // would never match. Say so instead of keeping it.
  if (fault->vm) {
    if (std::optional<store::Vm> vm = ctx.engine.get(*fault->vm)) {
      if (std::optional<Error> remote = on_agent_host(ctx, *vm)) return failure(std::move(*remote));
    }
  }
  fault->id = (*sim)->add_fault(*fault);
  return Reply{201, sim::fault_json(*fault)};
}

HandlerResult list_faults(Context& ctx, Call& /*call*/) {
  auto sim = sim_of(ctx);
  if (!sim) return std::unexpected(std::move(sim.error()));
  json faults = json::array();
  for (const sim::Fault& f : (*sim)->faults()) faults.push_back(sim::fault_json(f));
  return Reply{200, {{"faults", std::move(faults)}}};
}

HandlerResult clear_faults(Context& ctx, Call& /*call*/) {
  auto sim = sim_of(ctx);
  if (!sim) return std::unexpected(std::move(sim.error()));
  const std::size_t before = (*sim)->faults().size();
  (*sim)->clear_faults();
  return Reply{200, {{"removed", before}}};
}

HandlerResult remove_fault(Context& ctx, Call& call) {
  auto sim = sim_of(ctx);
  if (!sim) return std::unexpected(std::move(sim.error()));
  const std::optional<std::int64_t> id = parse_id(call.args[0]);
  if (!id || !(*sim)->remove_fault(static_cast<std::uint64_t>(*id))) {
    return failure(Error::not_found("no fault with id '" + call.args[0] + "'"));
  }
  return Reply{200, {{"removed", 1}}};
}

HandlerResult external_event(Context& ctx, Call& call) {
  auto sim = sim_of(ctx);
  if (!sim) return std::unexpected(std::move(sim.error()));
  Result<json> body = parse_body(call.req.body);
  if (!body) return failure(std::move(body.error()));
  for (const auto& [key, value] : body->items()) {
    if (key != "event") {
      return failure(Error::invalid_argument("unknown field '" + key + "' (allowed: event)"));
    }
  }
  const auto event = body->find("event");
  if (event == body->end()) {
    return failure(Error::invalid_argument(
        "missing field 'event' (guest_poweroff, lost, paused, running or guest_ready)"));
  }
  if (!event->is_string()) return failure(Error::invalid_argument("'event' must be a string"));
  Result<sim::ExternalEvent> kind = sim::parse_external_event(event->get_ref<const std::string&>());
  if (!kind) return failure(std::move(kind.error()));
  const std::optional<std::int64_t> id = parse_id(call.args[0]);
  std::optional<store::Vm> vm;
  if (id) vm = ctx.engine.get(*id);
  if (!vm) return failure(Error::not_found("no VM with id '" + call.args[0] + "'"));
  // What the hypervisor does by itself happens on the VM's host.
  driver::HostServices& services = ctx.hosts.services_for(vm->host);
  if (services.agent_host()) {
    // The agent's own sim does it (its power event comes back on the agent's stream).
    if (Status done = services.agent_sim_event(*id, std::string(sim::external_event_name(*kind)));
        !done) {
      return failure(std::move(done.error()));
    }
    return Reply{202, {{"vm_id", *id}, {"event", std::string(sim::external_event_name(*kind))}}};
  }
  auto host_sim = sim_of(services);
  if (!host_sim) return std::unexpected(std::move(host_sim.error()));
  (*host_sim)->external_event(*id, *kind);
  return Reply{202, {{"vm_id", *id}, {"event", std::string(sim::external_event_name(*kind))}}};
}

}  // namespace corral::api::internal
