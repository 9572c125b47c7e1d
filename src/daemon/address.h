// HOST:PORT text, as flags take it and as logs and errors print it. An IPv6 host is written
// in brackets ("[::1]:8780") so the port cannot be read as part of it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace corral::daemon {

struct HostPort {
  std::string host;  // without brackets: "::1", "127.0.0.1", "localhost"
  int port = 0;

  std::string text() const;
};

// "127.0.0.1:8780", "[::1]:8780": brackets when the host holds a ':'.
std::string host_port_text(std::string_view host, int port);

// "HOST:PORT" or "[V6]:PORT", PORT 0..65535 in decimal; nullopt when malformed (no port, an
// unbracketed IPv6 host, an empty host).
std::optional<HostPort> parse_host_port(std::string_view text);

}  // namespace corral::daemon
