// The agent protocol's version and the controller's rule for accepting an agent.
//
// Contract: kProtocolVersion is bumped by any change of src/wire/agent.proto that an older peer
// would misread (see the versioning rule at the top of agent.proto); adding a field or a oneof
// member is not such a change. The controller accepts a Hello whose protocol_version lies in
// [kMinProtocolVersion, kProtocolVersion] and refuses any other with a Refuse that names both
// sides' versions and says which side to upgrade, before it reads or changes anything else.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "wire/agent.pb.h"

namespace corral::wire {

namespace v1 = ::corral::agent::v1;

inline constexpr std::uint32_t kProtocolVersion = 1;
inline constexpr std::uint32_t kMinProtocolVersion = 1;  // the oldest agent still understood

// nullopt: the agent's version is accepted. Otherwise the Refuse to send (then end the stream).
std::optional<v1::Refuse> check_protocol_version(std::uint32_t agent_version);

// The controller's checks of a stream's first message, in order: it is a Hello; its protocol
// version is accepted; the peer has a verified certificate (peer_host, see credentials.h) and
// Hello.host is the host that certificate names. nullopt: go on to the store's checks (a known
// host, not offline) and the Welcome.
std::optional<v1::Refuse> check_hello(const v1::AgentMessage& first, std::string_view peer_host);

// A Refuse with the protocol range filled in.
v1::Refuse make_refuse(v1::Refuse::Code code, std::string message);

}  // namespace corral::wire
