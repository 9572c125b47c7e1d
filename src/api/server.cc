#include "api/server.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <exception>
#include <functional>
#include <string_view>
#include <system_error>
#include <thread>

#include "api/api_metrics.h"
#include "api/audit_request.h"
#include "api/handlers.h"
#include "api/policy.h"
#include "api/queries.h"
#include "api/rate_limit.h"
#include "api/raw_connection.h"
#include "api/requests.h"
#include "api/router.h"
#include "api/routes.h"
#include "api/tls.h"
#include "common/log.h"
#include "daemon/address.h"

namespace corral::api {

namespace {

using internal::Call;
using internal::Context;
using internal::Handler;
using internal::HandlerResult;
using internal::Reply;

// Each route's handler. No `default`: a RouteId without a handler fails the build.
Handler handler_for(RouteId id) {
  switch (id) {
    case RouteId::kCreateVm:
      return internal::create_vm;
    case RouteId::kListVms:
      return internal::list_vms;
    case RouteId::kGetVm:
      return internal::get_vm;
    case RouteId::kDeleteVm:
      return internal::delete_vm;
    case RouteId::kActOnVm:
      return internal::act_on_vm;
    case RouteId::kInstanceView:
      return internal::instance_view;
    case RouteId::kVmHistory:
      return internal::vm_history;
    case RouteId::kUpdateNic:
      return internal::update_nic;
    case RouteId::kLockVm:
      return internal::lock_vm;
    case RouteId::kUnlockVm:
      return internal::unlock_vm;
    case RouteId::kVmMigrations:
      return internal::vm_migrations;
    case RouteId::kListMigrations:
      return internal::list_migrations;
    case RouteId::kGetOperation:
      return internal::get_operation;
    case RouteId::kListHosts:
      return internal::list_hosts;
    case RouteId::kGetHost:
      return internal::get_host;
    case RouteId::kAddHost:
      return internal::add_host;
    case RouteId::kActOnHost:
      return internal::act_on_host;
    case RouteId::kDeleteHost:
      return internal::delete_host;
    case RouteId::kHostJoinToken:
      return internal::host_join_token;
    case RouteId::kListGroups:
      return internal::list_groups;
    case RouteId::kCreateGroup:
      return internal::create_group;
    case RouteId::kGetGroup:
      return internal::get_group;
    case RouteId::kDeleteGroup:
      return internal::delete_group;
    case RouteId::kListNetworks:
      return internal::list_networks;
    case RouteId::kCreateNetwork:
      return internal::create_network;
    case RouteId::kGetNetwork:
      return internal::get_network;
    case RouteId::kUpdateNetwork:
      return internal::update_network;
    case RouteId::kDeleteNetwork:
      return internal::delete_network;
    case RouteId::kListVolumes:
      return internal::list_volumes;
    case RouteId::kCreateVolume:
      return internal::create_volume;
    case RouteId::kGetVolume:
      return internal::get_volume;
    case RouteId::kActOnVolume:
      return internal::act_on_volume;
    case RouteId::kDeleteVolume:
      return internal::delete_volume;
    case RouteId::kListSecurityGroups:
      return internal::list_security_groups;
    case RouteId::kCreateSecurityGroup:
      return internal::create_security_group;
    case RouteId::kGetSecurityGroup:
      return internal::get_security_group;
    case RouteId::kSetSecurityGroupRules:
      return internal::set_security_group_rules;
    case RouteId::kAddSecurityGroupRule:
      return internal::add_security_group_rule;
    case RouteId::kDeleteSecurityGroupRule:
      return internal::delete_security_group_rule;
    case RouteId::kListResourceGroups:
      return internal::list_resource_groups;
    case RouteId::kPutResourceGroup:
      return internal::put_resource_group;
    case RouteId::kGetResourceGroup:
      return internal::get_resource_group;
    case RouteId::kDeleteResourceGroup:
      return internal::delete_resource_group;
    case RouteId::kDeleteSecurityGroup:
      return internal::delete_security_group;
    case RouteId::kListImages:
      return internal::list_images;
    case RouteId::kVmUsage:
      return internal::vm_usage;
    case RouteId::kConsoleLog:
      return internal::console_log;
    case RouteId::kConsoleStream:
      return internal::console_stream;
    case RouteId::kConsoleInput:
      return internal::console_input;
    case RouteId::kConsoleWebSocket:
      return internal::console_websocket;
    case RouteId::kGetStates:
      return internal::get_states;
    case RouteId::kStreamEvents:
      return internal::stream_events;
    case RouteId::kHealthz:
      return internal::healthz;
    case RouteId::kUsage:
      return internal::usage;
    case RouteId::kVmActions:
      return internal::vm_actions;
    case RouteId::kAudit:
      return internal::audit_log;
    case RouteId::kMetrics:
      return internal::metrics;
    case RouteId::kLogin:
      return internal::login;
    case RouteId::kWhoAmI:
      return internal::who_am_i;
    case RouteId::kLogout:
      return internal::logout;
    case RouteId::kListProjects:
      return internal::list_projects;
    case RouteId::kCreateProject:
      return internal::create_project;
    case RouteId::kGetProject:
      return internal::get_project;
    case RouteId::kUpdateProject:
      return internal::update_project;
    case RouteId::kDeleteProject:
      return internal::delete_project;
    case RouteId::kProjectMembers:
      return internal::project_members;
    case RouteId::kGrantRole:
      return internal::grant_role;
    case RouteId::kRevokeRole:
      return internal::revoke_role;
    case RouteId::kGetQuotas:
      return internal::get_quotas;
    case RouteId::kSetQuotas:
      return internal::set_quotas;
    case RouteId::kListUsers:
      return internal::list_users;
    case RouteId::kCreateUser:
      return internal::create_user;
    case RouteId::kGetUser:
      return internal::get_user;
    case RouteId::kUpdateUser:
      return internal::update_user;
    case RouteId::kDeleteUser:
      return internal::delete_user;
    case RouteId::kAddFault:
      return internal::add_fault;
    case RouteId::kListFaults:
      return internal::list_faults;
    case RouteId::kClearFaults:
      return internal::clear_faults;
    case RouteId::kRemoveFault:
      return internal::remove_fault;
    case RouteId::kExternalEvent:
      return internal::external_event;
  }
  std::abort();  // not a RouteId: route_id_of() only returns kRoutes' ids
}

constexpr const char* kJson = "application/json";
constexpr const char* kRequestIdHeader = "X-Request-Id";

std::string dump(const nlohmann::json& body) {
  // Invalid UTF-8 (from a decoded query string, say) is replaced, never thrown on.
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

// The message of the request's error, for the audit log (set by write_failure, cleared when
// a request starts).
thread_local std::string t_failure_message;
// The route's pattern, for the metrics' label ("unmatched" until dispatch finds one).
thread_local std::string_view t_route;

void write_failure(httplib::Response& res, const Failure& failure) {
  HttpError http = to_http(failure);
  if (const auto error = http.body.find("error"); error != http.body.end()) {
    t_failure_message = error->value("message", "");
  }
  res.status = http.status;
  for (const auto& [name, value] : http.headers) res.set_header(name.c_str(), value);
  res.set_content(dump(http.body), kJson);
}

// The library answered by itself (bad HTTP, body too large, no handler): the same JSON.
Error library_error(int status) {
  switch (status) {
    case 413:
      return Error{
          ErrorCode::kTooLarge,
          "the request body is larger than " + std::to_string(kMaxBodyBytes / 1024) + " KiB",
          {},
          {}};
    case 414:
      return Error{ErrorCode::kTooLarge, "the request URI is too long", {}, {}};
    case 404:
      return Error::not_found("no such endpoint");
    case 400:
      return Error::invalid_argument("malformed HTTP request");
    default:
      break;
  }
  if (status >= 500) return Error::internal("internal error (HTTP " + std::to_string(status) + ")");
  return Error::invalid_argument("request refused (HTTP " + std::to_string(status) + ")");
}

thread_local std::chrono::steady_clock::time_point t_started;

// The token of "Authorization: Bearer <token>" (RFC 6750; the scheme's case is free), or "".
std::string_view bearer_token(std::string_view header) {
  constexpr std::string_view kScheme = "bearer ";
  if (header.size() <= kScheme.size()) return {};
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    const char c = header[i];
    if ((c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c) != kScheme[i]) return {};
  }
  std::string_view token = header.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  return token;
}

// cpp-httplib 0.11 compresses a reply with Brotli whenever the client accepts it (browsers
// do), at quality 11: ~1.1 s for a 1,000-VM page of 1.5 MB where gzip takes 30 ms in all.
// Offering the library only the client's other encodings makes it use gzip.
void drop_brotli(httplib::Request& req) {
  const auto it = req.headers.find("Accept-Encoding");
  if (it == req.headers.end() || it->second.find("br") == std::string::npos) return;
  std::string kept;
  std::string_view rest = it->second;
  while (!rest.empty()) {
    const std::size_t comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    const std::string_view name = item.substr(0, item.find(';'));
    if (!item.empty() && name != "br") {
      if (!kept.empty()) kept += ", ";
      kept += item;
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  it->second = kept;
}

// The token in a Sec-WebSocket-Protocol list: "corral.console.v1, bearer.crl_abc" -> "crl_abc".
std::string_view bearer_subprotocol(std::string_view header) {
  constexpr std::string_view kPrefix = "bearer.";
  while (!header.empty()) {
    const std::size_t comma = header.find(',');
    std::string_view item = header.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.starts_with(kPrefix)) return item.substr(kPrefix.size());
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
  return {};
}

}  // namespace

struct Server::Impl {
  Impl(engine::Engine& e, driver::Driver& d, driver::sim::FaultInjector* faults,
       const ServerOptions& o)
      : options(o),
        events(o.event_queue_limit),
        local_host(d, faults),
        hosts(local_host),
        context{e, o.identity, hosts, events, options, stop_requested},
        http(make_http_server(o.tls, tls_error)),
        limiter(o.rate_limit, o.rate_burst),
        token_limiter(o.token_rate_limit, o.token_rate_burst),
        project_limiter(o.project_rate_limit, o.project_rate_burst) {
    hosts.set_remote(o.remote_hosts);
    if (o.metrics != nullptr) {
      api_metrics = std::make_unique<ApiMetrics>(*o.metrics, e, o.identity, o.audit);
    }
  }

  void dispatch(const httplib::Request& req, httplib::Response& res);
  FrontEnd* front_end_for(const std::string& path) const;
  void serve_front(FrontEnd& front, const httplib::Request& req, httplib::Response& res);
  void serve(RouteId id, Call& call);  // dispatch's work once the route is known
  // The token's and the project's buckets (not the cloud admin's): the refusal, if any.
  std::optional<Error> caller_limited(const auth::Principal& caller);
  Result<auth::Principal> authenticate(const httplib::Request& req) const;
  RateLimiter::Verdict admit(const httplib::Request& req);
  void configure();

  const ServerOptions options;
  EventHub events;
  driver::LocalHostServices local_host;  // the driver's own hosts (agent hosts: remote_hosts)
  driver::HostServicesRouter hosts;
  Context context;
  Router router;          // route i is kRoutes[i]
  std::string tls_error;  // why the TLS identity cannot be used ("" when it can, or no TLS)
  std::unique_ptr<httplib::Server> http;  // an httplib::SSLServer with options.tls
  std::atomic<int> listen_fd{-1};
  std::atomic<bool> stop_requested{false};
  std::atomic<bool> running{false};
  int subscription = -1;
  RateLimiter limiter;                      // per client address, before anything else
  RateLimiter token_limiter;                // per token, once the caller is known
  RateLimiter project_limiter;              // per project, likewise
  std::unique_ptr<ApiMetrics> api_metrics;  // nullptr: no registry given
};

RateLimiter::Verdict Server::Impl::admit(const httplib::Request& req) {
  if (!limiter.enabled() || req.path == "/healthz") return {};
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now().time_since_epoch());
  return limiter.admit(req.remote_addr, now.count());
}

std::optional<Error> Server::Impl::caller_limited(const auth::Principal& caller) {
  if (caller.cloud_admin()) return std::nullopt;
  const std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::steady_clock::now().time_since_epoch())
                               .count();
  const auto refusal = [](const RateLimiter& l, double burst, const std::string& whose,
                          std::int64_t retry_ms) {
    return Error{ErrorCode::kRateLimited,
                 "more than " + std::to_string(std::lround(l.per_second())) +
                     " requests a second (burst " + std::to_string(std::lround(burst)) + ") " +
                     whose + "; retry in " + std::to_string(retry_ms) + " ms",
                 {},
                 {}};
  };
  if (token_limiter.enabled()) {
    if (const RateLimiter::Verdict v = token_limiter.admit("t" + std::to_string(caller.token), now);
        !v.admitted) {
      return refusal(token_limiter, options.token_rate_burst, "with this token", v.retry_after_ms);
    }
  }
  if (project_limiter.enabled()) {
    if (const RateLimiter::Verdict v =
            project_limiter.admit("p" + std::to_string(caller.project), now);
        !v.admitted) {
      return refusal(project_limiter, options.project_rate_burst,
                     "in project " + caller.project_name, v.retry_after_ms);
    }
  }
  return std::nullopt;
}

Result<auth::Principal> Server::Impl::authenticate(const httplib::Request& req) const {
  if (options.no_auth) return *options.no_auth;
  const std::string authorization = req.get_header_value("Authorization");  // owns the text
  std::string_view token = bearer_token(authorization);
  const std::string keystone = req.get_header_value("X-Auth-Token");
  if (token.empty()) token = keystone;
  // A browser's WebSocket can send no header of its own: its token comes as a requested
  // subprotocol "bearer.<token>" (as Kubernetes does), which the handshake never echoes.
  const std::string protocols = req.get_header_value("Sec-WebSocket-Protocol");
  if (token.empty() && !protocols.empty()) token = bearer_subprotocol(protocols);
  if (options.identity == nullptr) {
    return fail(Error{ErrorCode::kUnauthenticated, "this server has no identity store", {}, {}});
  }
  return options.identity->authenticate(token);
}

void Server::Impl::dispatch(const httplib::Request& req, httplib::Response& res) {
  Router::Lookup route = router.match(req.method, req.path);
  if (std::holds_alternative<Router::NotFound>(route)) {
    write_failure(res, Error::not_found("no such endpoint: " + req.method + " " + req.path));
    audit_request(options.audit, req, res, nullptr, "", t_failure_message);
    return;
  }
  if (auto* wrong = std::get_if<Router::WrongMethod>(&route)) {
    write_failure(res, MethodNotAllowed{req.method, req.path, wrong->allowed});
    audit_request(options.audit, req, res, nullptr, "", t_failure_message);
    return;
  }
  Router::Match& match = std::get<Router::Match>(route);
  Call call{req, res, std::move(match.args), res.get_header_value(kRequestIdHeader)};
  const RouteId id = route_id_of(match.route);
  t_route = kRoutes[match.route].pattern;
  call.route = kRoutes[match.route].pattern;
  serve(id, call);
  if (!call.streaming) {
    audit_request(options.audit, req, res, &call, call.route, t_failure_message);
  }
}

FrontEnd* Server::Impl::front_end_for(const std::string& path) const {
  for (FrontEnd* front : options.front_ends) {
    for (const std::string& prefix : front->prefixes()) {
      if (path.starts_with(prefix) &&
          (path.size() == prefix.size() || path[prefix.size()] == '/')) {
        return front;
      }
    }
  }
  return nullptr;
}

namespace {

// The front end's v1 calls, made through dispatch() as if they came over HTTP from the same
// client with the same request id: authentication, policy, limits, audit and the engine are
// the ones every request meets.
class InProcessCaller final : public ApiCaller {
 public:
  using Dispatch = std::function<void(const httplib::Request&, httplib::Response&)>;
  InProcessCaller(const httplib::Request& outer, std::string request_id, Dispatch dispatch)
      : outer_(outer), request_id_(std::move(request_id)), dispatch_(std::move(dispatch)) {}

