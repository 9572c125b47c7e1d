// A VM worker without QEMU, for vm_worker_test.cc and vm_worker_phases_test.cc: its process
// is a stand-in (a shell waiting on a pipe, with the VM's pidfile on its command line, as
// QEMU has), its QMP socket a FakeQmp and its serial port a FakeSerial, so phases, guest
// events and a silent QMP can be driven and what reaches the engine checked.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>
#include <vector>

#include "driver/qemu/qmp_fake_testing.h"
#include "driver/qemu/vm_worker.h"

namespace corral::driver::qemu {

// Long enough for a loaded machine; no test waits this long when it passes.
inline constexpr auto kPatience = std::chrono::seconds(30);

// What the worker told the engine.
class RecordingSink : public DriverSink {
 public:
  void phase_done(PhaseResult result) override {
    std::lock_guard lock(mu_);
    results_.push_back(std::move(result));
    changed_.notify_all();
  }
  void power_event(PowerEvent event) override {
    std::lock_guard lock(mu_);
    events_.push_back(std::move(event));
    changed_.notify_all();
  }
  // The result of op `op`, once it came.
  std::optional<PhaseResult> result_of(store::OpId op) {
    std::unique_lock lock(mu_);
    std::optional<PhaseResult> found;
    changed_.wait_for(lock, kPatience, [&] {
      for (const PhaseResult& r : results_) {
        if (r.op == op) found = r;
      }
      return found.has_value();
    });
    return found;
  }
  // The first event (from the `from`-th on) that `match` accepts.
  std::optional<PowerEvent> event_where(const std::function<bool(const PowerEvent&)>& match,
                                        std::size_t from = 0) {
    std::unique_lock lock(mu_);
    std::optional<PowerEvent> found;
    changed_.wait_for(lock, kPatience, [&] {
      for (std::size_t i = from; i < events_.size(); ++i) {
        if (match(events_[i])) {
          found = events_[i];
          return true;
        }
      }
      return false;
    });
    return found;
  }
  std::vector<PhaseResult> results() {
    std::lock_guard lock(mu_);
    return results_;
  }
  std::vector<PowerEvent> events() {
    std::lock_guard lock(mu_);
    return events_;
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  std::vector<PhaseResult> results_;
  std::vector<PowerEvent> events_;
};

// The guest's serial port: a unix socket the worker connects to, as QEMU's chardev.
class FakeSerial {
 public:
  explicit FakeSerial(const std::string& path) {
    listen_.reset(::socket(AF_UNIX, SOCK_STREAM, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast)
    EXPECT_EQ(::bind(listen_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(listen_.get(), 1), 0);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeSerial() {
    ::shutdown(listen_.get(), SHUT_RDWR);
    {
      std::lock_guard lock(mu_);
      closing_ = true;
      if (conn_.valid()) ::shutdown(conn_.get(), SHUT_RDWR);
    }
    thread_.join();
  }
  // What the guest prints.
  void print(const std::string& text) {
    std::unique_lock lock(mu_);
    changed_.wait_for(lock, kPatience, [&] { return conn_.valid(); });
    [[maybe_unused]] const ssize_t n = ::send(conn_.get(), text.data(), text.size(), MSG_NOSIGNAL);
  }
  // Waits until the guest was sent `text`.
  bool received(const std::string& text) {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, kPatience,
                             [&] { return typed_.find(text) != std::string::npos; });
  }

 private:
  void serve() {
    UniqueFd accepted(::accept(listen_.get(), nullptr, nullptr));
    if (!accepted.valid()) return;
    int fd = -1;
    {
      std::lock_guard lock(mu_);
      if (closing_) return;
      conn_ = std::move(accepted);
      fd = conn_.get();
    }
    changed_.notify_all();
    char chunk[256];
    for (;;) {
      const ssize_t n = ::read(fd, chunk, sizeof chunk);
      if (n <= 0) return;
      {
        std::lock_guard lock(mu_);
        typed_.append(chunk, static_cast<std::size_t>(n));
      }
      changed_.notify_all();
    }
  }

  UniqueFd listen_;
  std::mutex mu_;
  std::condition_variable changed_;
  UniqueFd conn_;
  bool closing_ = false;
  std::string typed_;
  std::thread thread_;
};

class VmWorkerTest : public ::testing::Test {
 protected:
  static constexpr store::VmId kVm = 7;

  VmWorkerTest() {
    std::string templ = (std::filesystem::temp_directory_path() / "corral-vmw-XXXXXX").string();
    config_.data_dir = ::mkdtemp(templ.data());
    config_.monitor_interval = std::chrono::hours(1);  // one query at start, then none
    config_.shutdown_timeout = std::chrono::seconds(60);
    paths_ = VmPaths::of(config_.data_dir, kVm);
    std::filesystem::create_directories(paths_.dir);
  }
  ~VmWorkerTest() override {
    worker_.reset();
    qmp_.reset();
    end_process();
    std::filesystem::remove_all(config_.data_dir);
  }

  // A stand-in for QEMU: alive until killed, its command line naming the pidfile.
  // The shell waits in `read` on a pipe nobody writes: one process, no child of its own.
  void start_process() {
    int pipe_fds[2];
    ASSERT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
    stdin_writer_ = UniqueFd(pipe_fds[1]);
    pid_ = ::fork();
    ASSERT_GE(pid_, 0);
    if (pid_ == 0) {
      ::dup2(pipe_fds[0], STDIN_FILENO);
      ::execl("/bin/sh", "sh", "-c", "read line", paths_.pidfile.c_str(), nullptr);
      ::_exit(127);
    }
    ::close(pipe_fds[0]);
    // Like QEMU's, its command line names the pidfile (reconcile checks) once it has exec'd.
    for (int i = 0; i < 3000 && process_cmdline(pid_).find(paths_.pidfile) == std::string::npos;
         ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_NE(process_cmdline(pid_).find(paths_.pidfile), std::string::npos);
    std::ofstream(paths_.pidfile) << pid_ << "\n";
  }
  void end_process() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = 0;
    stdin_writer_.reset();
  }

  // QMP: `answer` decides what each command gets (nullopt: the default, {} or running);
  // "quit" also ends the process, as QEMU's does.
  void serve_qmp(
      std::function<std::optional<std::string>(const std::string& command, const std::string& line)>
          answer = {}) {
    qmp_ = std::make_unique<FakeQmp>(
        paths_.qmp, [this, answer = std::move(answer)](const std::string& line) -> std::string {
          const std::string command = FakeQmp::command(line);
          {
            std::lock_guard lock(seen_mu_);
            seen_.push_back(command);
          }
          seen_cv_.notify_all();
          if (answer) {
            if (std::optional<std::string> reply = answer(command, line)) return *reply;
          }
          if (command == "query-status") return FakeQmp::answer(line, {{"status", "running"}});
          if (command == "quit") ::kill(pid_, SIGKILL);
          return FakeQmp::answer(line);
        });
  }

  // A worker re-attached to the stand-in, as after a server restart with the VM running.
  void attach_worker() {
    const std::size_t before = sink_.events().size();
    worker_ = std::make_unique<VmWorker>(kVm, config_, images_, &sink_);
    worker_->reconcile(lifecycle::Power::kRunning);
    std::optional<PowerEvent> found = sink_.event_where(
        [](const PowerEvent& e) { return e.cause == "re-attached after a restart"; }, before);
    ASSERT_TRUE(found.has_value()) << "the worker did not re-attach";
    EXPECT_EQ(found->power, lifecycle::Power::kRunning);
    EXPECT_TRUE(worker_->running());
  }

  PhaseRequest request(store::OpId op, lifecycle::Action action, lifecycle::Phase phase,
                       lifecycle::State origin = lifecycle::State::kRunning) {
    PhaseRequest r;
    r.vm = kVm;
    r.op = op;
    r.step = 1;
    r.attempt = 1;
    r.action = action;
    r.phase = phase;
    r.origin = origin;
    return r;
  }

  // Ends the worker, its QMP and its process: the next case starts afresh.
  void end_all() {
    worker_.reset();
    qmp_.reset();
    end_process();
    std::error_code ec;
    std::filesystem::remove(paths_.qmp, ec);
    std::lock_guard lock(seen_mu_);
    seen_.clear();
  }
  std::vector<std::string> commands() {
    std::lock_guard lock(seen_mu_);
    return seen_;
  }

  bool qmp_saw(const std::string& command) {
    std::lock_guard lock(seen_mu_);
    return std::find(seen_.begin(), seen_.end(), command) != seen_.end();
  }
  // Waits until QMP got `command` `times` times in all.
  bool await_command(const std::string& command, std::size_t times = 1) {
    std::unique_lock lock(seen_mu_);
    return seen_cv_.wait_for(lock, kPatience, [&] {
      return static_cast<std::size_t>(std::count(seen_.begin(), seen_.end(), command)) >= times;
    });
  }

  QemuConfig config_;
  VmPaths paths_;
  ImageStore images_{"/nonexistent/corral-images"};
  RecordingSink sink_;
  pid_t pid_ = 0;
  UniqueFd stdin_writer_;
  std::atomic<bool> silent_ = false;  // QMP leaves query-status unanswered
  std::mutex seen_mu_;
  std::condition_variable seen_cv_;
  std::vector<std::string> seen_;
  std::unique_ptr<FakeQmp> qmp_;
  std::unique_ptr<VmWorker> worker_;
};

}  // namespace corral::driver::qemu
