// The operations table's codec. params: the typed OpParams, stored as their JSON text.
#include <cstdint>

#include "store/op_params.h"
#include "store/sqlite_enums.h"
#include "store/sqlite_rows.h"

namespace corral::store::sqlite {
namespace {

using lifecycle::Action;
using lifecycle::OpStatus;
using lifecycle::State;
using In = OperationRef;
using Out = OperationRow;

constexpr Column<In, Out> kColumns[] = {
    {"id", SqlType::kInteger, false, [](StmtUse& u, const In& o) { u.bind(o.meta.id); },
     [](RowReader& r, Out& o) { o.meta.id = r.i64(); }},
    {"vm_id", SqlType::kInteger, false, [](StmtUse& u, const In& o) { u.bind(o.vm_id); },
     [](RowReader& r, Out& o) { o.vm_id = r.i64(); }},
    {"action", SqlType::kInteger, false, [](StmtUse& u, const In& o) { u.bind(num(o.op.action)); },
     [](RowReader& r, Out& o) { o.op.action = read_enum<Action>(r); }},
    {"origin", SqlType::kInteger, false, [](StmtUse& u, const In& o) { u.bind(num(o.op.origin)); },
     [](RowReader& r, Out& o) { o.op.origin = read_enum<State>(r); }},
    {"step", SqlType::kInteger, false,
     [](StmtUse& u, const In& o) { u.bind(std::int64_t{o.op.step}); },
     [](RowReader& r, Out& o) { o.op.step = r.integer<std::uint8_t>(); }},
    {"status", SqlType::kInteger, false, [](StmtUse& u, const In& o) { u.bind(num(o.op.status)); },
     [](RowReader& r, Out& o) { o.op.status = read_enum<OpStatus>(r); }},
    {"during", SqlType::kInteger, false,
     [](StmtUse& u, const In& o) { u.bind(std::int64_t{o.op.during}); },
     [](RowReader& r, Out& o) { o.op.during = r.boolean(); }},
    {"params", SqlType::kText, false,
     [](StmtUse& u, const In& o) { u.bind_copy(to_json_text(o.meta.params)); },
     [](RowReader& r, Out& o) { o.meta.params = params_from_json_text(r.text()); }},
    {"actor", SqlType::kText, false, [](StmtUse& u, const In& o) { u.bind(o.meta.actor); },
     [](RowReader& r, Out& o) { o.meta.actor = r.text(); }},
    {"request_id", SqlType::kText, false,
     [](StmtUse& u, const In& o) { u.bind(o.meta.request_id); },
     [](RowReader& r, Out& o) { o.meta.request_id = r.text(); }},
    {"started_at", SqlType::kInteger, false,
     [](StmtUse& u, const In& o) { u.bind(o.meta.started_at); },
     [](RowReader& r, Out& o) { o.meta.started_at = r.i64(); }},
    {"deadline", SqlType::kInteger, false, [](StmtUse& u, const In& o) { u.bind(o.meta.deadline); },
     [](RowReader& r, Out& o) { o.meta.deadline = r.i64(); }},
    {"finished_at", SqlType::kInteger, false,
     [](StmtUse& u, const In& o) { u.bind(o.meta.finished_at); },
     [](RowReader& r, Out& o) { o.meta.finished_at = r.i64(); }},
    {"error", SqlType::kText, false, [](StmtUse& u, const In& o) { u.bind(o.meta.error); },
     [](RowReader& r, Out& o) { o.meta.error = r.text(); }},
    {"attempt", SqlType::kInteger, false,
     [](StmtUse& u, const In& o) { u.bind(std::int64_t{o.meta.attempt}); },
     [](RowReader& r, Out& o) { o.meta.attempt = r.integer<std::uint32_t>(); }},
    {"undoing", SqlType::kInteger, false,
     [](StmtUse& u, const In& o) { u.bind(o.op.undoing ? num(*o.op.undoing) : std::int64_t{0}); },
     [](RowReader& r, Out& o) {
       if (r.null() || sqlite3_column_int64(r.stmt(), r.column()) == 0) {
         r.skip();
       } else {
         o.op.undoing = read_enum<OpStatus>(r);
       }
     }},
};

// operations_vm_id (sqlite_schema.cc): an operation never changes VM, so its writes never
// touch the index.
constexpr std::string_view kIndexed[] = {"vm_id"};

constexpr RowCodec<In, Out> kCodec{"operations", "id", kColumns, kIndexed};

}  // namespace

const RowCodec<OperationRef, OperationRow>& operation_codec() { return kCodec; }

}  // namespace corral::store::sqlite
