// `corral server`'s HTTPS (issue 14): the API is served over TLS with a certificate from the
// cluster CA, or over plain HTTP only on a loopback address, when asked (--plain-http).
//
// Contract:
// - plain_http_refusal(host): nullopt when `host` is a loopback address
//   (cluster/server_names.h); otherwise the usage message that refuses --plain-http on it: an
//   unencrypted API would carry passwords and tokens across the network.
// - issue_api_certificate(): <data dir>/api/server.crt and server.key (0600, dir 0700), issued
//   by the cluster CA for the bind host, localhost, 127.0.0.1, ::1 and this machine's name (and
//   its addresses when the host is a wildcard); reused while valid and naming them all.
// - client_url(): the URL a client on this machine dials for a server bound to host:port (a
//   wildcard is reached through the loopback of its family).
// - print_tls_lines(): the start-up lines that say where the CA is and how to use it.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "api/server.h"
#include "cluster/pki.h"
#include "common/result.h"

namespace corral::cli {

std::optional<std::string> plain_http_refusal(const std::string& host);

[[nodiscard]] Result<api::TlsIdentity> issue_api_certificate(cluster::CertificateAuthority& ca,
                                                             const std::filesystem::path& data_dir,
                                                             const std::string& host);

std::string client_url(const std::string& scheme, const std::string& host, int port);

void print_tls_lines(const std::string& url, const std::filesystem::path& ca_path,
                     const std::string& data_dir);

}  // namespace corral::cli
