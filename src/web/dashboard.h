// The web dashboard (issue 16) as an api::FrontEnd: `GET /` is the page, `GET /ui/<file>` its
// scripts, styles and fonts, all from the assets compiled into the binary (web/assets.h). The
// page itself talks to /v1 like any client, with the token its login got, so the dashboard has
// no permissions, state or sessions of its own. Beside api, never below it.
//
// Contract: only GET and HEAD (else 405 with the API's JSON error); an unknown file is 404 JSON;
// every reply carries a strict Content-Security-Policy (scripts and connections to this origin
// only), nosniff and no framing. A request whose If-None-Match is the file's ETag gets 304.
#pragma once

#include <string>
#include <vector>

#include "api/front_end.h"

namespace corral::web {

class DashboardFrontEnd final : public api::FrontEnd {
 public:
  std::vector<std::string> prefixes() const override;
  api::FrontReply handle(const api::FrontRequest& request, api::ApiCaller& api) override;
};

}  // namespace corral::web
