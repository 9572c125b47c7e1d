// Taking over the connection an HTTP request came on, to speak another protocol on it: a
// WebSocket after its handshake request (GET /v1/vms/{id}/console/ws). cpp-httplib 0.11 hands
// a handler no socket, so: a TLS connection is the request's own TLS session (`req.ssl`); a
// plain one's socket is found among this process's descriptors by the request's two
// addresses. The handler's thread owns the connection until it returns; shutdown() then ends
// it, so the library's own reply, written after the handler, fails and the library closes it.
//
// Contract: one thread uses a RawConnection (the handler's); it does not own the descriptor
// or the TLS session (the library frees them after the handler returns).
#pragma once

#include <httplib.h>

#include <chrono>
#include <cstddef>

#include "common/result.h"

namespace corral::api {

class RawConnection {
 public:
  [[nodiscard]] static Result<RawConnection> of(const httplib::Request& req);

  int fd() const { return fd_; }
  // Bytes already decrypted and waiting (TLS), to read before waiting on fd() again.
  bool has_buffered() const;
  // Reads what is there without waiting (after fd() polled readable): > 0 bytes, 0 none yet
  // (a TLS record that carried no data), -1 the peer closed or the connection failed.
  long read(char* buffer, std::size_t size);
  // All of `data`, or false when the connection is gone.
  bool write(const char* data, std::size_t size);
  void shutdown();

 private:
  RawConnection(int fd, SSL* ssl) : fd_(fd), ssl_(ssl) {}
  int fd_ = -1;
  SSL* ssl_ = nullptr;  // nullptr: plain
};

// Ends the reading side of every connection accepted on `local_port` (this process's sockets
// whose local port it is): an idle keep-alive connection, which cpp-httplib 0.11 would keep
// until its keep-alive timeout, sees the end at once and is closed; a request in flight still
// writes its reply. For a server's stop, after its listening socket is closed.
void shut_reads_of_connections(int local_port);

}  // namespace corral::api
