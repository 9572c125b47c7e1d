// A WebSocket to the server (the console's: GET /v1/vms/{id}/console/ws), on a connection of
// its own: TCP, then for https:// TLS 1.2+ verified against the same CA as every other request
// (the cluster's), then the handshake and frames (common/websocket/codec.h). The token goes as
// the subprotocol "bearer.<token>", as the dashboard's does.
//
// Contract: one thread uses it. open() returns once the server accepted the upgrade, or fails
// in words (the server's JSON error for a refusal before the upgrade).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "cli/client.h"

namespace corral::cli {

class WsClient {
 public:
  using OnMessage = std::function<void(const std::string& payload)>;
  [[nodiscard]] static CliResult<std::unique_ptr<WsClient>> open(const Client& client,
                                                                 const std::string& path,
                                                                 const std::string& subprotocol,
                                                                 OnMessage on_message);
  ~WsClient();
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  int fd() const;
  // Reads what the socket has (after fd() polled readable, or when TLS holds more) and hands
  // each message to on_message. False once the connection is over.
  bool pump();
  bool has_buffered() const;
  bool send(const std::string& payload);
  // The closing handshake (1000), waiting up to a second for the server's answer.
  void close();
  // Until the connection is over (through the closing handshake: pump() on until false).
  bool is_open() const;
  // Why it ended ("closed (1000: the VM's console ended)"), once it has.
  const std::string& end_reason() const;

 private:
  struct Impl;
  explicit WsClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace corral::cli
