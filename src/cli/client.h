// Client: the HTTP side of every client command (API v1, JSON in and out).
//
// Contract: one request per call, with connection and read timeouts; a 2xx answer is its
// JSON body (null when empty); anything else is a Failure (client/failure.h): kRefused for
// an error answer, kUnreachable when the server does not answer or its TLS certificate does
// not verify. Paths are built by the caller from request.h (percent-encoded); nothing here
// touches a shell.
//
// https:// servers are verified against one CA certificate file (cli/trust.h says which),
// never the system's store: the server's certificate must chain to it, be valid now and name
// the URL's host (a DNS name or an IP address in its subjectAltName); TLS 1.2 at least.
// make_client() refuses an https:// URL whose CA file is missing, before anything is sent.
#pragma once

#include <httplib.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "cli/failure.h"

namespace corral::cli {

inline constexpr std::string_view kDefaultServer = "https://127.0.0.1:8780";
inline constexpr std::string_view kServerEnv = "CORRAL_URL";

// "http[s]://host[:port][/prefix]" split into what httplib wants and a path prefix.
struct ServerUrl {
  std::string scheme_host_port;  // "https://127.0.0.1:8780"
  std::string base_path;         // "" or "/prefix" (no trailing slash)
  bool tls = false;              // https://
};

// Usage failure for anything but http:// or https:// with a host and no query.
[[nodiscard]] CliResult<ServerUrl> parse_server_url(std::string_view url);

class Client {
 public:
  // `token`: sent as "Authorization: Bearer" with every request ("" : none). `ca_cert`: the
  // CA certificate file an https:// server is verified with.
  Client(ServerUrl url, std::string display_url, std::string token = {}, std::string ca_cert = {});

  [[nodiscard]] CliResult<nlohmann::json> get(std::string_view path) const;
  [[nodiscard]] CliResult<nlohmann::json> post(std::string_view path,
                                               const nlohmann::json& body) const;
  [[nodiscard]] CliResult<nlohmann::json> put(std::string_view path,
                                              const nlohmann::json& body) const;
  [[nodiscard]] CliResult<nlohmann::json> del(std::string_view path) const;
  [[nodiscard]] CliResult<nlohmann::json> patch(std::string_view path,
                                                const nlohmann::json& body) const;

  const std::string& url() const { return display_url_; }
  const std::string& token() const { return token_; }
  // The headers every request carries (Accept, User-Agent, Authorization).
  httplib::Headers headers() const;
  const ServerUrl& server_url() const { return url_; }
  const std::string& ca_cert() const { return ca_cert_; }
  // A connection to the server (verifying an https:// one as above), for a caller that needs
  // more than one request and reply (the console's stream). Never null.
  std::unique_ptr<httplib::Client> connect() const;
  // What a failed request on a connect()ed client says, in words (TLS failures name the CA).
  Failure transport_failure(const httplib::Client& http, httplib::Error error) const;

 private:
  enum class Method : std::uint8_t { kGet, kPost, kPut, kDelete, kPatch };
  CliResult<nlohmann::json> send(Method method, std::string_view path,
                                 const nlohmann::json* body) const;

  ServerUrl url_;
  std::string display_url_;
  std::string token_;
  std::string ca_cert_;
  std::chrono::seconds connect_timeout_{3};
  std::chrono::seconds read_timeout_{30};
};

// Parses `url` and makes a client for it; an https:// URL needs `ca_cert`, a readable file
// (a usage failure names it otherwise).
[[nodiscard]] CliResult<Client> make_client(std::string_view url, std::string token = {},
                                            std::string ca_cert = {});

}  // namespace corral::cli