  InnerReply call(const InnerRequest& request) override {
    httplib::Request inner;
    inner.method = request.method;
    inner.path = request.path;
    inner.params = request.query;
    inner.remote_addr = outer_.remote_addr;
    inner.remote_port = outer_.remote_port;
    if (!request.body.is_null()) {
      inner.body = request.body.dump();
      inner.set_header("Content-Type", "application/json");
    }
    if (!request.token.empty()) inner.set_header("X-Auth-Token", request.token);
    httplib::Response res;
    res.set_header(kRequestIdHeader, request_id_);
    dispatch_(inner, res);
    InnerReply reply;
    reply.status = res.status;
    reply.body = nlohmann::json::parse(res.body, nullptr, false);
    if (reply.body.is_discarded()) reply.body = nullptr;
    return reply;
  }

 private:
  const httplib::Request& outer_;
  std::string request_id_;
  Dispatch dispatch_;
};

}  // namespace

void Server::Impl::serve_front(FrontEnd& front, const httplib::Request& req,
                               httplib::Response& res) {
  FrontRequest request;
  request.method = req.method;
  request.path = req.path;
  request.query = req.params;
  for (const auto& [name, value] : req.headers) {
    std::string lower = name;
    std::ranges::transform(lower, lower.begin(), [](unsigned char c) { return std::tolower(c); });
    request.headers.emplace(std::move(lower), value);
  }
  request.body = req.body;
  const std::string host = req.get_header_value("Host");
  request.base_url = std::string(options.tls ? "https" : "http") + "://" + host;
  InProcessCaller caller(
      req, res.get_header_value(kRequestIdHeader),
      [this](const httplib::Request& r, httplib::Response& s) { dispatch(r, s); });
  const FrontReply reply = front.handle(request, caller);
  t_route = "front end";
  res.status = reply.status;
  for (const auto& [name, value] : reply.headers) res.set_header(name, value);
  if (!reply.body.empty()) res.set_content(reply.body, reply.content_type.c_str());
}

void Server::Impl::serve(RouteId id, Call& call) {
  const httplib::Request& req = call.req;
  httplib::Response& res = call.res;
  const Need need = need_for_route(id);
  if (need.access != Access::kPublic) {
    Result<auth::Principal> caller = authenticate(req);
    if (!caller) {
      write_failure(res, caller.error());
      return;
    }
    call.caller = std::move(*caller);
    if (std::optional<Error> limited = caller_limited(*call.caller)) {
      write_failure(res, *limited);
      return;
    }
  }
  if (Status allowed = authorize(call.who(), need, req.method + " " + req.path); !allowed) {
    write_failure(res, allowed.error());
    return;
  }
  HandlerResult outcome;
  try {
    outcome = handler_for(id)(context, call);
  } catch (const std::exception& e) {
    outcome = std::unexpected(Failure(Error::internal(std::string("internal error: ") + e.what())));
  }
  if (!outcome) {
    write_failure(res, outcome.error());
    return;
  }
  if (outcome->streaming) {
    call.streaming = true;
    return;
  }
  res.status = outcome->status;
  if (!outcome->raw.empty()) {
    // set_content copies (httplib 0.11 takes a const&); a page of a list is a megabyte.
    res.body = std::move(outcome->raw);
    res.headers.erase("Content-Type");
    res.set_header("Content-Type",
                   outcome->content_type.empty() ? kJson : outcome->content_type.c_str());
    return;
  }
  res.set_content(dump(outcome->body), kJson);
}

void Server::Impl::configure() {
  for (const Route& r : kRoutes) router.add(std::string(r.method), r.pattern);
  const std::size_t threads = options.threads;
  http->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http->set_keep_alive_max_count(1'000'000);
  http->set_keep_alive_timeout(options.keep_alive_timeout_s);
  http->set_payload_max_length(kMaxBodyBytes);
  http->set_tcp_nodelay(true);
  // SO_REUSEADDR only: the library's default adds SO_REUSEPORT, which would let a second
  // server bind the same port silently instead of failing "address in use".
  http->set_socket_options([this](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    listen_fd = sock;
  });

  // Before the body is read: unknown routes and wrong methods are answered here, for every
  // method (the library refuses a PUT without a body, or TRACE, before any handler).
  http->set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    t_started = std::chrono::steady_clock::now();
    // The library's own Request (not a const object: it is only handed out as const).
    drop_brotli(
        const_cast<httplib::Request&>(req));  // NOLINT(cppcoreguidelines-pro-type-const-cast)
    t_failure_message.clear();
    t_route = "unmatched";
    res.set_header(kRequestIdHeader, request_id_for(req.get_header_value(kRequestIdHeader)));
    if (const RateLimiter::Verdict verdict = admit(req); !verdict.admitted) {
      write_failure(res, Error{ErrorCode::kRateLimited,
                               "more than " + std::to_string(std::lround(options.rate_limit)) +
                                   " requests a second (burst " +
                                   std::to_string(std::lround(options.rate_burst)) + ") from " +
                                   req.remote_addr + "; retry in " +
                                   std::to_string(verdict.retry_after_ms) + " ms",
                               {},
                               {}});
      audit_request(options.audit, req, res, nullptr, "", t_failure_message);
    } else if (front_end_for(req.path) != nullptr ||
               std::holds_alternative<Router::Match>(router.match(req.method, req.path))) {
      return httplib::Server::HandlerResponse::Unhandled;
    } else {
      dispatch(req, res);
    }
    // The body, if any, was not read: the connection cannot carry another request.
    if (req.has_header("Content-Length") || req.has_header("Transfer-Encoding")) {
      res.set_header("Connection", "close");
    }
    return httplib::Server::HandlerResponse::Handled;
  });
  const auto handle = [this](const httplib::Request& req, httplib::Response& res) {
    if (FrontEnd* front = front_end_for(req.path)) {
      serve_front(*front, req, res);
      return;
    }
    dispatch(req, res);
  };
  http->Get(".*", handle);
  http->Post(".*", handle);
  http->Put(".*", handle);
  http->Patch(".*", handle);
  http->Delete(".*", handle);
  http->Options(".*", handle);
  http->set_error_handler(httplib::Server::HandlerWithResponse(
      [](const httplib::Request& /*req*/, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;  // ours
        write_failure(res, library_error(res.status));
        return httplib::Server::HandlerResponse::Handled;
      }));
  http->set_exception_handler([](const httplib::Request& /*req*/, httplib::Response& res,
                                 const std::exception_ptr& /*ep*/) {
    write_failure(res, Error::internal("internal error"));
  });
  http->set_post_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (!res.has_header(kRequestIdHeader)) {
      res.set_header(kRequestIdHeader, request_id_for(req.get_header_value(kRequestIdHeader)));
    }
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                        std::chrono::steady_clock::now() - t_started)
                        .count();
    if (api_metrics) {
      api_metrics->observe(t_route.empty() ? "unmatched" : t_route, req.method, res.status,
                           static_cast<double>(us) / 1e6);
    }
    const bool failed = res.status >= 500;
    if (!failed && !log_enabled(LogLevel::kDebug)) return;
    const std::string status = std::to_string(res.status);
    const std::string ms = std::to_string(us / 1000) + "." + std::to_string(us / 100 % 10);
    log(failed ? LogLevel::kWarn : LogLevel::kDebug, "request",
        {{"method", req.method},
         {"path", req.path},
         {"status", status},
         {"ms", ms},
         {"request_id", res.get_header_value(kRequestIdHeader)},
         {"remote", req.remote_addr}});
  });
}

