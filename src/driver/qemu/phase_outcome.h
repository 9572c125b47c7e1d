// PhaseOutcome: how one phase the VM worker ran ended, before it becomes a PhaseResult.
//
// Contract:
// - ok(power) and failed(error, power) are answered: exactly one PhaseResult goes to the
//   engine, with the power when the phase knows it (nullopt: power_known = false).
// - no_answer() sends nothing: the phase was pre-empted by a newer request (its answer would
//   be stale), or an event answers it later (os_provisioning: the readiness line).
// - A failure is kUnknown unless the phase knows the VM is as the operation found it:
//   intact() marks that (see driver.h on Integrity).
#pragma once

#include <optional>
#include <string>
#include <utility>

#include "driver/driver.h"
#include "lifecycle/types.h"

namespace corral::driver::qemu {

struct PhaseOutcome {
  bool answer = true;  // false: no PhaseResult (pre-empted, or answered by an event)
  bool succeeded = true;
  std::string error;
  std::optional<lifecycle::Power> power;
  // A failure that left the VM as the operation found it (see driver.h).
  lifecycle::Integrity integrity = lifecycle::Integrity::kUnknown;
  // prepare_migrate: where the source is to send.
  std::optional<store::MigrationEndpoint> endpoint;

  static PhaseOutcome ok(std::optional<lifecycle::Power> power = std::nullopt) {
    return PhaseOutcome{true, true, {}, power, lifecycle::Integrity::kUnknown, {}};
  }
  static PhaseOutcome failed(std::string error,
                             std::optional<lifecycle::Power> power = std::nullopt) {
    return PhaseOutcome{true, false, std::move(error), power, lifecycle::Integrity::kUnknown, {}};
  }
  static PhaseOutcome no_answer() {
    return PhaseOutcome{false, true, {}, {}, lifecycle::Integrity::kUnknown, {}};
  }

  // The failure left the VM as the operation found it.
  PhaseOutcome& intact() {
    integrity = lifecycle::Integrity::kIntact;
    return *this;
  }

  // VM `vm`'s answer to `request` (meaningful only when `answer`).
  PhaseResult result_for(store::VmId vm, const PhaseRequest& request) const {
    PhaseResult result;
    result.vm = vm;
    result.op = request.op;
    result.step = request.step;
    result.attempt = request.attempt;
    result.ok = succeeded;
    result.error = error;
    result.power_known = power.has_value();
    result.power = power.value_or(lifecycle::Power::kNoState);
    result.integrity = integrity;
    result.endpoint = endpoint;
    return result;
  }
};

}  // namespace corral::driver::qemu
