// The networks table's codec (migrations 6 and 12).
#include "store/sqlite_enums.h"
#include "store/sqlite_rows.h"

namespace corral::store::sqlite {
namespace {

using N = NetworkRow;

constexpr Column<N> kColumns[] = {
    {"id", SqlType::kInteger, false, [](StmtUse& u, const N& n) { u.bind(n.id); },
     [](RowReader& r, N& n) { n.id = r.i64(); }},
    {"name", SqlType::kText, false, [](StmtUse& u, const N& n) { u.bind(n.name); },
     [](RowReader& r, N& n) { n.name = r.text(); }},
    {"cidr", SqlType::kText, false, [](StmtUse& u, const N& n) { u.bind(n.cidr); },
     [](RowReader& r, N& n) { n.cidr = r.text(); }},
    {"state", SqlType::kInteger, false, [](StmtUse& u, const N& n) { u.bind(num(n.state)); },
     [](RowReader& r, N& n) { n.state = read_enum<lifecycle::NetworkState>(r); }},
    {"error", SqlType::kText, false, [](StmtUse& u, const N& n) { u.bind(n.error); },
     [](RowReader& r, N& n) { n.error = r.text(); }},
    {"created_at", SqlType::kInteger, false, [](StmtUse& u, const N& n) { u.bind(n.created_at); },
     [](RowReader& r, N& n) { n.created_at = r.i64(); }},
    {"updated_at", SqlType::kInteger, false, [](StmtUse& u, const N& n) { u.bind(n.updated_at); },
     [](RowReader& r, N& n) { n.updated_at = r.i64(); }},
    // Migration 12.
    {"project", SqlType::kInteger, false, [](StmtUse& u, const N& n) { u.bind(n.project); },
     [](RowReader& r, N& n) { n.project = r.i64(); }},
    {"shared", SqlType::kInteger, false,
     [](StmtUse& u, const N& n) { u.bind(std::int64_t{n.shared}); },
     [](RowReader& r, N& n) { n.shared = r.boolean(); }},
    {"description", SqlType::kText, false, [](StmtUse& u, const N& n) { u.bind(n.description); },
     [](RowReader& r, N& n) { n.description = r.text(); }},
};

constexpr RowCodec<N> kCodec{"networks", "id", kColumns};

}  // namespace

const RowCodec<NetworkRow>& network_codec() { return kCodec; }

}  // namespace corral::store::sqlite
