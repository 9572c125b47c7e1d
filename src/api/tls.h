// The API's listening server: plain HTTP, or HTTPS with the certificate the server command
// issued from the cluster CA (cli/api_tls.h).
//
// Contract:
// - make_http_server(nullopt) is a plain httplib::Server; with a TlsIdentity it is an
//   httplib::SSLServer that accepts TLS 1.2 and 1.3 only (a TLS 1.1 client gets a
//   protocol_version alert), without compression or renegotiation, presenting `cert_pem`
//   (the leaf first; any further certificates are sent as its chain) with `key_pem`.
// - A certificate or key that cannot be used (not PEM, not matching) leaves the server
//   invalid (is_valid() false) and `error` says why: Server::bind() reports it, so nothing
//   listens with a broken identity.
// - No client certificate is asked for: callers authenticate with tokens (auth/identity.h).
#pragma once

#include <httplib.h>

#include <memory>
#include <optional>
#include <string>

#include "api/server.h"

namespace corral::api {

std::unique_ptr<httplib::Server> make_http_server(const std::optional<TlsIdentity>& tls,
                                                  std::string& error);

}  // namespace corral::api
