#include "wire/join.h"

#include <grpcpp/create_channel.h>

#include <chrono>

#include "cluster/tls_dial.h"
#include "wire/rpc_status.h"

namespace corral::wire {

Result<AgentIdentity> join_cluster(const std::string& host, int port, std::string_view token,
                                   std::string key_pem, const Clock& clock) {
  Result<cluster::ParsedJoinToken> parsed = cluster::parse_join_token(token);
  if (!parsed) return fail(parsed.error());
  Result<std::string> ca_pem = cluster::fetch_pinned_ca(host, port, parsed->ca_fingerprint);
  if (!ca_pem) return fail(ca_pem.error());
  Result<std::string> csr = cluster::make_csr(key_pem, parsed->host);
  if (!csr) return fail(csr.error());

  auto channel =
      grpc::CreateChannel(host + ":" + std::to_string(port), join_channel_credentials(*ca_pem));
  auto stub = v1::JoinService::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  v1::JoinRequest request;
  request.set_token(std::string(token));
  request.set_csr_pem(*csr);
  v1::JoinReply reply;
  if (grpc::Status status = stub->Join(&context, request, &reply); !status.ok()) {
    return fail(from_grpc_status(status, "join"));
  }
  // Trust only what the pinned CA signed, for the host the token names.
  if (reply.host() != parsed->host) {
    return fail(Error::internal("join: the controller answered for host \"" + reply.host() +
                                "\", not \"" + parsed->host + "\""));
  }
  if (Status ok = cluster::verify_issued_by(reply.cert_pem(), *ca_pem, clock.now_ms()); !ok) {
    return fail(
        Error::internal("join: the certificate the controller sent: " + ok.error().message));
  }
  Result<std::string> cn = cluster::common_name_of(reply.cert_pem());
  if (!cn || *cn != parsed->host) {
    return fail(
        Error::internal("join: the certificate the controller sent does not name " + parsed->host));
  }
  return AgentIdentity{parsed->host, reply.cert_pem(), std::move(key_pem), *ca_pem};
}

Result<v1::JoinReply> answer_join(const v1::JoinRequest& request, cluster::JoinTokens& tokens,
                                  cluster::CertificateAuthority& ca) {
  Result<cluster::ParsedJoinToken> parsed = cluster::parse_join_token(request.token());
  if (!parsed) return fail(parsed.error());
  if (Status ok = cluster::check_agent_csr(request.csr_pem(), parsed->host); !ok) {
    return fail(ok.error());
  }
  Result<std::string> host = tokens.redeem(request.token());
  if (!host) return fail(host.error());
  Result<std::string> cert = ca.sign_agent_csr(request.csr_pem(), *host);
  if (!cert) return fail(cert.error());
  v1::JoinReply reply;
  reply.set_host(*host);
  reply.set_cert_pem(*cert);
  reply.set_ca_cert_pem(ca.cert_pem());
  return reply;
}

grpc::Status JoinServiceImpl::Join(grpc::ServerContext* /*context*/, const v1::JoinRequest* request,
                                   v1::JoinReply* reply) {
  std::lock_guard lock(mu_);
  Result<v1::JoinReply> answer = answer_join(*request, tokens_, ca_);
  if (!answer) {
    if (answer.error().message.starts_with("join token refused")) {
      return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, answer.error().message);
    }
    return to_grpc_status(answer.error());
  }
  *reply = std::move(*answer);
  return grpc::Status::OK;
}

}  // namespace corral::wire
