// The move records Corral persists beside the history: Nova's migration records (one per
// operation that moves a VM between hosts) and OpenNebula's history records (one per stay of
// a VM on a host).
//
// Contract: plain values with stable numbers (persisted: never renumber, only add). The
// engine is their only writer (engine/records.h decides what they hold) and hands them to a
// Store in the same batch as the transition that changed them. The names are the API's.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "lifecycle/types.h"

namespace corral::store {

// Nova's migration_type (the API spells it with a dash: "live-migration").
enum class MigrationKind : std::uint8_t {
  kLiveMigration = 1,
  kMigration = 2,  // cold
  kResize = 3,     // a resize that moves the VM (Nova's resize to another host)
  kEvacuation = 4,
};

// Nova's migration statuses. Live: accepted -> queued -> preparing -> running -> completed |
// failed | cancelled | error. Cold and resize: pre-migrating -> migrating -> post-migrating
// -> finished (-> confirming -> confirmed | reverting -> reverted, for a resize) | error.
// Evacuation: accepted -> pre-migrating -> done | failed.
enum class MigrationStatus : std::uint8_t {
  kAccepted = 1,
  kQueued = 2,
  kPreparing = 3,
  kRunning = 4,
  kCompleted = 5,
  kFailed = 6,
  kCancelled = 7,
  kError = 8,
  kPreMigrating = 9,
  kMigrating = 10,
  kPostMigrating = 11,
  kFinished = 12,
  kConfirming = 13,
  kConfirmed = 14,
  kReverting = 15,
  kReverted = 16,
  kDone = 17,
};

// Why a host stay ended: OpenNebula's history REASON, with its numbers.
enum class StayReason : std::uint8_t {
  kNone = 0,   // still open, or ended by the controller on its own (a resched)
  kError = 1,  // the host failed: an evacuation or a recovery moved the VM off it
  kUser = 2,   // an operator's or a user's request (migrate, terminate, a host flush ...)
};

struct MigrationRow {
  std::int64_t id = 0;  // assigned by the engine, never reused
  std::int64_t vm_id = 0;
  std::int64_t op_id = 0;  // the operation that moves the VM
  MigrationKind kind = MigrationKind::kMigration;
  std::string source_host;
  std::string dest_host;
  MigrationStatus status = MigrationStatus::kAccepted;
  Millis created_at = 0;
  Millis updated_at = 0;
  std::string error;  // why it failed; empty otherwise
  // Progress, as the driver reports it; 0 until it does.
  std::int64_t memory_total_bytes = 0;
  std::int64_t memory_processed_bytes = 0;
  std::int64_t memory_remaining_bytes = 0;
  std::int64_t disk_total_bytes = 0;
  std::int64_t disk_processed_bytes = 0;
  std::int64_t disk_remaining_bytes = 0;
  std::int64_t downtime_ms = 0;
  friend bool operator==(const MigrationRow&, const MigrationRow&) = default;
};

// One stay of a VM on a host (OpenNebula's HISTORY record). Rows are keyed by (vm_id, seq);
// a stay is written when it opens and rewritten whole when it closes.
struct HostStayRow {
  std::int64_t vm_id = 0;
  std::int64_t seq = 0;  // 0, 1, 2 ... per VM
  std::string host;
  Millis start = 0;
  Millis end = 0;  // 0 while the VM is there
  StayReason reason = StayReason::kNone;
  std::optional<lifecycle::Action> end_action;  // the action that ended it; none while open
  std::int64_t op_id = 0;                       // the operation that opened it
  friend bool operator==(const HostStayRow&, const HostStayRow&) = default;
};

constexpr std::string_view migration_kind_name(MigrationKind kind) {
  switch (kind) {
    case MigrationKind::kLiveMigration:
      return "live-migration";
    case MigrationKind::kMigration:
      return "migration";
    case MigrationKind::kResize:
      return "resize";
    case MigrationKind::kEvacuation:
      return "evacuation";
  }
  return "?";
}

constexpr std::string_view migration_status_name(MigrationStatus status) {
  switch (status) {
    case MigrationStatus::kAccepted:
      return "accepted";
    case MigrationStatus::kQueued:
      return "queued";
    case MigrationStatus::kPreparing:
      return "preparing";
    case MigrationStatus::kRunning:
      return "running";
    case MigrationStatus::kCompleted:
      return "completed";
    case MigrationStatus::kFailed:
      return "failed";
    case MigrationStatus::kCancelled:
      return "cancelled";
    case MigrationStatus::kError:
      return "error";
    case MigrationStatus::kPreMigrating:
      return "pre-migrating";
    case MigrationStatus::kMigrating:
      return "migrating";
    case MigrationStatus::kPostMigrating:
      return "post-migrating";
    case MigrationStatus::kFinished:
      return "finished";
    case MigrationStatus::kConfirming:
      return "confirming";
    case MigrationStatus::kConfirmed:
      return "confirmed";
    case MigrationStatus::kReverting:
      return "reverting";
    case MigrationStatus::kReverted:
      return "reverted";
    case MigrationStatus::kDone:
      return "done";
  }
  return "?";
}

// OpenNebula's spelling: NONE, ERROR, USER.
constexpr std::string_view stay_reason_name(StayReason reason) {
  switch (reason) {
    case StayReason::kNone:
      return "NONE";
    case StayReason::kError:
      return "ERROR";
    case StayReason::kUser:
      return "USER";
  }
  return "?";
}

}  // namespace corral::store
