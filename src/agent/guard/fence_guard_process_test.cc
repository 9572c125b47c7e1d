// The real `corral fence-guard` process, spawned by FenceGuardClient::connect_or_spawn,
// fencing real (sleep) processes.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "agent/guard/fence_guard_client.h"
#include "agent/guard/fence_guard_server.h"

extern char** environ;  // NOLINT

namespace corral::agent::guard {
namespace {

using namespace std::chrono_literals;

pid_t start_sleeper() {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::execl("/bin/sleep", "sleep", "60", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

// Waits up to `within` for the child to end; its wait status, or nullopt if still running.
std::optional<int> wait_exit(pid_t pid, std::chrono::milliseconds within) {
  const auto until = std::chrono::steady_clock::now() + within;
  while (true) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) return status;
    if (std::chrono::steady_clock::now() >= until) return std::nullopt;
    std::this_thread::sleep_for(10ms);
  }
}

bool killed_by_sigkill(const std::optional<int>& status) {
  return status && WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL;
}

class FenceGuardProcess : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/fence-guard-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }

  void TearDown() override {
    for (const pid_t pid : sleepers_) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    if (auto client = FenceGuardClient::connect(dir_)) {
      if (auto st = client->status()) guards_.push_back(st->pid);
      (void)client->shutdown();
    }
    // A guard that did not stop when asked (a failing test) is killed by its recorded pid.
    std::this_thread::sleep_for(100ms);
    for (const pid_t pid : guards_) {
      if (::kill(pid, 0) == 0 && pid_is_guard(pid)) ::kill(pid, SIGKILL);
    }
    std::filesystem::remove_all(dir_);
  }

  bool pid_is_guard(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline");
    std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return cmdline.find("fence-guard") != std::string::npos &&
           cmdline.find(dir_) != std::string::npos;
  }

  FenceGuardClient spawn_client() {
    auto client = FenceGuardClient::connect_or_spawn(dir_, CORRAL_BINARY);
    EXPECT_TRUE(client) << client.error().message;
    if (auto st = client->status()) guards_.push_back(st->pid);
    return std::move(*client);
  }

  FencedVm sleeper_vm(const std::string& name) {
    const pid_t pid = start_sleeper();
    sleepers_.push_back(pid);
    auto vm = fenced_vm_for(name, pid);
    EXPECT_TRUE(vm) << vm.error().message;
    return *vm;
  }

  void forget_sleeper(pid_t pid) { std::erase(sleepers_, pid); }

  std::string dir_;
  std::vector<pid_t> sleepers_;
  std::vector<pid_t> guards_;
};

TEST_F(FenceGuardProcess, ExpiredLeaseKillsTheVmProcess) {
  auto client = spawn_client();
  const auto vm = sleeper_vm("web-1");
  ASSERT_TRUE(client.renew(300, {vm}));
  auto st = client.status();
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_TRUE(st->armed);
  EXPECT_EQ(st->vms, std::vector<FencedVm>{vm});
  const auto status = wait_exit(vm.pid, 3s);
  EXPECT_TRUE(killed_by_sigkill(status));
  forget_sleeper(vm.pid);
  st = client.status();
  ASSERT_TRUE(st);
  EXPECT_FALSE(st->armed);
  EXPECT_EQ(st->fenced_total, 1U);
  std::ifstream log(fence_guard_log_path(dir_));
  const std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("event=fence_kill vm=web-1"), std::string::npos) << text;
}

