#include "agent/guard/fence_guard_server.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "agent/guard/fence_lease.h"
#include "agent/guard/fence_protocol.h"
#include "agent/guard/proc_identity.h"
#include "common/log.h"

namespace corral::agent::guard {
namespace {

struct Client {
  int fd = -1;
  std::string buffer;
};

void log_error(std::string_view event, const std::string& what) {
  log(LogLevel::kError, event, {{"error", what}});
}

std::string errno_text(const char* what) {
  return fmt::format("{}: {}", what, std::strerror(errno));
}

// Blocking send of one whole reply; SO_SNDTIMEO bounds how long a client that never reads
// can hold the guard.
bool send_line(int fd, const std::string& line) {
  std::string out = line + "\n";
  std::size_t sent = 0;
  while (sent < out.size()) {
    const ssize_t n = ::send(fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

class Guard {
 public:
  Guard(const Clock& clock, Millis tick_ms) : clock_(clock), tick_ms_(tick_ms) {}

  // Runs the poll loop on already-set-up descriptors; returns when asked to stop (true) or
  // when poll itself fails (false).
  bool loop(int signal_fd, int listen_fd) {
    while (!stop_) {
      fence_if_due();
      Millis wait = tick_ms_;
      if (const auto left = lease_.remaining(clock_.now_ms())) wait = std::min(wait, *left);
      std::vector<pollfd> fds{{signal_fd, POLLIN, 0}, {listen_fd, POLLIN, 0}};
      for (const auto& c : clients_) fds.push_back({c.fd, POLLIN, 0});
      const int n = ::poll(fds.data(), fds.size(), static_cast<int>(wait));
      if (n < 0 && errno != EINTR) {
        log_error("fence_guard_poll_failed", errno_text("poll"));
        return false;
      }
      if (n <= 0) continue;
      // The lease first: a renewal that arrives after the deadline is too late.
      fence_if_due();
      if (fds[0].revents != 0) {
        signalfd_siginfo info{};
        if (::read(signal_fd, &info, sizeof info) > 0) {
          log(LogLevel::kInfo, "fence_guard_signal", {{"signal", ::strsignal(info.ssi_signo)}});
          stop_ = true;
        }
      }
      // Client fds from index 2 on, in the order of clients_ at poll time.
      std::vector<int> ready;
      for (std::size_t i = 2; i < fds.size(); ++i) {
        if (fds[i].revents != 0) ready.push_back(fds[i].fd);
      }
      for (const int fd : ready) serve(fd);
      if (fds[1].revents != 0) accept_client(listen_fd);
    }
    return true;
  }

  ~Guard() {
    for (const auto& c : clients_) ::close(c.fd);
  }

 private:
  void fence_if_due() {
    const auto vms = lease_.take_expired(clock_.now_ms());
    if (vms.empty()) return;
    log(LogLevel::kWarn, "fence_lease_expired", {{"vms", std::to_string(vms.size())}});
    for (const auto& vm : vms) {
      const auto pid = std::to_string(vm.pid);
      auto outcome = kill_identified(ProcessIdentity{vm.pid, vm.start_time});
      if (!outcome) {
        log(LogLevel::kError, "fence_kill_failed",
            {{"vm", vm.vm}, {"pid", pid}, {"error", outcome.error().message}});
        continue;
      }
      if (*outcome == KillOutcome::kKilled) ++fenced_total_;
      log(LogLevel::kWarn, "fence_kill",
          {{"vm", vm.vm}, {"pid", pid}, {"outcome", kill_outcome_name(*outcome)}});
    }
  }

  void accept_client(int listen_fd) {
    const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return;
    if (clients_.size() >= static_cast<std::size_t>(kMaxClients)) {
      send_line(fd, encode_reply(Reply{false, "too many clients", std::nullopt}));
      ::close(fd);
      return;
    }
    const timeval timeout{2, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    clients_.push_back(Client{fd, {}});
  }

  void serve(int fd) {
    auto it = std::find_if(clients_.begin(), clients_.end(),
                           [fd](const Client& c) { return c.fd == fd; });
    if (it == clients_.end()) return;
    char chunk[65536];
    // poll said readable: one recv does not block.
    const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    bool keep = n > 0;
    if (keep) it->buffer.append(chunk, static_cast<std::size_t>(n));
    while (keep) {
      const auto nl = it->buffer.find('\n');
      if (nl == std::string::npos) {
        if (it->buffer.size() > kMaxLineBytes) {
          send_line(fd, encode_reply(Reply{false, "line too long", std::nullopt}));
          keep = false;
        }
        break;
      }
      const std::string line = it->buffer.substr(0, nl);
      it->buffer.erase(0, nl + 1);
      keep = send_line(fd, encode_reply(handle(line)));
    }
    if (!keep) {
      ::close(fd);
      clients_.erase(it);
    }
  }

  Reply handle(const std::string& line) {
    auto request = parse_request(line);
    if (!request) return Reply{false, request.error().message, std::nullopt};
    const Millis now = clock_.now_ms();
    if (auto* renew = std::get_if<RenewRequest>(&*request)) {
      const auto count = std::to_string(renew->vms.size());
      const auto lease = std::to_string(renew->lease_ms);
      lease_.renew(now, renew->lease_ms, std::move(renew->vms));
      log(LogLevel::kDebug, "fence_lease_renewed", {{"lease_ms", lease}, {"vms", count}});
      return Reply{true, {}, std::nullopt};
    }
    if (std::holds_alternative<ClearRequest>(*request)) {
      if (lease_.armed()) log(LogLevel::kInfo, "fence_lease_cleared");
      lease_.clear();
      return Reply{true, {}, std::nullopt};
    }
    if (std::holds_alternative<ShutdownRequest>(*request)) {
      log(LogLevel::kInfo, "fence_guard_shutdown_requested");
      stop_ = true;
      return Reply{true, {}, std::nullopt};
    }
    GuardStatus st;
    st.pid = ::getpid();
    st.armed = lease_.armed();
    st.lease_ms = lease_.lease_ms();
    st.remaining_ms = lease_.remaining(now);
    st.vms = lease_.vms();
    st.fenced_total = fenced_total_;
    return Reply{true, {}, std::move(st)};
  }

  const Clock& clock_;
  Millis tick_ms_;
  FenceLease lease_;
  std::vector<Client> clients_;
  std::uint64_t fenced_total_ = 0;
  bool stop_ = false;
};

// Closes on scope exit.
struct FdCloser {
  int fd;
  ~FdCloser() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

std::string fence_guard_socket_path(const std::string& data_dir) {
  return data_dir + "/fence-guard.sock";
}
std::string fence_guard_lock_path(const std::string& data_dir) {
  return data_dir + "/fence-guard.lock";
}
std::string fence_guard_log_path(const std::string& data_dir) {
  return data_dir + "/fence-guard.log";
}

int run_fence_guard(const FenceGuardOptions& options) {
  const BoottimeClock boottime;
  const Clock& clock = options.clock != nullptr ? *options.clock : boottime;
  ::signal(SIGPIPE, SIG_IGN);
  ::signal(SIGHUP, SIG_IGN);
  ::umask(077);

  const std::string sock_path = fence_guard_socket_path(options.data_dir);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (sock_path.size() >= sizeof addr.sun_path) {
    log_error("fence_guard_socket_path_too_long", sock_path);
    return kExitError;
  }
  std::memcpy(addr.sun_path, sock_path.c_str(), sock_path.size() + 1);
  if (::mkdir(options.data_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    log_error("fence_guard_data_dir", errno_text(options.data_dir.c_str()));
    return kExitError;
  }

  const FdCloser lock{
      ::open(fence_guard_lock_path(options.data_dir).c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600)};
  if (lock.fd < 0) {
    log_error("fence_guard_lock", errno_text("open lock"));
    return kExitError;
  }
  if (::flock(lock.fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      log(LogLevel::kInfo, "fence_guard_already_running", {{"data_dir", options.data_dir}});
      return kExitAlreadyRunning;
    }
    log_error("fence_guard_lock", errno_text("flock"));
    return kExitError;
  }
  const std::string pid_text = std::to_string(::getpid()) + "\n";
  if (::ftruncate(lock.fd, 0) != 0 || ::write(lock.fd, pid_text.data(), pid_text.size()) < 0) {
    log(LogLevel::kWarn, "fence_guard_lock_pid", {{"error", std::strerror(errno)}});
  }

  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  ::pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  const FdCloser sigfd{::signalfd(-1, &stop_signals, SFD_CLOEXEC)};
  if (sigfd.fd < 0) {
    log_error("fence_guard_signalfd", errno_text("signalfd"));
    return kExitError;
  }

  // We hold the lock: a socket file left here is a dead guard's.
  ::unlink(sock_path.c_str());
  const FdCloser listener{::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  if (listener.fd < 0 ||
      ::bind(listener.fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listener.fd, 16) != 0) {
    log_error("fence_guard_listen", errno_text(sock_path.c_str()));
    return kExitError;
  }
  log(LogLevel::kInfo, "fence_guard_started",
      {{"pid", std::to_string(::getpid())}, {"socket", sock_path}});

  bool stopped = false;
  {
    Guard guard(clock, options.tick_ms > 0 ? options.tick_ms : 200);
    stopped = guard.loop(sigfd.fd, listener.fd);
  }
  ::unlink(sock_path.c_str());
  log(LogLevel::kInfo, "fence_guard_stopped");
  return stopped ? kExitStopped : kExitError;
}

}  // namespace corral::agent::guard
