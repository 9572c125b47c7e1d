#include "api/vm_writer.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <string_view>
#include <utility>
#include <vector>

#include "api/vm_links.h"
#include "common/clock.h"
#include "lifecycle/views.h"

namespace corral::api {
namespace {

namespace lc = corral::lifecycle;
using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void str(Writer& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}
void key(Writer& w, std::string_view k) {
  w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
}
void text_or_null(Writer& w, const std::string& s) {
  if (s.empty()) {
    w.Null();
  } else {
    str(w, s);
  }
}
void time_or_null(Writer& w, Millis ms) {
  if (ms == 0) {
    w.Null();
  } else {
    str(w, format_time(ms));
  }
}
void phase_or_null(Writer& w, lc::Phase phase) {
  if (phase == lc::Phase::kNone) {
    w.Null();
  } else {
    str(w, lc::phase_name(phase));
  }
}

// The parts of a VM object that show its NICs and volumes (api/vm_links.h renders them, for
// vm_json too), as JSON text: one rendering, so the two cannot disagree.
using Members = std::vector<std::pair<std::string, std::string>>;  // key, JSON value text

Members members_of(const nlohmann::json& object) {
  Members out;
  for (const auto& [k, v] : object.items()) out.emplace_back(k, v.dump());
  return out;
}

struct LinkParts {
  std::string nics;
  std::string volumes;
  Members opennebula, nova, azure, stratuslab;
};

LinkParts parts_of(const store::Vm& vm, const VmLinks& links) {
  return {nics_json(vm, links).dump(),
          attached_volumes_json(vm, links).dump(),
          members_of(opennebula_links(vm, links)),
          members_of(nova_links(vm, links)),
          members_of(azure_links(vm, links)),
          members_of(stratuslab_links(vm))};
}

// A VM with no NIC and no volume (most of a page with the sim) shows the same text: made once.
const LinkParts& bare_parts() {
  static const LinkParts kParts = parts_of(store::Vm{}, VmLinks{});
  return kParts;
}

void raw(Writer& w, const std::string& text) {
  w.RawValue(text.data(), text.size(), rapidjson::kObjectType);
}

void members(Writer& w, const Members& m) {
  for (const auto& [k, v] : m) {
    key(w, k);
    raw(w, v);
  }
}

void model(Writer& w, const store::VmModel& m) {
  w.StartObject();
  key(w, "vcpus");
  w.Int(m.vcpus);
  key(w, "memory_mib");
  w.Int(m.memory_mib);
  key(w, "image");
  str(w, m.image);
  w.EndObject();
}

void operation(Writer& w, store::VmId vm_id, const lc::Operation& op, const store::OpMeta& meta) {
  w.StartObject();
  key(w, "id");
  w.Int64(meta.id);
  key(w, "vm_id");
  w.Int64(vm_id);
  key(w, "action");
  str(w, lc::action_name(op.action));
  key(w, "phase");
  phase_or_null(w, lc::current_phase(op));
  key(w, "status");
  str(w, lc::op_status_name(op.status));
  key(w, "undoing");
  if (op.undoing) {
    str(w, lc::op_status_name(*op.undoing));
  } else {
    w.Null();
  }
  key(w, "origin");
  str(w, lc::state_name(op.origin));
  key(w, "started_at");
  str(w, format_time(meta.started_at));
  key(w, "deadline");
  time_or_null(w, meta.deadline);
  key(w, "finished_at");
  time_or_null(w, meta.finished_at);
  key(w, "error");
  text_or_null(w, meta.error);
  key(w, "attempt");
  w.Uint(meta.attempt);
  key(w, "actor");
  str(w, meta.actor);
  key(w, "request_id");
  text_or_null(w, meta.request_id);
  key(w, "params");
  // to_json_text writes an object, always.
  const std::string params = store::to_json_text(meta.params);
  w.RawValue(params.data(), params.size(), rapidjson::kObjectType);
  w.EndObject();
}

void views(Writer& w, const store::Vm& vm, const LinkParts& parts, const std::string& time,
           ViewSet set) {
  w.StartObject();
  if (set == 0) {
    w.EndObject();
    return;
  }
  const lc::Views v = lc::render_views(vm.record);
  if ((set & kViewOpenNebula) != 0) {
    key(w, "opennebula");
    w.StartObject();
    key(w, "state");
    str(w, lc::one_state_name(v.opennebula.state));
    key(w, "state_id");
    w.Int(static_cast<int>(v.opennebula.state));
    key(w, "lcm_state");
    str(w, lc::lcm_state_name(v.opennebula.lcm_state));
    key(w, "lcm_state_id");
    w.Int(static_cast<int>(v.opennebula.lcm_state));
    key(w, "short");
    str(w, v.opennebula.short_alias);
    members(w, parts.opennebula);
    w.EndObject();
  }
  if ((set & kViewNova) != 0) {
    key(w, "nova");
    w.StartObject();
    key(w, "vm_state");
    str(w, lc::nova_vm_state_name(v.nova.vm_state));
    key(w, "task_state");
    const std::string_view task = lc::nova_task_state_name(v.nova.task_state);
    if (task.empty()) {
      w.Null();
    } else {
      str(w, task);
    }
    key(w, "power_state");
    w.Int(v.nova.power_state);
    key(w, "status");
    str(w, v.nova.status);
    members(w, parts.nova);
    w.EndObject();
  }
  if ((set & kViewAzure) != 0) {
    key(w, "azure");
    w.StartObject();
    key(w, "statuses");
    w.StartArray();
    for (std::size_t i = 0; i < v.azure.status_count; ++i) {
      const lc::AzureStatus& s = v.azure.statuses[i];
      w.StartObject();
      key(w, "code");
      str(w, s.code);
      key(w, "level");
      str(w, s.level);
      key(w, "displayStatus");
      str(w, s.display_status);
      if (s.timed && !time.empty()) {
        key(w, "time");
        str(w, time);
      }
      w.EndObject();
    }
    w.EndArray();
    key(w, "provisioning_state");
    str(w, lc::azure_provisioning_name(v.azure.provisioning));
    key(w, "power_state");
    if (v.azure.power == lc::AzurePower::kNone) {
      w.Null();
    } else {
      str(w, lc::azure_power_name(v.azure.power));
    }
    key(w, "billing");
    str(w, lc::billing_name(v.azure.billing));
    key(w, "billing_display");
    str(w, lc::billing_display(v.azure.billing));
    members(w, parts.azure);
    w.EndObject();
  }
  if ((set & kViewStratusLab) != 0) {
    key(w, "stratuslab");
    w.StartObject();
    key(w, "state");
    str(w, lc::sl_state_name(v.stratuslab.state));
    members(w, parts.stratuslab);
    w.EndObject();
  }
  w.EndObject();
}

void vm_object(Writer& w, const store::Vm& vm, const VmLinks& links, ViewSet set = kAllViews) {
  const std::string updated = format_time(vm.updated_at);
  const bool bare = vm.nics.empty() && links.volumes_of(vm.id).empty();
  LinkParts own;
  if (!bare) own = parts_of(vm, links);
  const LinkParts& parts = bare ? bare_parts() : own;
  w.StartObject();
  key(w, "id");
  w.Int64(vm.id);
  key(w, "name");
  str(w, vm.name);
  key(w, "state");
  str(w, lc::state_name(vm.record.state));
  key(w, "operation");
  if (vm.record.op) {
    operation(w, vm.id, *vm.record.op, vm.op);
  } else {
    w.Null();
  }
  key(w, "power");
  str(w, lc::power_name(vm.record.power));
  key(w, "host");
  text_or_null(w, vm.host);
  key(w, "ip");
  if (vm.nics.empty()) {
    w.Null();
  } else {
    str(w, vm.nics.front().ip);
  }
  key(w, "nics");
  raw(w, parts.nics);
  key(w, "volumes");
  raw(w, parts.volumes);
  key(w, "vcpus");
  w.Int(vm.model.vcpus);
  key(w, "memory_mib");
  w.Int(vm.model.memory_mib);
  key(w, "image");
  str(w, vm.model.image);
  key(w, "model");
  w.StartObject();
  key(w, "effective");
  model(w, vm.model);
  key(w, "requested");
  if (vm.desired) {
    model(w, *vm.desired);
  } else {
    w.Null();
  }
  key(w, "error");
  text_or_null(w, vm.model_error);
  w.EndObject();
  key(w, "pending_reason");
  text_or_null(w, vm.pending_reason);
  key(w, "requirements");
  text_or_null(w, vm.requirements);
  key(w, "group_id");
  if (vm.group != 0) {
    w.Int64(vm.group);
  } else {
    w.Null();
  }
  key(w, "resource_group_id");
  if (vm.resource_group != 0) {
    w.Int64(vm.resource_group);
  } else {
    w.Null();
  }
  key(w, "resched");
  w.Bool(vm.record.resched);
  key(w, "lock");
  if (vm.locked_by != lifecycle::LockedBy::kNone) {
    w.StartObject();
    key(w, "by");
    str(w, lifecycle::locked_by_name(vm.locked_by));
    key(w, "reason");
    text_or_null(w, vm.lock_reason);
    w.EndObject();
  } else {
    w.Null();
  }
  key(w, "created_at");
  str(w, format_time(vm.created_at));
  key(w, "updated_at");
  str(w, updated);
  key(w, "views");
  views(w, vm, parts, updated, set);
  w.EndObject();
}

}  // namespace

namespace {
// The buffer's text and a newline, in one allocation.
std::string with_newline(const rapidjson::StringBuffer& buffer) {
  std::string out;
  out.reserve(buffer.GetSize() + 1);
  out.append(buffer.GetString(), buffer.GetSize());
  out.push_back('\n');
  return out;
}
}  // namespace

std::string render_vm(const store::Vm& vm, const VmLinks& links, ViewSet set) {
  rapidjson::StringBuffer buffer;
  buffer.Reserve(1600);
  Writer w(buffer);
  vm_object(w, vm, links, set);
  return with_newline(buffer);
}

std::string render_accepted(const store::Vm& vm, const std::optional<store::OperationRow>& op,
                            const VmLinks& links) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  key(w, "vm");
  vm_object(w, vm, links);
  key(w, "operation");
  if (op) {
    operation(w, op->vm_id, op->op, op->meta);
  } else {
    w.Null();
  }
  w.EndObject();
  return with_newline(buffer);
}

