// The transitions table's codec (history: only ever inserted).
#include <cstdint>

#include "store/sqlite_enums.h"
#include "store/sqlite_rows.h"

namespace corral::store::sqlite {
namespace {

using lifecycle::Action;
using lifecycle::OpStatus;
using lifecycle::Phase;
using lifecycle::State;
using T = TransitionRow;

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
};

constexpr RowCodec<T> kCodec{"transitions", "", kColumns};

}  // namespace

const RowCodec<TransitionRow>& transition_codec() { return kCodec; }

}  // namespace corral::store::sqlite
