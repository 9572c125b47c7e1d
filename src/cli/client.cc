#include "cli/client.h"

#include <fmt/core.h>
#include <httplib.h>

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
  if (error == httplib::Error::SSLConnection) return "TLS connection failed";
  if (error == httplib::Error::SSLServerVerification) return "TLS certificate not trusted";
  return httplib::to_string(error);
}

}  // namespace

CliResult<ServerUrl> parse_server_url(std::string_view url) {
  constexpr std::string_view kHttp = "http://";
  constexpr std::string_view kHttps = "https://";
  const std::string_view scheme = url.starts_with(kHttp)    ? kHttp
                                  : url.starts_with(kHttps) ? kHttps
                                                            : std::string_view();
  if (scheme.empty()) {
    return fail(usage_failure(fmt::format(
        "server URL '{}' must look like http://HOST[:PORT] (e.g. {})", url, kDefaultServer)));
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
  return ServerUrl{std::string(scheme) + std::string(authority), std::string(path)};
}

Client::Client(ServerUrl url, std::string display_url, std::string token)
    : url_(std::move(url)), display_url_(std::move(display_url)), token_(std::move(token)) {}

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
  httplib::Client http(url_.scheme_host_port);
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
  if (!result) return fail(unreachable_failure(display_url_, transport_error(result.error())));
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

CliResult<Client> make_client(std::string_view url, std::string token) {
  CliResult<ServerUrl> parsed = parse_server_url(url);
  if (!parsed) return fail(std::move(parsed.error()));
  return Client(std::move(*parsed), std::string(url), std::move(token));
}

}  // namespace corral::cli
