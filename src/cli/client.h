// Client: the HTTP side of every client command (API v1, JSON in and out).
//
// Contract: one request per call, with connection and read timeouts; a 2xx answer is its
// JSON body (null when empty); anything else is a Failure (client/failure.h): kRefused for
// an error answer, kUnreachable when the server does not answer. Paths are built by the
// caller from request.h (percent-encoded); nothing here touches a shell.
#pragma once

#include <httplib.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "cli/failure.h"

namespace corral::cli {

inline constexpr std::string_view kDefaultServer = "http://127.0.0.1:8780";
inline constexpr std::string_view kServerEnv = "CORRAL_URL";

// "http[s]://host[:port][/prefix]" split into what httplib wants and a path prefix.
struct ServerUrl {
  std::string scheme_host_port;  // "http://127.0.0.1:8780"
  std::string base_path;         // "" or "/prefix" (no trailing slash)
};

// Usage failure for anything but http:// or https:// with a host and no query.
[[nodiscard]] CliResult<ServerUrl> parse_server_url(std::string_view url);

class Client {
 public:
  // `token`: sent as "Authorization: Bearer" with every request ("" : none).
  Client(ServerUrl url, std::string display_url, std::string token = {});

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

 private:
  enum class Method : std::uint8_t { kGet, kPost, kPut, kDelete, kPatch };
  CliResult<nlohmann::json> send(Method method, std::string_view path,
                                 const nlohmann::json* body) const;

  ServerUrl url_;
  std::string display_url_;
  std::string token_;
  std::chrono::seconds connect_timeout_{3};
  std::chrono::seconds read_timeout_{30};
};

// Parses `url` and makes a client for it.
[[nodiscard]] CliResult<Client> make_client(std::string_view url, std::string token = {});

}  // namespace corral::cli
