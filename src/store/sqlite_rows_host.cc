// The hosts table's codec. Labels are stored as a JSON object of strings: the scheduler reads
// them whole, and nothing queries one label in SQL.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "store/sqlite_enums.h"
#include "store/sqlite_rows.h"

namespace corral::store::sqlite {
namespace {

using lifecycle::HostState;
using H = HostRow;

std::string encode_labels(const std::map<std::string, std::string>& labels) {
  // Keys come out sorted (std::map). Bytes that are not UTF-8 are replaced rather than thrown
  // on: the API refuses them first, and a store write must not throw.
  return nlohmann::json(labels).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void read_labels(RowReader& r, H& h) {
  const int col = r.column();
  const std::string text = r.text();
  h.labels.clear();
  const nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) {
    r.note(col, text, "not a JSON object");
    return;
  }
  for (const auto& [key, value] : json.items()) {
    if (!value.is_string()) {
      r.note(col, text, "not a JSON object of strings");
      return;
    }
    h.labels.emplace(key, value.get<std::string>());
  }
}

constexpr Column<H> kColumns[] = {
    {"name", SqlType::kText, false, [](StmtUse& u, const H& h) { u.bind(h.name); },
     [](RowReader& r, H& h) { h.name = r.text(); }},
    {"id", SqlType::kInteger, false, [](StmtUse& u, const H& h) { u.bind(h.id); },
     [](RowReader& r, H& h) { h.id = r.i64(); }},
    {"state", SqlType::kInteger, false, [](StmtUse& u, const H& h) { u.bind(num(h.state)); },
     [](RowReader& r, H& h) { h.state = read_enum<HostState>(r); }},
    {"enabled", SqlType::kInteger, false,
     [](StmtUse& u, const H& h) { u.bind(std::int64_t{h.enabled}); },
     [](RowReader& r, H& h) { h.enabled = r.boolean(); }},
    {"disabled_reason", SqlType::kText, false,
     [](StmtUse& u, const H& h) { u.bind(h.disabled_reason); },
     [](RowReader& r, H& h) { h.disabled_reason = r.text(); }},
    {"forced_down", SqlType::kInteger, false,
     [](StmtUse& u, const H& h) { u.bind(std::int64_t{h.forced_down}); },
     [](RowReader& r, H& h) { h.forced_down = r.boolean(); }},
    {"labels", SqlType::kText, false,
     [](StmtUse& u, const H& h) { u.bind_copy(encode_labels(h.labels)); }, read_labels},
    {"vcpus", SqlType::kInteger, false,
     [](StmtUse& u, const H& h) { u.bind(std::int64_t{h.capacity.vcpus}); },
     [](RowReader& r, H& h) { h.capacity.vcpus = r.integer<int>(); }},
    {"memory_mib", SqlType::kInteger, false,
     [](StmtUse& u, const H& h) { u.bind(h.capacity.memory_mib); },
     [](RowReader& r, H& h) { h.capacity.memory_mib = r.i64(); }},
    {"reserved_vcpus", SqlType::kInteger, false,
     [](StmtUse& u, const H& h) { u.bind(std::int64_t{h.reserved.vcpus}); },
     [](RowReader& r, H& h) { h.reserved.vcpus = r.integer<int>(); }},
    {"reserved_memory_mib", SqlType::kInteger, false,
     [](StmtUse& u, const H& h) { u.bind(h.reserved.memory_mib); },
     [](RowReader& r, H& h) { h.reserved.memory_mib = r.i64(); }},
    {"cpu_allocation_ratio", SqlType::kReal, false,
     [](StmtUse& u, const H& h) { u.bind(h.cpu_allocation_ratio); },
     [](RowReader& r, H& h) { h.cpu_allocation_ratio = r.real(); }},
    {"ram_allocation_ratio", SqlType::kReal, false,
     [](StmtUse& u, const H& h) { u.bind(h.ram_allocation_ratio); },
     [](RowReader& r, H& h) { h.ram_allocation_ratio = r.real(); }},
    {"agent_version", SqlType::kText, false,
     [](StmtUse& u, const H& h) { u.bind(h.agent_version); },
     [](RowReader& r, H& h) { h.agent_version = r.text(); }},
    {"epoch", SqlType::kInteger, false, [](StmtUse& u, const H& h) { u.bind(h.epoch); },
     [](RowReader& r, H& h) { h.epoch = r.i64(); }},
    {"generation", SqlType::kInteger, false, [](StmtUse& u, const H& h) { u.bind(h.generation); },
     [](RowReader& r, H& h) { h.generation = r.i64(); }},
    {"last_heartbeat_at", SqlType::kInteger, false,
     [](StmtUse& u, const H& h) { u.bind(h.last_heartbeat_at); },
     [](RowReader& r, H& h) { h.last_heartbeat_at = r.i64(); }},
    {"created_at", SqlType::kInteger, false, [](StmtUse& u, const H& h) { u.bind(h.created_at); },
     [](RowReader& r, H& h) { h.created_at = r.i64(); }},
    {"updated_at", SqlType::kInteger, false, [](StmtUse& u, const H& h) { u.bind(h.updated_at); },
     [](RowReader& r, H& h) { h.updated_at = r.i64(); }},
    {"error", SqlType::kText, false, [](StmtUse& u, const H& h) { u.bind(h.error); },
     [](RowReader& r, H& h) { h.error = r.text(); }},
};

constexpr RowCodec<H> kCodec{"hosts", "name", kColumns};

}  // namespace

const RowCodec<HostRow>& host_codec() { return kCodec; }

}  // namespace corral::store::sqlite
