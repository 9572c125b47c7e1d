// AgentTransfer: an agent's part in cold migrations (wire/transfer.proto over src/transfer).
//
// As a source it serves its VMs' files to the target a controller's TransferGrant names; as a
// target it is the driver's FileFetcher (driver/file_fetch.h), pulling with this agent's
// certificate.
//
// Contract:
// - Built before the agent has an identity (the driver is made first and keeps fetcher());
//   start() is called once with the identity, and listens on `listen` (host:port, port 0: a
//   free one). address() is what the Hello advertises: "" before start() or when disabled.
// - grant() registers a ticket for ttl_ms; a grant whose source host is not this agent's, or
//   one before start(), is refused (logged by the caller).
// - The fetcher fails kUnavailable before start(). A pull refused because the source holds no
//   ticket (yet: the controller sends the grant to the source and the phase to the target on
//   two streams, either may arrive first; or again: a restarted source agent lost it until the
//   controller re-dispatches), or whose source went away, is tried again, resuming, for up to
//   `retry_window`. Between tries it asks the request's progress callback whether the phase
//   is still wanted (a newer request ends it).
// - With a bandwidth, the fetcher reads no faster than that (the source's sends are held by
//   flow control), as live migration's bandwidth option does for memory.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include "common/clock.h"
#include "common/result.h"
#include "driver/file_fetch.h"
#include "transfer/server.h"
#include "wire/credentials.h"

namespace corral::agent {

struct TransferSettings {
  std::filesystem::path data_dir;  // the agent's (the driver's VMs are in <data-dir>/vms/)
  std::string listen = "127.0.0.1:0";
  std::chrono::milliseconds stall_timeout{60'000};
  // A source that went away (its agent restarting, the link down) is asked again for this
  // long before the phase fails; the part received is kept and resumed.
  std::chrono::milliseconds retry_window{60'000};
  double bandwidth_mib_s = 0;  // what one pull may take of the link; 0: all it can
};

class AgentTransfer {
 public:
  AgentTransfer(TransferSettings settings, const Clock& clock);
  ~AgentTransfer();
  AgentTransfer(const AgentTransfer&) = delete;
  AgentTransfer& operator=(const AgentTransfer&) = delete;

  [[nodiscard]] Status start(const wire::AgentIdentity& identity);
  void stop();
  std::string address() const;

  [[nodiscard]] Status grant(const transfer::Ticket& ticket, Millis ttl_ms);

  // For the driver's QemuConfig::fetch_files; valid while this object lives.
  driver::FileFetcher fetcher();

 private:
  [[nodiscard]] Result<std::vector<driver::FetchedFile>> fetch(const driver::FetchRequest& request);

  const TransferSettings settings_;
  const Clock& clock_;
  mutable std::mutex mu_;
  std::optional<wire::AgentIdentity> identity_;
  std::unique_ptr<transfer::TransferServer> server_;
  std::string address_;
};

}  // namespace corral::agent
