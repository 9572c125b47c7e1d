#include "transfer/pull.h"

#include <fcntl.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/support/channel_arguments.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>
#include <utility>

#include "transfer/files.h"
#include "transfer/tls.h"
#include "wire/transfer.grpc.pb.h"

namespace corral::transfer {

namespace {

namespace fs = std::filesystem;
namespace v1 = corral::transfer::v1;

struct Session {
  const PullOptions& options;
  std::shared_ptr<RefusalNote> note;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::TransferService::Stub> stub;
  fs::path dir;

  std::string what(const std::string& name) const {
    return "pulling " + name + " of VM " + std::to_string(options.ticket.vm) + " from \"" +
           options.ticket.source_host + "\" (" + options.source_address + ")";
  }

  Error call_error(const std::string& name, const grpc::Status& status) const {
    std::string detail = status.error_message();
    if (const std::string why = note->get(); !why.empty()) detail += " (" + why + ")";
    const std::string message = what(name) + ": " + detail;
    switch (status.error_code()) {
      case grpc::StatusCode::PERMISSION_DENIED:
      case grpc::StatusCode::INVALID_ARGUMENT:
      case grpc::StatusCode::UNAUTHENTICATED:
      case grpc::StatusCode::FAILED_PRECONDITION:
        return Error::invalid_argument(message);
      case grpc::StatusCode::NOT_FOUND:
        return Error::not_found(message);
      case grpc::StatusCode::UNAVAILABLE:
      case grpc::StatusCode::CANCELLED:
      case grpc::StatusCode::DEADLINE_EXCEEDED:
      case grpc::StatusCode::ABORTED:
        return Error{ErrorCode::kUnavailable, message, {}, {}};
      default:
        return Error::internal(message);
    }
  }

  void prove(v1::FileRequest& request, const std::string& name, std::uint64_t offset) const {
    request.mutable_ticket()->set_vm(options.ticket.vm);
    request.mutable_ticket()->set_op(options.ticket.op);
    request.mutable_ticket()->set_secret(options.ticket.secret);
    request.set_name(name);
    request.set_offset(offset);
  }
};

Error fs_error(const Session& s, const std::string& name, std::string_view what, int err) {
  return errno_error(s.what(name) + ": " + std::string(what), err);
}

Status write_all(int fd, const char* data, std::size_t n, std::uint64_t offset) {
  while (n > 0) {
    const ssize_t w = ::pwrite(fd, data, n, static_cast<off_t>(offset));
    if (w < 0) {
      if (errno == EINTR) continue;
      return fail(errno_error("cannot write", errno));
    }
    data += w;
    n -= static_cast<std::size_t>(w);
    offset += static_cast<std::uint64_t>(w);
  }
  return {};
}

Status sync_dir(const fs::path& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0 || ::fsync(fd.get()) != 0) {
    return fail(errno_error("cannot sync " + dir.string(), errno));
  }
  return {};
}

// Cancels one call when nothing arrived for `stall` or when `stop` is requested.
class Watchdog {
 public:
  Watchdog(grpc::ClientContext& context, std::chrono::milliseconds stall, std::stop_token stop)
      : context_(context),
        stall_(stall),
        stop_(std::move(stop)),
        last_(std::chrono::steady_clock::now()),
        thread_([this](const std::stop_token& done) { watch(done); }) {}
  ~Watchdog() {
    thread_.request_stop();
    changed_.notify_all();
  }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  void fed() {
    std::lock_guard lock(mu_);
    last_ = std::chrono::steady_clock::now();
  }
  // Why it cancelled the call; "" when it did not.
  std::string fired() const {
    std::lock_guard lock(mu_);
    return fired_;
  }

