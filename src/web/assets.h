// The dashboard's files (web/), bundled by web/build.mjs at build time and compiled into the
// binary (assets_data.cc, generated): the server needs nothing beside it and no file is read
// at run time, so no request path can reach the filesystem.
//
// Contract: dashboard_assets() lists every file once, by its path under the dashboard's root
// ("index.html", "app.js", "app.css", ...); `etag` is a quoted hash of `body`. The span and the
// bytes live for the whole process.
#pragma once

#include <span>
#include <string_view>

namespace corral::web {

struct Asset {
  std::string_view path;          // "app.js"
  std::string_view content_type;  // "text/javascript; charset=utf-8"
  std::string_view body;
  std::string_view etag;  // "\"3f2a...\""
};

std::span<const Asset> dashboard_assets();

// The asset at `path`, or nullptr.
const Asset* find_asset(std::string_view path);

}  // namespace corral::web
