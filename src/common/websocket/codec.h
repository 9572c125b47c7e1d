// RFC 6455 WebSocket framing and handshakes over a connection the caller owns (websocketpp's
// iostream transport: bytes in with feed(), bytes out through the write callback), so a
// WebSocket can ride on an HTTP connection the API server already accepted, plain or TLS, and
// the CLI can speak it over its own socket.
//
// Contract:
// - Not thread-safe: one thread feeds, sends and closes (the caller's I/O loop).
// - Callbacks run inside feed(), send() or close(), on the caller's thread.
// - This header is C++17 (websocketpp 0.8 does not compile as C++20); the implementation is
//   compiled as C++17 in its own library (corral_websocket) and hides websocketpp.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace corral::websocket {

struct Callbacks {
  // Bytes to write to the peer, in order; false when the connection is gone.
  std::function<bool(const char* data, std::size_t size)> write;
  // A whole message from the peer (text or binary).
  std::function<void(const std::string& payload, bool binary)> message;
  // The handshake completed: the connection is open.
  std::function<void()> open;
  // The connection ended (closed by either side, or failed): `reason` says why.
  std::function<void(const std::string& reason)> closed;
};

// The server's side: feed it the HTTP request head (as received) and then what the client sends.
class ServerCodec {
 public:
  // `subprotocol`: the one this server speaks; a client that asks for others and not it is
  // refused (400) in the handshake. Requested subprotocols other than it are never echoed.
  ServerCodec(std::string subprotocol, Callbacks callbacks);
  ~ServerCodec();
  ServerCodec(const ServerCodec&) = delete;
  ServerCodec& operator=(const ServerCodec&) = delete;

  void feed(const char* data, std::size_t size);
  // The peer's bytes ended (its socket closed): the connection is over.
  void eof();
  bool send(const std::string& payload, bool binary);
  // Starts the closing handshake (code 1000 normal, 1001 going away, 1011 server error).
  void close(int code, const std::string& reason);
  bool is_open() const;
  bool is_closed() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The client's side: start() writes the handshake for `uri` ("ws://host:port/path" — the
// scheme only names the Host header; TLS, if any, is the caller's), asking for `subprotocols`.
class ClientCodec {
 public:
  ClientCodec(std::string uri, std::vector<std::string> subprotocols, Callbacks callbacks);
  ~ClientCodec();
  ClientCodec(const ClientCodec&) = delete;
  ClientCodec& operator=(const ClientCodec&) = delete;

  // False with `error` set when the URI is not usable.
  bool start(std::string& error);
  void feed(const char* data, std::size_t size);
  void eof();
  bool send(const std::string& payload, bool binary);
  void close(int code, const std::string& reason);
  bool is_open() const;
  bool is_closed() const;
  // The HTTP status of a refused handshake (0 until one came back), and its body.
  int refused_status() const;
  std::string refused_body() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace corral::websocket
