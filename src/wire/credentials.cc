#include "wire/credentials.h"

#include <grpc/grpc_security_constants.h>

namespace corral::wire {

namespace {

grpc::SslServerCredentialsOptions server_options(const ControllerTls& tls,
                                                 grpc_ssl_client_certificate_request_type request) {
  grpc::SslServerCredentialsOptions options(request);
  options.pem_root_certs = tls.ca_pem;
  // The CA rides in the chain so a joining agent can find it by its pin.
  options.pem_key_cert_pairs.push_back({tls.key_pem, tls.cert_pem + tls.ca_pem});
  return options;
}

}  // namespace

std::shared_ptr<grpc::ServerCredentials> agent_port_credentials(const ControllerTls& tls) {
  return grpc::SslServerCredentials(
      server_options(tls, GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY));
}

std::shared_ptr<grpc::ServerCredentials> join_port_credentials(const ControllerTls& tls) {
  return grpc::SslServerCredentials(server_options(tls, GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE));
}

std::shared_ptr<grpc::ChannelCredentials> agent_channel_credentials(const AgentIdentity& id) {
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = id.ca_pem;
  options.pem_private_key = id.key_pem;
  options.pem_cert_chain = id.cert_pem;
  return grpc::SslCredentials(options);
}

std::shared_ptr<grpc::ChannelCredentials> join_channel_credentials(const std::string& ca_pem) {
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = ca_pem;
  return grpc::SslCredentials(options);
}

std::string peer_host(const grpc::ServerContext& context) {
  const std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (!auth || !auth->IsPeerAuthenticated()) return "";
  const std::vector<grpc::string_ref> names = auth->FindPropertyValues(GRPC_X509_CN_PROPERTY_NAME);
  if (names.size() != 1) return "";
  return std::string(names[0].data(), names[0].size());
}

}  // namespace corral::wire
