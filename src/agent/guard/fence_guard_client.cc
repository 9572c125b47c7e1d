#include "agent/guard/fence_guard_client.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>
#include <utility>

#include "agent/guard/fence_guard_server.h"
#include "agent/guard/proc_identity.h"

extern char** environ;  // NOLINT: POSIX declares it nowhere in a header

namespace corral::agent::guard {
namespace {

Error unavailable(std::string message) {
  return Error{ErrorCode::kUnavailable, std::move(message), {}, {}};
}

Millis steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// A connected socket to the guard, or -1 with errno set.
int dial(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    errno = ENAMETOOLONG;
    return -1;
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    const int saved = errno;
    ::close(fd);
    errno = saved;
    return -1;
  }
  return fd;
}

}  // namespace

Result<FencedVm> fenced_vm_for(std::string vm, pid_t pid) {
  auto who = identify_process(pid);
  if (!who) return fail(who.error());
  return FencedVm{std::move(vm), who->pid, who->start_time};
}

FenceGuardClient::FenceGuardClient(std::string data_dir, std::string binary,
                                   std::vector<std::string> extra, Millis spawn_timeout_ms)
    : data_dir_(std::move(data_dir)),
      binary_(std::move(binary)),
      extra_args_(std::move(extra)),
      spawn_timeout_ms_(spawn_timeout_ms) {}

FenceGuardClient::FenceGuardClient(FenceGuardClient&& other) noexcept
    : data_dir_(std::move(other.data_dir_)),
      binary_(std::move(other.binary_)),
      extra_args_(std::move(other.extra_args_)),
      spawn_timeout_ms_(other.spawn_timeout_ms_),
      io_timeout_ms_(other.io_timeout_ms_),
      fd_(std::exchange(other.fd_, -1)),
      buffer_(std::move(other.buffer_)) {}

FenceGuardClient& FenceGuardClient::operator=(FenceGuardClient&& other) noexcept {
  if (this != &other) {
    disconnect();
    data_dir_ = std::move(other.data_dir_);
    binary_ = std::move(other.binary_);
    extra_args_ = std::move(other.extra_args_);
    spawn_timeout_ms_ = other.spawn_timeout_ms_;
    io_timeout_ms_ = other.io_timeout_ms_;
    fd_ = std::exchange(other.fd_, -1);
    buffer_ = std::move(other.buffer_);
  }
  return *this;
}

FenceGuardClient::~FenceGuardClient() { disconnect(); }

void FenceGuardClient::disconnect() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  buffer_.clear();
}

Result<FenceGuardClient> FenceGuardClient::connect(std::string data_dir) {
  FenceGuardClient client(std::move(data_dir), {}, {}, 0);
  auto ok = client.ensure_connected();
  if (!ok) return fail(ok.error());
  return client;
}

Result<FenceGuardClient> FenceGuardClient::connect_or_spawn(std::string data_dir,
                                                            std::string corral_binary,
                                                            std::vector<std::string> extra_args,
                                                            Millis spawn_timeout_ms) {
  if (corral_binary.empty()) return fail(Error::invalid_argument("no corral binary to spawn"));
  FenceGuardClient client(std::move(data_dir), std::move(corral_binary), std::move(extra_args),
                          spawn_timeout_ms);
  auto ok = client.ensure_connected();
  if (!ok) return fail(ok.error());
  return client;
}

