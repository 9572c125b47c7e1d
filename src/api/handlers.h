// The handlers behind each route (internal to api/). See docs/api.md for each endpoint.
//
// Contract: a handler reads the request, returns a Reply or a Failure (which the server turns
// into HTTP through api::to_http); it never writes an error itself. The event stream is the
// one handler that writes the response (a streaming body) and returns Reply{.streaming=true}.
#pragma once

#include <httplib.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "api/errors.h"
#include "api/events.h"
#include "api/server.h"
#include "auth/identity.h"
#include "driver/host_services.h"

namespace corral::api::internal {

struct Reply {
  Reply() = default;
  Reply(int status_code, nlohmann::json json_body, bool is_streaming = false,
        std::string raw_body = {})
      : status(status_code),
        body(std::move(json_body)),
        streaming(is_streaming),
        raw(std::move(raw_body)) {}

  int status = 200;
  nlohmann::json body;
  bool streaming = false;    // the handler set a content provider
  std::string raw;           // a body already rendered (the hot read paths); wins over `body`
  std::string content_type;  // of `raw`; empty: JSON
};

struct Context {
  engine::Engine& engine;
  auth::Identity* identity;                 // never nullptr inside a handler that needs a caller
  const driver::HostServicesRouter& hosts;  // images, console, sim admin: per host
  EventHub& events;
  const ServerOptions& options;
  const std::atomic<bool>& stopping;  // the server is stopping: long-lived handlers end
};

// What a handler tells the audit log beyond what the server knows (audit/audit_log.h).
struct AuditNote {
  std::int64_t vm = 0;     // the VM named or made
  std::string verb;        // in the caller's vocabulary; empty: the route's
  std::string vocabulary;  // empty: "corral"
  std::string user;        // a public route's would-be caller (the name a login gave)
  bool in_outbox = false;  // the engine committed the entry with the change (audit_request.h)
};

struct Call {
  const httplib::Request& req;
  httplib::Response& res;
  std::vector<std::string> args;  // path parameters
  std::string request_id;
  std::string_view route{};  // the matched route's pattern (kRoutes), for the audit log
  // Who is calling, once the server checked the token (empty on public routes only).
  std::optional<auth::Principal> caller{};
  AuditNote audit{};
  bool streaming = false;  // the reply is a stream (not audited: a read)
  const auth::Principal* who() const { return caller ? &*caller : nullptr; }
};

using HandlerResult = std::expected<Reply, Failure>;
using Handler = HandlerResult (*)(Context&, Call&);

// handlers_vms.cc
HandlerResult create_vm(Context& ctx, Call& call);
HandlerResult list_vms(Context& ctx, Call& call);
HandlerResult get_vm(Context& ctx, Call& call);
HandlerResult delete_vm(Context& ctx, Call& call);
HandlerResult act_on_vm(Context& ctx, Call& call);
HandlerResult instance_view(Context& ctx, Call& call);
HandlerResult vm_history(Context& ctx, Call& call);

// handlers_migrations.cc
HandlerResult vm_migrations(Context& ctx, Call& call);
HandlerResult list_migrations(Context& ctx, Call& call);
HandlerResult lock_vm(Context& ctx, Call& call);
HandlerResult unlock_vm(Context& ctx, Call& call);
// Whether the caller is the cloud's admin (or no one signs in: --no-auth), whom a VM's lock
// does not stop.
bool passes_locks(const Call& call);
// PUT /v1/vms/{id}/nics/{nic} {"security_groups": [...]}: 200 {"vm": VM}.
HandlerResult update_nic(Context& ctx, Call& call);

// handlers_hosts.cc
HandlerResult list_hosts(Context& ctx, Call& call);
HandlerResult get_host(Context& ctx, Call& call);
HandlerResult add_host(Context& ctx, Call& call);
HandlerResult act_on_host(Context& ctx, Call& call);
HandlerResult delete_host(Context& ctx, Call& call);
HandlerResult host_join_token(Context& ctx, Call& call);

// handlers_groups.cc
HandlerResult list_groups(Context& ctx, Call& call);
HandlerResult get_group(Context& ctx, Call& call);
HandlerResult create_group(Context& ctx, Call& call);
HandlerResult delete_group(Context& ctx, Call& call);
// handlers_resource_groups.cc
HandlerResult list_resource_groups(Context& ctx, Call& call);
HandlerResult put_resource_group(Context& ctx, Call& call);
HandlerResult get_resource_group(Context& ctx, Call& call);
HandlerResult delete_resource_group(Context& ctx, Call& call);

// handlers_networks.cc
HandlerResult list_networks(Context& ctx, Call& call);
HandlerResult get_network(Context& ctx, Call& call);
HandlerResult update_network(Context& ctx, Call& call);  // PATCH: description, shared
HandlerResult create_network(Context& ctx, Call& call);
HandlerResult delete_network(Context& ctx, Call& call);

// handlers_security_groups.cc
HandlerResult list_security_groups(Context& ctx, Call& call);
HandlerResult create_security_group(Context& ctx, Call& call);
HandlerResult get_security_group(Context& ctx, Call& call);
HandlerResult set_security_group_rules(Context& ctx, Call& call);
HandlerResult add_security_group_rule(Context& ctx, Call& call);
HandlerResult delete_security_group_rule(Context& ctx, Call& call);
HandlerResult delete_security_group(Context& ctx, Call& call);

// handlers_volumes.cc
HandlerResult list_volumes(Context& ctx, Call& call);
HandlerResult get_volume(Context& ctx, Call& call);
HandlerResult create_volume(Context& ctx, Call& call);
HandlerResult act_on_volume(Context& ctx, Call& call);
HandlerResult delete_volume(Context& ctx, Call& call);

// handlers_status.cc
HandlerResult get_operation(Context& ctx, Call& call);
HandlerResult get_states(Context& ctx, Call& call);
HandlerResult healthz(Context& ctx, Call& call);
HandlerResult stream_events(Context& ctx, Call& call);

// handlers_identity.cc
HandlerResult login(Context& ctx, Call& call);
HandlerResult who_am_i(Context& ctx, Call& call);
HandlerResult logout(Context& ctx, Call& call);
HandlerResult list_projects(Context& ctx, Call& call);
HandlerResult create_project(Context& ctx, Call& call);
HandlerResult get_project(Context& ctx, Call& call);
HandlerResult update_project(Context& ctx, Call& call);
HandlerResult delete_project(Context& ctx, Call& call);
HandlerResult project_members(Context& ctx, Call& call);
HandlerResult grant_role(Context& ctx, Call& call);
HandlerResult revoke_role(Context& ctx, Call& call);
HandlerResult list_users(Context& ctx, Call& call);
HandlerResult create_user(Context& ctx, Call& call);
HandlerResult get_user(Context& ctx, Call& call);
HandlerResult update_user(Context& ctx, Call& call);
HandlerResult delete_user(Context& ctx, Call& call);

// handlers_usage.cc
HandlerResult usage(Context& ctx, Call& call);

// handlers_audit.cc
HandlerResult vm_actions(Context& ctx, Call& call);  // GET /v1/vms/{id}/actions
HandlerResult audit_log(Context& ctx, Call& call);   // GET /v1/audit

// handlers_metrics.cc
HandlerResult metrics(Context& ctx, Call& call);  // GET /metrics

// handlers_quotas.cc
HandlerResult get_quotas(Context& ctx, Call& call);
HandlerResult set_quotas(Context& ctx, Call& call);
// The limits a project's requests are checked against: the defaults with the project's own
// values over them; none for the admin project (OpenNebula's oneadmin is not limited).
std::optional<lifecycle::QuotaLimits> limits_for(const Context& ctx, store::ProjectId project);

// handlers_admin.cc
HandlerResult add_fault(Context& ctx, Call& call);
HandlerResult list_faults(Context& ctx, Call& call);
HandlerResult clear_faults(Context& ctx, Call& call);
HandlerResult remove_fault(Context& ctx, Call& call);
HandlerResult external_event(Context& ctx, Call& call);

// handlers_images.cc
HandlerResult list_images(Context& ctx, Call& call);
// GET /v1/monitoring: {"vms": [{"vm", "cpu_percent"}]}, the VMs someone measures.
HandlerResult vm_usage(Context& ctx, Call& call);
// A VM's image must be one of its host's when the host lists its images (`host` "": not
// placed yet, any host's will do): the error if not.
std::optional<Error> unknown_image(Context& ctx, const std::string& name,
                                   const std::string& host = "");

// handlers_console.cc
HandlerResult console_log(Context& ctx, Call& call);
HandlerResult console_stream(Context& ctx, Call& call);
HandlerResult console_input(Context& ctx, Call& call);
HandlerResult console_websocket(Context& ctx, Call& call);

// The VM `id_text` names, if the caller may see it (its project's, or any for the cloud's
// admin): otherwise, like a malformed or unknown id, 404 — never 403.
std::expected<store::Vm, Failure> visible_vm(const Context& ctx, const Call& call,
                                             const std::string& id_text);
// The project a route's path names, if it is the caller's token project (or any, for the
// cloud's admin): otherwise 404, as a project that does not exist.
std::expected<auth::Project, Failure> own_project(const Context& ctx, const Call& call);
// Which project's objects (VMs, volumes, networks, groups) a list shows: the caller's, or
// for the cloud's admin every project's with ?all_projects=true (Nova's all_tenants) or one
// with ?project=NAME|ID. The parameters from anyone else: kForbidden.
Result<std::optional<store::ProjectId>> list_scope(const Context& ctx, const Call& call);

// A failure from an Error (for `return fail_with(...)` in handlers).
inline std::unexpected<Failure> failure(Error error) {
  return std::unexpected<Failure>(Failure(std::move(error)));
}

}  // namespace corral::api::internal