 private:
  void watch(const std::stop_token& done) {
    std::stop_callback wake(stop_, [this] { changed_.notify_all(); });
    std::unique_lock lock(mu_);
    while (!done.stop_requested()) {
      if (stop_.stop_requested()) {
        fired_ = "the transfer was stopped";
      } else if (std::chrono::steady_clock::now() - last_ >= stall_) {
        fired_ = "the source sent nothing for " + std::to_string(stall_.count()) + " ms";
      }
      if (!fired_.empty()) {
        context_.TryCancel();
        return;
      }
      changed_.wait_until(lock, done, last_ + stall_, [this] { return stop_.stop_requested(); });
    }
  }

  grpc::ClientContext& context_;
  const std::chrono::milliseconds stall_;
  const std::stop_token stop_;
  mutable std::mutex mu_;
  std::condition_variable_any changed_;
  std::chrono::steady_clock::time_point last_;
  std::string fired_;
  std::jthread thread_;  // last: started once the rest is set up
};

// The file under its final name already is the source's: nothing to move.
Result<bool> already_present(const Session& s, const std::string& name, FileReport& report) {
  Fd have(::open((s.dir / name).c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (have.get() < 0) {
    if (errno == ENOENT) return false;
    return fail(fs_error(s, name, "cannot open the file already there", errno));
  }
  Result<FileHash> local = sha256_file(have.get());
  if (!local) return fail(local.error());
  v1::FileRequest request;
  s.prove(request, name, 0);
  v1::FileInfo info;
  grpc::ClientContext context;
  // The source hashes the whole file before it answers: no stall limit, only `stop`.
  const Watchdog watchdog(context, std::chrono::hours(24), s.options.stop);
  const grpc::Status status = s.stub->Stat(&context, request, &info);
  if (!status.ok()) return fail(s.call_error(name, status));
  if (info.size() != local->size || info.sha256() != local->sha256) return false;
  report.size = local->size;
  report.sha256 = local->sha256;
  report.already_present = true;
  ::unlink((s.dir / part_name(name)).c_str());  // a stale part of an earlier attempt
  return true;
}

enum class Outcome : std::uint8_t { kDone, kStartOver };

// One Read call: resume the part file, verify, rename.
Result<Outcome> pull_once(const Session& s, const std::string& name, FileReport& report) {
  const fs::path part = s.dir / part_name(name);
  Sha256 hash;
  std::uint64_t offset = 0;
  if (Fd kept(::open(part.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC)); kept.get() >= 0) {
    Result<std::uint64_t> size =
        hash_fd(hash, kept.get(), std::numeric_limits<std::uint64_t>::max());
    if (!size) return fail(size.error());
    offset = *size;
  } else if (errno != ENOENT) {
    return fail(fs_error(s, name, "cannot open " + part.string(), errno));
  }

  v1::FileRequest request;
  s.prove(request, name, offset);
  grpc::ClientContext context;
  Watchdog watchdog(context, s.options.stall_timeout, s.options.stop);
  std::unique_ptr<grpc::ClientReader<v1::ReadMessage>> reader = s.stub->Read(&context, request);
  v1::ReadMessage message;
  // A call the watchdog cancelled says why (gRPC only says "Cancelled").
  const auto ended_status = [&watchdog](const grpc::Status& status) {
    const std::string why = watchdog.fired();
    return why.empty() ? status : grpc::Status(grpc::StatusCode::UNAVAILABLE, why);
  };
  if (!reader->Read(&message)) {
    const grpc::Status status = ended_status(reader->Finish());
    if (status.error_code() == grpc::StatusCode::OUT_OF_RANGE && offset > 0) {
      ::unlink(part.c_str());  // longer than the source's file: not a prefix of it
      return Outcome::kStartOver;
    }
    return fail(s.call_error(name, status));
  }
  if (!message.has_header()) {
    context.TryCancel();
    return fail(Error::internal(s.what(name) + ": the source did not start with a header"));
  }
  const std::uint64_t total = message.header().size();

  std::error_code ec;
  fs::create_directories(s.dir, ec);
  if (ec)
    return fail(
        Error::internal(s.what(name) + ": cannot create " + s.dir.string() + ": " + ec.message()));
  Fd out(::open(part.c_str(), O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (out.get() < 0) return fail(fs_error(s, name, "cannot create " + part.string(), errno));
  if (::ftruncate(out.get(), static_cast<off_t>(offset)) != 0) {
    return fail(fs_error(s, name, "cannot truncate " + part.string(), errno));
  }
  report.resumed_from = offset;

  std::uint64_t at = offset;
  bool ended = false;
  v1::Trailer trailer;
  while (!ended && reader->Read(&message)) {
    watchdog.fed();
    switch (message.body_case()) {
      case v1::ReadMessage::kChunk: {
        const v1::Chunk& chunk = message.chunk();
        if (chunk.offset() != at || (chunk.zeros() > 0) == !chunk.data().empty()) {
          context.TryCancel();
          return fail(
              Error::internal(s.what(name) + ": a malformed chunk at byte " + std::to_string(at)));
        }
        std::uint64_t n = chunk.zeros();
        if (n > 0) {
          // A hole instead of written zeros: the file stays as sparse as the source's.
          if (::ftruncate(out.get(), static_cast<off_t>(at + n)) != 0) {
            return fail(fs_error(s, name, "cannot extend " + part.string(), errno));
          }
          hash.update_zeros(n);
        } else {
          n = chunk.data().size();
          if (Status ok = write_all(out.get(), chunk.data().data(), n, at); !ok) {
            return fail(
                Error::internal(s.what(name) + ": " + part.string() + ": " + ok.error().message));
          }
          hash.update(chunk.data());
        }
        at += n;
        report.received += n;
        if (s.options.progress && !s.options.progress(Progress{name, at, total})) {
          context.TryCancel();
          reader->Finish();
          return fail(Error{ErrorCode::kUnavailable,
                            s.what(name) + ": cancelled at byte " + std::to_string(at) +
                                " (kept for a later attempt)",
                            {},
                            {}});
        }
        break;
      }
      case v1::ReadMessage::kTrailer:
        trailer = message.trailer();
        ended = true;
        break;
      case v1::ReadMessage::kHeader:
      case v1::ReadMessage::BODY_NOT_SET:
        context.TryCancel();
        return fail(Error::internal(s.what(name) + ": an unexpected message in the stream"));
    }
  }
  if (!ended) {
    const grpc::Status status = ended_status(reader->Finish());
    Error error = s.call_error(
        name, status.ok() ? grpc::Status(grpc::StatusCode::UNAVAILABLE, "the stream ended early")
                          : status);
    error.code = ErrorCode::kUnavailable;
    error.message += " (stopped at byte " + std::to_string(at) + " of " + std::to_string(total) +
                     "; kept for a later attempt)";
    return fail(error);
  }
  if (const grpc::Status status = reader->Finish(); !status.ok()) {
    return fail(s.call_error(name, status));
  }

  const std::string digest = hash.hex();
  if (trailer.size() != at || trailer.sha256() != digest) {
    out = Fd();
    ::unlink(part.c_str());
    if (offset > 0) return Outcome::kStartOver;
    return fail(Error::internal(s.what(name) + ": checksum mismatch (source " + trailer.sha256() +
                                ", " + std::to_string(trailer.size()) + " bytes; received " +
                                digest + ", " + std::to_string(at) + " bytes)"));
  }
  if (::fsync(out.get()) != 0)
    return fail(fs_error(s, name, "cannot fsync " + part.string(), errno));
  out = Fd();
  if (::rename(part.c_str(), (s.dir / name).c_str()) != 0) {
    return fail(fs_error(s, name, "cannot rename " + part.string(), errno));
  }
  if (Status ok = sync_dir(s.dir); !ok) return fail(ok.error());
  report.size = at;
  report.sha256 = digest;
  return Outcome::kDone;
}

// The VM directories a pull() of this process is writing into. Two pulls of one VM at once (a
// re-sent phase request while the first still runs) would write the same part file, and the
// later one's truncate could cut the file the earlier one just verified and renamed.
class Busy {
 public:
  static Result<Busy> claim(const fs::path& dir) {
    std::lock_guard lock(mu());
    if (!dirs().insert(dir.string()).second) {
      return fail(Error{ErrorCode::kConflict,
                        "another transfer into " + dir.string() + " is in progress",
                        {},
                        {}});
    }
    return Busy(dir.string());
  }
  Busy(Busy&& other) noexcept : dir_(std::exchange(other.dir_, std::string())) {}
  Busy& operator=(Busy&&) = delete;
  ~Busy() {
    if (dir_.empty()) return;
    std::lock_guard lock(mu());
    dirs().erase(dir_);
  }

 private:
  explicit Busy(std::string dir) : dir_(std::move(dir)) {}
  static std::mutex& mu() {
    static std::mutex m;
    return m;
  }
  static std::set<std::string>& dirs() {
    static std::set<std::string> d;
    return d;
  }
  std::string dir_;
};

Status connect(const Session& s) {
  const auto deadline = std::chrono::system_clock::now() + s.options.connect_timeout;
  for (grpc_connectivity_state state = s.channel->GetState(true); state != GRPC_CHANNEL_READY;
       state = s.channel->GetState(true)) {
    // A refused handshake: the first call fails at once with gRPC's reason and the note.
    if (state == GRPC_CHANNEL_TRANSIENT_FAILURE) return {};
    if (!s.channel->WaitForStateChange(state, deadline)) {
      return fail(Error{ErrorCode::kUnavailable,
                        "cannot reach the source agent \"" + s.options.ticket.source_host +
                            "\" at " + s.options.source_address + " within " +
                            std::to_string(s.options.connect_timeout.count()) + " ms",
                        {},
                        {}});
    }
  }
  return {};
}

}  // namespace

Result<TransferReport> pull(const PullOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  if (Status ok = check_file_names(options.files); !ok) return fail(ok.error());
  if (options.ticket.target_host != options.identity.host) {
    return fail(Error::invalid_argument("the transfer ticket is for host \"" +
                                        options.ticket.target_host + "\", this agent is \"" +
                                        options.identity.host + "\""));
  }
  if (options.ticket.source_host.empty() || options.source_address.empty()) {
    return fail(Error::invalid_argument("a transfer needs the source host and its address"));
  }
  Session s{options, std::make_shared<RefusalNote>(), nullptr, nullptr,
            vm_dir(options.data_dir, options.ticket.vm)};
  Result<Busy> busy = Busy::claim(s.dir);
  if (!busy) return fail(busy.error());
  grpc::ChannelArguments args;
  // A source host that dies without closing the connection is noticed within ~30 s.
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 20'000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10'000);
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  // The name sent in the TLS hello (SNI): the source host its certificate names.
  args.SetSslTargetNameOverride(options.ticket.source_host);
  s.channel = grpc::CreateCustomChannel(
      options.source_address,
      channel_credentials(options.identity, options.ticket.source_host, s.note), args);
  s.stub = v1::TransferService::NewStub(s.channel);
  if (Status ok = connect(s); !ok) return fail(ok.error());

  TransferReport report;
  for (const std::string& name : options.files) {
    FileReport file;
    file.name = name;
    Result<bool> present = already_present(s, name, file);
    if (!present) return fail(present.error());
    if (!*present) {
      Result<Outcome> outcome = pull_once(s, name, file);
      if (outcome && *outcome == Outcome::kStartOver) {
        // The part was removed: this attempt starts at byte 0 and cannot ask to start over.
        file = FileReport{};
        file.name = name;
        outcome = pull_once(s, name, file);
      }
      if (!outcome) return fail(outcome.error());
    }
    report.bytes += file.received;
    report.files.push_back(std::move(file));
  }
  report.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return report;
}

}  // namespace corral::transfer
