#include "api/raw_connection.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>

namespace corral::api {
namespace {

// The address and port of a socket's end, as httplib writes them in a Request.
bool endpoint_of(const sockaddr_storage& sa, std::string& address, int& port) {
  char text[INET6_ADDRSTRLEN] = {};
  if (sa.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&sa);
    if (inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text)) == nullptr) return false;
    port = ntohs(in->sin_port);
  } else if (sa.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&sa);
    if (inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text)) == nullptr) return false;
    port = ntohs(in6->sin6_port);
  } else {
    return false;
  }
  address = text;
  return true;
}

// Calls `visit(fd, local_port, peer_address, peer_port)` for each connected TCP socket of this
// process until it returns true.
template <typename Visit>
void for_each_connection(const Visit& visit) {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return;
  while (const dirent* entry = readdir(dir)) {
    char* end = nullptr;
    const long fd = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || fd == dirfd(dir)) continue;
    struct stat st {};
    if (fstat(static_cast<int>(fd), &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
    sockaddr_storage local{};
    sockaddr_storage peer{};
    socklen_t local_len = sizeof(local);
    socklen_t peer_len = sizeof(peer);
    if (getsockname(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&local), &local_len) != 0 ||
        getpeername(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&peer), &peer_len) != 0) {
      continue;
    }
    std::string local_address;
    std::string peer_address;
    int local_port = 0;
    int peer_port = 0;
    if (endpoint_of(local, local_address, local_port) &&
        endpoint_of(peer, peer_address, peer_port) &&
        visit(static_cast<int>(fd), local_port, peer_address, peer_port)) {
      break;
    }
  }
  closedir(dir);
}

// The connected socket whose local port is the request's and whose peer is its client.
int find_socket(const httplib::Request& req) {
  int found = -1;
  for_each_connection([&](int fd, int local_port, const std::string& peer, int peer_port) {
    if (local_port != req.local_port || peer_port != req.remote_port || peer != req.remote_addr) {
      return false;
    }
    found = fd;
    return true;
  });
  return found;
}

}  // namespace

Result<RawConnection> RawConnection::of(const httplib::Request& req) {
  if (req.ssl != nullptr) {
    // The library's TLS session for this connection: the handler's thread is the only one
    // using it until the handler returns.
    SSL* ssl = const_cast<SSL*>(req.ssl);  // NOLINT(cppcoreguidelines-pro-type-const-cast)
    return RawConnection(SSL_get_fd(ssl), ssl);
  }
  const int fd = find_socket(req);
  if (fd < 0) {
    return fail(Error::internal("the request's connection could not be taken over (no socket " +
                                req.remote_addr + ":" + std::to_string(req.remote_port) + ")"));
  }
  return RawConnection(fd, nullptr);
}

bool RawConnection::has_buffered() const { return ssl_ != nullptr && SSL_pending(ssl_) > 0; }

long RawConnection::read(char* buffer, std::size_t size) {
  if (ssl_ != nullptr) {
    const int n = SSL_read(ssl_, buffer, static_cast<int>(size));
    if (n > 0) return n;
    const int error = SSL_get_error(ssl_, n);
    if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) return 0;
    ERR_clear_error();
    return -1;
  }
  const ssize_t n = ::recv(fd_, buffer, size, MSG_DONTWAIT);
  if (n > 0) return n;
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return 0;
  return -1;
}

bool RawConnection::write(const char* data, std::size_t size) {
  while (size > 0) {
    if (ssl_ != nullptr) {
      const int n = SSL_write(ssl_, data, static_cast<int>(size));
      if (n <= 0) {
        ERR_clear_error();
        return false;
      }
      data += n;
      size -= static_cast<std::size_t>(n);
    } else {
      const ssize_t n = ::send(fd_, data, size, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      data += n;
      size -= static_cast<std::size_t>(n);
    }
  }
  return true;
}

void RawConnection::shutdown() {
  if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
}

void shut_reads_of_connections(int local_port) {
  for_each_connection([local_port](int fd, int port, const std::string&, int) {
    if (port == local_port) ::shutdown(fd, SHUT_RD);
    return false;
  });
}

}  // namespace corral::api
