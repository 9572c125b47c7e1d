#include "transfer/server.h"

#include <fcntl.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <utility>
#include <vector>

#include "common/log.h"
#include "transfer/files.h"
#include "transfer/tls.h"
#include "wire/transfer.grpc.pb.h"

namespace corral::transfer {

namespace {

namespace v1 = corral::transfer::v1;

bool all_zero(const char* data, std::size_t n) {
  return n == 0 || (data[0] == 0 && std::memcmp(data, data + 1, n - 1) == 0);
}

class Service final : public v1::TransferService::Service {
 public:
  Service(std::filesystem::path data_dir, std::size_t chunk_bytes, const Clock& clock)
      : data_dir_(std::move(data_dir)), chunk_bytes_(chunk_bytes), tickets_(clock) {}

  TicketRegistry& tickets() { return tickets_; }

  // Revoking a ticket also ends the reads it let start: the source's phase is over (or was
  // cancelled), and its files may change from now on.
  void revoke(std::int64_t vm, std::int64_t op) {
    tickets_.revoke(vm, op);
    std::lock_guard lock(reads_mu_);
    for (auto [it, end] = reads_.equal_range({vm, op}); it != end; ++it) it->second->TryCancel();
  }

  grpc::Status Stat(grpc::ServerContext* context, const v1::FileRequest* request,
                    v1::FileInfo* reply) override {
    auto fd = authorize_and_open(*context, *request);
    if (!fd) return fd.error();
    Result<FileHash> hash = sha256_file(fd->get());
    if (!hash) return status_of(hash.error());
    reply->set_size(hash->size);
    reply->set_sha256(hash->sha256);
    return grpc::Status::OK;
  }

  grpc::Status Read(grpc::ServerContext* context, const v1::FileRequest* request,
                    grpc::ServerWriter<v1::ReadMessage>* writer) override {
    // Listed before the ticket is checked: a revoke() after the check cancels this call, one
    // before it fails the check.
    const InFlight in_flight(*this, {request->ticket().vm(), request->ticket().op()}, context);
    auto fd = authorize_and_open(*context, *request);
    if (!fd) return fd.error();
    struct stat st {};
    if (::fstat(fd->get(), &st) != 0) return status_of(errno_error("cannot stat", errno));
    const auto size = static_cast<std::uint64_t>(st.st_size);
    if (request->offset() > size) {
      return {grpc::StatusCode::OUT_OF_RANGE, "offset " + std::to_string(request->offset()) +
                                                  " is past the end of " + request->name() + " (" +
                                                  std::to_string(size) + " bytes)"};
    }
    v1::ReadMessage message;
    message.mutable_header()->set_size(size);
    if (!writer->Write(message)) return {grpc::StatusCode::CANCELLED, "the caller went away"};

    // The prefix the caller already holds is hashed here, not sent: the trailer's hash covers
    // the whole file, so a kept prefix that differs from this file fails the target's check.
    Sha256 hash;
    std::vector<char> buffer(chunk_bytes_);
    v1::ReadMessage chunk_message;
    std::uint64_t at = 0;
    for (bool sending = false;;) {
      if (!sending && at == request->offset()) sending = true;
      const std::size_t want =
          sending ? buffer.size() : std::min<std::uint64_t>(buffer.size(), request->offset() - at);
      const ssize_t n = ::pread(fd->get(), buffer.data(), want, static_cast<off_t>(at));
      if (n < 0) {
        if (errno == EINTR) continue;
        return status_of(errno_error("cannot read " + request->name(), errno));
      }
      if (n == 0) {
        if (!sending) return {grpc::StatusCode::ABORTED, request->name() + " shrank while read"};
        break;
      }
      const auto got = static_cast<std::size_t>(n);
      hash.update(std::span(buffer.data(), got));
      if (sending) {
        // One chunk message for the whole call: its data string keeps its capacity, so no
        // chunk allocates (and page-faults in) a fresh buffer.
        v1::Chunk* chunk = chunk_message.mutable_chunk();
        chunk->set_offset(at);
        if (all_zero(buffer.data(), got)) {
          chunk->clear_data();
          chunk->set_zeros(static_cast<std::uint32_t>(got));
        } else {
          chunk->set_zeros(0);
          chunk->mutable_data()->assign(buffer.data(), got);
        }
        if (!writer->Write(chunk_message)) {
          return {grpc::StatusCode::CANCELLED, "the caller went away"};
        }
      }
      at += got;
    }
    message.Clear();
    message.mutable_trailer()->set_size(at);
    message.mutable_trailer()->set_sha256(hash.hex());
    if (!writer->Write(message)) return {grpc::StatusCode::CANCELLED, "the caller went away"};
    return grpc::Status::OK;
  }

