// The rows Corral persists: VMs (with their current operation), operations, transitions.
//
// Contract: these are plain values. The engine owns them in memory and hands batches of them
// to a Store; nothing else mutates them. Enum fields hold the lifecycle's stable numbers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/clock.h"
#include "lifecycle/model.h"
#include "store/op_params.h"
#include "store/vm_model.h"

namespace corral::store {

using VmId = std::int64_t;
using OpId = std::int64_t;

// Everything about an operation that the lifecycle record does not hold.
struct OpMeta {
  OpId id = 0;
  OpParams params;         // the action's parameters (store/op_params.h)
  std::string actor;       // who asked ("api", "scheduler", "monitor", "recovery" ...)
  std::string request_id;  // the API request that asked, if any
  Millis started_at = 0;
  Millis deadline = 0;        // of the current phase; 0 when not running
  Millis finished_at = 0;     // 0 while running
  std::string error;          // why it failed or was canceled
  std::uint32_t attempt = 0;  // bumped by every retry and every dispatch after a restart
};

struct Vm {
  VmId id = 0;
  std::string name;
  VmModel model;                   // the configuration in effect
  std::optional<VmModel> desired;  // the latest requested, while it differs from `model`
  std::string model_error;         // why `desired` is not in effect
  lifecycle::VmRecord record;      // state, operation, power, resched
  OpMeta op;                       // meta of record.op (valid when record.op has a value)
  std::string host;                // where it is placed; empty if nowhere
  std::string pending_reason;      // why a PENDING VM is not placed
  Millis created_at = 0;
  Millis updated_at = 0;
};

// A past or running operation, as GET /v1/operations/{id} shows it.
struct OperationRow {
  store::VmId vm_id = 0;
  lifecycle::Operation op;
  OpMeta meta;
};

// One history entry: every change of state, phase or status of a VM.
struct TransitionRow {
  std::int64_t id = 0;  // assigned by the store
  VmId vm_id = 0;
  OpId op_id = 0;
  lifecycle::State from = lifecycle::State::kInit;
  lifecycle::State to = lifecycle::State::kInit;
  lifecycle::Action action = lifecycle::Action::kCreate;
  lifecycle::Phase phase = lifecycle::Phase::kNone;
  lifecycle::OpStatus status = lifecycle::OpStatus::kRunning;
  std::string actor;
  std::string request_id;
  Millis at = 0;
  std::string reason;
};

}  // namespace corral::store