TEST_F(FenceGuardProcess, RenewedInTimeTheVmLives) {
  auto client = spawn_client();
  const auto vm = sleeper_vm("web-1");
  for (int i = 0; i < 15; ++i) {
    ASSERT_TRUE(client.renew(1000, {vm}));  // wide: the machine may be loaded
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_FALSE(wait_exit(vm.pid, 0ms));
  // Renewed without it (the VM was handed over): it lives past the lease.
  ASSERT_TRUE(client.renew(200, {}));
  EXPECT_FALSE(wait_exit(vm.pid, 700ms));
}

TEST_F(FenceGuardProcess, ClearedOrLeaseZeroTheVmLives) {
  auto client = spawn_client();
  const auto a = sleeper_vm("a");
  const auto b = sleeper_vm("b");
  ASSERT_TRUE(client.renew(200, {a}));
  ASSERT_TRUE(client.clear());
  ASSERT_TRUE(client.renew(0, {b}));  // lease 0: never fence
  EXPECT_FALSE(wait_exit(a.pid, 800ms));
  EXPECT_FALSE(wait_exit(b.pid, 0ms));
  auto st = client.status();
  ASSERT_TRUE(st);
  EXPECT_EQ(st->fenced_total, 0U);
}

TEST_F(FenceGuardProcess, ReusedPidIsNotKilled) {
  auto client = spawn_client();
  auto vm = sleeper_vm("old");
  vm.start_time += 1;  // the VM process that had this pid is gone; another holds it now
  ASSERT_TRUE(client.renew(200, {vm}));
  EXPECT_FALSE(wait_exit(vm.pid, 800ms));
  auto st = client.status();
  ASSERT_TRUE(st);
  EXPECT_FALSE(st->armed);  // the lease did run out
  EXPECT_EQ(st->fenced_total, 0U);
}

TEST_F(FenceGuardProcess, FencesAfterTheAgentIsKilled) {
  const auto vm = sleeper_vm("db");
  // The "agent": spawns the guard, arms the lease and dies by SIGKILL.
  const pid_t agent = ::fork();
  if (agent == 0) {
    auto client = FenceGuardClient::connect_or_spawn(dir_, CORRAL_BINARY);
    if (!client || !client->renew(500, {vm})) ::_exit(1);
    ::raise(SIGKILL);
    ::_exit(2);
  }
  ASSERT_TRUE(killed_by_sigkill(wait_exit(agent, 10s)));
  auto st = FenceGuardClient::connect(dir_)->status();
  ASSERT_TRUE(st);
  guards_.push_back(st->pid);
  EXPECT_TRUE(killed_by_sigkill(wait_exit(vm.pid, 3s)));
  forget_sleeper(vm.pid);
}

TEST_F(FenceGuardProcess, RestartedAgentFindsTheSameGuard) {
  pid_t first = 0;
  const auto vm = sleeper_vm("web");
  {
    auto client = spawn_client();
    ASSERT_TRUE(client.renew(5000, {vm}));
    first = client.status()->pid;
  }
  auto client = spawn_client();
  auto st = client.status();
  ASSERT_TRUE(st);
  EXPECT_EQ(st->pid, first);
  EXPECT_TRUE(st->armed);  // the lease survived the client
  ASSERT_TRUE(client.clear());
}

TEST_F(FenceGuardProcess, ClientRespawnsADeadGuard) {
  auto client = spawn_client();
  const pid_t first = client.status()->pid;
  ASSERT_EQ(::kill(first, SIGKILL), 0);
  std::this_thread::sleep_for(100ms);
  const auto vm = sleeper_vm("web");
  ASSERT_TRUE(client.renew(300, {vm}));  // reconnects through a new guard
  auto st = client.status();
  ASSERT_TRUE(st);
  guards_.push_back(st->pid);
  EXPECT_NE(st->pid, first);
  EXPECT_TRUE(killed_by_sigkill(wait_exit(vm.pid, 3s)));
  forget_sleeper(vm.pid);
}

TEST_F(FenceGuardProcess, SecondGuardForTheSameDirExits) {
  auto client = spawn_client();
  std::vector<std::string> args{CORRAL_BINARY, "fence-guard", "--data-dir", dir_};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  ASSERT_EQ(::posix_spawn(&pid, CORRAL_BINARY, nullptr, nullptr, argv.data(), environ), 0);
  const auto status = wait_exit(pid, 5s);
  if (!status) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
  ASSERT_TRUE(status);
  ASSERT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), kExitAlreadyRunning);
  EXPECT_TRUE(client.status());  // the first one still answers
}

TEST_F(FenceGuardProcess, RejectsBadRequestsAndKeepsServing) {
  auto client = spawn_client();
  auto bad = client.renew(-5, {});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(client.status());
}

TEST_F(FenceGuardProcess, ShutdownStopsWithoutFencing) {
  auto client = spawn_client();
  const auto vm = sleeper_vm("web");
  ASSERT_TRUE(client.renew(300, {vm}));
  ASSERT_TRUE(client.shutdown());
  EXPECT_FALSE(wait_exit(vm.pid, 800ms));
  EXPECT_FALSE(FenceGuardClient::connect(dir_));
}

// A raw connection: hostile bytes get an error line (or the connection closed), never a
// crash; the guard keeps serving others.
TEST_F(FenceGuardProcess, HostileBytesOnTheSocket) {
  auto client = spawn_client();
  const auto dial = [this] {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const auto path = fence_guard_socket_path(dir_);
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    EXPECT_EQ(::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0);
    return fd;
  };
  const auto read_all = [](int fd) {
    std::string got;
    char buf[4096];
    timeval timeout{2, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    ssize_t n = 0;
    while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) got.append(buf, static_cast<std::size_t>(n));
    return got;
  };
  {
    const int fd = dial();
    const std::string junk = std::string("\x00\xff{]\n", 5) + "{\"v\":1,\"op\":\"nope\"}\n\n";
    ASSERT_EQ(::send(fd, junk.data(), junk.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(junk.size()));
    ::shutdown(fd, SHUT_WR);
    const std::string got = read_all(fd);
    ::close(fd);
    // Three lines in, three error replies out.
    EXPECT_EQ(std::count(got.begin(), got.end(), '\n'), 3) << got;
    EXPECT_EQ(got.find("\"ok\":true"), std::string::npos) << got;
  }
  {
    const int fd = dial();
    const std::string endless(kMaxLineBytes + 65536, 'x');
    std::size_t sent = 0;
    while (sent < endless.size()) {
      const ssize_t n = ::send(fd, endless.data() + sent, endless.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) break;  // the guard hung up on us: fine
      sent += static_cast<std::size_t>(n);
    }
    const std::string got = read_all(fd);
    ::close(fd);
    EXPECT_NE(got.find("line too long"), std::string::npos) << got.substr(0, 200);
  }
  auto st = client.status();
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ(st->fenced_total, 0U);
}

}  // namespace
}  // namespace corral::agent::guard
