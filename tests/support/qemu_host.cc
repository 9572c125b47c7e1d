#include "support/qemu_host.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "driver/qemu/migrate_disk.h"

namespace corral::testing {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using namespace driver::qemu;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::unique_ptr<HostQemu> HostQemu::launch(const std::string& host_dir, bool incoming,
                                           const std::string& disk, store::VmId vm) {
  auto q = std::unique_ptr<HostQemu>(new HostQemu());
  LaunchSpec spec;
  spec.vm = vm;
  spec.paths = VmPaths::of(host_dir, vm);
  if (!disk.empty()) spec.paths.disk = disk;
  spec.memory_mib = 128;
  spec.image.kind = Image::Kind::kKernel;
  spec.image.kernel = std::string(CORRAL_GUEST_DIR) + "/vmlinuz";
  spec.image.initrd = std::string(CORRAL_GUEST_DIR) + "/initrd.img";
  spec.image.cmdline = std::string(kDefaultKernelCmdline);
  spec.incoming = incoming;
  q->paths_ = spec.paths;
  fs::create_directories(spec.paths.dir);
  for (const std::string& f : {spec.paths.pidfile, spec.paths.qmp, spec.paths.serial}) {
    fs::remove(f);
  }
  if (!fs::exists(spec.paths.disk)) {
    EXPECT_TRUE(create_target_disk("qemu-img", spec.paths.disk, 64ULL << 20, "", ""));
  }
  Result<int> ran = run_logged(qemu_argv(spec), spec.paths.qemu_log, 60s);
  EXPECT_TRUE(ran && *ran == 0) << read_file(spec.paths.qemu_log);
  q->pid_ = read_pidfile(spec.paths.pidfile).value_or(0);
  EXPECT_GT(q->pid_, 0);
  Result<QmpClient> qmp = QmpClient::connect(spec.paths.qmp, 10s);
  EXPECT_TRUE(qmp) << (qmp ? "" : qmp.error().message);
  if (qmp) q->qmp_ = std::move(*qmp);
  q->connect_serial();
  return q;
}

void HostQemu::kill() {
  if (pid_ > 0 && process_alive(pid_)) ::kill(pid_, SIGKILL);
  for (int i = 0; i < 200 && pid_ > 0 && process_alive(pid_); ++i) {
    std::this_thread::sleep_for(10ms);
  }
}

bool HostQemu::wait_gone(std::chrono::milliseconds timeout) const {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (!process_alive(pid_)) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

void HostQemu::type(const std::string& text) {
  drain();
  if (serial_.valid()) (void)::send(serial_.get(), text.data(), text.size(), MSG_NOSIGNAL);
}

void HostQemu::drain() {
  char buffer[4096];
  while (serial_.valid() && ::recv(serial_.get(), buffer, sizeof buffer, MSG_DONTWAIT) > 0) {
  }
}

bool HostQemu::console_has(const std::string& text, std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    drain();
    if (read_file(paths_.serial_log).find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

void HostQemu::boot() {
  ASSERT_TRUE(qmp_.execute("cont"));
  ASSERT_TRUE(console_has("corral-guest: ready", 60s)) << console();
  type("\n");
  ASSERT_TRUE(console_has("/ # ", 30s)) << console();
}

HealthReport HostQemu::health(std::size_t from, const std::string& nonce) {
  return check_guest_health(
      paths_.serial_log, from, [this](const std::string& text) { type(text); },
      console_probe(nonce), 20s, 2s);
}

std::string HostQemu::run_status() {
  Result<nlohmann::json> status = qmp_.execute("query-status");
  return status ? status->value("status", "") : "<" + status.error().message + ">";
}

void HostQemu::connect_serial() {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, paths_.serial.c_str(), paths_.serial.size() + 1);
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) {
    serial_ = std::move(fd);
  }
}

}  // namespace corral::testing