Server::Server(engine::Engine& engine, driver::Driver& driver, driver::sim::FaultInjector* faults,
               const ServerOptions& options)
    : impl_(std::make_unique<Impl>(engine, driver, faults, options)) {
  impl_->configure();
  EventHub* hub = &impl_->events;
  impl_->subscription =
      engine.subscribe([hub](const std::vector<engine::Event>& events) { hub->publish(events); });
}

Server::~Server() {
  stop();
  impl_->context.engine.unsubscribe(impl_->subscription);
}

Status Server::bind(const std::string& host, int port) {
  const std::string address = daemon::host_port_text(host, port);
  if (!impl_->http->is_valid()) {
    return fail(
        Error::invalid_argument("cannot serve HTTPS on " + address + ": " + impl_->tls_error));
  }
  errno = 0;
  bool bound = false;
  if (port == 0) {
    bound = impl_->http->bind_to_any_port(host) > 0;
  } else {
    bound = impl_->http->bind_to_port(host, port);
  }
  if (!bound) {
    const int err = errno;
    std::string why = err == 0 ? std::string("the address cannot be used")
                               : std::error_code(err, std::generic_category()).message();
    if (err == EADDRINUSE) why = "the address is already in use (another corral server?)";
    return fail(Error{ErrorCode::kUnavailable, "cannot listen on " + address + ": " + why, {}, {}});
  }
  // The library listens with a backlog of 5; let bursts of new connections queue instead.
  if (const int fd = impl_->listen_fd; fd >= 0) ::listen(fd, 1024);
  return {};
}

int Server::port() const {
  const int fd = impl_->listen_fd;
  if (fd < 0) return 0;
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 0;
  if (addr.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  if (addr.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
  return 0;
}

const char* Server::scheme() const { return impl_->options.tls ? "https" : "http"; }

Status Server::run() {
  impl_->running = true;
  if (impl_->stop_requested) {
    impl_->running = false;
    return {};
  }
  const bool ok = impl_->http->listen_after_bind();
  impl_->running = false;
  if (!ok && !impl_->stop_requested) {
    return fail(Error{ErrorCode::kUnavailable, "the listening socket failed", {}, {}});
  }
  return {};
}

void Server::stop() {
  impl_->stop_requested = true;
  impl_->events.close();
  // run() may be between its check and the library's loop: wait for the loop to start so
  // the stop below reaches it (the library ignores stop() before it runs).
  for (int i = 0; i < 200 && impl_->running && !impl_->http->is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const int bound = port();  // before the library closes the listening socket
  impl_->http->stop();
  // The library's stop waits for every connection's thread, and an idle keep-alive
  // connection's thread waits for its next request up to keep_alive_timeout_s: end them now.
  if (bound > 0) shut_reads_of_connections(bound);
}

}  // namespace corral::api
