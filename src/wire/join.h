// Joining the cluster: an agent with a one-time token gets its client certificate.
//
// Agent side, join_cluster(): pin the controller's CA by the token's fingerprint
// (cluster/tls_dial.h), make a CSR for the token's host with the agent's own key, call
// JoinService.Join over TLS verified against that CA alone, and check the certificate it gets
// back (issued by the pinned CA, names the host). Nothing is written to disk here: the caller
// stores the identity once it has one.
//
// Controller side, answer_join(): check the CSR against the token's host before spending the
// token (a bad CSR leaves the token usable), spend it, sign. A bad token signs nothing.
#pragma once

#include <string>
#include <string_view>

#include "cluster/join_tokens.h"
#include "cluster/pki.h"
#include "common/result.h"
#include "wire/agent.grpc.pb.h"
#include "wire/credentials.h"

namespace corral::wire {

namespace v1 = ::corral::agent::v1;

// host/port: the controller's join port. key_pem: the agent's private key (kept by the agent).
[[nodiscard]] Result<AgentIdentity> join_cluster(const std::string& host, int port,
                                                 std::string_view token, std::string key_pem,
                                                 const Clock& clock);

// Errors: "join token refused: ..." (kInvalidArgument) for a token that cannot be spent;
// others for a bad CSR or an internal failure.
[[nodiscard]] Result<v1::JoinReply> answer_join(const v1::JoinRequest& request,
                                                cluster::JoinTokens& tokens,
                                                cluster::CertificateAuthority& ca);

// The JoinService the controller serves (answer_join behind gRPC; a refused token is
// PERMISSION_DENIED with the reason).
class JoinServiceImpl final : public v1::JoinService::Service {
 public:
  JoinServiceImpl(cluster::JoinTokens& tokens, cluster::CertificateAuthority& ca)
      : tokens_(tokens), ca_(ca) {}
  grpc::Status Join(grpc::ServerContext* context, const v1::JoinRequest* request,
                    v1::JoinReply* reply) override;

 private:
  cluster::JoinTokens& tokens_;
  cluster::CertificateAuthority& ca_;
  std::mutex mu_;  // one join at a time: the token store and the CA are not shared otherwise
};

}  // namespace corral::wire
