#include "agent/guard/fence_guard_server.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "agent/guard/fence_lease.h"
#include "agent/guard/fence_protocol.h"
#include "agent/guard/proc_identity.h"

namespace corral::agent::guard {

namespace {

volatile sig_atomic_t g_stop = 0;
void on_signal(int /*sig*/) { g_stop = 1; }

constexpr Millis kIdleExitMs = 30'000;

struct Client {
  int fd = -1;
  std::string buffer;
};

void log_line(const std::string& text) { std::fprintf(stderr, "fence-guard: %s\n", text.c_str()); }

bool send_all(int fd, const std::string& data) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    const ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

class Guard {
 public:
  std::string handle(std::string_view line) {
    auto request = parse_request(line);
    if (!request) return render_error(request.error().message);
    switch (request->op) {
      case GuardOp::kRenew:
        lease_.renew(boottime_ms(), request->lease_ms, std::move(request->vms));
        break;
      case GuardOp::kClear:
        lease_.clear();
        break;
      case GuardOp::kStatus:
        break;
    }
    return render_status(status());
  }

  void expire() {
    for (const auto& vm : lease_.expire(boottime_ms())) {
      if (kill_verified(vm.pid, vm.start_time)) {
        ++fenced_;
        log_line("lease ran out: stopped VM " + std::to_string(vm.vm) + " (pid " +
                 std::to_string(vm.pid) + ")");
      } else {
        log_line("lease ran out: VM " + std::to_string(vm.vm) + " (pid " + std::to_string(vm.pid) +
                 ") was already gone");
      }
    }
  }

  // Milliseconds poll() may sleep: until the lease runs out, at most a second.
  int wait_ms() const {
    Millis wait = 1000;
    if (const auto at = lease_.deadline())
      wait = std::min(wait, std::max<Millis>(0, *at - boottime_ms()));
    return static_cast<int>(wait);
  }
  bool armed() const { return lease_.armed(); }

 private:
  GuardStatus status() const {
    GuardStatus s;
    s.armed = lease_.armed();
    s.lease_ms = lease_.lease_ms();
    if (const auto at = lease_.deadline())
      s.remaining_ms = std::max<Millis>(0, *at - boottime_ms());
    s.vms = lease_.vms();
    s.fenced = fenced_;
    return s;
  }

  FenceLease lease_;
  int fenced_ = 0;
};

}  // namespace

std::string guard_socket_path(const std::string& data_dir) {
  return data_dir + "/fence-guard.sock";
}

int run_fence_guard(const std::string& data_dir) {
  const std::string lock_path = data_dir + "/fence-guard.lock";
  const int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd < 0) {
    log_line("cannot open " + lock_path + ": " + std::strerror(errno));
    return 1;
  }
  if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    log_line("another fence guard serves " + data_dir);
    return 1;
  }
  const std::string path = guard_socket_path(data_dir);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    log_line("socket path too long: " + path);
    return 1;
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  ::unlink(path.c_str());  // a stale one: we hold the lock, so no guard serves it
  const int listen_fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (listen_fd < 0 || ::bind(listen_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::chmod(path.c_str(), 0600) != 0 || ::listen(listen_fd, 8) != 0) {
    log_line("cannot listen on " + path + ": " + std::strerror(errno));
    return 1;
  }
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGINT, &sa, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  log_line("serving " + path);

  Guard guard;
  std::vector<Client> clients;
  Millis idle_since = boottime_ms();
  while (g_stop == 0) {
    std::vector<pollfd> fds{{listen_fd, POLLIN, 0}};
    for (const auto& c : clients) fds.push_back({c.fd, POLLIN, 0});
    const int n = ::poll(fds.data(), fds.size(), guard.wait_ms());
    guard.expire();
    if (n < 0 && errno != EINTR) break;
    if (n > 0 && (fds[0].revents & POLLIN) != 0) {
      const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd >= 0) clients.push_back({fd, {}});
    }
    for (std::size_t i = 1; n > 0 && i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      Client& c = clients[i - 1];
      char buf[4096];
      const ssize_t got = ::recv(c.fd, buf, sizeof buf, 0);
      bool keep = got > 0;
      if (keep) c.buffer.append(buf, static_cast<std::size_t>(got));
      for (auto nl = c.buffer.find('\n'); keep && nl != std::string::npos;
           nl = c.buffer.find('\n')) {
        const std::string line = c.buffer.substr(0, nl);
        c.buffer.erase(0, nl + 1);
        keep = send_all(c.fd, guard.handle(line));
      }
      if (keep && c.buffer.size() > kMaxLineBytes) {
        (void)send_all(c.fd, render_error("request too large"));
        keep = false;
      }
      if (!keep) {
        ::close(c.fd);
        c.fd = -1;
      }
    }
    std::erase_if(clients, [](const Client& c) { return c.fd < 0; });
    struct stat st {};
    if (::stat(lock_path.c_str(), &st) != 0) {
      log_line(data_dir + " is gone: exiting");
      break;
    }
    const Millis now = boottime_ms();
    if (!clients.empty() || guard.armed()) idle_since = now;
    if (now - idle_since > kIdleExitMs) {
      log_line("no lease and no agent for 30 s: exiting");
      break;
    }
  }
  for (const auto& c : clients) ::close(c.fd);
  ::close(listen_fd);
  ::unlink(path.c_str());
  ::close(lock_fd);
  return 0;
}

}  // namespace corral::agent::guard
