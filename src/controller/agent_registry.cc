#include "controller/agent_registry.h"

#include "engine/engine.h"

namespace corral::controller {

Result<engine::AgentWelcome> EngineRegistry::agent_connected(engine::AgentHello hello) {
  return engine_.agent_connected(std::move(hello));
}

void EngineRegistry::agent_heartbeat(std::string_view host, std::uint64_t epoch,
                                     const engine::HostMetrics& metrics) {
  engine_.agent_heartbeat(host, epoch, metrics);
}

void EngineRegistry::agent_disconnected(std::string_view host, std::uint64_t epoch) {
  engine_.agent_disconnected(host, epoch);
}

}  // namespace corral::controller
