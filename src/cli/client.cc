#include "cli/client.h"

#include <fmt/core.h>
#include <httplib.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <cctype>
#include <utility>

namespace corral::cli {
namespace {

constexpr std::string_view kUserAgent = "corral-cli/0.1";

bool valid_host_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '-' || c == '_' ||
         c == ':' || c == '[' || c == ']';
}

// What went wrong on the wire, in words (httplib's names are terse: "Connection").
std::string transport_error(httplib::Error error) {
  if (error == httplib::Error::Connection) return "connection refused or failed";
  if (error == httplib::Error::ConnectionTimeout) return "timed out connecting";
  if (error == httplib::Error::Read) return "no answer (read failed or timed out)";
  if (error == httplib::Error::Write) return "could not send the request";
  return httplib::to_string(error);
}

// Where the CA file and the URL's scheme are both worth checking.
std::string tls_hint(const std::string& ca_cert) {
  return fmt::format(
      "the CLI trusts the CA in {} (--ca-cert FILE, CORRAL_CA_CERT, or CORRAL_DATA_DIR=<the "
      "server's data dir>: its cluster/ca.crt); a server started with --plain-http serves "
      "http:// instead",
      ca_cert);
}

}  // namespace

CliResult<ServerUrl> parse_server_url(std::string_view url) {
  constexpr std::string_view kHttp = "http://";
  constexpr std::string_view kHttps = "https://";
  const std::string_view scheme = url.starts_with(kHttp)    ? kHttp
                                  : url.starts_with(kHttps) ? kHttps
                                                            : std::string_view();
  if (scheme.empty()) {
    return fail(usage_failure(
        fmt::format("server URL '{}' must look like https://HOST[:PORT] or http://HOST[:PORT] "
                    "(e.g. {})",
                    url, kDefaultServer)));
  }
  std::string_view rest = url.substr(scheme.size());
  const std::size_t slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
  while (path.ends_with('/')) path.remove_suffix(1);
  if (authority.empty() || authority.starts_with(':')) {
    return fail(usage_failure(fmt::format("server URL '{}' has no host", url)));
  }
  for (char c : authority) {
    if (!valid_host_char(c)) {
      return fail(usage_failure(fmt::format("server URL '{}': bad character in host", url)));
    }
  }
  if (path.find_first_of("?#") != std::string_view::npos) {
    return fail(usage_failure(fmt::format("server URL '{}' must not carry a query", url)));
  }
  return ServerUrl{std::string(scheme) + std::string(authority), std::string(path),
                   scheme == kHttps};
}

Client::Client(ServerUrl url, std::string display_url, std::string token, std::string ca_cert)
    : url_(std::move(url)),
      display_url_(std::move(display_url)),
      token_(std::move(token)),
      ca_cert_(std::move(ca_cert)) {}

std::unique_ptr<httplib::Client> Client::connect() const {
  auto http = std::make_unique<httplib::Client>(url_.scheme_host_port);
  if (url_.tls) {
    // Only the cluster's CA: a certificate from any public CA naming this host is not the
    // controller's.
    http->enable_server_certificate_verification(true);
    http->set_ca_cert_path(ca_cert_);
    if (SSL_CTX* ctx = http->ssl_context(); ctx != nullptr) {
      SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    }
  }
  return http;
}

Failure Client::transport_failure(const httplib::Client& http, httplib::Error error) const {
  switch (error) {
    case httplib::Error::SSLConnection:
      return unreachable_failure(display_url_, "the TLS handshake failed (not an HTTPS server?)",
                                 tls_hint(ca_cert_));
    case httplib::Error::SSLLoadingCerts:
      return unreachable_failure(display_url_,
                                 fmt::format("cannot load the CA certificate {}", ca_cert_),
                                 tls_hint(ca_cert_));
    case httplib::Error::SSLServerVerification: {
      // The chain is checked first, then the host: a chain that verified means the name did not.
      const long result = http.get_openssl_verify_result();
      const std::string why =
          result != X509_V_OK
              ? fmt::format("the server's TLS certificate does not verify against the CA {}: {}",
                            ca_cert_, X509_verify_cert_error_string(result))
              : fmt::format("the server's TLS certificate does not name the host in {}",
                            display_url_);
      return unreachable_failure(display_url_, why, tls_hint(ca_cert_));
    }
    case httplib::Error::Read:
      if (!url_.tls) {
        // An HTTPS server drops a plain request without a word.
        return unreachable_failure(display_url_, transport_error(error),
                                   "is `corral server` running? It serves https:// unless "
                                   "started with --plain-http");
      }
      return unreachable_failure(display_url_, transport_error(error));
    default:
      return unreachable_failure(display_url_, transport_error(error));
  }
}

