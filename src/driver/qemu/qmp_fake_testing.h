// FakeQmp: a QMP server for tests, on a unix socket, that speaks a scripted conversation.
// Tests only (qmp_client_test.cc, vm_worker_test.cc).
//
// Contract:
// - It accepts one connection, greets it as QEMU does, and hands each line the client sends
//   to `script`, writing back what the script returns (several lines at once are allowed;
//   "" writes nothing, so the command is never answered; "<close>" closes the connection).
// - push() writes to the connection from any thread, as QEMU sends an event on its own; it
//   waits (a while) for the client to connect first.
// - The destructor closes the connection and the socket and joins its thread.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "driver/qemu/posix.h"

namespace corral::driver::qemu {

class FakeQmp {
 public:
  using Script = std::function<std::string(const std::string& line)>;

  // Listens in a fresh temporary directory (removed at the end).
  explicit FakeQmp(Script script) : script_(std::move(script)) {
    std::string templ = (std::filesystem::temp_directory_path() / "corral-qmp-XXXXXX").string();
    dir_ = ::mkdtemp(templ.data());
    listen_on(dir_ + "/qmp.sock");
  }
  // Listens at `socket_path` (a VM's qmp.sock).
  FakeQmp(const std::string& socket_path, Script script) : script_(std::move(script)) {
    listen_on(socket_path);
  }
  ~FakeQmp() {
    ::shutdown(listen_.get(), SHUT_RDWR);
    {
      std::lock_guard lock(mu_);
      closing_ = true;
      if (conn_.valid()) ::shutdown(conn_.get(), SHUT_RDWR);
    }
    if (thread_.joinable()) thread_.join();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  FakeQmp(const FakeQmp&) = delete;
  FakeQmp& operator=(const FakeQmp&) = delete;

  const std::string& path() const { return path_; }

  // Writes `text` (whole lines, "\r\n"-terminated) as QEMU would on its own.
  void push(const std::string& text) {
    std::unique_lock lock(mu_);
    connected_.wait_for(lock, std::chrono::seconds(10), [&] { return conn_.valid(); });
    if (conn_.valid()) write_all(conn_.get(), text);
  }

  // (device, inode) of every descriptor a command carried (SCM_RIGHTS), in order.
  std::vector<std::pair<dev_t, ino_t>> fds_received() {
    std::lock_guard lock(mu_);
    return fds_received_;
  }

  // The answer line for the command `line`: {"return": value, "id": <its id>}.
  static std::string answer(const std::string& line,
                            const nlohmann::json& value = nlohmann::json::object()) {
    const nlohmann::json request = nlohmann::json::parse(line);
    return nlohmann::json{{"return", value}, {"id", request["id"]}}.dump() + "\r\n";
  }
  // The command a line asks for ("" if none).
  static std::string command(const std::string& line) {
    const nlohmann::json request = nlohmann::json::parse(line, nullptr, false);
    return request.is_object() ? request.value("execute", std::string()) : std::string();
  }
  static std::string event(const std::string& name,
                           const nlohmann::json& data = nlohmann::json::object()) {
    return nlohmann::json{{"event", name}, {"data", data}}.dump() + "\r\n";
  }

 private:
  void listen_on(const std::string& socket_path) {
    path_ = socket_path;
    listen_.reset(::socket(AF_UNIX, SOCK_STREAM, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast)
    EXPECT_EQ(::bind(listen_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(listen_.get(), 1), 0);
    thread_ = std::thread([this] { serve(); });
  }

  void serve() {
    UniqueFd accepted(::accept(listen_.get(), nullptr, nullptr));
    if (!accepted.valid()) return;
    int fd = -1;
    {
      std::lock_guard lock(mu_);
      if (closing_) return;
      conn_ = std::move(accepted);
      fd = conn_.get();
      write_all(fd, R"({"QMP": {"version": {}, "capabilities": []}})"
                    "\r\n");
    }
    connected_.notify_all();
    std::string buffer;
    char chunk[1024];
    for (;;) {
      // recvmsg, so a descriptor passed with a command (getfd) is seen, as QEMU sees it.
      iovec iov{chunk, sizeof chunk};
      alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)] = {};
      msghdr msg{};
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      msg.msg_control = control;
      msg.msg_controllen = sizeof control;
      const ssize_t n = ::recvmsg(fd, &msg, 0);
      if (n <= 0) break;
      for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        const std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (std::size_t i = 0; i < count; ++i) {
          int passed = -1;
          std::memcpy(&passed, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
          struct stat st {};
          if (::fstat(passed, &st) == 0) {
            std::lock_guard lock(mu_);
            fds_received_.emplace_back(st.st_dev, st.st_ino);
          }
          ::close(passed);
        }
      }
      buffer.append(chunk, static_cast<std::size_t>(n));
      for (std::size_t nl = buffer.find('\n'); nl != std::string::npos; nl = buffer.find('\n')) {
        const std::string line = buffer.substr(0, nl);
        buffer.erase(0, nl + 1);
        const std::string reply = script_(line);
        std::lock_guard lock(mu_);
        if (reply == "<close>") {
          ::shutdown(fd, SHUT_RDWR);
          return;
        }
        write_all(fd, reply);
      }
    }
  }
  static void write_all(int fd, const std::string& text) {
    [[maybe_unused]] const ssize_t n = ::send(fd, text.data(), text.size(), MSG_NOSIGNAL);
  }

  Script script_;
  std::string dir_;
  std::string path_;
  UniqueFd listen_;
  std::mutex mu_;  // guards conn_ and closing_, and orders writes to the connection
  std::condition_variable connected_;
  UniqueFd conn_;
  std::vector<std::pair<dev_t, ino_t>> fds_received_;
  bool closing_ = false;
  std::thread thread_;
};

}  // namespace corral::driver::qemu
