// The route list against its users: the router numbers routes as kRoutes does, and
// docs/api.md documents exactly the routes of the list (so the docs cannot drift).
#include "api/routes.h"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <variant>

#include "api/router.h"

namespace corral::api {
namespace {

std::string route_name(std::string_view method, std::string_view pattern) {
  return std::string(method) + " " + std::string(pattern);
}

TEST(Routes, RouterNumbersRoutesAsTheListDoes) {
  Router router;
  for (const Route& r : kRoutes) {
    EXPECT_EQ(router.add(std::string(r.method), r.pattern), static_cast<std::size_t>(r.id));
  }
  for (const Route& r : kRoutes) {
    std::string path(r.pattern);
    for (std::size_t at = path.find("{id}"); at != std::string::npos; at = path.find("{id}")) {
      path.replace(at, 4, "7");
    }
    const Router::Lookup outcome = router.match(r.method, path);
    const auto* match = std::get_if<Router::Match>(&outcome);
    ASSERT_NE(match, nullptr) << route_name(r.method, r.pattern);
    EXPECT_EQ(route_id_of(match->route), r.id) << route_name(r.method, r.pattern);
  }
}

TEST(Routes, EveryRouteHasMethodPatternAndHelp) {
  std::set<std::string> seen;
  for (const Route& r : kRoutes) {
    EXPECT_FALSE(r.help.empty()) << route_name(r.method, r.pattern);
    EXPECT_TRUE(r.pattern.starts_with("/")) << route_name(r.method, r.pattern);
    EXPECT_TRUE(seen.insert(route_name(r.method, r.pattern)).second)
        << "listed twice: " << route_name(r.method, r.pattern);
  }
}

// docs/api.md names an endpoint as `METHOD /pattern` in backquotes, in a heading, a table
// row or the text; a query may follow the pattern (`GET /v1/vms/{id}/console/log?bytes=...`).
// Returns every such "METHOD /pattern" the document names.
std::set<std::string> documented_routes(const std::string& doc) {
  static constexpr std::string_view kMethods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"};
  std::set<std::string> found;
  for (std::size_t at = doc.find('`'); at != std::string::npos; at = doc.find('`', at + 1)) {
    for (std::string_view method : kMethods) {
      const std::string prefix = std::string(method) + " /";
      if (doc.compare(at + 1, prefix.size(), prefix) != 0) continue;
      const std::size_t path_at = at + 1 + method.size() + 1;
      const std::size_t end = doc.find_first_of("`? \n", path_at);
      found.insert(route_name(method, doc.substr(path_at, end - path_at)));
    }
  }
  return found;
}

TEST(Routes, DocsApiMdDocumentsExactlyTheRoutes) {
  std::ifstream file(CORRAL_API_DOC);
  ASSERT_TRUE(file) << "cannot read " << CORRAL_API_DOC;
  std::stringstream text;
  text << file.rdbuf();
  const std::set<std::string> documented = documented_routes(text.str());
  std::set<std::string> listed;
  for (const Route& r : kRoutes) listed.insert(route_name(r.method, r.pattern));
  for (const std::string& route : listed) {
    EXPECT_TRUE(documented.contains(route))
        << "docs/api.md does not name `" << route << "` (api/routes.h lists it)";
  }
  for (const std::string& route : documented) {
    EXPECT_TRUE(listed.contains(route))
        << "docs/api.md names `" << route << "`, which api/routes.h does not list";
  }
}

TEST(Routes, DocumentedRoutesAreFoundInHeadingsTablesAndText) {
  const std::set<std::string> found = documented_routes(
      "### Create — `POST /v1/vms` → 202\n| `GET /v1/vms/{id}/console/log?bytes=1` | x |\n"
      "`POST /v1/vms/{id}/console` `{\"input\": \"\"}` and `GET /healthz`, not GET /v1/x.\n");
  EXPECT_EQ(found, (std::set<std::string>{"POST /v1/vms", "GET /v1/vms/{id}/console/log",
                                          "POST /v1/vms/{id}/console", "GET /healthz"}));
}

}  // namespace
}  // namespace corral::api
