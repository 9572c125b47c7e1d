// The resource_groups table's codec (migrations 15 and 16).
#include "store/sqlite_rows.h"

namespace corral::store::sqlite {
namespace {

using G = ResourceGroupRow;

constexpr Column<G> kColumns[] = {
    {"id", SqlType::kInteger, false, [](StmtUse& u, const G& g) { u.bind(g.id); },
     [](RowReader& r, G& g) { g.id = r.i64(); }},
    {"name", SqlType::kText, false, [](StmtUse& u, const G& g) { u.bind(g.name); },
     [](RowReader& r, G& g) { g.name = r.text(); }},
    {"location", SqlType::kText, false, [](StmtUse& u, const G& g) { u.bind(g.location); },
     [](RowReader& r, G& g) { g.location = r.text(); }},
    {"tags", SqlType::kText, false, [](StmtUse& u, const G& g) { u.bind(g.tags); },
     [](RowReader& r, G& g) { g.tags = r.text(); }},
    {"created_at", SqlType::kInteger, false, [](StmtUse& u, const G& g) { u.bind(g.created_at); },
     [](RowReader& r, G& g) { g.created_at = r.i64(); }},
    {"updated_at", SqlType::kInteger, false, [](StmtUse& u, const G& g) { u.bind(g.updated_at); },
     [](RowReader& r, G& g) { g.updated_at = r.i64(); }},
    {"project", SqlType::kInteger, false, [](StmtUse& u, const G& g) { u.bind(g.project); },
     [](RowReader& r, G& g) { g.project = r.i64(); }},
    {"deleting", SqlType::kInteger, false,
     [](StmtUse& u, const G& g) { u.bind(std::int64_t{g.deleting ? 1 : 0}); },
     [](RowReader& r, G& g) { g.deleting = r.i64() != 0; }},
};

constexpr RowCodec<G> kCodec{"resource_groups", "id", kColumns};

}  // namespace

const RowCodec<ResourceGroupRow>& resource_group_codec() { return kCodec; }

}  // namespace corral::store::sqlite
