// Move records as JSON: Nova's and OpenNebula's field names, null for what is absent.
#include "api/record_json.h"

#include <gtest/gtest.h>

namespace corral::api {
namespace {

using nlohmann::json;

constexpr Millis kT0 = 1'700'000'000'000;  // 2023-11-14T22:13:20.000Z

TEST(RecordJsonTest, AMigrationHasNovasFieldsAndNullForAbsentValues) {
  store::MigrationRow row;
  row.id = 3;
  row.vm_id = 7;
  row.op_id = 12;
  row.kind = store::MigrationKind::kLiveMigration;
  row.status = store::MigrationStatus::kPreMigrating;
  row.source_host = "h1";
  row.created_at = kT0;
  row.updated_at = kT0 + 1500;
  row.memory_total_bytes = 1024;
  row.memory_processed_bytes = 512;
  row.memory_remaining_bytes = 512;
  row.disk_total_bytes = 4;
  row.disk_processed_bytes = 3;
  row.disk_remaining_bytes = 1;
  row.downtime_ms = 9;
  EXPECT_EQ(migration_json(row), json::parse(R"({
    "id": 3, "vm_id": 7, "op_id": 12, "migration_type": "live-migration",
    "status": "pre-migrating", "source_compute": "h1", "dest_compute": null,
    "created_at": "2023-11-14T22:13:20.000Z", "updated_at": "2023-11-14T22:13:21.500Z",
    "error": null, "memory_total_bytes": 1024, "memory_processed_bytes": 512,
    "memory_remaining_bytes": 512, "disk_total_bytes": 4, "disk_processed_bytes": 3,
    "disk_remaining_bytes": 1, "downtime_ms": 9})"));
  row.kind = store::MigrationKind::kMigration;
  row.status = store::MigrationStatus::kError;
  row.error = "no space";
  row.dest_host = "h2";
  const json cold = migration_json(row);
  EXPECT_EQ(cold["migration_type"], "migration");
  EXPECT_EQ(cold["status"], "error");
  EXPECT_EQ(cold["error"], "no space");
  EXPECT_EQ(cold["dest_compute"], "h2");
}

TEST(RecordJsonTest, AStayHasOpenNebulasFieldsAndIsOpenUntilItEnds) {
  store::HostStayRow row;
  row.seq = 1;
  row.host = "h2";
  row.start = kT0;
  row.op_id = 4;
  EXPECT_EQ(stay_json(row), json::parse(R"({"seq": 1, "host": "h2",
    "start": "2023-11-14T22:13:20.000Z", "end": null, "reason": "NONE", "action": null,
    "op_id": 4})"));
  row.end = kT0 + 60'000;
  row.reason = store::StayReason::kError;
  row.end_action = lifecycle::Action::kRecoverRecreate;
  const json closed = stay_json(row);
  EXPECT_EQ(closed["end"], "2023-11-14T22:14:20.000Z");
  EXPECT_EQ(closed["reason"], "ERROR");
  EXPECT_EQ(closed["action"], "recover_recreate");
}

}  // namespace
}  // namespace corral::api
