#include "wire/protocol.h"

#include <string>

namespace corral::wire {

v1::Refuse make_refuse(v1::Refuse::Code code, std::string message) {
  v1::Refuse refuse;
  refuse.set_code(code);
  refuse.set_message(std::move(message));
  refuse.set_min_protocol_version(kMinProtocolVersion);
  refuse.set_max_protocol_version(kProtocolVersion);
  return refuse;
}

std::optional<v1::Refuse> check_protocol_version(std::uint32_t agent_version) {
  if (agent_version >= kMinProtocolVersion && agent_version <= kProtocolVersion) {
    return std::nullopt;
  }
  const std::string range =
      std::to_string(kMinProtocolVersion) + ".." + std::to_string(kProtocolVersion);
  // 0 is what an agent that never set the field sends: most likely not a Corral agent at all.
  const std::string advice = agent_version == 0
                                 ? "the agent sent no protocol version (is it a corral agent?)"
                             : agent_version < kMinProtocolVersion ? "upgrade the agent"
                                                                   : "upgrade the controller";
  return make_refuse(v1::Refuse::CODE_INCOMPATIBLE_VERSION,
                     "incompatible agent protocol version " + std::to_string(agent_version) +
                         ": this controller speaks versions " + range + "; " + advice);
}

}  // namespace corral::wire
