// Move records -> the API's JSON: Nova's migration objects and OpenNebula's history records
// (docs/api.md shows both shapes).
//
// Contract: pure functions of the row; times are ISO 8601 UTC (corral::format_time); absent
// values are null (an empty host or error, an open stay's end and end action). Field names
// are Nova's (os-migrations / servers/{id}/migrations) and OpenNebula's (HISTORY: SEQ, HOST,
// STIME, ETIME, REASON, ACTION), in lower case; Corral adds vm_id, op_id and error.
#pragma once

#include <nlohmann/json.hpp>

#include "store/records.h"

namespace corral::api {

// {"id","vm_id","op_id","migration_type","status","source_compute","dest_compute",
//  "created_at","updated_at","error","memory_total_bytes","memory_processed_bytes",
//  "memory_remaining_bytes","disk_total_bytes","disk_processed_bytes","disk_remaining_bytes",
//  "downtime_ms"}
nlohmann::json migration_json(const store::MigrationRow& row);

// {"seq","host","start","end","reason","action","op_id"}
nlohmann::json stay_json(const store::HostStayRow& row);

}  // namespace corral::api
