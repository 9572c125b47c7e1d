#include "migrate_hosts.h"

#include <fmt/core.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

namespace corral::bench {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using namespace driver::qemu;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

int connect_unix(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return -1;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API
  if (fd >= 0 && ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) {
    return fd;
  }
  if (fd >= 0) ::close(fd);
  return -1;
}

// ---- RawQmp -----------------------------------------------------------------------------

bool RawQmp::connect(const std::string& socket_path, std::chrono::milliseconds timeout) {
  close();
  const auto until = Clock::now() + timeout;
  while (fd_ < 0 && Clock::now() < until) {
    fd_ = connect_unix(socket_path);
    if (fd_ < 0) std::this_thread::sleep_for(10ms);
  }
  if (fd_ < 0) {
    error_ = "cannot connect to " + socket_path;
    return false;
  }
  // The greeting, then capabilities negotiation.
  std::optional<json> greeting = read_message(timeout);
  if (!greeting || !greeting->contains("QMP")) return false;
  return execute("qmp_capabilities").has_value();
}

void RawQmp::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  buffer_.clear();
}

std::optional<json> RawQmp::read_message(std::chrono::milliseconds timeout) {
  const auto until = Clock::now() + timeout;
  for (;;) {
    const std::size_t nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      json message = json::parse(buffer_.substr(0, nl), nullptr, false);
      buffer_.erase(0, nl + 1);
      if (!message.is_discarded()) return message;
      continue;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
    pollfd p{fd_, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
      error_ = "no answer in time";
      return std::nullopt;
    }
    char chunk[8192];
    const ssize_t n = ::read(fd_, chunk, sizeof chunk);
    if (n <= 0) {
      error_ = "QMP closed";
      close();
      return std::nullopt;
    }
    buffer_.append(chunk, static_cast<std::size_t>(n));
  }
}

std::optional<json> RawQmp::execute(const std::string& command, const json& arguments) {
  if (fd_ < 0) {
    error_ = "not connected";
    return std::nullopt;
  }
  json request = {{"execute", command}};
  if (!arguments.empty()) request["arguments"] = arguments;
  const std::string line = request.dump() + "\n";
  if (::send(fd_, line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size())) {
    error_ = "send failed";
    return std::nullopt;
  }
  for (;;) {
    std::optional<json> m = read_message(10s);
    if (!m) return std::nullopt;
    if (m->contains("return")) return (*m)["return"];
    if (m->contains("error")) {
      error_ = (*m)["error"].value("desc", "error");
      return std::nullopt;
    }
    // An event: skipped (one command at a time, so the next answer is this command's).
  }
}

// ---- BenchHost --------------------------------------------------------------------------

std::unique_ptr<BenchHost> BenchHost::launch(const std::string& host_dir, bool incoming,
                                             const std::string& disk, int memory_mib) {
  auto h = std::unique_ptr<BenchHost>(new BenchHost());
  LaunchSpec spec;
  spec.vm = 1;
  spec.paths = VmPaths::of(host_dir, spec.vm);
  spec.paths.disk = disk;
  spec.memory_mib = memory_mib;
  spec.image.kind = Image::Kind::kKernel;
  spec.image.kernel = std::string(CORRAL_GUEST_DIR) + "/vmlinuz";
  spec.image.initrd = std::string(CORRAL_GUEST_DIR) + "/initrd.img";
  spec.image.cmdline = std::string(kDefaultKernelCmdline);
  spec.incoming = incoming;
  h->paths_ = spec.paths;
  fs::create_directories(spec.paths.dir);
  std::error_code ec;
  for (const std::string& f : {spec.paths.pidfile, spec.paths.qmp, spec.paths.serial}) {
    fs::remove(f, ec);
  }
  Result<int> ran = run_logged(qemu_argv(spec), spec.paths.qemu_log, 60s);
  h->pid_ = read_pidfile(spec.paths.pidfile).value_or(0);
  if (!ran || *ran != 0 || h->pid_ <= 0) {
    fmt::print(stderr, "bench: QEMU did not start: {}\n", slurp(spec.paths.qemu_log));
    return nullptr;
  }
  Result<QmpClient> qmp = QmpClient::connect(spec.paths.qmp, 10s);
  if (!qmp) {
    fmt::print(stderr, "bench: QMP: {}\n", qmp.error().message);
    return nullptr;
  }
  h->qmp_ = std::move(*qmp);
  h->serial_.reset(connect_unix(spec.paths.serial));
  return h;
}

QmpClient* BenchHost::use_corral() {
  if (qmp_.connected()) return &qmp_;
  raw_.close();
  Result<QmpClient> qmp = QmpClient::connect(paths_.qmp, 10s);
  if (!qmp) return nullptr;
  qmp_ = std::move(*qmp);
  return &qmp_;
}

RawQmp* BenchHost::use_raw() {
  if (raw_.connected()) return &raw_;
  qmp_.close();
  return raw_.connect(paths_.qmp, 10s) ? &raw_ : nullptr;
}

void BenchHost::kill() {
  if (pid_ > 0 && process_alive(pid_)) ::kill(pid_, SIGKILL);
  for (int i = 0; i < 200 && pid_ > 0 && process_alive(pid_); ++i) {
    std::this_thread::sleep_for(10ms);
  }
  pid_ = 0;
}

bool BenchHost::wait_gone(std::chrono::milliseconds timeout) const {
  const auto until = Clock::now() + timeout;
  while (Clock::now() < until) {
    if (pid_ <= 0 || !process_alive(pid_)) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

void BenchHost::drain() {
  char buffer[4096];
  while (serial_.valid() && ::recv(serial_.get(), buffer, sizeof buffer, MSG_DONTWAIT) > 0) {
  }
}

void BenchHost::type(const std::string& text) {
  drain();
  if (serial_.valid()) (void)::send(serial_.get(), text.data(), text.size(), MSG_NOSIGNAL);
}

bool BenchHost::console_has(const std::string& text, std::chrono::milliseconds timeout) {
  const auto until = Clock::now() + timeout;
  while (Clock::now() < until) {
    drain();
    if (slurp(paths_.serial_log).find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

bool BenchHost::boot() {
  QmpClient* qmp = use_corral();
  if (qmp == nullptr || !qmp->execute("cont")) return false;
  if (!console_has("corral-guest: ready", 90s)) return false;
  type("\n");
  return console_has("/ # ", 30s);
}

HealthReport BenchHost::health(const std::string& nonce) {
  return check_guest_health(
      paths_.serial_log, 0, [this](const std::string& text) { type(text); }, console_probe(nonce),
      20s, 2s);
}

}  // namespace corral::bench
