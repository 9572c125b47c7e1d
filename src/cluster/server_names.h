// Who can reach a listening address, and the names a server certificate for it must carry —
// shared by the cluster's agent and join ports and the API's HTTPS port.
//
// Contract:
// - is_wildcard_host(): "0.0.0.0" and "::" (every address of this machine).
// - is_loopback_host(): "localhost", 127.0.0.0/8, "::1" (and its IPv4-mapped form
//   ::ffff:127.x.x.x): only this machine can connect. Decided on the text alone, no resolver:
//   a flag's loopback-only rule must not depend on what DNS says today.
// - server_cert_names(hosts): "localhost", "127.0.0.1", "::1", then each host given that is
//   not a wildcard, then (when one is a wildcard) every address of this machine that is not
//   link-local, then this machine's host name if a certificate can carry it; no name twice.
//   The first is "localhost" (the certificate's CN); clients check the SAN list.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace corral::cluster {

bool is_wildcard_host(std::string_view host);
bool is_loopback_host(std::string_view host);

// This machine's IPv4 and IPv6 addresses (not link-local: a certificate cannot name a scope).
std::vector<std::string> local_addresses();

std::vector<std::string> server_cert_names(const std::vector<std::string>& hosts);

}  // namespace corral::cluster
