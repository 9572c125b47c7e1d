#include "api/vm_json.h"

#include <string>
#include <utility>

#include "common/clock.h"
#include "lifecycle/export.h"
#include "lifecycle/model.h"
#include "lifecycle/types.h"

namespace corral::api {
namespace {

namespace lc = corral::lifecycle;
using nlohmann::json;

json str(std::string_view s) { return std::string(s); }

json text_or_null(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }

json time_or_null(Millis ms) { return ms == 0 ? json(nullptr) : json(format_time(ms)); }

json phase_or_null(lc::Phase phase) {
  return phase == lc::Phase::kNone ? json(nullptr) : str(lc::phase_name(phase));
}

json model_json(const store::VmModel& model) {
  return {{"vcpus", model.vcpus}, {"memory_mib", model.memory_mib}, {"image", model.image}};
}

// The op's parameters as stored (store/op_params.h); an object in any case.
json params_json(const store::OpParams& params) {
  json parsed = json::parse(store::to_json_text(params), nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return json::object();
  return parsed;
}

// Every vocabulary's view of the record, each with its words for the VM's NICs and volumes.
json views(const store::Vm& vm, const VmLinks& links) {
  json all = lc::views_json(vm.record, format_time(vm.updated_at));
  all["opennebula"].update(opennebula_links(vm, links));
  all["nova"].update(nova_links(vm, links));
  all["azure"].update(azure_links(vm, links));
  all["stratuslab"].update(stratuslab_links(vm));
  return all;
}

}  // namespace

json op_json(const store::OperationRow& row) {
  const lc::Operation& op = row.op;
  const store::OpMeta& meta = row.meta;
  return {
      {"id", meta.id},
      {"vm_id", row.vm_id},
      {"action", str(lc::action_name(op.action))},
      {"phase", phase_or_null(lc::current_phase(op))},
      {"status", str(lc::op_status_name(op.status))},
      // Rolling back through the row's undo phases: the status it ends with (null: not).
      {"undoing", op.undoing ? json(str(lc::op_status_name(*op.undoing))) : json(nullptr)},
      {"origin", str(lc::state_name(op.origin))},
      {"started_at", format_time(meta.started_at)},
      {"deadline", time_or_null(meta.deadline)},
      {"finished_at", time_or_null(meta.finished_at)},
      {"error", text_or_null(meta.error)},
      {"attempt", meta.attempt},
      {"actor", meta.actor},
      {"request_id", text_or_null(meta.request_id)},
      {"params", params_json(meta.params)},
  };
}

json vm_json(const store::Vm& vm, const VmLinks& links) {
  json operation = nullptr;
  if (vm.record.op) operation = op_json(store::OperationRow{vm.id, *vm.record.op, vm.op});
  return {
      {"id", vm.id},
      {"name", vm.name},
      {"state", str(lc::state_name(vm.record.state))},
      {"operation", std::move(operation)},
      {"power", str(lc::power_name(vm.record.power))},
      {"host", text_or_null(vm.host)},
      // The first NIC's address: what StratusLab prints as "Public ip" (null: no NIC).
      {"ip", vm.nics.empty() ? json(nullptr) : json(vm.nics.front().ip)},
      {"nics", nics_json(vm, links)},
      {"volumes", attached_volumes_json(vm, links)},
      {"vcpus", vm.model.vcpus},
      {"memory_mib", vm.model.memory_mib},
      {"image", vm.model.image},
      {"model",
       {{"effective", model_json(vm.model)},
        {"requested", vm.desired ? model_json(*vm.desired) : json(nullptr)},
        {"error", text_or_null(vm.model_error)}}},
      {"pending_reason", text_or_null(vm.pending_reason)},
      {"requirements", text_or_null(vm.requirements)},
      {"group_id", vm.group != 0 ? json(vm.group) : json(nullptr)},
      {"resource_group_id", vm.resource_group != 0 ? json(vm.resource_group) : json(nullptr)},
      {"resched", vm.record.resched},
      {"lock", vm.locked_by == lc::LockedBy::kNone
                   ? json(nullptr)
                   : json{{"by", str(lc::locked_by_name(vm.locked_by))},
                          {"reason", text_or_null(vm.lock_reason)}}},
      {"created_at", format_time(vm.created_at)},
      {"updated_at", format_time(vm.updated_at)},
      {"views", views(vm, links)},
  };
}

json accepted_json(const engine::Accepted& accepted, const VmLinks& links) {
  return {{"vm", vm_json(accepted.vm, links)},
          {"operation", accepted.op ? op_json(*accepted.op) : json(nullptr)}};
}

json transition_json(const store::TransitionRow& row) {
  return {
      {"id", row.id},
      {"from", str(lc::state_name(row.from))},
      {"to", str(lc::state_name(row.to))},
      {"action", str(lc::action_name(row.action))},
      {"phase", phase_or_null(row.phase)},
      {"status", str(lc::op_status_name(row.status))},
      {"actor", row.actor},
      {"request_id", text_or_null(row.request_id)},
      {"at", format_time(row.at)},
      {"reason", text_or_null(row.reason)},
  };
}

json event_json(const engine::Event& event) {
  json out = transition_json(event.transition);
  if (event.transition.id == 0) out["id"] = nullptr;  // not known to the publisher
  out["vm_id"] = event.transition.vm_id;
  out["op_id"] = event.transition.op_id;
  out["state"] = str(lc::state_name(event.state));
  return out;
}

json instance_view_json(const store::Vm& vm) {
  json all = views(vm, VmLinks{});
  json statuses = json::array();
  if (const auto azure = all.find("azure"); azure != all.end() && azure->is_object()) {
    if (const auto s = azure->find("statuses"); s != azure->end() && s->is_array()) statuses = *s;
  }
  return {{"computerName", vm.name}, {"statuses", std::move(statuses)}};
}

}  // namespace corral::api
