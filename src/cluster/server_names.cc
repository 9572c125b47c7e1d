#include "cluster/server_names.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>

#include "cluster/pki.h"

namespace corral::cluster {

bool is_wildcard_host(std::string_view host) { return host == "0.0.0.0" || host == "::"; }

bool is_loopback_host(std::string_view host) {
  if (host == "localhost") return true;
  const std::string text(host);
  in_addr v4{};
  if (::inet_pton(AF_INET, text.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (::inet_pton(AF_INET6, text.c_str(), &v6) != 1) return false;
  if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
  return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
}

std::vector<std::string> local_addresses() {
  std::vector<std::string> out;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return out;
  for (const ifaddrs* a = list; a != nullptr; a = a->ifa_next) {
    if (a->ifa_addr == nullptr) continue;
    char text[INET6_ADDRSTRLEN] = {};
    if (a->ifa_addr->sa_family == AF_INET) {
      const auto* in = reinterpret_cast<const sockaddr_in*>(a->ifa_addr);
      if (::inet_ntop(AF_INET, &in->sin_addr, text, sizeof text) != nullptr) out.emplace_back(text);
    } else if (a->ifa_addr->sa_family == AF_INET6) {
      const auto* in6 = reinterpret_cast<const sockaddr_in6*>(a->ifa_addr);
      if (IN6_IS_ADDR_LINKLOCAL(&in6->sin6_addr)) continue;
      if (::inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text) != nullptr) {
        out.emplace_back(text);
      }
    }
  }
  ::freeifaddrs(list);
  return out;
}

std::vector<std::string> server_cert_names(const std::vector<std::string>& hosts) {
  std::vector<std::string> names = {"localhost", "127.0.0.1", "::1"};
  const auto add = [&names](const std::string& name) {
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  };
  bool any_address = false;
  for (const std::string& host : hosts) {
    if (is_wildcard_host(host)) {
      any_address = true;
    } else {
      add(host);
    }
  }
  // Listening on every address: clients may dial any of this machine's, and each must be in
  // the certificate they check the server against.
  if (any_address) {
    for (const std::string& address : local_addresses()) add(address);
  }
  char hostname[256] = {};
  if (::gethostname(hostname, sizeof hostname - 1) == 0 && valid_host_name(hostname)) {
    add(hostname);
  }
  return names;
}

}  // namespace corral::cluster
