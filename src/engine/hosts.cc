// Hosts: the engine's host methods (hosts.h). Stubs until the host table is wired in.
#include "engine/engine_impl.h"

namespace corral::engine {

namespace {
Error not_yet() { return Error{ErrorCode::kUnavailable, "hosts are not implemented yet", {}, {}}; }
}  // namespace

Result<HostDetail> Engine::add_host(HostSpec /*spec*/) { return fail(not_yet()); }
Result<HostDetail> Engine::host_action(HostActionRequest /*request*/) { return fail(not_yet()); }
std::vector<HostDetail> Engine::host_details() const { return {}; }
std::optional<HostDetail> Engine::host(std::string_view /*name*/) const { return std::nullopt; }
Result<AgentWelcome> Engine::agent_connected(AgentHello /*hello*/) { return fail(not_yet()); }
void Engine::agent_heartbeat(std::string_view /*host*/, std::uint64_t /*epoch*/,
                             const HostMetrics& /*metrics*/) {}
void Engine::agent_disconnected(std::string_view /*host*/, std::uint64_t /*epoch*/) {}

}  // namespace corral::engine
