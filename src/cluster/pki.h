// The cluster's PKI: one CA per controller data dir, a server certificate for the controller,
// and agent certificates signed from the agent's own CSR (the agent's private key never leaves
// its host).
//
// Contract:
// - CertificateAuthority::load_or_create(dir) creates, on the first start, an EC P-256 key
//   (ca.key, mode 0600) and a self-signed CA certificate (ca.crt) in `dir` (mode 0700), each
//   written atomically; later starts load them and check the key matches the certificate.
//   Exactly one of the two files present is an error (never silently replaced: agents trust it).
// - The controller's server certificate (server.key, server.crt) is issued by the CA on first
//   start for the names the caller gives (DNS names or IP addresses); reissued when missing,
//   not signed by this CA, expired, or lacking one of those names. Another server of the
//   controller (the API's HTTPS port) keeps its own pair the same way in a directory of its
//   own (created mode 0700), so neither's names make the other's certificate reissued.
// - sign_agent_csr() signs only a CSR whose own signature verifies, whose key is EC P-256 and
//   whose subject CN is the expected host; the certificate names the host as CN and DNS SAN, is
//   for client authentication only, and cannot sign certificates.
// - Validity is measured on the injected Clock (backdated 5 minutes for clock skew).
// - fingerprint() is "sha256:" + hex SHA-256 of the CA certificate's DER: what a join token
//   carries so an agent can pin the CA on first contact (kubeadm's discovery-token-ca-cert-hash).
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/result.h"

namespace corral::cluster {

struct CertAndKey {
  std::string cert_pem;
  std::string key_pem;
};

struct PkiOptions {
  std::string cluster_name = "corral";             // in the CA's subject
  Millis ca_validity_ms = 10LL * 365 * 86400'000;  // 10 years
  Millis leaf_validity_ms = 365LL * 86400'000;     // server and agent certificates: 1 year
};

class CertificateAuthority {
 public:
  [[nodiscard]] static Result<CertificateAuthority> load_or_create(const std::filesystem::path& dir,
                                                                   const Clock& clock,
                                                                   const PkiOptions& options = {});

  CertificateAuthority(CertificateAuthority&&) noexcept;
  CertificateAuthority& operator=(CertificateAuthority&&) noexcept;
  ~CertificateAuthority();

  const std::string& cert_pem() const;
  const std::string& fingerprint() const;

  // server.crt + server.key in the CA's dir, (re)issued as the contract says. `names`: DNS
  // names or IP addresses the agents dial (e.g. "localhost", "127.0.0.1", the host's name).
  [[nodiscard]] Result<CertAndKey> load_or_issue_server_cert(const std::vector<std::string>& names);
  // The same pair in `dir` instead of the CA's.
  [[nodiscard]] Result<CertAndKey> load_or_issue_server_cert_in(
      const std::filesystem::path& dir, const std::vector<std::string>& names);
  // Where ca.crt is: what a client of any of the controller's servers trusts.
  std::filesystem::path cert_path() const;

  // The agent certificate (PEM) for `host` from the agent's CSR (PEM).
  [[nodiscard]] Result<std::string> sign_agent_csr(std::string_view csr_pem, std::string_view host);

 private:
  struct Impl;
  explicit CertificateAuthority(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// What sign_agent_csr() checks before signing (a caller can check before spending a token).
[[nodiscard]] Status check_agent_csr(std::string_view csr_pem, std::string_view host);

// Host names a certificate may carry: 1-63 of [A-Za-z0-9._-], not starting with '.' or '-'.
bool valid_host_name(std::string_view host);

// Agent side: a new EC P-256 private key (PEM) and a CSR for `host` signed with it.
[[nodiscard]] Result<std::string> generate_private_key();
[[nodiscard]] Result<std::string> make_csr(std::string_view key_pem, std::string_view host);

// The pin of a CA certificate (PEM), as CertificateAuthority::fingerprint() computes it.
[[nodiscard]] Result<std::string> fingerprint_of(std::string_view cert_pem);
// The subject CN of a certificate (PEM).
[[nodiscard]] Result<std::string> common_name_of(std::string_view cert_pem);
// Whether `cert_pem` is signed by `ca_pem` and valid at `now` (a check, not a TLS handshake).
[[nodiscard]] Status verify_issued_by(std::string_view cert_pem, std::string_view ca_pem,
                                      Millis now);

}  // namespace corral::cluster
