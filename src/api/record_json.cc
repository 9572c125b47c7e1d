#include "api/record_json.h"

#include <string>

#include "common/clock.h"
#include "lifecycle/types.h"

namespace corral::api {

using nlohmann::json;

namespace {

json text_or_null(const std::string& text) { return text.empty() ? json(nullptr) : json(text); }

}  // namespace

json migration_json(const store::MigrationRow& row) {
  return {
      {"id", row.id},
      {"vm_id", row.vm_id},
      {"op_id", row.op_id},
      {"migration_type", std::string(store::migration_kind_name(row.kind))},
      {"status", std::string(store::migration_status_name(row.status))},
      {"source_compute", text_or_null(row.source_host)},
      {"dest_compute", text_or_null(row.dest_host)},
      {"created_at", format_time(row.created_at)},
      {"updated_at", format_time(row.updated_at)},
      {"error", text_or_null(row.error)},
      {"memory_total_bytes", row.memory_total_bytes},
      {"memory_processed_bytes", row.memory_processed_bytes},
      {"memory_remaining_bytes", row.memory_remaining_bytes},
      {"disk_total_bytes", row.disk_total_bytes},
      {"disk_processed_bytes", row.disk_processed_bytes},
      {"disk_remaining_bytes", row.disk_remaining_bytes},
      {"downtime_ms", row.downtime_ms},
  };
}

json stay_json(const store::HostStayRow& row) {
  return {
      {"seq", row.seq},
      {"host", row.host},
      {"start", format_time(row.start)},
      {"end", row.end != 0 ? json(format_time(row.end)) : json(nullptr)},
      {"reason", std::string(store::stay_reason_name(row.reason))},
      {"action",
       row.end_action ? json(std::string(lifecycle::action_name(*row.end_action))) : json(nullptr)},
      {"op_id", row.op_id},
  };
}

}  // namespace corral::api
