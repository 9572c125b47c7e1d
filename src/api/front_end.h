// A compatibility front end (another cloud's API, e.g. compat/openstack) served by the API
// server on the same port under its own path prefix. It sits beside the v1 handlers, never
// below them: it translates its requests into v1 calls made in-process (ApiCaller), which go
// through the same authentication, policy, rate limits, audit and engine as requests over
// HTTP, so there is no second state machine, store or permission check. It answers directly
// only what has no v1 equivalent (version documents, a catalog).
//
// Contract:
// - prefixes() are path prefixes starting with '/' ("/compute"); a request whose path is one
//   or starts with one + "/" goes to handle(), whatever its method, after the per-address rate
//   limit. They must not overlap the v1 routes.
// - handle() runs on the HTTP thread pool, concurrently; it must not throw (an exception is
//   answered 500 by the server).
// - ApiCaller::call is synchronous and thread-safe; the reply's body is the v1 JSON.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace corral::api {

// A v1 request made in-process on behalf of the front end's caller.
struct InnerRequest {
  std::string method;                             // "GET", "POST", ...
  std::string path;                               // "/v1/vms/3/actions"
  std::multimap<std::string, std::string> query;  // decoded parameters
  nlohmann::json body = nullptr;                  // null: no body
  std::string token;                              // the caller's (may be empty)
};

struct InnerReply {
  int status = 0;
  nlohmann::json body;  // the v1 reply (an {"error": ...} object for a failure)
};

class ApiCaller {
 public:
  virtual ~ApiCaller() = default;
  virtual InnerReply call(const InnerRequest& request) = 0;
};

struct FrontRequest {
  std::string method;
  std::string path;  // the whole path, prefix included
  std::multimap<std::string, std::string> query;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string base_url;  // "http://HOST:PORT" as the client reached this server
  std::string header(const std::string& lower_name) const {
    const auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

struct FrontReply {
  int status = 200;
  std::string body;  // empty: no body
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
};

// A path's segments after `prefix`, empty ones dropped ("/compute/v2.1/servers/" after
// "/compute" -> {"v2.1", "servers"}): how the front ends read their paths.
inline std::vector<std::string> path_segments(const std::string& path, const std::string& prefix) {
  std::vector<std::string> out;
  std::size_t at = prefix.size();
  while (at < path.size()) {
    const std::size_t slash = path.find('/', at);
    const std::size_t end = slash == std::string::npos ? path.size() : slash;
    if (end > at) out.push_back(path.substr(at, end - at));
    at = end + 1;
  }
  return out;
}

class FrontEnd {
 public:
  virtual ~FrontEnd() = default;
  virtual std::vector<std::string> prefixes() const = 0;
  virtual FrontReply handle(const FrontRequest& request, ApiCaller& api) = 0;
};

}  // namespace corral::api
