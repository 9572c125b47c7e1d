#include "cli/render_records.h"

#include <cstdint>
#include <string>

#include "cli/render.h"
#include "cli/table.h"

namespace corral::cli {

using nlohmann::json;

namespace {

std::int64_t int_of(const json& value) {
  return value.is_number_integer() ? value.get<std::int64_t>() : 0;
}

// "96/128 MiB": the memory sent of the total, as the driver last reported it; "-" before any
// report (or from a driver that reports none).
std::string memory_progress(const json& m) {
  const std::int64_t total = int_of(field(m, "memory_total_bytes"));
  if (total <= 0) return "-";
  const std::int64_t sent = int_of(field(m, "memory_processed_bytes"));
  constexpr std::int64_t kMiB = 1 << 20;
  return std::to_string(sent / kMiB) + "/" + std::to_string(total / kMiB) + " MiB";
}

std::string downtime(const json& m) {
  const std::int64_t ms = int_of(field(m, "downtime_ms"));
  return ms > 0 ? std::to_string(ms) + " ms" : "-";
}

}  // namespace

std::string migrations_table(const json& reply) {
  Table table({{"ID", Align::kRight},
               {"OP", Align::kRight},
               {"TYPE"},
               {"STATUS"},
               {"SOURCE"},
               {"DEST"},
               {"CREATED"},
               {"UPDATED"},
               {"MEMORY", Align::kRight},
               {"DOWNTIME", Align::kRight},
               {"ERROR"}});
  const json& list = field(reply, "migrations");
  if (list.is_array()) {
    for (const json& m : list) {
      table.add_row({text_of(field(m, "id")), text_of(field(m, "op_id")),
                     text_of(field(m, "migration_type")), text_of(field(m, "status")),
                     text_of(field(m, "source_compute")), text_of(field(m, "dest_compute")),
                     text_of(field(m, "created_at")), text_of(field(m, "updated_at")),
                     memory_progress(m), downtime(m), text_of(field(m, "error"))});
    }
  }
  return table.render();
}

std::string stays_table(const json& history) {
  Table table({{"SEQ", Align::kRight}, {"HOST"}, {"START"}, {"END"}, {"REASON"}, {"ACTION"}});
  const json& stays = field(history, "stays");
  if (stays.is_array()) {
    for (const json& s : stays) {
      table.add_row({text_of(field(s, "seq")), text_of(field(s, "host")),
                     text_of(field(s, "start")), text_of(field(s, "end")),
                     text_of(field(s, "reason")), text_of(field(s, "action"))});
    }
  }
  return table.render();
}

}  // namespace corral::cli
