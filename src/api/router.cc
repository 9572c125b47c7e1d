#include "api/router.h"

#include <algorithm>

namespace corral::api {
namespace {

bool is_parameter(std::string_view segment) {
  return segment.size() >= 2 && segment.front() == '{' && segment.back() == '}';
}

}  // namespace

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  if (!path.empty() && path.back() == '/') path.remove_suffix(1);
  if (path.empty()) return out;
  std::size_t start = 0;
  while (true) {
    const std::size_t slash = path.find('/', start);
    out.push_back(path.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return out;
}

std::size_t Router::add(std::string method, std::string_view pattern) {
  Route route{std::move(method), {}};
  for (std::string_view s : split_path(pattern)) route.segments.emplace_back(s);
  routes_.push_back(std::move(route));
  return routes_.size() - 1;
}

Router::Lookup Router::match(std::string_view method, std::string_view path) const {
  if (method == "HEAD") method = "GET";
  const std::vector<std::string_view> segments = split_path(path);
  WrongMethod wrong;
  for (std::size_t i = 0; i < routes_.size(); ++i) {
    const Route& r = routes_[i];
    if (r.segments.size() != segments.size()) continue;
    std::vector<std::string> args;
    bool same = true;
    for (std::size_t k = 0; k < segments.size() && same; ++k) {
      if (is_parameter(r.segments[k])) {
        same = !segments[k].empty();
        args.emplace_back(segments[k]);
      } else {
        same = r.segments[k] == segments[k];
      }
    }
    if (!same) continue;
    if (r.method == method) return Match{i, std::move(args)};
    if (std::find(wrong.allowed.begin(), wrong.allowed.end(), r.method) == wrong.allowed.end()) {
      wrong.allowed.push_back(r.method);
    }
  }
  if (wrong.allowed.empty()) return NotFound{};
  return wrong;
}

}  // namespace corral::api
