// TransferService, the source side of a cold migration's file transfer: serves a stopped VM's
// disk.qcow2 and memory.state to the agent a ticket names (wire/transfer.proto).
//
// Contract:
// - start() listens on `listen` (host:port; port 0 picks a free one, port() says which) with
//   server_credentials(): no call reaches a handler without a client certificate of the
//   cluster CA.
// - Every call is checked, in this order, and refused without reading a byte: the file name is
//   on the allow-list (INVALID_ARGUMENT), a live ticket for the request's vm and op exists
//   whose secret matches and whose target host is the caller's certificate CN
//   (PERMISSION_DENIED, the message says which check failed). Files are opened as
//   <data-dir>/vms/<vm>/<name> (O_NOFOLLOW, regular files only); a missing one is NOT_FOUND.
// - The server only reads: nothing a caller sends changes a file on this host.
// - Read streams Header, chunks of `chunk_bytes` (an all-zero chunk travels as a zero count,
//   no bytes), and a Trailer with the SHA-256 of the whole file as read in this call.
// - revoke() drops the ticket and cancels the reads it let start (their client sees the
//   stream end early); expiry only refuses new calls, so a long file is not cut mid-way.
// - allow() refuses a ticket whose source host is not this agent's host (a mix-up of the
//   two sides is an error, not a silent no-op).
// - shutdown() (and the destructor) ends calls in flight at once: their client sees the
//   stream broken, as when the source host dies.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>

#include "common/clock.h"
#include "common/result.h"
#include "transfer/ticket.h"
#include "wire/credentials.h"

namespace corral::transfer {

struct ServerOptions {
  std::filesystem::path data_dir;  // this agent's; VMs' files are in <data-dir>/vms/<vm>/
  wire::AgentIdentity identity;    // this agent's certificate, key and the cluster CA
  std::string listen = "127.0.0.1:0";
  std::size_t chunk_bytes = 1 << 20;
};

class TransferServer {
 public:
  [[nodiscard]] static Result<std::unique_ptr<TransferServer>> start(ServerOptions options,
                                                                     const Clock& clock);
  ~TransferServer();
  TransferServer(const TransferServer&) = delete;
  TransferServer& operator=(const TransferServer&) = delete;

  int port() const;

  // VM ticket.vm's files may be pulled by ticket.target_host until now + ttl_ms.
  [[nodiscard]] Status allow(const Ticket& ticket, Millis ttl_ms);
  void revoke(std::int64_t vm, std::int64_t op);

  void shutdown();

 private:
  struct Impl;
  explicit TransferServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace corral::transfer
