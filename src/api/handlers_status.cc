// Read-only views beyond one VM: GET /v1/operations/{id}, /v1/hosts, /v1/states, /healthz,
// and the event stream GET /v1/events.
#include <optional>
#include <string>

#include "api/handlers.h"
#include "api/policy.h"
#include "api/queries.h"
#include "api/vm_json.h"
#include "lifecycle/export.h"

namespace corral::api::internal {

using nlohmann::json;

HandlerResult get_operation(Context& ctx, Call& call) {
  const std::optional<std::int64_t> id = parse_id(call.args[0]);
  const auto missing = [&] {
    return failure(Error::not_found("no operation with id '" + call.args[0] + "'"));
  };
  if (!id) return missing();
  Result<std::optional<store::OperationRow>> row = ctx.engine.operation(*id);
  if (!row) return failure(std::move(row.error()));
  if (!*row) return missing();
  // Another project's operation is not found, as its VM is not.
  const std::optional<store::Vm> vm = ctx.engine.get((*row)->vm_id);
  if (!vm || !can_see(call.who(), vm->project)) return missing();
  return Reply{200, op_json(**row)};
}

HandlerResult get_states(Context& /*ctx*/, Call& /*call*/) {
  static const json kModel = lifecycle::model_json();  // a pure function of the code
  return Reply{200, kModel};
}

HandlerResult healthz(Context& ctx, Call& /*call*/) {
  const engine::EngineStats stats = ctx.engine.stats();
  return Reply{200,
               {{"status", "ok"},
                {"vms", stats.vms},
                {"driver", ctx.hosts.local().driver_name()},
                // Committed since start: what load tests measure durable throughput with.
                {"transitions", stats.transitions},
                {"batches", stats.batches},
                {"commands", stats.commands}}};
}

HandlerResult stream_events(Context& ctx, Call& call) {
  Result<store::VmId> vm = parse_events_query(call.req.params);
  if (!vm) return failure(std::move(vm.error()));
  if (*vm != 0) {
    auto visible = visible_vm(ctx, call, std::to_string(*vm));
    if (!visible) return std::unexpected(std::move(visible.error()));
  }
  // A project's members follow their project's VMs; the cloud's admin every VM and the hosts.
  const auth::Principal& caller = *call.who();
  EventFilter filter{*vm, std::nullopt, caller.cloud_admin()};
  if (!caller.cloud_admin()) filter.project = caller.project;
  std::shared_ptr<EventClient> client = ctx.events.open(filter);
  if (!client) return failure(Error{ErrorCode::kUnavailable, "corral is shutting down", {}, {}});
  const std::chrono::milliseconds heartbeat = ctx.options.heartbeat;
  EventHub* hub = &ctx.events;
  call.res.status = 200;
  call.res.set_header("Cache-Control", "no-cache");
  call.res.set_header("X-Accel-Buffering", "no");
  call.res.set_chunked_content_provider(
      "text/event-stream",
      [client, heartbeat, greeted = false](std::size_t /*offset*/,
                                           httplib::DataSink& sink) mutable {
        std::string chunk;
        if (!greeted) {
          greeted = true;  // at once, so the client sees the stream open
          chunk = ": connected\nretry: 2000\n\n";
        } else {
          chunk = client->next(heartbeat);
        }
        if (!chunk.empty() && !sink.write(chunk.data(), chunk.size())) return false;
        if (client->finished()) sink.done();
        return true;
      },
      [hub, client](bool /*success*/) { hub->remove(client); });
  return Reply{200, nullptr, /*is_streaming=*/true};
}

}  // namespace corral::api::internal
