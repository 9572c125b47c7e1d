// Mutual TLS between two agents, both holding a certificate of the cluster CA whose CN is
// their host name (wire::AgentIdentity).
//
// Contract:
// - server_credentials(): the agent's certificate, and a client certificate required and
//   verified against the cluster CA alone (wire::agent_port_credentials); the handler then
//   reads the caller's host with wire::peer_host().
// - channel_credentials(id, expected_host): the agent's certificate as client certificate; the
//   server's certificate must chain to the cluster CA, be valid now, and name `expected_host`
//   as CN — a certificate of another cluster, an expired one or another agent's fails the
//   handshake. `*why` (when given) receives the reason of the last refusal, for the error.
#pragma once

#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <mutex>
#include <string>

#include "wire/credentials.h"

namespace corral::transfer {

std::shared_ptr<grpc::ServerCredentials> server_credentials(const wire::AgentIdentity& id);

// Why the last handshake of a channel refused the server (thread-safe; "" when none).
class RefusalNote {
 public:
  void set(std::string why);
  std::string get() const;

 private:
  mutable std::mutex mu_;
  std::string why_;
};

std::shared_ptr<grpc::ChannelCredentials> channel_credentials(
    const wire::AgentIdentity& id, const std::string& expected_host,
    std::shared_ptr<RefusalNote> why = nullptr);

}  // namespace corral::transfer