Status FenceGuardClient::ensure_connected() {
  if (fd_ >= 0) return {};
  const std::string path = fence_guard_socket_path(data_dir_);
  fd_ = dial(path);
  if (fd_ >= 0) return {};
  if (errno == ENAMETOOLONG) {
    return fail(Error::invalid_argument(fmt::format("socket path too long: {}", path)));
  }
  if (binary_.empty()) {
    return fail(unavailable(fmt::format("no fence guard at {}: {}", path, std::strerror(errno))));
  }
  auto spawned = spawn_guard();
  if (!spawned) return spawned;
  const Millis until = steady_ms() + spawn_timeout_ms_;
  while (true) {
    fd_ = dial(path);
    if (fd_ >= 0) return {};
    if (steady_ms() >= until) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return fail(unavailable(fmt::format("the fence guard did not come up within {} ms (see {})",
                                      spawn_timeout_ms_, fence_guard_log_path(data_dir_))));
}

Status FenceGuardClient::spawn_guard() {
  std::vector<std::string> args{binary_, "fence-guard", "--data-dir", data_dir_, "--fork"};
  args.insert(args.end(), extra_args_.begin(), extra_args_.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attr);
  const std::string log_path = fence_guard_log_path(data_dir_);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                   0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  // The agent blocks SIGINT/SIGTERM for its signal thread; the guard must not inherit that
  // (it sets up its own), nor ignored signals.
  sigset_t empty;
  sigset_t defaults;
  sigemptyset(&empty);
  sigemptyset(&defaults);
  for (const int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGCHLD}) sigaddset(&defaults, sig);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, binary_.c_str(), &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    return fail(unavailable(fmt::format("spawn {}: {}", binary_, std::strerror(rc))));
  }
  // With --fork the direct child exits as soon as the guard proper is forked off.
  int wstatus = 0;
  while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  return {};
}

Result<Reply> FenceGuardClient::call_once(const std::string& line) {
  const std::string out = line + "\n";
  std::size_t sent = 0;
  while (sent < out.size()) {
    const ssize_t n = ::send(fd_, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail(unavailable(fmt::format("send: {}", std::strerror(errno))));
    sent += static_cast<std::size_t>(n);
  }
  const Millis until = steady_ms() + io_timeout_ms_;
  while (true) {
    const auto nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      const std::string reply = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return parse_reply(reply);
    }
    if (buffer_.size() > kMaxLineBytes) return fail(unavailable("reply too long"));
    const Millis left = until - steady_ms();
    if (left <= 0) return fail(unavailable("the fence guard did not reply in time"));
    pollfd pfd{fd_, POLLIN, 0};
    const int ready = ::poll(&pfd, 1, static_cast<int>(left));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;
    char chunk[65536];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail(unavailable("the fence guard closed the connection"));
    buffer_.append(chunk, static_cast<std::size_t>(n));
  }
}

Result<Reply> FenceGuardClient::call(const Request& request) {
  const std::string line = encode_request(request);
  for (int attempt = 0;; ++attempt) {
    auto connected = ensure_connected();
    if (!connected) return fail(connected.error());
    auto reply = call_once(line);
    if (reply) {
      if (!reply->ok) return fail(Error::invalid_argument("fence guard: " + reply->error));
      return reply;
    }
    // The stream may be out of step now: start afresh.
    disconnect();
    if (attempt >= 1 || reply.error().code != ErrorCode::kUnavailable) return fail(reply.error());
  }
}

Status FenceGuardClient::renew(Millis lease_ms, const std::vector<FencedVm>& vms) {
  auto reply = call(RenewRequest{lease_ms, vms});
  if (!reply) return fail(reply.error());
  return {};
}

Status FenceGuardClient::clear() {
  auto reply = call(ClearRequest{});
  if (!reply) return fail(reply.error());
  return {};
}

Result<GuardStatus> FenceGuardClient::status() {
  auto reply = call(StatusRequest{});
  if (!reply) return fail(reply.error());
  if (!reply->status) return fail(Error::internal("fence guard: status reply without status"));
  return std::move(*reply->status);
}

Status FenceGuardClient::shutdown() {
  // Never spawn a guard only to stop it.
  std::string binary = std::exchange(binary_, {});
  auto reply = call(ShutdownRequest{});
  binary_ = std::move(binary);
  disconnect();
  if (!reply) return fail(reply.error());
  return {};
}

}  // namespace corral::agent::guard
