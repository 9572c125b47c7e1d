#include "driver/qemu/qemu_process.h"

#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

namespace corral::driver::qemu {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

std::string qemu_said(const std::string& log, std::size_t max) {
  std::string text = read_tail(log, max);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

Result<pid_t> QemuProcess::start(const LaunchSpec& spec, std::string_view label) {
  std::error_code ec;
  for (const std::string& stale : {paths_.qmp, paths_.serial, paths_.pidfile}) {
    fs::remove(stale, ec);
  }
  if (paths_.qmp.size() > kMaxSocketPath || paths_.serial.size() > kMaxSocketPath) {
    return fail(Error::invalid_argument("the data dir path is too long for unix sockets (" +
                                        paths_.qmp + "); use a shorter --data-dir"));
  }
  {
    std::ofstream log(paths_.qemu_log, std::ios::app);
    log << "---- launch (" << label << ")\n";
  }
  Result<int> rc = run_logged(qemu_argv(spec), paths_.qemu_log, kLaunchTimeout);
  if (!rc) return fail(std::move(rc.error()));
  if (*rc != 0) {
    return fail(Error::internal("QEMU did not start (exit " + std::to_string(*rc) +
                                "): " + qemu_said(paths_.qemu_log, 400)));
  }
  const std::optional<pid_t> pid = read_pidfile(paths_.pidfile);
  if (!pid) return fail(Error::internal("QEMU started but wrote no pidfile " + paths_.pidfile));
  exited_ = false;
  expect_exit_ = false;
  return *pid;
}

Status QemuProcess::attach(pid_t pid) {
  pid_ = pid;
  pidfd_ = open_pidfd(pid);
  has_process_ = true;
  Result<QmpClient> qmp = QmpClient::connect(paths_.qmp, kQmpTimeout);
  if (!qmp) return fail(std::move(qmp.error()));
  qmp_ = std::move(*qmp);
  connect_serial();
  return {};
}

void QemuProcess::connect_serial() {
  if (paths_.serial.size() > kMaxSocketPath) return;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, paths_.serial.c_str(), paths_.serial.size() + 1);
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API
  if (fd.valid() &&
      ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) {
    serial_ = std::move(fd);
  }
}

void QemuProcess::hard_stop(const WaitGone& wait_gone) {
  if (!alive()) return;
  expect_exit_ = true;
  if (qmp_.connected()) (void)qmp_.execute("quit", nlohmann::json::object(), milliseconds(1000));
  if (wait_gone(milliseconds(2000))) return;
  for (const int sig : {SIGTERM, SIGKILL}) {
    if (pidfd_.valid()) {
      ::syscall(SYS_pidfd_send_signal, pidfd_.get(), sig, nullptr, 0);
    } else if (pid_ > 0) {
      ::kill(pid_, sig);
    }
    if (wait_gone(milliseconds(3000))) return;
  }
}

void QemuProcess::kill_leftovers() {
  // A QEMU of this VM creates its sockets first: without them none was ever started here.
  std::error_code ec;
  if (!fs::exists(paths_.pidfile, ec) && !fs::exists(paths_.qmp, ec) &&
      !fs::exists(paths_.serial, ec)) {
    return;
  }
  for (const pid_t pid : pids_mentioning(comm_of(config_.qemu_binary), paths_.pidfile)) {
    if (has_process_ && pid == pid_ && alive()) continue;
    if (config_.warn) {
      config_.warn("vm " + std::to_string(vm_) + ": killing leftover QEMU process " +
                   std::to_string(pid) + " before launching another");
    }
    UniqueFd pidfd = open_pidfd(pid);
    ::kill(pid, SIGKILL);
    if (pidfd.valid()) (void)wait_readable(pidfd.get(), milliseconds(3000));
  }
}

void QemuProcess::await_interrupted_launch() const {
  const auto until = SteadyClock::now() + kLaunchTimeout;
  while (SteadyClock::now() < until) {
    const std::optional<pid_t> pid = read_pidfile(paths_.pidfile);
    if (pid && process_alive(*pid)) return;
    if (pids_mentioning(comm_of(config_.qemu_binary), paths_.pidfile).empty()) return;
    std::this_thread::sleep_for(milliseconds(50));
  }
}

Result<std::string> QemuProcess::run_status() {
  Result<nlohmann::json> status =
      qmp_.execute("query-status", nlohmann::json::object(), kQmpTimeout);
  if (!status) return fail(std::move(status.error()));
  return status->value("status", std::string("unknown"));
}

void QemuProcess::write_serial(const std::string& bytes) {
  if (bytes.empty() || !serial_.valid()) return;
  [[maybe_unused]] const ssize_t w =
      ::send(serial_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
}

std::string QemuProcess::read_serial(bool drain) {
  std::string got;
  if (!serial_.valid()) return got;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::recv(serial_.get(), buffer, sizeof buffer, MSG_DONTWAIT);
    if (n > 0) {
      got.append(buffer, static_cast<std::size_t>(n));
      if (drain) continue;
    } else if (!drain && (n == 0 || (errno != EAGAIN && errno != EINTR))) {
      serial_.reset();
    }
    return got;
  }
}

void QemuProcess::gone() {
  pid_ = 0;
  exited_ = true;
  has_process_ = false;
  pidfd_.reset();
  qmp_.close();
  serial_.reset();
}

bool QemuProcess::take_exit() {
  const bool expected = expect_exit_;
  exited_ = false;
  expect_exit_ = false;
  return expected;
}

}  // namespace corral::driver::qemu
