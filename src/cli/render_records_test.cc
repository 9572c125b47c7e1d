// The move-record tables: columns in order, "-" for null (an open stay's end) and for progress
// never reported.
#include "cli/render_records.h"

#include <gtest/gtest.h>

namespace corral::cli {
namespace {

using nlohmann::json;

TEST(RenderRecordsTest, Migrations) {
  const json reply = json::parse(R"({"migrations": [
      {"id": 1, "op_id": 4, "migration_type": "live-migration", "status": "completed",
       "source_compute": "h1", "dest_compute": "h2", "created_at": "T1", "updated_at": "T2",
       "error": null, "memory_total_bytes": 134217728, "memory_processed_bytes": 134217728,
       "memory_remaining_bytes": 0, "downtime_ms": 22},
      {"id": 2, "op_id": 9, "migration_type": "migration", "status": "error",
       "source_compute": "h2", "dest_compute": "h1", "created_at": "T3", "updated_at": "T4",
       "error": "disk full", "memory_total_bytes": 0, "downtime_ms": 0}]})");
  EXPECT_EQ(
      migrations_table(reply),
      "ID OP TYPE           STATUS    SOURCE DEST CREATED UPDATED      MEMORY DOWNTIME ERROR\n"
      " 1  4 live-migration completed h1     h2   T1      T2      128/128 MiB    22 ms -\n"
      " 2  9 migration      error     h2     h1   T3      T4                -        - disk "
      "full\n");
  EXPECT_EQ(migrations_table(json::object()),
            "ID OP TYPE STATUS SOURCE DEST CREATED UPDATED MEMORY DOWNTIME ERROR\n");
}

TEST(RenderRecordsTest, Stays) {
  const json history = json::parse(R"({"transitions": [], "stays": [
      {"seq": 0, "host": "h1", "start": "T1", "end": "T2", "reason": "USER",
       "action": "live_migrate", "op_id": 2},
      {"seq": 1, "host": "h2", "start": "T2", "end": null, "reason": "NONE", "action": null,
       "op_id": 2}]})");
  EXPECT_EQ(stays_table(history),
            "SEQ HOST START END REASON ACTION\n"
            "  0 h1   T1    T2  USER   live_migrate\n"
            "  1 h2   T2    -   NONE   -\n");
  EXPECT_EQ(stays_table(json::object()), "SEQ HOST START END REASON ACTION\n");
}

}  // namespace
}  // namespace corral::cli
