// The codecs of the move records (migration 4): migrations (keyed by id) and host_stays
// (keyed by vm_id and seq; a stay is upserted when it opens and again when it closes).
#include <cstdint>

#include "store/sqlite_enums.h"
#include "store/sqlite_rows.h"

namespace corral::store::sqlite {
namespace {

using M = MigrationRow;
using H = HostStayRow;

bool known_kind(MigrationKind kind) {
  switch (kind) {
    case MigrationKind::kLiveMigration:
    case MigrationKind::kMigration:
    case MigrationKind::kResize:
    case MigrationKind::kEvacuation:
      return true;
  }
  return false;
}

bool known_status(MigrationStatus status) {
  // Every number the enum names, and none other: the names are its total function.
  return migration_status_name(status) != "?";
}

bool known_reason(StayReason reason) {
  switch (reason) {
    case StayReason::kNone:
    case StayReason::kError:
    case StayReason::kUser:
      return true;
  }
  return false;
}

bool known_action(lifecycle::Action action) { return known(action); }

constexpr Column<M> kMigrationColumns[] = {
    {"id", SqlType::kInteger, false, [](StmtUse& u, const M& m) { u.bind(m.id); },
     [](RowReader& r, M& m) { m.id = r.i64(); }},
    {"vm_id", SqlType::kInteger, false, [](StmtUse& u, const M& m) { u.bind(m.vm_id); },
     [](RowReader& r, M& m) { m.vm_id = r.i64(); }},
    {"op_id", SqlType::kInteger, false, [](StmtUse& u, const M& m) { u.bind(m.op_id); },
     [](RowReader& r, M& m) { m.op_id = r.i64(); }},
    {"kind", SqlType::kInteger, false, [](StmtUse& u, const M& m) { u.bind(num(m.kind)); },
     [](RowReader& r, M& m) { m.kind = r.enumerator<MigrationKind>(known_kind); }},
    {"source_host", SqlType::kText, false, [](StmtUse& u, const M& m) { u.bind(m.source_host); },
     [](RowReader& r, M& m) { m.source_host = r.text(); }},
    {"dest_host", SqlType::kText, false, [](StmtUse& u, const M& m) { u.bind(m.dest_host); },
     [](RowReader& r, M& m) { m.dest_host = r.text(); }},
    {"status", SqlType::kInteger, false, [](StmtUse& u, const M& m) { u.bind(num(m.status)); },
     [](RowReader& r, M& m) { m.status = r.enumerator<MigrationStatus>(known_status); }},
    {"created_at", SqlType::kInteger, false, [](StmtUse& u, const M& m) { u.bind(m.created_at); },
     [](RowReader& r, M& m) { m.created_at = r.i64(); }},
    {"updated_at", SqlType::kInteger, false, [](StmtUse& u, const M& m) { u.bind(m.updated_at); },
     [](RowReader& r, M& m) { m.updated_at = r.i64(); }},
    {"error", SqlType::kText, false, [](StmtUse& u, const M& m) { u.bind(m.error); },
     [](RowReader& r, M& m) { m.error = r.text(); }},
    {"memory_total_bytes", SqlType::kInteger, false,
     [](StmtUse& u, const M& m) { u.bind(m.memory_total_bytes); },
     [](RowReader& r, M& m) { m.memory_total_bytes = r.i64(); }},
    {"memory_processed_bytes", SqlType::kInteger, false,
     [](StmtUse& u, const M& m) { u.bind(m.memory_processed_bytes); },
     [](RowReader& r, M& m) { m.memory_processed_bytes = r.i64(); }},
    {"memory_remaining_bytes", SqlType::kInteger, false,
     [](StmtUse& u, const M& m) { u.bind(m.memory_remaining_bytes); },
     [](RowReader& r, M& m) { m.memory_remaining_bytes = r.i64(); }},
    {"disk_total_bytes", SqlType::kInteger, false,
     [](StmtUse& u, const M& m) { u.bind(m.disk_total_bytes); },
     [](RowReader& r, M& m) { m.disk_total_bytes = r.i64(); }},
    {"disk_processed_bytes", SqlType::kInteger, false,
     [](StmtUse& u, const M& m) { u.bind(m.disk_processed_bytes); },
     [](RowReader& r, M& m) { m.disk_processed_bytes = r.i64(); }},
    {"disk_remaining_bytes", SqlType::kInteger, false,
     [](StmtUse& u, const M& m) { u.bind(m.disk_remaining_bytes); },
     [](RowReader& r, M& m) { m.disk_remaining_bytes = r.i64(); }},
    {"downtime_ms", SqlType::kInteger, false, [](StmtUse& u, const M& m) { u.bind(m.downtime_ms); },
     [](RowReader& r, M& m) { m.downtime_ms = r.i64(); }},
};

constexpr Column<H> kStayColumns[] = {
    {"vm_id", SqlType::kInteger, false, [](StmtUse& u, const H& h) { u.bind(h.vm_id); },
     [](RowReader& r, H& h) { h.vm_id = r.i64(); }},
    {"seq", SqlType::kInteger, false, [](StmtUse& u, const H& h) { u.bind(h.seq); },
     [](RowReader& r, H& h) { h.seq = r.i64(); }},
    {"host", SqlType::kText, false, [](StmtUse& u, const H& h) { u.bind(h.host); },
     [](RowReader& r, H& h) { h.host = r.text(); }},
    {"start_at", SqlType::kInteger, false, [](StmtUse& u, const H& h) { u.bind(h.start); },
     [](RowReader& r, H& h) { h.start = r.i64(); }},
    {"end_at", SqlType::kInteger, false, [](StmtUse& u, const H& h) { u.bind(h.end); },
     [](RowReader& r, H& h) { h.end = r.i64(); }},
    {"reason", SqlType::kInteger, false, [](StmtUse& u, const H& h) { u.bind(num(h.reason)); },
     [](RowReader& r, H& h) { h.reason = r.enumerator<StayReason>(known_reason); }},
    {"end_action", SqlType::kInteger, true,
     [](StmtUse& u, const H& h) { h.end_action ? u.bind(num(*h.end_action)) : u.bind_null(); },
     [](RowReader& r, H& h) {
       if (r.null()) {
         h.end_action.reset();
         r.skip();
       } else {
         h.end_action = r.enumerator<lifecycle::Action>(known_action);
       }
     }},
    {"op_id", SqlType::kInteger, false, [](StmtUse& u, const H& h) { u.bind(h.op_id); },
     [](RowReader& r, H& h) { h.op_id = r.i64(); }},
};

constexpr std::string_view kMigrationIndexed[] = {"vm_id"};  // migrations_vm_id
constexpr RowCodec<M> kMigrationCodec{"migrations", "id", kMigrationColumns, kMigrationIndexed};
constexpr RowCodec<H> kStayCodec{"host_stays", "vm_id, seq", kStayColumns};

}  // namespace

const RowCodec<MigrationRow>& migration_codec() { return kMigrationCodec; }
const RowCodec<HostStayRow>& stay_codec() { return kStayCodec; }

}  // namespace corral::store::sqlite
