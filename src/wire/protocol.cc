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

std::optional<v1::Refuse> check_hello(const v1::AgentMessage& first, std::string_view peer_host) {
  if (!first.has_hello()) {
    return make_refuse(v1::Refuse::CODE_HELLO_EXPECTED,
                       "the first message on the stream must be a Hello");
  }
  const v1::Hello& hello = first.hello();
  if (std::optional<v1::Refuse> refuse = check_protocol_version(hello.protocol_version())) {
    return refuse;
  }
  if (peer_host.empty()) {
    return make_refuse(v1::Refuse::CODE_IDENTITY_MISMATCH,
                       "this connection has no verified client certificate; connect to the "
                       "controller's agent port with the certificate `corral agent --join` got");
  }
  if (hello.host() != peer_host) {
    return make_refuse(v1::Refuse::CODE_IDENTITY_MISMATCH,
                       "the agent says it is host \"" + hello.host() +
                           "\" but its certificate names \"" + std::string(peer_host) + "\"");
  }
  return std::nullopt;
}

}  // namespace corral::wire