httplib::Headers Client::headers() const {
  httplib::Headers headers = {{"Accept", "application/json"},
                              {"User-Agent", std::string(kUserAgent)}};
  if (!token_.empty()) headers.emplace("Authorization", "Bearer " + token_);
  return headers;
}

CliResult<nlohmann::json> Client::get(std::string_view path) const {
  return send(Method::kGet, path, nullptr);
}

CliResult<nlohmann::json> Client::post(std::string_view path, const nlohmann::json& body) const {
  return send(Method::kPost, path, &body);
}

CliResult<nlohmann::json> Client::put(std::string_view path, const nlohmann::json& body) const {
  return send(Method::kPut, path, &body);
}

CliResult<nlohmann::json> Client::del(std::string_view path) const {
  return send(Method::kDelete, path, nullptr);
}

CliResult<nlohmann::json> Client::patch(std::string_view path, const nlohmann::json& body) const {
  return send(Method::kPatch, path, &body);
}

CliResult<nlohmann::json> Client::send(Method method, std::string_view path,
                                       const nlohmann::json* body) const {
  const std::unique_ptr<httplib::Client> connection = connect();
  httplib::Client& http = *connection;
  if (!http.is_valid()) {
    return fail(usage_failure(fmt::format("server URL '{}' is not usable", display_url_)));
  }
  http.set_connection_timeout(connect_timeout_);
  http.set_read_timeout(read_timeout_);
  http.set_write_timeout(read_timeout_);
  const httplib::Headers headers = this->headers();
  const std::string full_path = url_.base_path + std::string(path);
  httplib::Result result = [&] {
    switch (method) {
      case Method::kGet:
        return http.Get(full_path, headers);
      case Method::kPost:
        return http.Post(full_path, headers, body->dump(), "application/json");
      case Method::kPut:
        return http.Put(full_path, headers, body->dump(), "application/json");
      case Method::kDelete:
        return http.Delete(full_path, headers);
      case Method::kPatch:
        return http.Patch(full_path, headers, body->dump(), "application/json");
    }
    return http.Get(full_path, headers);
  }();
  if (!result) return fail(transport_failure(http, result.error()));
  const httplib::Response& response = *result;
  if (response.status < 200 || response.status >= 300) {
    return fail(api_failure(response.status, response.body));
  }
  if (response.body.empty()) return nlohmann::json();
  nlohmann::json parsed = nlohmann::json::parse(response.body, nullptr, false);
  if (parsed.is_discarded()) {
    Failure failure;
    failure.kind = FailureKind::kRefused;
    failure.http_status = response.status;
    failure.error = Error::internal(
        fmt::format("the server answered HTTP {} with a body that is not JSON", response.status));
    return fail(std::move(failure));
  }
  return parsed;
}

CliResult<Client> make_client(std::string_view url, std::string token, std::string ca_cert) {
  CliResult<ServerUrl> parsed = parse_server_url(url);
  if (!parsed) return fail(std::move(parsed.error()));
  if (parsed->tls && (ca_cert.empty() || ::access(ca_cert.c_str(), R_OK) != 0)) {
    return fail(usage_failure(fmt::format(
        "{} is HTTPS, and there is no CA certificate to verify it with{}: give the server's CA "
        "(its <data dir>/cluster/ca.crt) with --ca-cert FILE or CORRAL_CA_CERT, or set "
        "CORRAL_DATA_DIR to the server's data dir",
        url, ca_cert.empty() ? std::string() : fmt::format(" ({} cannot be read)", ca_cert))));
  }
  return Client(std::move(*parsed), std::string(url), std::move(token), std::move(ca_cert));
}

}  // namespace corral::cli
