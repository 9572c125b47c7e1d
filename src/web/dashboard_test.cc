// The dashboard's front end: what it serves for each path and method, from the assets
// compiled in (a real build of web/).
#include "web/dashboard.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "web/assets.h"

namespace corral::web {
namespace {

class NoApi : public api::ApiCaller {
 public:
  api::InnerReply call(const api::InnerRequest& /*request*/) override {
    ADD_FAILURE() << "the dashboard's files need no API call";
    return {};
  }
};

api::FrontReply serve(const std::string& method, const std::string& path,
                      const std::string& if_none_match = "") {
  DashboardFrontEnd front;
  NoApi api;
  api::FrontRequest request;
  request.method = method;
  request.path = path;
  if (!if_none_match.empty()) request.headers["if-none-match"] = if_none_match;
  return front.handle(request, api);
}

std::string header(const api::FrontReply& reply, const std::string& name) {
  for (const auto& [k, v] : reply.headers) {
    if (k == name) return v;
  }
  return {};
}

TEST(DashboardAssets, TheBuildEmbedsThePageItsScriptAndItsStyles) {
  for (const char* name : {"index.html", "app.js", "app.css", "favicon.svg"}) {
    const Asset* asset = find_asset(name);
    ASSERT_NE(asset, nullptr) << name;
    EXPECT_GT(asset->body.size(), 100U) << name;
    EXPECT_EQ(asset->etag.front(), '"');
  }
  const std::string page(find_asset("index.html")->body);
  // The page names its files with their hashes, so a browser never mixes two builds.
  EXPECT_NE(page.find("/ui/app.js?v="), std::string::npos) << page;
  EXPECT_NE(page.find("/ui/app.css?v="), std::string::npos) << page;
  EXPECT_EQ(find_asset("../index.html"), nullptr);
  EXPECT_EQ(find_asset(""), nullptr);
}

TEST(DashboardFrontEnd, ServesThePageAtTheRootAndItsFilesUnderUi) {
  const api::FrontReply page = serve("GET", "/");
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.content_type, "text/html; charset=utf-8");
  EXPECT_NE(page.body.find("<div id=\"app\">"), std::string::npos);
  EXPECT_NE(header(page, "Content-Security-Policy").find("script-src 'self'"), std::string::npos);
  EXPECT_EQ(header(page, "X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(header(page, "X-Frame-Options"), "DENY");

  const api::FrontReply script = serve("GET", "/ui/app.js");
  EXPECT_EQ(script.status, 200);
  EXPECT_EQ(script.content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(script.body, std::string(find_asset("app.js")->body));
  EXPECT_EQ(serve("HEAD", "/ui/app.css").status, 200);
  EXPECT_EQ(serve("GET", "/ui").status, 302);
  EXPECT_EQ(header(serve("GET", "/ui/"), "Location"), "/");
}

TEST(DashboardFrontEnd, AnUnchangedFileIsNotSentAgain) {
  const api::FrontReply first = serve("GET", "/ui/app.js");
  const std::string etag = header(first, "ETag");
  ASSERT_FALSE(etag.empty());
  const api::FrontReply again = serve("GET", "/ui/app.js", etag);
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());
  EXPECT_EQ(serve("GET", "/ui/app.js", "\"other\"").status, 200);
}

TEST(DashboardFrontEnd, UnknownFilesAndOtherMethodsAreTheApisJsonErrors) {
  struct Case {
    const char* method;
    const char* path;
    int status;
    const char* code;
  };
  for (const Case& c : {Case{"GET", "/ui/nothing.js", 404, "not_found"},
                        Case{"GET", "/ui/../v1/vms", 404, "not_found"},
                        Case{"GET", "/ui/%2e%2e/etc/passwd", 404, "not_found"},
                        Case{"GET", "/ui/index.html/x", 404, "not_found"},
                        Case{"POST", "/", 405, "method_not_allowed"},
                        Case{"DELETE", "/ui/app.js", 405, "method_not_allowed"}}) {
    const api::FrontReply reply = serve(c.method, c.path);
    EXPECT_EQ(reply.status, c.status) << c.method << " " << c.path;
    const nlohmann::json body = nlohmann::json::parse(reply.body, nullptr, false);
    ASSERT_FALSE(body.is_discarded()) << reply.body;
    EXPECT_EQ(body["error"]["code"], c.code) << reply.body;
    EXPECT_EQ(reply.content_type, "application/json");
  }
  EXPECT_EQ(header(serve("PUT", "/"), "Allow"), "GET, HEAD");
}

}  // namespace
}  // namespace corral::web
