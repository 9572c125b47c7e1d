#include "agent/guard/fence_guard_client.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "agent/guard/fence_guard_server.h"
#include "agent/guard/proc_identity.h"

namespace corral::agent::guard {

namespace {

Error unavailable(std::string message) {
  return Error{ErrorCode::kUnavailable, std::move(message), {}, {}};
}

// Starts the guard detached: fork, setsid, fork again (so it is nobody's child here), exec.
// Everything exec needs is prepared before the first fork (the agent has threads).
Status spawn_guard(const std::string& data_dir, const std::string& binary,
                   const std::vector<std::string>& extra) {
  std::vector<std::string> argv = {binary, "fence-guard", "--data-dir", data_dir};
  argv.insert(argv.end(), extra.begin(), extra.end());
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  const std::string log = data_dir + "/fence-guard.log";
  const int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (log_fd < 0 || null_fd < 0) {
    if (log_fd >= 0) ::close(log_fd);
    if (null_fd >= 0) ::close(null_fd);
    return fail(unavailable("cannot open " + log + ": " + std::strerror(errno)));
  }
  const pid_t child = ::fork();
  if (child == 0) {
    ::setsid();
    if (::fork() != 0) ::_exit(0);
    ::dup2(null_fd, 0);
    ::dup2(log_fd, 1);
    ::dup2(log_fd, 2);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(log_fd);
  ::close(null_fd);
  if (child < 0) return fail(unavailable(std::string("fork: ") + std::strerror(errno)));
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  return {};
}

}  // namespace

std::optional<FencedVm> fenced_vm(std::int64_t vm, pid_t pid) {
  const auto start = start_time(pid);
  if (!start) return std::nullopt;
  return FencedVm{vm, pid, *start};
}

Result<FenceGuardClient> FenceGuardClient::connect_or_spawn(const std::string& data_dir,
                                                            const std::string& corral_binary,
                                                            std::vector<std::string> extra_args) {
  FenceGuardClient client(data_dir);
  if (client.connect()) return client;
  if (auto spawned = spawn_guard(data_dir, corral_binary, extra_args); !spawned) {
    return fail(spawned.error());
  }
  for (int i = 0; i < 60; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (client.connect()) return client;
  }
  return fail(unavailable("the fence guard did not start (see " + data_dir + "/fence-guard.log)"));
}

FenceGuardClient::FenceGuardClient(FenceGuardClient&& other) noexcept
    : data_dir_(std::move(other.data_dir_)), fd_(std::exchange(other.fd_, -1)) {}

FenceGuardClient& FenceGuardClient::operator=(FenceGuardClient&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    data_dir_ = std::move(other.data_dir_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

FenceGuardClient::~FenceGuardClient() {
  if (fd_ >= 0) ::close(fd_);
}

Status FenceGuardClient::connect() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  const std::string path = guard_socket_path(data_dir_);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return fail(unavailable("socket path too long"));
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(unavailable(std::strerror(errno)));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return fail(unavailable("no fence guard at " + path));
  }
  fd_ = fd;
  return {};
}

Result<GuardStatus> FenceGuardClient::call(const GuardRequest& request) {
  const std::string line = render_request(request);
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (fd_ < 0 && !connect()) continue;
    bool ok =
        ::send(fd_, line.data(), line.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(line.size());
    std::string reply;
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (ok && reply.find('\n') == std::string::npos) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                            until - std::chrono::steady_clock::now())
                            .count();
      pollfd p{fd_, POLLIN, 0};
      if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0) {
        ok = false;
        break;
      }
      char buf[4096];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        ok = false;
        break;
      }
      reply.append(buf, static_cast<std::size_t>(n));
    }
    if (ok) return parse_reply(reply.substr(0, reply.find('\n')));
    ::close(fd_);
    fd_ = -1;
  }
  return fail(unavailable("the fence guard of " + data_dir_ + " does not answer"));
}

Result<GuardStatus> FenceGuardClient::renew(Millis lease_ms, const std::vector<FencedVm>& vms) {
  return call(GuardRequest{GuardOp::kRenew, lease_ms, vms});
}

Result<GuardStatus> FenceGuardClient::clear() { return call(GuardRequest{GuardOp::kClear, 0, {}}); }

Result<GuardStatus> FenceGuardClient::status() {
  return call(GuardRequest{GuardOp::kStatus, 0, {}});
}

}  // namespace corral::agent::guard
