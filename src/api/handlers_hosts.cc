// The host endpoints: GET /v1/hosts[/{name}], POST /v1/hosts (with a one-time join token and
// the agent command to type), POST /v1/hosts/{name}/action, DELETE /v1/hosts/{name},
// POST /v1/hosts/{name}/join-token. The engine owns the hosts (engine/hosts.h); a refused
// action comes back as its typed error (409 with the state and the allowed actions).
#include <string>

#include "api/handlers.h"
#include "api/host_json.h"
#include "api/requests.h"
#include "lifecycle/host_table.h"

namespace corral::api::internal {

using nlohmann::json;

namespace {

Result<engine::HostDetail> host_of(Context& ctx, const std::string& name) {
  std::optional<engine::HostDetail> host = ctx.engine.host(name);
  if (!host) return fail(Error::not_found("no host named '" + name.substr(0, 64) + "'"));
  return *host;
}

// The token and the command an operator types on the new host.
Result<json> join_reply(Context& ctx, const engine::HostDetail& host) {
  HostJoin* join = ctx.options.host_join;
  if (join == nullptr) {
    return fail(Error{ErrorCode::kUnavailable,
                      "this server has no cluster ports: agents cannot join it",
                      {},
                      {}});
  }
  Result<std::string> token = join->issue_token(host.row.name);
  if (!token) return fail(std::move(token.error()));
  const std::string command = "corral agent --controller " + join->agent_address() +
                              " --join-address " + join->join_address() + " --join " + *token +
                              " --data-dir /var/lib/corral-agent --driver qemu";
  return json{{"host", host_json(host)},
              {"join_token", *token},
              {"agent_command", command},
              {"token_expires_in_s", 3600}};
}

// The engine's refusals name the state in Corral's words ("monitored"); the API shows
// OpenNebula's ("MONITORED"), so the error does too.
std::unexpected<Failure> host_failure(Error error) {
  if (error.code == ErrorCode::kInvalidState) {
    if (const auto state = lifecycle::parse_host_state(error.state)) {
      error.state = std::string(lifecycle::host_state_opennebula_name(*state));
    }
  }
  return failure(std::move(error));
}

}  // namespace

HandlerResult list_hosts(Context& ctx, Call& /*call*/) {
  json hosts = json::array();
  for (const engine::HostDetail& h : ctx.engine.host_details()) hosts.push_back(host_json(h));
  return Reply{200, {{"hosts", std::move(hosts)}}};
}

HandlerResult get_host(Context& ctx, Call& call) {
  Result<engine::HostDetail> host = host_of(ctx, call.args[0]);
  if (!host) return failure(std::move(host.error()));
  return Reply{200, host_json(*host)};
}

HandlerResult add_host(Context& ctx, Call& call) {
  Result<json> body = parse_body(call.req.body);
  if (!body) return failure(std::move(body.error()));
  Result<engine::HostSpec> spec = parse_host_spec(*body);
  if (!spec) return failure(std::move(spec.error()));
  spec->actor = "api";
  spec->request_id = call.request_id;
  Result<engine::HostDetail> host = ctx.engine.add_host(std::move(*spec));
  if (!host) return failure(std::move(host.error()));
  if (ctx.options.host_join == nullptr) return Reply{201, {{"host", host_json(*host)}}};
  Result<json> reply = join_reply(ctx, *host);
  // The host is added either way; without a token the operator asks for one later.
  if (!reply) {
    return Reply{201, {{"host", host_json(*host)}, {"join_token_error", reply.error().message}}};
  }
  return Reply{201, std::move(*reply)};
}

HandlerResult act_on_host(Context& ctx, Call& call) {
  Result<json> body = parse_body(call.req.body);
  if (!body) return failure(std::move(body.error()));
  Result<engine::HostActionRequest> request = parse_host_action(call.args[0], *body);
  if (!request) return failure(std::move(request.error()));
  request->actor = "api";
  request->request_id = call.request_id;
  Result<engine::HostDetail> host = ctx.engine.host_action(std::move(*request));
  if (!host) return host_failure(std::move(host.error()));
  return Reply{200, host_json(*host)};
}

HandlerResult delete_host(Context& ctx, Call& call) {
  engine::HostActionRequest request;
  request.host = call.args[0];
  request.event = lifecycle::HostEvent::kDelete;
  request.actor = "api";
  request.request_id = call.request_id;
  Result<engine::HostDetail> host = ctx.engine.host_action(std::move(request));
  if (!host) return host_failure(std::move(host.error()));
  return Reply{200, {{"deleted", host_json(*host)}}};
}

HandlerResult host_join_token(Context& ctx, Call& call) {
  Result<engine::HostDetail> host = host_of(ctx, call.args[0]);
  if (!host) return failure(std::move(host.error()));
  if (host->local) {
    return failure(Error{ErrorCode::kConflict,
                         "host '" + host->row.name + "' is this server's own: it has no agent",
                         {},
                         {}});
  }
  Result<json> reply = join_reply(ctx, *host);
  if (!reply) return failure(std::move(reply.error()));
  return Reply{200, std::move(*reply)};
}

}  // namespace corral::api::internal
