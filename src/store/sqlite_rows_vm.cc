// The vms table's codec. The desired model is three NULL-able columns: all NULL when
// Vm::desired is empty (an empty but present model is not the same as none).
#include <cstdint>

#include "store/sqlite_enums.h"
#include "store/sqlite_rows.h"

namespace corral::store::sqlite {
namespace {

using lifecycle::Power;
using lifecycle::State;

VmModel& desired(Vm& vm) { return vm.desired ? *vm.desired : vm.desired.emplace(); }

void read_nics(RowReader& r, Vm& v) {
  const int col = r.column();
  const std::string text = r.text();
  std::optional<std::vector<Nic>> nics = nics_from_json_text(text);
  if (!nics) {
    r.note(col, text, "not a JSON array of NICs");
    return;
  }
  v.nics = std::move(*nics);
}

void read_ssh_keys(RowReader& r, Vm& v) {
  const int col = r.column();
  const std::string text = r.text();
  std::optional<std::vector<std::string>> keys = strings_from_json_text(text);
  if (!keys) {
    r.note(col, text, "not a JSON array of strings");
    return;
  }
  v.ssh_keys = std::move(*keys);
}

constexpr Column<Vm> kColumns[] = {
    {"id", SqlType::kInteger, false, [](StmtUse& u, const Vm& v) { u.bind(v.id); },
     [](RowReader& r, Vm& v) { v.id = r.i64(); }},
    {"name", SqlType::kText, false, [](StmtUse& u, const Vm& v) { u.bind(v.name); },
     [](RowReader& r, Vm& v) { v.name = r.text(); }},
    {"image", SqlType::kText, false, [](StmtUse& u, const Vm& v) { u.bind(v.model.image); },
     [](RowReader& r, Vm& v) { v.model.image = r.text(); }},
    {"vcpus", SqlType::kInteger, false,
     [](StmtUse& u, const Vm& v) { u.bind(std::int64_t{v.model.vcpus}); },
     [](RowReader& r, Vm& v) { v.model.vcpus = r.integer<int>(); }},
    {"memory_mib", SqlType::kInteger, false,
     [](StmtUse& u, const Vm& v) { u.bind(std::int64_t{v.model.memory_mib}); },
     [](RowReader& r, Vm& v) { v.model.memory_mib = r.integer<int>(); }},
    {"desired_image", SqlType::kText, true,
     [](StmtUse& u, const Vm& v) { v.desired ? u.bind(v.desired->image) : u.bind_null(); },
     [](RowReader& r, Vm& v) { r.null() ? r.skip() : void(desired(v).image = r.text()); }},
    {"desired_vcpus", SqlType::kInteger, true,
     [](StmtUse& u, const Vm& v) {
       v.desired ? u.bind(std::int64_t{v.desired->vcpus}) : u.bind_null();
     },
     [](RowReader& r, Vm& v) { r.null() ? r.skip() : void(desired(v).vcpus = r.integer<int>()); }},
    {"desired_memory_mib", SqlType::kInteger, true,
     [](StmtUse& u, const Vm& v) {
       v.desired ? u.bind(std::int64_t{v.desired->memory_mib}) : u.bind_null();
     },
     [](RowReader& r, Vm& v) {
       r.null() ? r.skip() : void(desired(v).memory_mib = r.integer<int>());
     }},
    {"model_error", SqlType::kText, false, [](StmtUse& u, const Vm& v) { u.bind(v.model_error); },
     [](RowReader& r, Vm& v) { v.model_error = r.text(); }},
    {"state", SqlType::kInteger, false,
     [](StmtUse& u, const Vm& v) { u.bind(num(v.record.state)); },
     [](RowReader& r, Vm& v) { v.record.state = read_enum<State>(r); }},
    {"power", SqlType::kInteger, false,
     [](StmtUse& u, const Vm& v) { u.bind(num(v.record.power)); },
     [](RowReader& r, Vm& v) { v.record.power = read_enum<Power>(r); }},
    {"resched", SqlType::kInteger, false,
     [](StmtUse& u, const Vm& v) { u.bind(std::int64_t{v.record.resched}); },
     [](RowReader& r, Vm& v) { v.record.resched = r.boolean(); }},
    {"host", SqlType::kText, false, [](StmtUse& u, const Vm& v) { u.bind(v.host); },
     [](RowReader& r, Vm& v) { v.host = r.text(); }},
    {"pending_reason", SqlType::kText, false,
     [](StmtUse& u, const Vm& v) { u.bind(v.pending_reason); },
     [](RowReader& r, Vm& v) { v.pending_reason = r.text(); }},
    // The current operation's row is written and read by the operations codec.
    {"op_id", SqlType::kInteger, true,
     [](StmtUse& u, const Vm& v) { v.record.op ? u.bind(v.op.id) : u.bind_null(); },
     [](RowReader& r, Vm& v) {
       if (r.null()) {
         r.skip();
         v.record.op.reset();
       } else {
         v.op.id = r.i64();
         v.record.op.emplace();
       }
     }},
    {"created_at", SqlType::kInteger, false, [](StmtUse& u, const Vm& v) { u.bind(v.created_at); },
     [](RowReader& r, Vm& v) { v.created_at = r.i64(); }},
    {"updated_at", SqlType::kInteger, false, [](StmtUse& u, const Vm& v) { u.bind(v.updated_at); },
     [](RowReader& r, Vm& v) { v.updated_at = r.i64(); }},
    // Migration 3.
    {"requirements", SqlType::kText, false, [](StmtUse& u, const Vm& v) { u.bind(v.requirements); },
     [](RowReader& r, Vm& v) { v.requirements = r.text(); }},
    {"group_id", SqlType::kInteger, false, [](StmtUse& u, const Vm& v) { u.bind(v.group); },
     [](RowReader& r, Vm& v) { v.group = r.i64(); }},
    // Migration 6.
    {"nics", SqlType::kText, false,
     [](StmtUse& u, const Vm& v) { u.bind_copy(nics_to_json_text(v.nics)); }, read_nics},
    {"ssh_keys", SqlType::kText, false,
     [](StmtUse& u, const Vm& v) { u.bind_copy(strings_to_json_text(v.ssh_keys)); }, read_ssh_keys},
    // Migration 9.
    {"project", SqlType::kInteger, false, [](StmtUse& u, const Vm& v) { u.bind(v.project); },
     [](RowReader& r, Vm& v) { v.project = r.i64(); }},
    // Migration 14.
    {"locked_by", SqlType::kInteger, false,
     [](StmtUse& u, const Vm& v) { u.bind(num(v.locked_by)); },
     [](RowReader& r, Vm& v) { v.locked_by = read_enum<lifecycle::LockedBy>(r); }},
    {"lock_reason", SqlType::kText, false, [](StmtUse& u, const Vm& v) { u.bind(v.lock_reason); },
     [](RowReader& r, Vm& v) { v.lock_reason = r.text(); }},
    // Migration 15.
    {"resource_group", SqlType::kInteger, false,
     [](StmtUse& u, const Vm& v) { u.bind(v.resource_group); },
     [](RowReader& r, Vm& v) { v.resource_group = r.i64(); }},
};

// vms_state_id, vms_name and vms_project (sqlite_schema.cc).
constexpr std::string_view kIndexed[] = {"name", "state", "project"};

constexpr RowCodec<Vm> kCodec{"vms", "id", kColumns, kIndexed};

}  // namespace

const RowCodec<Vm>& vm_codec() { return kCodec; }

}  // namespace corral::store::sqlite
