#include "transfer/tls.h"

#include <grpcpp/security/credentials.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_certificate_verifier.h>
#include <grpcpp/security/tls_credentials_options.h>

#include "cluster/pki.h"
#include "common/clock.h"

namespace corral::transfer {

namespace {

namespace gx = grpc::experimental;

// The server's certificate check, done here instead of by OpenSSL's chain verification: agent
// certificates are issued for client authentication only (cluster/pki.h), and OpenSSL refuses
// such a certificate from a TLS server ("unsupported certificate purpose"). What the check
// keeps: signed by the cluster CA, valid now, CN = the host the caller expects. That the server
// holds the certificate's key is proved by the TLS handshake itself (its signature), which
// gRPC verifies whatever this check says.
class AgentServerVerifier final : public gx::ExternalCertificateVerifier {
 public:
  AgentServerVerifier(std::string ca_pem, std::string host, std::shared_ptr<RefusalNote> note)
      : ca_pem_(std::move(ca_pem)), host_(std::move(host)), note_(std::move(note)) {}

  bool Verify(gx::TlsCustomVerificationCheckRequest* request,
              std::function<void(grpc::Status)> /*callback*/, grpc::Status* sync_status) override {
    const std::string leaf(request->peer_cert().data(), request->peer_cert().size());
    std::string why;
    if (leaf.empty()) {
      why = "the agent at that address presented no certificate";
    } else if (Status ok = cluster::verify_issued_by(leaf, ca_pem_, SystemClock().now_ms()); !ok) {
      why =
          "the agent at that address has a certificate this cluster did not issue or that is "
          "not valid now: " +
          ok.error().message;
    } else if (Result<std::string> cn = cluster::common_name_of(leaf); !cn || *cn != host_) {
      why = "the agent at that address is \"" + (cn ? *cn : std::string("?")) + "\", not \"" +
            host_ + "\"";
    }
    if (why.empty()) {
      *sync_status = grpc::Status::OK;
    } else {
      if (note_) note_->set(why);
      *sync_status = grpc::Status(grpc::StatusCode::UNAUTHENTICATED, why);
    }
    return true;
  }

  void Cancel(gx::TlsCustomVerificationCheckRequest* /*request*/) override {}

 private:
  std::string ca_pem_;
  std::string host_;
  std::shared_ptr<RefusalNote> note_;
};

}  // namespace

std::shared_ptr<grpc::ServerCredentials> server_credentials(const wire::AgentIdentity& id) {
  return wire::agent_port_credentials(wire::ControllerTls{id.cert_pem, id.key_pem, id.ca_pem});
}

void RefusalNote::set(std::string why) {
  std::lock_guard lock(mu_);
  why_ = std::move(why);
}

std::string RefusalNote::get() const {
  std::lock_guard lock(mu_);
  return why_;
}

std::shared_ptr<grpc::ChannelCredentials> channel_credentials(const wire::AgentIdentity& id,
                                                              const std::string& expected_host,
                                                              std::shared_ptr<RefusalNote> why) {
  auto provider = std::make_shared<gx::StaticDataCertificateProvider>(
      id.ca_pem, std::vector<gx::IdentityKeyCertPair>{{id.key_pem, id.cert_pem}});
  gx::TlsChannelCredentialsOptions options;
  options.set_certificate_provider(provider);
  options.watch_root_certs();
  options.watch_identity_key_cert_pairs();
  // The chain, validity and name are checked by AgentServerVerifier (see there why).
  options.set_verify_server_certs(false);
  options.set_check_call_host(false);
  options.set_certificate_verifier(gx::ExternalCertificateVerifier::Create<AgentServerVerifier>(
      id.ca_pem, expected_host, std::move(why)));
  return gx::TlsCredentials(options);
}

}  // namespace corral::transfer