 private:
  using Key = std::pair<std::int64_t, std::int64_t>;  // vm, op
  class InFlight {
   public:
    InFlight(Service& service, Key key, grpc::ServerContext* context)
        : service_(service), key_(key), context_(context) {
      std::lock_guard lock(service_.reads_mu_);
      service_.reads_.emplace(key_, context_);
    }
    ~InFlight() {
      std::lock_guard lock(service_.reads_mu_);
      for (auto [it, end] = service_.reads_.equal_range(key_); it != end; ++it) {
        if (it->second == context_) {
          service_.reads_.erase(it);
          break;
        }
      }
    }
    InFlight(const InFlight&) = delete;
    InFlight& operator=(const InFlight&) = delete;

   private:
    Service& service_;
    Key key_;
    grpc::ServerContext* context_;
  };

  static grpc::Status status_of(const Error& error) {
    return {error.code == ErrorCode::kNotFound ? grpc::StatusCode::NOT_FOUND
                                               : grpc::StatusCode::INTERNAL,
            error.message};
  }

  // The checks of the contract, in its order; the open file or the status that refuses.
  std::expected<Fd, grpc::Status> authorize_and_open(const grpc::ServerContext& context,
                                                     const v1::FileRequest& request) {
    if (!movable_file(request.name())) {
      return std::unexpected(
          grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                       "\"" + request.name() + "\" is not a file a migration moves"));
    }
    const std::string caller = wire::peer_host(context);
    const auto ticket = tickets_.check(request.ticket().vm(), request.ticket().op(),
                                       request.ticket().secret(), caller);
    if (!ticket) {
      log(LogLevel::kWarn, "transfer_refused",
          {{"caller", caller},
           {"vm", std::to_string(request.ticket().vm())},
           {"why", ticket.error().message}});
      return std::unexpected(
          grpc::Status(grpc::StatusCode::PERMISSION_DENIED, ticket.error().message));
    }
    const std::filesystem::path path = vm_dir(data_dir_, ticket->vm) / request.name();
    // O_NONBLOCK: a FIFO put in place of a file must not hang the handler in open().
    Fd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
    if (fd.get() < 0) {
      const int err = errno;
      if (err == ENOENT) {
        return std::unexpected(grpc::Status(
            grpc::StatusCode::NOT_FOUND, "VM " + std::to_string(ticket->vm) + " has no " +
                                             request.name() + " on host \"" + ticket->source_host +
                                             "\""));
      }
      return std::unexpected(status_of(errno_error("cannot open " + path.string(), err)));
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
      return std::unexpected(status_of(errno_error("cannot stat " + path.string(), errno)));
    }
    if (!S_ISREG(st.st_mode)) {
      return std::unexpected(
          grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, path.string() + " is not a file"));
    }
    return fd;
  }

  std::filesystem::path data_dir_;
  std::size_t chunk_bytes_;
  TicketRegistry tickets_;
  std::mutex reads_mu_;
  std::multimap<Key, grpc::ServerContext*> reads_;
};

}  // namespace

struct TransferServer::Impl {
  ServerOptions options;
  const Clock* clock = nullptr;
  std::unique_ptr<Service> service;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
};

TransferServer::TransferServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

TransferServer::~TransferServer() { shutdown(); }

Result<std::unique_ptr<TransferServer>> TransferServer::start(ServerOptions options,
                                                              const Clock& clock) {
  if (options.chunk_bytes == 0 || options.chunk_bytes > (4U << 20) - 4096) {
    return fail(Error::invalid_argument("chunk_bytes must be in (0, 4 MiB)"));
  }
  auto impl = std::make_unique<Impl>();
  impl->clock = &clock;
  impl->service = std::make_unique<Service>(options.data_dir, options.chunk_bytes, clock);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen, server_credentials(options.identity), &impl->port);
  builder.RegisterService(impl->service.get());
  // Clients send keepalive pings (a dead source is noticed); accept them every 10 s.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10'000);
  impl->server = builder.BuildAndStart();
  if (!impl->server || impl->port == 0) {
    return fail(
        Error{ErrorCode::kUnavailable, "cannot listen for transfers on " + options.listen, {}, {}});
  }
  impl->options = std::move(options);
  return std::unique_ptr<TransferServer>(new TransferServer(std::move(impl)));
}

int TransferServer::port() const { return impl_->port; }

Status TransferServer::allow(const Ticket& ticket, Millis ttl_ms) {
  if (ticket.source_host != impl_->options.identity.host) {
    return fail(Error::invalid_argument("the ticket's source is \"" + ticket.source_host +
                                        "\", this agent is \"" + impl_->options.identity.host +
                                        "\""));
  }
  if (ticket.secret.size() < 32 || ticket.target_host.empty()) {
    return fail(Error::invalid_argument("a transfer ticket needs a target host and a secret"));
  }
  impl_->service->tickets().allow(ticket, impl_->clock->now_ms() + ttl_ms);
  return {};
}

void TransferServer::revoke(std::int64_t vm, std::int64_t op) { impl_->service->revoke(vm, op); }

void TransferServer::shutdown() {
  if (impl_ && impl_->server) {
    impl_->server->Shutdown(std::chrono::system_clock::now());
    impl_->server.reset();
  }
}

}  // namespace corral::transfer
