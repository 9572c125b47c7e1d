// AgentRegistry: what the controller's agent service asks of the engine. An interface so the
// service can be tested (and benchmarked) without an engine; EngineRegistry is the real one.
//
// Contract (engine/engine.h, engine/hosts.h):
// - agent_connected() admits a host's agent: kNotFound when the store has no such host,
//   kInvalidState when the host is OFFLINE; otherwise it commits the host's new epoch and
//   returns the Welcome's content. It may block (a commit); the service calls it from its
//   admission pool, never from a gRPC callback.
// - agent_heartbeat() must be cheap and must not block: it runs on gRPC's callback threads
//   for every heartbeat of every agent.
// - agent_disconnected() of an epoch that is no longer the host's current one is ignored (a
//   stream replaced by a newer one ends after the newer one was admitted).
#pragma once

#include <cstdint>
#include <string_view>

#include "common/result.h"
#include "engine/hosts.h"

namespace corral::engine {
class Engine;
}

namespace corral::controller {

class AgentRegistry {
 public:
  virtual ~AgentRegistry() = default;
  [[nodiscard]] virtual Result<engine::AgentWelcome> agent_connected(engine::AgentHello hello) = 0;
  virtual void agent_heartbeat(std::string_view host, std::uint64_t epoch,
                               const engine::HostMetrics& metrics) = 0;
  virtual void agent_disconnected(std::string_view host, std::uint64_t epoch) = 0;
};

// The engine's host methods behind the interface.
class EngineRegistry final : public AgentRegistry {
 public:
  explicit EngineRegistry(engine::Engine& engine) : engine_(engine) {}
  Result<engine::AgentWelcome> agent_connected(engine::AgentHello hello) override;
  void agent_heartbeat(std::string_view host, std::uint64_t epoch,
                       const engine::HostMetrics& metrics) override;
  void agent_disconnected(std::string_view host, std::uint64_t epoch) override;

 private:
  engine::Engine& engine_;
};

}  // namespace corral::controller
