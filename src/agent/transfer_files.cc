#include "agent/transfer_files.h"

#include <map>
#include <thread>

#include "transfer/pull.h"

namespace corral::agent {

AgentTransfer::AgentTransfer(TransferSettings settings, const Clock& clock)
    : settings_(std::move(settings)), clock_(clock) {}

AgentTransfer::~AgentTransfer() { stop(); }

Status AgentTransfer::start(const wire::AgentIdentity& identity) {
  transfer::ServerOptions options;
  options.data_dir = settings_.data_dir;
  options.identity = identity;
  options.listen = settings_.listen;
  Result<std::unique_ptr<transfer::TransferServer>> server =
      transfer::TransferServer::start(std::move(options), clock_);
  if (!server) return fail(std::move(server.error()));
  // The host part as given (an address the peers can reach), the port as bound.
  const std::string host = settings_.listen.substr(0, settings_.listen.rfind(':'));
  std::lock_guard lock(mu_);
  identity_ = identity;
  address_ = host + ":" + std::to_string((*server)->port());
  server_ = std::move(*server);
  return {};
}

void AgentTransfer::stop() {
  std::unique_ptr<transfer::TransferServer> server;
  {
    std::lock_guard lock(mu_);
    server = std::move(server_);
    address_.clear();
  }
  if (server) server->shutdown();
}

std::string AgentTransfer::address() const {
  std::lock_guard lock(mu_);
  return address_;
}

Status AgentTransfer::grant(const transfer::Ticket& ticket, Millis ttl_ms) {
  std::lock_guard lock(mu_);
  if (!server_)
    return fail(Error{ErrorCode::kUnavailable, "this agent serves no files (not started)", {}, {}});
  return server_->allow(ticket, ttl_ms);
}

driver::FileFetcher AgentTransfer::fetcher() {
  return [this](const driver::FetchRequest& request) { return fetch(request); };
}

Result<std::vector<driver::FetchedFile>> AgentTransfer::fetch(const driver::FetchRequest& request) {
  transfer::PullOptions options;
  {
    std::lock_guard lock(mu_);
    if (!identity_)
      return fail(Error{ErrorCode::kUnavailable, "this agent has no identity yet", {}, {}});
    options.identity = *identity_;
  }
  options.data_dir = settings_.data_dir;
  options.source_address = request.source.address;
  options.ticket = {request.vm, request.op, request.source_host, options.identity.host,
                    request.source.secret};
  options.files = request.files;
  options.stall_timeout = settings_.stall_timeout;
  // Progress over all files: what earlier files held plus this one's.
  std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> per_file;  // done, total
  bool cancelled = false;
  options.progress = [&](const transfer::Progress& p) {
    per_file[p.file] = {p.done, p.total};
    std::uint64_t done = 0;
    std::uint64_t total = 0;
    for (const auto& [name, figures] : per_file) {
      done += figures.first;
      total += figures.second;
    }
    if (request.progress && !request.progress(done, total)) cancelled = true;
    return !cancelled;
  };
  const auto deadline = std::chrono::steady_clock::now() + settings_.grant_wait;
  for (;;) {
    Result<transfer::TransferReport> report = transfer::pull(options);
    if (report) {
      std::vector<driver::FetchedFile> out;
      for (const transfer::FileReport& file : report->files) {
        out.push_back({file.name, file.size, file.sha256, file.received});
      }
      return out;
    }
    if (cancelled)
      return fail(Error{ErrorCode::kUnavailable, "cancelled: " + report.error().message, {}, {}});
    // The grant may still be on its way to the source (another stream): ask again shortly.
    const bool no_ticket_yet =
        report.error().code == ErrorCode::kInvalidArgument &&
        report.error().message.find("holds no transfer ticket") != std::string::npos;
    if (!no_ticket_yet || std::chrono::steady_clock::now() >= deadline)
      return fail(std::move(report.error()));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

}  // namespace corral::agent
