// The routes the HTTP server serves, as data: (method, pattern) in registration order.
//
// Contract: kRoutePatterns[i] is route i of the server's Router (api/server.cc registers
// exactly these, in this order, and a static_assert there keeps the two lists equal). It lives
// apart from the server so that code without httplib (the request fuzzer) can route as the
// server does.
#pragma once

#include <string_view>

namespace corral::api {

struct RoutePattern {
  std::string_view method;
  std::string_view pattern;
};

inline constexpr RoutePattern kRoutePatterns[] = {
    {"POST", "/v1/vms"},
    {"GET", "/v1/vms"},
    {"GET", "/v1/vms/{id}"},
    {"DELETE", "/v1/vms/{id}"},
    {"POST", "/v1/vms/{id}/actions"},
    {"GET", "/v1/vms/{id}/instance-view"},
    {"GET", "/v1/vms/{id}/history"},
    {"GET", "/v1/operations/{id}"},
    {"GET", "/v1/hosts"},
    {"GET", "/v1/images"},
    {"GET", "/v1/vms/{id}/console/log"},
    {"GET", "/v1/vms/{id}/console"},
    {"POST", "/v1/vms/{id}/console"},
    {"GET", "/v1/states"},
    {"GET", "/v1/events"},
    {"GET", "/healthz"},
    {"POST", "/v1/admin/faults"},
    {"GET", "/v1/admin/faults"},
    {"DELETE", "/v1/admin/faults"},
    {"DELETE", "/v1/admin/faults/{id}"},
    {"POST", "/v1/admin/vms/{id}/external"},
};

}  // namespace corral::api
