// TLS dials an agent makes outside gRPC, with OpenSSL: CA discovery before joining, and the
// diagnosis of a refused connection.
//
// CA discovery for an agent's first contact, the way kubeadm's discovery-token-ca-cert-hash
// works: the agent trusts nothing yet, so it opens a TLS connection to the controller without
// verifying it, takes the certificate chain the controller presents, and keeps the CA
// certificate whose SHA-256 equals the pin from its join token, only if that CA signed the
// controller's own certificate. Everything after that (the Join call, every Connect) verifies
// the controller against this CA alone.
//
// Contract: no data is sent beyond the TLS handshake (ALPN "h2", so a gRPC server completes
// it); the connection is closed before returning; the error names the address and the pin.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace corral::cluster {

// host: a name or an IP address; pin: "sha256:<hex>". Returns the CA certificate (PEM).
[[nodiscard]] Result<std::string> fetch_pinned_ca(const std::string& host, int port,
                                                  std::string_view pin, int timeout_ms = 10'000);

// Why a mutual-TLS connection to the controller fails, for a person: gRPC reports a client
// certificate the controller refused as "Socket closed" (under TLS 1.3 the client's handshake
// ends before the server judges its certificate, and the alert comes after). This handshake
// with the agent's identity, verified against its CA, then a short read for the alert, names
// the reason: the controller's certificate is not from the agent's CA, or the controller
// refused the agent's certificate (with OpenSSL's alert: "unknown ca", "certificate expired").
// Ok: the handshake and the controller's verdict passed (the failure is elsewhere).
[[nodiscard]] Status probe_client_certificate(const std::string& host, int port,
                                              const std::string& cert_pem,
                                              const std::string& key_pem, const std::string& ca_pem,
                                              int timeout_ms = 3'000);

}  // namespace corral::cluster
