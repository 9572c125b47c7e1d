// /v1/vms: create, list, read, act, terminate, history (with host stays), Azure's instance
// view.
#include <optional>
#include <string>

#include "api/handlers.h"
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

// The VM a path names. Malformed ids name nothing: 404, as unknown ones.
std::expected<store::Vm, Failure> vm_of(Context& ctx, const std::string& id_text) {
  const std::optional<std::int64_t> id = parse_id(id_text);
  std::optional<store::Vm> vm;
  if (id) vm = ctx.engine.get(*id);
  if (!vm) return failure(Error::not_found("no VM with id '" + id_text + "'"));
  return std::move(*vm);
}

HandlerResult accepted(Result<engine::Accepted> result) {
  if (!result) return failure(std::move(result.error()));
  Reply reply{202, {}, false, render_accepted(result->vm, result->op)};
  return reply;
}

}  // namespace

HandlerResult create_vm(Context& ctx, Call& call) {
  Result<json> body = parse_body(call.req.body);
  if (!body) return failure(std::move(body.error()));
  Result<engine::CreateRequest> request = parse_create(*body);
  if (!request) return failure(std::move(request.error()));
  if (std::optional<Error> unknown = unknown_image(ctx, request->model.image)) {
    return failure(std::move(*unknown));
  }
  request->request_id = call.request_id;
  request->actor = "api";
  return accepted(ctx.engine.create(std::move(*request)));
}

HandlerResult list_vms(Context& ctx, Call& call) {
  Result<engine::ListQuery> query = parse_list_query(call.req.params);
  if (!query) return failure(std::move(query.error()));
  Result<ViewSet> views = parse_views_query(call.req.params);
  if (!views) return failure(std::move(views.error()));
  const engine::ListPage page = ctx.engine.list(*query);
  Reply reply;
  reply.raw = render_vm_page(page.vms, page.next_marker, *views);
  return reply;
}

HandlerResult get_vm(Context& ctx, Call& call) {
  auto vm = vm_of(ctx, call.args[0]);
  if (!vm) return std::unexpected(std::move(vm.error()));
  Result<ViewSet> views = parse_views_query(call.req.params);
  if (!views) return failure(std::move(views.error()));
  Reply reply;
  reply.raw = render_vm(*vm, *views);
  return reply;
}

HandlerResult delete_vm(Context& ctx, Call& call) {
  Result<lc::Action> action = parse_delete_query(call.req.params);
  if (!action) return failure(std::move(action.error()));
  auto vm = vm_of(ctx, call.args[0]);
  if (!vm) return std::unexpected(std::move(vm.error()));
  engine::ActionRequest request;
  request.vm = vm->id;
  request.action = *action;
  request.request_id = call.request_id;
  request.actor = "api";
  return accepted(ctx.engine.act(std::move(request)));
}

HandlerResult act_on_vm(Context& ctx, Call& call) {
  Result<json> body = parse_body(call.req.body);
  if (!body) return failure(std::move(body.error()));
  Result<ActionInput> input = parse_action(*body);
  if (!input) return failure(std::move(input.error()));
  auto vm = vm_of(ctx, call.args[0]);
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
  if (request->model && request->model->image != vm->model.image) {
    if (std::optional<Error> unknown = unknown_image(ctx, request->model->image, vm->host)) {
      return failure(std::move(*unknown));
    }
  }
  request->request_id = call.request_id;
  request->actor = "api";

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
  return accepted(std::move(result));
}

HandlerResult instance_view(Context& ctx, Call& call) {
  auto vm = vm_of(ctx, call.args[0]);
  if (!vm) return std::unexpected(std::move(vm.error()));
  return Reply{200, instance_view_json(*vm)};
}

HandlerResult vm_history(Context& ctx, Call& call) {
  Result<HistoryQuery> query = parse_history_query(call.req.params);
  if (!query) return failure(std::move(query.error()));
  auto vm = vm_of(ctx, call.args[0]);
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

}  // namespace corral::api::internal
