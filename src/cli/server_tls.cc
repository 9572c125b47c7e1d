#include "cli/server_tls.h"

#include <cstdio>

#include "cluster/server_names.h"
#include "daemon/address.h"

namespace corral::cli {

std::optional<std::string> plain_http_refusal(const std::string& host) {
  if (cluster::is_loopback_host(host)) return std::nullopt;
  return "--plain-http serves the API unencrypted (passwords and tokens in clear), so only on a "
         "loopback address (127.0.0.1, ::1 or localhost), not on " +
         host +
         "; drop --plain-http to serve HTTPS with a certificate from the cluster CA "
         "(<data-dir>/cluster/ca.crt)";
}

Result<api::TlsIdentity> issue_api_certificate(cluster::CertificateAuthority& ca,
                                               const std::filesystem::path& data_dir,
                                               const std::string& host) {
  Result<cluster::CertAndKey> pair =
      ca.load_or_issue_server_cert_in(data_dir / "api", cluster::server_cert_names({host}));
  if (!pair) {
    return fail(Error{pair.error().code,
                      "cannot issue the API's TLS certificate in " + (data_dir / "api").string() +
                          ": " + pair.error().message,
                      {},
                      {}});
  }
  return api::TlsIdentity{std::move(pair->cert_pem), std::move(pair->key_pem)};
}

std::string client_url(const std::string& scheme, const std::string& host, int port) {
  std::string dial = host;
  if (host == "0.0.0.0") dial = "127.0.0.1";
  if (host == "::") dial = "::1";
  return scheme + "://" + daemon::host_port_text(dial, port);
}

void print_tls_lines(const std::string& url, const std::filesystem::path& ca_path,
                     const std::string& data_dir) {
  std::printf(
      "corral: HTTPS with a certificate from the cluster CA %s (curl --cacert %s %s/healthz)\n",
      ca_path.c_str(), ca_path.c_str(), url.c_str());
  std::error_code ec;
  const std::filesystem::path absolute = std::filesystem::absolute(data_dir, ec).lexically_normal();
  // The CLI's default data dir is ./var (cli/trust.h), as the server's.
  const bool cli_default = std::filesystem::path(data_dir).lexically_normal() == "var";
  std::printf("corral: the CLI trusts that CA %swith CORRAL_DATA_DIR=%s or --ca-cert %s\n",
              cli_default ? "when run from this directory, elsewhere " : "", absolute.c_str(),
              (absolute / "cluster" / "ca.crt").c_str());
}

}  // namespace corral::cli
