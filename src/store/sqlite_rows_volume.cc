// The volumes table's codec (migration 7). Snapshots are a JSON array in one column: they are
// read and written with their volume, never alone.
#include <nlohmann/json.hpp>

#include "store/sqlite_enums.h"
#include "store/sqlite_rows.h"

namespace corral::store::sqlite {
namespace {

using V = VolumeRow;
using nlohmann::json;

std::string snapshots_text(const std::vector<VolumeSnapshot>& snapshots) {
  json out = json::array();
  for (const VolumeSnapshot& s : snapshots) {
    out.push_back({{"id", s.id},
                   {"status", num(s.status)},
                   {"size_mib", s.size_mib},
                   {"created_at", s.created_at}});
  }
  return out.dump();
}

// nullopt when the text is not an array of such objects with known statuses.
std::optional<std::vector<VolumeSnapshot>> snapshots_of(std::string_view text) {
  const json j = json::parse(text, nullptr, false);
  if (!j.is_array()) return std::nullopt;
  std::vector<VolumeSnapshot> out;
  for (const json& e : j) {
    if (!e.is_object()) return std::nullopt;
    const auto id = e.find("id");
    const auto status = e.find("status");
    const auto size = e.find("size_mib");
    const auto created = e.find("created_at");
    if (id == e.end() || !id->is_number_integer() || status == e.end() ||
        !status->is_number_unsigned() || size == e.end() || !size->is_number_unsigned() ||
        created == e.end() || !created->is_number_integer()) {
      return std::nullopt;
    }
    const auto s = status->get<std::uint64_t>();
    if (s > 255 || !known(static_cast<lifecycle::SnapshotStatus>(s))) return std::nullopt;
    out.push_back({id->get<std::int64_t>(), static_cast<lifecycle::SnapshotStatus>(s),
                   size->get<std::uint64_t>(), created->get<Millis>()});
  }
  return out;
}

void read_snapshots(RowReader& r, V& v) {
  const int col = r.column();
  const std::string text = r.text();
  std::optional<std::vector<VolumeSnapshot>> snapshots = snapshots_of(text);
  if (!snapshots) {
    r.note(col, text, "not a JSON array of snapshots");
    return;
  }
  v.snapshots = std::move(*snapshots);
}

std::int64_t i64_of(std::uint64_t n) { return static_cast<std::int64_t>(n); }

constexpr Column<V> kColumns[] = {
    {"id", SqlType::kInteger, false, [](StmtUse& u, const V& v) { u.bind(v.id); },
     [](RowReader& r, V& v) { v.id = r.i64(); }},
    {"name", SqlType::kText, false, [](StmtUse& u, const V& v) { u.bind(v.name); },
     [](RowReader& r, V& v) { v.name = r.text(); }},
    {"size_mib", SqlType::kInteger, false,
     [](StmtUse& u, const V& v) { u.bind(i64_of(v.size_mib)); },
     [](RowReader& r, V& v) { v.size_mib = r.integer<std::uint64_t>(); }},
    {"status", SqlType::kInteger, false, [](StmtUse& u, const V& v) { u.bind(num(v.status)); },
     [](RowReader& r, V& v) { v.status = read_enum<lifecycle::VolumeStatus>(r); }},
    {"vm", SqlType::kInteger, false, [](StmtUse& u, const V& v) { u.bind(v.vm); },
     [](RowReader& r, V& v) { v.vm = r.i64(); }},
    {"slot", SqlType::kInteger, false,
     [](StmtUse& u, const V& v) { u.bind(static_cast<std::int64_t>(v.slot)); },
     [](RowReader& r, V& v) { v.slot = r.integer<int>(); }},
    {"delete_on_termination", SqlType::kInteger, false,
     [](StmtUse& u, const V& v) { u.bind(static_cast<std::int64_t>(v.delete_on_termination)); },
     [](RowReader& r, V& v) { v.delete_on_termination = r.boolean(); }},
    {"path", SqlType::kText, false, [](StmtUse& u, const V& v) { u.bind(v.path); },
     [](RowReader& r, V& v) { v.path = r.text(); }},
    {"job", SqlType::kInteger, false, [](StmtUse& u, const V& v) { u.bind(num(v.job)); },
     [](RowReader& r, V& v) { v.job = read_enum<VolumeJob>(r); }},
    {"job_size_mib", SqlType::kInteger, false,
     [](StmtUse& u, const V& v) { u.bind(i64_of(v.job_size_mib)); },
     [](RowReader& r, V& v) { v.job_size_mib = r.integer<std::uint64_t>(); }},
    {"job_snapshot", SqlType::kInteger, false,
     [](StmtUse& u, const V& v) { u.bind(v.job_snapshot); },
     [](RowReader& r, V& v) { v.job_snapshot = r.i64(); }},
    {"error", SqlType::kText, false, [](StmtUse& u, const V& v) { u.bind(v.error); },
     [](RowReader& r, V& v) { v.error = r.text(); }},
    {"snapshots", SqlType::kText, false,
     [](StmtUse& u, const V& v) { u.bind_copy(snapshots_text(v.snapshots)); }, read_snapshots},
    {"created_at", SqlType::kInteger, false, [](StmtUse& u, const V& v) { u.bind(v.created_at); },
     [](RowReader& r, V& v) { v.created_at = r.i64(); }},
    {"updated_at", SqlType::kInteger, false, [](StmtUse& u, const V& v) { u.bind(v.updated_at); },
     [](RowReader& r, V& v) { v.updated_at = r.i64(); }},
    {"project", SqlType::kInteger, false, [](StmtUse& u, const V& v) { u.bind(v.project); },
     [](RowReader& r, V& v) { v.project = r.i64(); }},
};

constexpr RowCodec<V> kCodec{"volumes", "id", kColumns};

}  // namespace

const RowCodec<VolumeRow>& volume_codec() { return kCodec; }

}  // namespace corral::store::sqlite
