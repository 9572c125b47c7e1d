// /v1/vms: create, list, read, act, terminate, lock and unlock, history (with host stays),
// Azure's instance view.
#include <algorithm>
#include <optional>
#include <span>
#include <string>

#include "api/audit_request.h"
#include "api/handlers.h"
#include "api/policy.h"
#include "api/queries.h"
#include "api/record_json.h"
#include "api/requests.h"
#include "api/vm_json.h"
#include "api/vm_writer.h"
#include "lifecycle/vocabulary.h"

namespace corral::api::internal {
namespace {

namespace lc = corral::lifecycle;
using nlohmann::json;

std::expected<store::Vm, Failure> vm_of(Context& ctx, const Call& call) {
  return visible_vm(ctx, call, call.args[0]);
}

// The engine's networks and volumes now, for the VM JSON of `vms`: read once per reply, for one
// VM or a page. Networks (copied with their leases) only when one of the VMs has a NIC.
VmLinks links_of(const engine::Engine& engine, std::span<const store::Vm> vms) {
  VmLinks links;
  if (std::ranges::any_of(vms, [](const store::Vm& vm) { return !vm.nics.empty(); })) {
    for (engine::NetworkDetail& n : engine.networks()) {
      links.network_names.emplace(n.row.id, std::move(n.row.name));
    }
  }
  for (store::VolumeRow& v : engine.volumes()) {
    if (v.vm != 0) links.volumes[v.vm].push_back(std::move(v));
  }
  for (auto& [vm, rows] : links.volumes) {
    std::ranges::sort(rows, {}, &store::VolumeRow::slot);
  }
  return links;
}

// 200 with {"vm": VM}: a change that is not an operation (a NIC's groups, a lock).
Reply vm_reply(const Context& ctx, const store::Vm& vm) {
  Reply reply;
  reply.raw = "{\"vm\":" + render_vm(vm, links_of(ctx.engine, {&vm, 1}));
  reply.raw.back() = '}';  // render_vm ends with a newline
  reply.raw += "\n";
  return reply;
}

HandlerResult accepted(Context& ctx, Call& call, Result<engine::Accepted> result) {
  if (!result) return failure(std::move(result.error()));
  call.audit.vm = result->vm.id;
  call.audit.in_outbox = result->audited;
  Reply reply{202,
              {},
              false,
              render_accepted(result->vm, result->op, links_of(ctx.engine, {&result->vm, 1}))};
  return reply;
}

}  // namespace

HandlerResult create_vm(Context& ctx, Call& call) {
  call.audit.verb = "create";
  Result<json> body = parse_body(call.req.body);
  if (!body) return failure(std::move(body.error()));
  Result<engine::CreateRequest> request = parse_create(*body);
  if (!request) return failure(std::move(request.error()));
  if (std::optional<Error> unknown = unknown_image(ctx, request->model.image)) {
    return failure(std::move(*unknown));
  }
  request->request_id = call.request_id;
  request->actor = "api";
  request->project = call.who()->project;
  request->quota = limits_for(ctx, request->project);
  request->audit_record = outbox_record(ctx.options.audit, call, 202);
  return accepted(ctx, call, ctx.engine.create(std::move(*request)));
}

HandlerResult list_vms(Context& ctx, Call& call) {
  Result<engine::ListQuery> query = parse_list_query(call.req.params);
  if (!query) return failure(std::move(query.error()));
  Result<std::optional<store::ProjectId>> scope = list_scope(ctx, call);
  if (!scope) return failure(std::move(scope.error()));
  query->project = *scope;
  Result<ViewSet> views = parse_views_query(call.req.params);
  if (!views) return failure(std::move(views.error()));
  Result<std::vector<std::int64_t>> ids = parse_ids_query(call.req.params);
  if (!ids) return failure(std::move(ids.error()));
  engine::ListPage page;
  if (ids->empty()) {
    page = ctx.engine.list(*query);
  } else {
    // The same filters over the named VMs; the ones the caller may not see are left out,
    // as an unknown id is.
    for (const std::int64_t id : *ids) {
      std::optional<store::Vm> vm = ctx.engine.get(id);
      if (!vm || (query->project && vm->project != *query->project) ||
          (query->state && vm->record.state != *query->state) ||
          (!query->name.empty() && vm->name != query->name)) {
        continue;
      }
      page.vms.push_back(std::move(*vm));
    }
  }
  Reply reply;
  reply.raw = render_vm_page(page.vms, page.next_marker, links_of(ctx.engine, page.vms), *views);
  return reply;
}

HandlerResult get_vm(Context& ctx, Call& call) {
  auto vm = vm_of(ctx, call);
  if (!vm) return std::unexpected(std::move(vm.error()));
  Result<ViewSet> views = parse_views_query(call.req.params);
  if (!views) return failure(std::move(views.error()));
  Reply reply;
  reply.raw = render_vm(*vm, links_of(ctx.engine, {&*vm, 1}), *views);
  return reply;
}

HandlerResult delete_vm(Context& ctx, Call& call) {
  Result<lc::Action> action = parse_delete_query(call.req.params);
  if (!action) return failure(std::move(action.error()));
  call.audit.verb = lc::action_name(*action);
  auto vm = vm_of(ctx, call);
  if (!vm) return std::unexpected(std::move(vm.error()));
  if (Status allowed = authorize(call.who(), need_for_action(*action, false), "DELETE on a VM");
      !allowed) {
    return failure(std::move(allowed.error()));
  }
  engine::ActionRequest request;
  request.vm = vm->id;
  request.action = *action;
  request.request_id = call.request_id;
  request.actor = "api";
  request.admin = passes_locks(call);
  request.quota = limits_for(ctx, vm->project);
  request.audit_record = outbox_record(ctx.options.audit, call, 202);
  return accepted(ctx, call, ctx.engine.act(std::move(request)));
}

HandlerResult act_on_vm(Context& ctx, Call& call) {
  Result<json> body = parse_body(call.req.body);
  if (!body) return failure(std::move(body.error()));
  Result<ActionInput> input = parse_action(*body);
  if (!input) return failure(std::move(input.error()));
  call.audit.verb = input->verb;
  call.audit.vocabulary = lc::vocabulary_name(input->vocabulary);
  auto vm = vm_of(ctx, call);
  if (!vm) return std::unexpected(std::move(vm.error()));

  // The verb in the caller's vocabulary, on the VM as it is now: a refusal speaks the
  // caller's words. The engine checks again, atomically, when it applies the action.
  Result<lc::Action> action =
      lc::resolve(vm->record, input->vocabulary, input->verb, input->variant);
  if (!action) return failure(std::move(action.error()));
  if (*action == lc::Action::kCreate) {
    return failure(
        Error::invalid_argument("'" + input->verb + "' creates a new VM: use POST /v1/vms"));
  }
  Result<engine::ActionRequest> request = build_action(*input, *action, *vm);
  if (!request) return failure(std::move(request.error()));
  if (Status allowed = authorize(call.who(), need_for_action(*action, !request->host.empty()),
                                 "'" + input->verb + "' on a VM");
      !allowed) {
    return failure(std::move(allowed.error()));
  }
  if (request->model && request->model->image != vm->model.image) {
    if (std::optional<Error> unknown = unknown_image(ctx, request->model->image, vm->host)) {
      return failure(std::move(*unknown));
    }
  }
  request->request_id = call.request_id;
  request->actor = "api";
  request->admin = passes_locks(call);
  request->quota = limits_for(ctx, vm->project);
  request->audit_record = outbox_record(ctx.options.audit, call, 202);

  Result<engine::Accepted> result = ctx.engine.act(std::move(*request));
  if (!result && result.error().code == ErrorCode::kInvalidState &&
      input->vocabulary != lc::Vocabulary::kCorral) {
    // The VM moved between our look and the engine's: say so in the caller's words again.
    if (std::optional<store::Vm> now = ctx.engine.get(vm->id)) {
      Result<lc::Action> again =
          lc::resolve(now->record, input->vocabulary, input->verb, input->variant);
      if (!again && again.error().code == ErrorCode::kInvalidState) {
        return failure(std::move(again.error()));
      }
    }
  }
  return accepted(ctx, call, std::move(result));
}

HandlerResult instance_view(Context& ctx, Call& call) {
  auto vm = vm_of(ctx, call);
  if (!vm) return std::unexpected(std::move(vm.error()));
  return Reply{200, instance_view_json(*vm)};
}

HandlerResult vm_history(Context& ctx, Call& call) {
  Result<HistoryQuery> query = parse_history_query(call.req.params);
  if (!query) return failure(std::move(query.error()));
  auto vm = vm_of(ctx, call);
  if (!vm) return std::unexpected(std::move(vm.error()));
  Result<std::vector<store::TransitionRow>> rows =
      ctx.engine.history(vm->id, query->after, query->limit);
  if (!rows) return failure(std::move(rows.error()));
  json transitions = json::array();
  for (const store::TransitionRow& row : *rows) transitions.push_back(transition_json(row));
  // Host stays (OpenNebula's history records) beside the page: few, so not paged.
  Result<std::vector<store::HostStayRow>> stay_rows = ctx.engine.host_stays(vm->id);
  if (!stay_rows) return failure(std::move(stay_rows.error()));
  json stays = json::array();
  for (const store::HostStayRow& row : *stay_rows) stays.push_back(stay_json(row));
  return Reply{200, {{"transitions", std::move(transitions)}, {"stays", std::move(stays)}}};
}

HandlerResult update_nic(Context& ctx, Call& call) {
  auto vm = vm_of(ctx, call);
  if (!vm) return std::unexpected(std::move(vm.error()));
  const std::optional<std::int64_t> nic = parse_id(call.args[1]);
  if (!nic) {
    return failure(Error::not_found("VM " + std::to_string(vm->id) + " has no NIC '" +
                                    call.args[1].substr(0, 64) + "'"));
  }
  Result<json> body = parse_body(call.req.body);
  if (!body) return failure(std::move(body.error()));
  const auto groups = body->find("security_groups");
  if (groups == body->end() || body->size() != 1) {
    return failure(Error::invalid_argument(
        "PUT /v1/vms/{id}/nics/{nic} takes {\"security_groups\": [name or id, ...]}"));
  }
  Result<std::vector<std::string>> names = security_groups_field(*groups);
  if (!names) return failure(std::move(names.error()));
  engine::SecurityGroupRequest request;
  request.op = engine::SecurityGroupOp::kSetNicGroups;
  request.vm = vm->id;
  request.nic = static_cast<int>(std::min<std::int64_t>(*nic, store::kMaxNics));
  request.groups = std::move(*names);
  Result<engine::SecurityGroupDetail> done = ctx.engine.security_group_request(std::move(request));
  if (!done) return failure(std::move(done.error()));
  std::optional<store::Vm> now = ctx.engine.get(vm->id);
  if (!now) return failure(Error::not_found("no VM with id '" + call.args[0] + "'"));
  return vm_reply(ctx, *now);
}

bool passes_locks(const Call& call) { return call.who() == nullptr || call.who()->cloud_admin(); }

namespace {

// PUT /v1/vms/{id}/lock {"reason": "..."} (the body optional) and DELETE /v1/vms/{id}/lock:
// 200 with {"vm": VM} once committed.
HandlerResult set_lock(Context& ctx, Call& call, bool lock) {
  call.audit.verb = lock ? "lock" : "unlock";  // Nova's instance action names
  auto vm = vm_of(ctx, call);
  if (!vm) return std::unexpected(std::move(vm.error()));
  engine::LockRequest request{vm->id, lock, passes_locks(call), {}};
  if (lock && call.req.body.find_first_not_of(" \t\r\n") != std::string::npos) {
    Result<json> body = parse_body(call.req.body);
    if (!body) return failure(std::move(body.error()));
    for (const auto& [key, value] : body->items()) {
      if (key != "reason" || !(value.is_string() || value.is_null())) {
        return failure(Error::invalid_argument(
            "PUT /v1/vms/{id}/lock takes no body or {\"reason\": \"text\"}"));
      }
      if (value.is_string()) request.reason = value.get<std::string>();
    }
  }
  Result<store::Vm> done = ctx.engine.lock(std::move(request));
  if (!done) return failure(std::move(done.error()));
  return vm_reply(ctx, *done);
}

}  // namespace

HandlerResult lock_vm(Context& ctx, Call& call) { return set_lock(ctx, call, true); }
HandlerResult unlock_vm(Context& ctx, Call& call) { return set_lock(ctx, call, false); }

}  // namespace corral::api::internal
