// The transitions table's codec (history: only ever inserted).
#include <cstdint>

#include "store/sqlite_enums.h"
#include "store/sqlite_rows.h"

namespace corral::store::sqlite {
namespace {

using lifecycle::Action;
using lifecycle::OpStatus;
using lifecycle::Phase;
using lifecycle::Power;
using lifecycle::State;
using T = TransitionRow;

// The operation of an entry's `after` (set whenever `after` is).
const lifecycle::Operation& op(const T& t) { return *t.after->record.op; }
lifecycle::Operation& op(T& t) { return *t.after->record.op; }

constexpr Column<T> kColumns[] = {
    // The engine numbers transitions itself (the event stream carries the ids); 0 lets SQLite.
    {"id", SqlType::kInteger, false,
     [](StmtUse& u, const T& t) { t.id > 0 ? u.bind(t.id) : u.bind_null(); },
     [](RowReader& r, T& t) { t.id = r.i64(); }},
    {"vm_id", SqlType::kInteger, false, [](StmtUse& u, const T& t) { u.bind(t.vm_id); },
     [](RowReader& r, T& t) { t.vm_id = r.i64(); }},
    {"op_id", SqlType::kInteger, false, [](StmtUse& u, const T& t) { u.bind(t.op_id); },
     [](RowReader& r, T& t) { t.op_id = r.i64(); }},
    {"from_state", SqlType::kInteger, false, [](StmtUse& u, const T& t) { u.bind(num(t.from)); },
     [](RowReader& r, T& t) { t.from = read_enum<State>(r); }},
    {"to_state", SqlType::kInteger, false, [](StmtUse& u, const T& t) { u.bind(num(t.to)); },
     [](RowReader& r, T& t) { t.to = read_enum<State>(r); }},
    {"action", SqlType::kInteger, false, [](StmtUse& u, const T& t) { u.bind(num(t.action)); },
     [](RowReader& r, T& t) { t.action = read_enum<Action>(r); }},
    {"phase", SqlType::kInteger, false, [](StmtUse& u, const T& t) { u.bind(num(t.phase)); },
     [](RowReader& r, T& t) { t.phase = read_enum<Phase>(r); }},
    {"status", SqlType::kInteger, false, [](StmtUse& u, const T& t) { u.bind(num(t.status)); },
     [](RowReader& r, T& t) { t.status = read_enum<OpStatus>(r); }},
    {"actor", SqlType::kText, false, [](StmtUse& u, const T& t) { u.bind(t.actor); },
     [](RowReader& r, T& t) { t.actor = r.text(); }},
    {"request_id", SqlType::kText, false, [](StmtUse& u, const T& t) { u.bind(t.request_id); },
     [](RowReader& r, T& t) { t.request_id = r.text(); }},
    {"at", SqlType::kInteger, false, [](StmtUse& u, const T& t) { u.bind(t.at); },
     [](RowReader& r, T& t) { t.at = r.i64(); }},
    {"reason", SqlType::kText, false, [](StmtUse& u, const T& t) { u.bind(t.reason); },
     [](RowReader& r, T& t) { t.reason = r.text(); }},
    // Migration 10: the record and size after the entry, all NULL when `after` is empty. The
    // first column decides; the others follow it.
    {"op_action", SqlType::kInteger, true,
     [](StmtUse& u, const T& t) { t.after ? u.bind(num(op(t).action)) : u.bind_null(); },
     [](RowReader& r, T& t) {
       if (r.null()) {
         r.skip();
         t.after.reset();
         return;
       }
       t.after.emplace();
       t.after->record.state = t.to;
       t.after->record.op.emplace().action = read_enum<Action>(r);
     }},
    {"op_origin", SqlType::kInteger, true,
     [](StmtUse& u, const T& t) { t.after ? u.bind(num(op(t).origin)) : u.bind_null(); },
     [](RowReader& r, T& t) { t.after ? void(op(t).origin = read_enum<State>(r)) : r.skip(); }},
    {"op_step", SqlType::kInteger, true,
     [](StmtUse& u, const T& t) { t.after ? u.bind(std::int64_t{op(t).step}) : u.bind_null(); },
     [](RowReader& r, T& t) { t.after ? void(op(t).step = r.integer<std::uint8_t>()) : r.skip(); }},
    {"op_status", SqlType::kInteger, true,
     [](StmtUse& u, const T& t) { t.after ? u.bind(num(op(t).status)) : u.bind_null(); },
     [](RowReader& r, T& t) { t.after ? void(op(t).status = read_enum<OpStatus>(r)) : r.skip(); }},
    {"op_during", SqlType::kInteger, true,
     [](StmtUse& u, const T& t) { t.after ? u.bind(std::int64_t{op(t).during}) : u.bind_null(); },
     [](RowReader& r, T& t) { t.after ? void(op(t).during = r.boolean()) : r.skip(); }},
    {"op_undoing", SqlType::kInteger, true,
     [](StmtUse& u, const T& t) {
       t.after&& op(t).undoing ? u.bind(num(*op(t).undoing)) : u.bind_null();
     },
     [](RowReader& r, T& t) {
       if (!t.after || r.null()) {
         r.skip();
         return;
       }
       op(t).undoing = read_enum<OpStatus>(r);
     }},
    {"power", SqlType::kInteger, true,
     [](StmtUse& u, const T& t) { t.after ? u.bind(num(t.after->record.power)) : u.bind_null(); },
     [](RowReader& r, T& t) {
       t.after ? void(t.after->record.power = read_enum<Power>(r)) : r.skip();
     }},
    {"vcpus", SqlType::kInteger, true,
     [](StmtUse& u, const T& t) { t.after ? u.bind(std::int64_t{t.after->vcpus}) : u.bind_null(); },
     [](RowReader& r, T& t) { t.after ? void(t.after->vcpus = r.integer<int>()) : r.skip(); }},
    {"memory_mib", SqlType::kInteger, true,
     [](StmtUse& u, const T& t) {
       t.after ? u.bind(std::int64_t{t.after->memory_mib}) : u.bind_null();
     },
     [](RowReader& r, T& t) { t.after ? void(t.after->memory_mib = r.integer<int>()) : r.skip(); }},
};

constexpr RowCodec<T> kCodec{"transitions", "", kColumns};

}  // namespace

const RowCodec<TransitionRow>& transition_codec() { return kCodec; }

}  // namespace corral::store::sqlite
