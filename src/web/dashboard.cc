#include "web/dashboard.h"

#include <nlohmann/json.hpp>
#include <string_view>

#include "web/assets.h"

namespace corral::web {
namespace {

using nlohmann::json;

// Scripts, styles, fonts, images and connections (fetch, the event stream, the console's
// WebSocket) from this origin only. Styles may be inline: xterm.js sizes its rows with them.
constexpr std::string_view kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' "
    "data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

api::FrontReply error_reply(int status, std::string_view code, std::string_view message) {
  api::FrontReply reply;
  reply.status = status;
  reply.body = json{{"error", {{"code", code}, {"message", message}}}}.dump();
  return reply;
}

void add_common_headers(api::FrontReply& reply) {
  reply.headers.emplace_back("Content-Security-Policy", std::string(kContentSecurityPolicy));
  reply.headers.emplace_back("X-Content-Type-Options", "nosniff");
  reply.headers.emplace_back("X-Frame-Options", "DENY");
  reply.headers.emplace_back("Referrer-Policy", "no-referrer");
}

}  // namespace

std::vector<std::string> DashboardFrontEnd::prefixes() const { return {"/", "/ui"}; }

api::FrontReply DashboardFrontEnd::handle(const api::FrontRequest& request,
                                          api::ApiCaller& /*api*/) {
  api::FrontReply reply;
  if (request.method != "GET" && request.method != "HEAD") {
    reply = error_reply(405, "method_not_allowed",
                        request.method + " " + request.path.substr(0, 256) +
                            " is not allowed: the dashboard's files are read with GET");
    reply.headers.emplace_back("Allow", "GET, HEAD");
    add_common_headers(reply);
    return reply;
  }
  std::string_view name;
  if (request.path == "/") {
    name = "index.html";
  } else if (request.path == "/ui" || request.path == "/ui/") {
    reply.status = 302;
    reply.headers.emplace_back("Location", "/");
    add_common_headers(reply);
    return reply;
  } else {
    name = std::string_view(request.path).substr(std::string_view("/ui/").size());
  }
  const Asset* asset = find_asset(name);
  if (asset == nullptr) {
    reply =
        error_reply(404, "not_found", "the dashboard has no file " + request.path.substr(0, 256));
    add_common_headers(reply);
    return reply;
  }
  add_common_headers(reply);
  reply.headers.emplace_back("ETag", std::string(asset->etag));
  // Always revalidated (a 304 when unchanged): a new build is seen at once, never mixed
  // with an old one's files.
  reply.headers.emplace_back("Cache-Control", "no-cache");
  if (request.header("if-none-match") == asset->etag) {
    reply.status = 304;
    return reply;
  }
  reply.status = 200;
  reply.content_type = std::string(asset->content_type);
  reply.body = std::string(asset->body);
  return reply;
}

const Asset* find_asset(std::string_view path) {
  for (const Asset& asset : dashboard_assets()) {
    if (asset.path == path) return &asset;
  }
  return nullptr;
}

}  // namespace corral::web
