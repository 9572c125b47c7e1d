// Engine internals shared by engine.cc (thread, queue, public API) and apply.cc (how a
// model step changes a VM). Not part of the engine's interface.
#pragma once

#include <cstdint>
#include <future>
#include <optional>
#include <queue>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "engine/engine.h"

namespace corral::engine::internal {

struct CreateCommand {
  CreateRequest request;
  std::promise<Result<Accepted>> reply;
};

struct ActionCommand {
  ActionRequest request;
  std::promise<Result<Accepted>> reply;
};

using Command = std::variant<CreateCommand, ActionCommand, driver::PhaseResult, driver::PowerEvent>;

struct DeadlineEntry {
  Millis at = 0;
  VmId vm = 0;
  OpId op = 0;
  std::uint8_t step = 0;
  std::uint32_t attempt = 0;
  bool operator>(const DeadlineEntry& other) const { return at > other.at; }
};

// An answer waiting for its batch to commit.
struct PendingReply {
  std::promise<Result<Accepted>> promise;
  std::optional<Error> error;  // refused: answer this
  VmId vm = 0;                 // accepted: answer with this VM and its operation
  OpId op = 0;
};

struct HostSlot {
  driver::HostInfo info;
  int used_vcpus = 0;
  int used_memory_mib = 0;
  int vms = 0;
};

// Who asked for a step, for the history entry.
struct Cause {
  lifecycle::Action action = lifecycle::Action::kCreate;  // shown in history
  std::string actor;
  std::string request_id;
  std::string reason;
};

}  // namespace corral::engine::internal
