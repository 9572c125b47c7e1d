#include "agent/transfer_files.h"

#include <algorithm>
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
  std::uint64_t done_all = 0;
  std::uint64_t total_all = 0;
  bool cancelled = false;
  // Pacing: the bytes this fetch received, against the time it has taken.
  using Steady = std::chrono::steady_clock;
  const Steady::time_point began = Steady::now();
  double paced_bytes = 0;
  const double bytes_per_s = settings_.bandwidth_mib_s * 1024.0 * 1024.0;
  options.progress = [&](const transfer::Progress& p) {
    auto [it, first] = per_file.try_emplace(p.file, 0, p.total);
    // A file's first report after a resume counts one chunk, not the prefix kept.
    const std::uint64_t moved = first ? std::min<std::uint64_t>(p.done, 1 << 20)
                                      : p.done - std::min(p.done, it->second.first);
    it->second = {p.done, p.total};
    done_all = 0;
    total_all = 0;
    for (const auto& [name, figures] : per_file) {
      done_all += figures.first;
      total_all += figures.second;
    }
    if (request.progress && !request.progress(done_all, total_all)) cancelled = true;
    if (!cancelled && bytes_per_s > 0) {
      paced_bytes += static_cast<double>(moved);
      const auto due = began + std::chrono::duration_cast<Steady::duration>(
                                   std::chrono::duration<double>(paced_bytes / bytes_per_s));
      std::this_thread::sleep_until(due);
    }
    return !cancelled;
  };
  const Steady::time_point retry_deadline = began + settings_.retry_window;
  for (;;) {
    Result<transfer::TransferReport> report = transfer::pull(options);
    if (report) {
      std::vector<driver::FetchedFile> out;
      for (const transfer::FileReport& file : report->files) {
        out.push_back({file.name, file.size, file.sha256, file.received});
      }
      return out;
    }
    if (cancelled) {
      return fail(Error{ErrorCode::kUnavailable, "cancelled: " + report.error().message, {}, {}});
    }
    // The grant may still be on its way to the source (another stream); a source that went
    // away may come back (its restart re-sends the grant): ask again shortly.
    const Error& error = report.error();
    const bool no_ticket_yet = error.code == ErrorCode::kInvalidArgument &&
                               error.message.find("holds no transfer ticket") != std::string::npos;
    const Steady::time_point now = Steady::now();
    const bool again =
        (no_ticket_yet || error.code == ErrorCode::kUnavailable) && now < retry_deadline;
    if (!again) return fail(report.error());
    if (request.progress && !request.progress(done_all, total_all)) {
      return fail(Error{ErrorCode::kUnavailable, "cancelled: " + error.message, {}, {}});
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
}

}  // namespace corral::agent
