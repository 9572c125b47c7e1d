// Routing: (method, path) -> a route index and the path's {parameters}.
//
// Contract: patterns are literal segments and "{name}" segments (any one non-empty segment).
// A path that matches no pattern is 404; a path that matches only with other methods is 405
// with the methods it has. HEAD is answered by GET routes. One trailing "/" is ignored.
// Built once, then read-only: match() is safe from any number of threads.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace corral::api {

class Router {
 public:
  struct Match {
    std::size_t route = 0;          // the index add() returned
    std::vector<std::string> args;  // the {parameters}, in pattern order
  };
  struct NotFound {};
  struct WrongMethod {
    std::vector<std::string> allowed;
  };
  using Lookup = std::variant<Match, NotFound, WrongMethod>;  // what match() found

  // Returns the route's index (0, 1, 2 ... in the order of calls).
  std::size_t add(std::string method, std::string_view pattern);

  Lookup match(std::string_view method, std::string_view path) const;

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;  // "{...}" is a parameter
  };
  std::vector<Route> routes_;
};

// "/v1/vms/7/" -> {"v1", "vms", "7"}; empty segments ("//") are kept as "".
std::vector<std::string_view> split_path(std::string_view path);

}  // namespace corral::api