std::string render_vm_page(const std::vector<store::Vm>& vms, store::VmId next_marker,
                           const VmLinks& links, ViewSet set) {
  rapidjson::StringBuffer buffer;
  // A VM with all four views is about 1.4 KB: one allocation, not a grow-and-copy per page.
  buffer.Reserve(vms.size() * 1600 + 64);
  Writer w(buffer);
  w.StartObject();
  key(w, "vms");
  w.StartArray();
  for (const store::Vm& vm : vms) vm_object(w, vm, links, set);
  w.EndArray();
  key(w, "next_marker");
  if (next_marker == 0) {
    w.Null();
  } else {
    w.Int64(next_marker);
  }
  w.EndObject();
  return with_newline(buffer);
}

}  // namespace corral::api

namespace corral::api {

std::string render_event(const engine::Event& event) {
  const store::TransitionRow& t = event.transition;
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  // Keys in event_json's order (nlohmann's objects are sorted by key).
  w.StartObject();
  key(w, "action");
  str(w, lc::action_name(t.action));
  key(w, "actor");
  str(w, t.actor);
  key(w, "at");
  str(w, format_time(t.at));
  key(w, "from");
  str(w, lc::state_name(t.from));
  key(w, "id");
  if (t.id == 0) {
    w.Null();  // not known to the publisher
  } else {
    w.Int64(t.id);
  }
  key(w, "op_id");
  w.Int64(t.op_id);
  key(w, "phase");
  phase_or_null(w, t.phase);
  key(w, "reason");
  text_or_null(w, t.reason);
  key(w, "request_id");
  text_or_null(w, t.request_id);
  key(w, "state");
  str(w, lc::state_name(event.state));
  key(w, "status");
  str(w, lc::op_status_name(t.status));
  key(w, "to");
  str(w, lc::state_name(t.to));
  key(w, "vm_id");
  w.Int64(t.vm_id);
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

}  // namespace corral::api
