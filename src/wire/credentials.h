// TLS for the agent protocol, as gRPC credentials.
//
// Two ports on the controller:
// - the agent port (AgentService.Connect): mutual TLS, GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_
//   CERTIFICATE_AND_VERIFY against the cluster CA alone: a client without a certificate of
//   this cluster fails the TLS handshake and never reaches a handler;
// - the join port (JoinService.Join): TLS with the controller's certificate, no client
//   certificate, for agents that only have a join token.
// The controller's chain holds its certificate and the CA's, so an agent can pin the CA on
// first contact (cluster/tls_dial.h). Agents verify the controller against the CA alone.
#pragma once

#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_context.h>

#include <memory>
#include <string>

namespace corral::wire {

struct ControllerTls {
  std::string cert_pem;  // the controller's server certificate
  std::string key_pem;
  std::string ca_pem;  // the cluster CA
};

// What an agent holds once joined (its key never left its host).
struct AgentIdentity {
  std::string host;
  std::string cert_pem;
  std::string key_pem;
  std::string ca_pem;
};

std::shared_ptr<grpc::ServerCredentials> agent_port_credentials(const ControllerTls& tls);
std::shared_ptr<grpc::ServerCredentials> join_port_credentials(const ControllerTls& tls);

std::shared_ptr<grpc::ChannelCredentials> agent_channel_credentials(const AgentIdentity& id);
std::shared_ptr<grpc::ChannelCredentials> join_channel_credentials(const std::string& ca_pem);

// The host a verified client certificate names (its CN); "" when the peer has none (the join
// port) — a Connect handler refuses such a peer.
std::string peer_host(const grpc::ServerContext& context);

}  // namespace corral::wire
