// The server_groups table's codec (migrations 3 and 12).
#include "store/sqlite_enums.h"
#include "store/sqlite_rows.h"

namespace corral::store::sqlite {
namespace {

using G = ServerGroupRow;

constexpr Column<G> kColumns[] = {
    {"id", SqlType::kInteger, false, [](StmtUse& u, const G& g) { u.bind(g.id); },
     [](RowReader& r, G& g) { g.id = r.i64(); }},
    {"name", SqlType::kText, false, [](StmtUse& u, const G& g) { u.bind(g.name); },
     [](RowReader& r, G& g) { g.name = r.text(); }},
    {"policy", SqlType::kInteger, false, [](StmtUse& u, const G& g) { u.bind(num(g.policy)); },
     [](RowReader& r, G& g) { g.policy = read_enum<GroupPolicy>(r); }},
    {"created_at", SqlType::kInteger, false, [](StmtUse& u, const G& g) { u.bind(g.created_at); },
     [](RowReader& r, G& g) { g.created_at = r.i64(); }},
    // Migration 12.
    {"project", SqlType::kInteger, false, [](StmtUse& u, const G& g) { u.bind(g.project); },
     [](RowReader& r, G& g) { g.project = r.i64(); }},
};

constexpr RowCodec<G> kCodec{"server_groups", "id", kColumns};

}  // namespace

const RowCodec<ServerGroupRow>& group_codec() { return kCodec; }

}  // namespace corral::store::sqlite
