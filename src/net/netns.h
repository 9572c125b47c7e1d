// Named network namespaces, kept as iproute2 keeps them (a bind mount of the namespace at
// /run/netns/NAME), so `ip netns exec NAME ...` reaches what Corral builds there.
//
// Contract:
// - create_netns: an existing namespace of that name is adopted (ok); delete_netns: an absent
//   one is no error. Names are 1-40 of [a-z0-9-] (the caller puts its cluster's id in them).
// - in_netns(name, fn) runs fn on a new thread that has entered the namespace and returns its
//   result; the caller's thread never changes namespace. Netlink sockets and tap devices
//   opened by fn belong to that namespace for their whole life.
#pragma once

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>

#include "common/result.h"

namespace corral::net {

inline constexpr const char* kNetnsDir = "/run/netns";

bool valid_netns_name(std::string_view name);
std::string netns_path(std::string_view name);
bool netns_exists(std::string_view name);
[[nodiscard]] Status create_netns(const std::string& name);
[[nodiscard]] Status delete_netns(const std::string& name);

// Runs `fn` (returning Result<T> or Status) inside namespace `name`.
template <typename F>
auto in_netns(const std::string& name, F&& fn) -> decltype(fn()) {
  using R = decltype(fn());
  const std::string path = netns_path(name);
  R result = fail(Error::internal("in_netns: not run"));
  std::thread worker([&] {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      result = fail(Error{ErrorCode::kUnavailable,
                          "network namespace " + name + ": " + std::strerror(errno),
                          {},
                          {}});
      return;
    }
    const int rc = ::setns(fd, CLONE_NEWNET);
    const int saved = errno;
    ::close(fd);
    if (rc != 0) {
      result = fail(Error{ErrorCode::kUnavailable,
                          "cannot enter network namespace " + name + ": " + std::strerror(saved),
                          {},
                          {}});
      return;
    }
    result = fn();
  });
  worker.join();
  return result;
}

}  // namespace corral::net
