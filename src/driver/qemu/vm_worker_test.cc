// The VM worker without QEMU: its process is a stand-in (a shell that sleeps, with the VM's
// pidfile on its command line, as QEMU has) and its QMP socket a FakeQmp, so phases, guest
// events and a silent QMP can be driven and what reaches the engine checked.
#include "driver/qemu/vm_worker.h"

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

namespace corral::driver::qemu {
namespace {

namespace fs = std::filesystem;
using lifecycle::Action;
using lifecycle::Phase;
using lifecycle::Power;
using std::chrono::milliseconds;

// Long enough for a loaded machine; no test waits this long when it passes.
constexpr auto kPatience = std::chrono::seconds(30);

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
    std::string templ = (fs::temp_directory_path() / "corral-vmw-XXXXXX").string();
    config_.data_dir = ::mkdtemp(templ.data());
    config_.monitor_interval = std::chrono::hours(1);  // one query at start, then none
    config_.shutdown_timeout = std::chrono::seconds(60);
    paths_ = VmPaths::of(config_.data_dir, kVm);
    fs::create_directories(paths_.dir);
  }
  ~VmWorkerTest() override {
    worker_.reset();
    qmp_.reset();
    end_process();
    fs::remove_all(config_.data_dir);
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
      std::this_thread::sleep_for(milliseconds(10));
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
    worker_ = std::make_unique<VmWorker>(kVm, config_, images_, &sink_);
    worker_->reconcile(Power::kRunning);
    std::optional<PowerEvent> found = sink_.event_where(
        [](const PowerEvent& e) { return e.cause == "re-attached after a restart"; });
    ASSERT_TRUE(found.has_value()) << "the worker did not re-attach";
    EXPECT_EQ(found->power, Power::kRunning);
    EXPECT_TRUE(worker_->running());
  }

  PhaseRequest request(store::OpId op, Action action, Phase phase,
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

  bool qmp_saw(const std::string& command) {
    std::lock_guard lock(seen_mu_);
    return std::find(seen_.begin(), seen_.end(), command) != seen_.end();
  }
  // Waits until QMP got `command`.
  bool await_command(const std::string& command) {
    std::unique_lock lock(seen_mu_);
    return seen_cv_.wait_for(lock, kPatience, [&] {
      return std::find(seen_.begin(), seen_.end(), command) != seen_.end();
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

TEST_F(VmWorkerTest, PhasesThatNeedNoProcessAnswerAtOnce) {
  struct Case {
    const char* name;
    Action action;
    Phase phase;
    bool ok;
    std::optional<Power> power;
    lifecycle::Integrity integrity;
  };
  const std::vector<Case> cases = {
      {"schedule does nothing here", Action::kCreate, Phase::kSchedule, true, std::nullopt,
       lifecycle::Integrity::kUnknown},
      {"a shutdown of a VM with no process is done", Action::kShutdown, Phase::kShutdown, true,
       Power::kShutdown, lifecycle::Integrity::kUnknown},
      {"pause needs a process", Action::kPause, Phase::kPause, false, Power::kShutdown,
       lifecycle::Integrity::kUnknown},
      {"reboot needs a process", Action::kReboot, Phase::kReboot, false, Power::kShutdown,
       lifecycle::Integrity::kUnknown},
      {"os_provisioning needs a process", Action::kCreate, Phase::kOsProvisioning, false,
       Power::kShutdown, lifecycle::Integrity::kUnknown},
      {"a save with neither process nor saved memory", Action::kSuspend, Phase::kSave, false,
       Power::kShutdown, lifecycle::Integrity::kUnknown},
      {"live migration is not done yet, and nothing changed", Action::kLiveMigrate, Phase::kMigrate,
       false, std::nullopt, lifecycle::Integrity::kIntact},
      {"a resize of a VM that is off waits for its next boot", Action::kResize, Phase::kResize,
       true, std::nullopt, lifecycle::Integrity::kUnknown},
  };
  worker_ = std::make_unique<VmWorker>(kVm, config_, images_, &sink_);
  store::OpId op = 100;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    worker_->submit(request(++op, c.action, c.phase));
    std::optional<PhaseResult> got = sink_.result_of(op);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->vm, kVm);
    EXPECT_EQ(got->step, 1);
    EXPECT_EQ(got->attempt, 1U);
    EXPECT_EQ(got->ok, c.ok) << got->error;
    EXPECT_EQ(got->ok, got->error.empty()) << got->error;
    EXPECT_EQ(got->power_known, c.power.has_value());
    if (c.power) {
      EXPECT_EQ(got->power, *c.power);
    }
    EXPECT_EQ(got->integrity, c.integrity);
  }
  EXPECT_FALSE(worker_->running());
  EXPECT_TRUE(sink_.events().empty()) << "no process, nothing to report";
}

TEST_F(VmWorkerTest, PauseAndUnpauseAreQmpStopAndCont) {
  start_process();
  serve_qmp();
  attach_worker();
  worker_->submit(request(1, Action::kPause, Phase::kPause));
  std::optional<PhaseResult> paused = sink_.result_of(1);
  ASSERT_TRUE(paused.has_value());
  EXPECT_TRUE(paused->ok) << paused->error;
  EXPECT_TRUE(paused->power_known);
  EXPECT_EQ(paused->power, Power::kPaused);
  EXPECT_TRUE(qmp_saw("stop"));

  worker_->submit(request(2, Action::kUnpause, Phase::kUnpause, lifecycle::State::kPaused));
  std::optional<PhaseResult> resumed = sink_.result_of(2);
  ASSERT_TRUE(resumed.has_value());
  EXPECT_TRUE(resumed->ok) << resumed->error;
  EXPECT_EQ(resumed->power, Power::kRunning);
  EXPECT_TRUE(qmp_saw("cont"));
  EXPECT_TRUE(worker_->running());
}

TEST_F(VmWorkerTest, AQmpErrorFailsThePhaseWithQemusWords) {
  start_process();
  serve_qmp([](const std::string& command, const std::string& line) -> std::optional<std::string> {
    if (command != "stop") return std::nullopt;
    const auto id = nlohmann::json::parse(line)["id"];
    return nlohmann::json{{"error", {{"class", "GenericError"}, {"desc", "no can do"}}}, {"id", id}}
               .dump() +
           "\r\n";
  });
  attach_worker();
  worker_->submit(request(1, Action::kPause, Phase::kPause));
  std::optional<PhaseResult> got = sink_.result_of(1);
  ASSERT_TRUE(got.has_value());
  EXPECT_FALSE(got->ok);
  EXPECT_NE(got->error.find("no can do"), std::string::npos) << got->error;
  EXPECT_FALSE(got->power_known) << "QEMU refused: the worker does not guess the power";
}

TEST_F(VmWorkerTest, AGuestPowerOffEndsTheProcessAndIsReportedAsGuestInitiated) {
  start_process();
  serve_qmp();
  attach_worker();
  qmp_->push(FakeQmp::event("SHUTDOWN", {{"guest", true}, {"reason", "guest-shutdown"}}));
  std::optional<PowerEvent> off =
      sink_.event_where([](const PowerEvent& e) { return e.power == Power::kShutdown; });
  ASSERT_TRUE(off.has_value());
  EXPECT_TRUE(off->guest_initiated);
  EXPECT_FALSE(off->lost);
  EXPECT_NE(off->cause.find("guest-shutdown"), std::string::npos) << off->cause;
  EXPECT_TRUE(qmp_saw("quit")) << "-no-shutdown leaves the process for the worker to end";
  EXPECT_FALSE(worker_->running());
  for (const PowerEvent& e : sink_.events()) EXPECT_FALSE(e.lost) << e.cause;
}

TEST_F(VmWorkerTest, AProcessThatDiesWithoutShutdownIsLost) {
  start_process();
  serve_qmp();
  attach_worker();
  ::kill(pid_, SIGKILL);
  std::optional<PowerEvent> lost = sink_.event_where([](const PowerEvent& e) { return e.lost; });
  ASSERT_TRUE(lost.has_value());
  EXPECT_NE(lost->cause.find("without a shutdown event"), std::string::npos) << lost->cause;
  EXPECT_FALSE(worker_->running());
  EXPECT_FALSE(worker_->write_console("x")) << "no process to type into";
}

TEST_F(VmWorkerTest, APauseOnTheHostIsReportedAsOutsideCorral) {
  start_process();
  serve_qmp();
  attach_worker();
  qmp_->push(FakeQmp::event("STOP"));
  std::optional<PowerEvent> paused =
      sink_.event_where([](const PowerEvent& e) { return e.power == Power::kPaused; });
  ASSERT_TRUE(paused.has_value());
  EXPECT_NE(paused->cause.find("outside Corral"), std::string::npos) << paused->cause;
}

TEST_F(VmWorkerTest, AShutdownPhaseEndsWhenTheGuestPowersOff) {
  start_process();
  serve_qmp([](const std::string& command, const std::string& line) -> std::optional<std::string> {
    if (command != "system_powerdown") return std::nullopt;
    // The guest hears the power button and powers off.
    return FakeQmp::answer(line) +
           FakeQmp::event("SHUTDOWN", {{"guest", true}, {"reason", "guest-shutdown"}});
  });
  attach_worker();
  const std::size_t before = sink_.events().size();
  worker_->submit(request(1, Action::kShutdown, Phase::kShutdown));
  std::optional<PhaseResult> got = sink_.result_of(1);
  ASSERT_TRUE(got.has_value());
  EXPECT_TRUE(got->ok) << got->error;
  EXPECT_EQ(got->power, Power::kShutdown);
  EXPECT_TRUE(qmp_saw("system_powerdown"));
  EXPECT_FALSE(worker_->running());
  // The phase answered for the power-off: no event repeats it, and the exit was expected.
  worker_->submit(request(2, Action::kCreate, Phase::kSchedule));  // a barrier
  ASSERT_TRUE(sink_.result_of(2).has_value());
  const std::vector<PowerEvent> events = sink_.events();
  EXPECT_EQ(events.size(), before) << events.back().cause;
}

TEST_F(VmWorkerTest, AShutdownANewerRequestPreemptsIsNotAnswered) {
  start_process();
  serve_qmp();  // the guest is deaf to the power button
  attach_worker();
  worker_->submit(request(1, Action::kShutdown, Phase::kShutdown));
  ASSERT_TRUE(await_command("system_powerdown"));
  // The engine moves on (its deadline, or the user) and sends a power-off.
  worker_->submit(request(2, Action::kShutdownHard, Phase::kPowerOff));
  std::optional<PhaseResult> off = sink_.result_of(2);
  ASSERT_TRUE(off.has_value());
  EXPECT_TRUE(off->ok) << off->error;
  EXPECT_EQ(off->power, Power::kShutdown);
  for (const PhaseResult& r : sink_.results()) EXPECT_NE(r.op, 1U) << "a stale answer";
  EXPECT_FALSE(worker_->running());
}

TEST_F(VmWorkerTest, ASilentQmpIsUnresponsiveThenReportedWhenItAnswersAgain) {
  config_.monitor_interval = milliseconds(50);
  config_.monitor_timeout = milliseconds(100);
  start_process();
  serve_qmp([this](const std::string& command, const std::string&) -> std::optional<std::string> {
    if (command == "query-status" && silent_) return std::string();  // never answered
    return std::nullopt;
  });
  attach_worker();
  const std::size_t before = sink_.events().size();
  silent_ = true;
  std::optional<PowerEvent> stuck =
      sink_.event_where([](const PowerEvent& e) { return e.unresponsive; }, before);
  ASSERT_TRUE(stuck.has_value());
  EXPECT_NE(stuck->cause.find("100 ms"), std::string::npos) << stuck->cause;
  EXPECT_TRUE(worker_->running()) << "unresponsive is not gone";
  silent_ = false;
  std::optional<PowerEvent> back = sink_.event_where(
      [](const PowerEvent& e) { return !e.unresponsive && e.power == Power::kRunning; }, before);
  ASSERT_TRUE(back.has_value());
  EXPECT_NE(back->cause.find("monitor: QEMU says running"), std::string::npos) << back->cause;
  std::size_t unresponsive = 0;
  for (const PowerEvent& e : sink_.events()) unresponsive += e.unresponsive ? 1 : 0;
  EXPECT_EQ(unresponsive, 1U) << "reported once while it stayed silent";
}

TEST_F(VmWorkerTest, OsProvisioningIsAnsweredByTheReadinessLineAndTheConsoleCarriesBoth) {
  start_process();
  serve_qmp();
  FakeSerial serial(paths_.serial);
  attach_worker();
  std::mutex console_mu;
  std::string console;
  const int handle = worker_->attach_console([&](std::string_view bytes) {
    std::lock_guard lock(console_mu);
    console.append(bytes);
  });
  worker_->submit(request(1, Action::kCreate, Phase::kOsProvisioning));
  worker_->submit(request(2, Action::kCreate, Phase::kSchedule));  // a barrier
  ASSERT_TRUE(sink_.result_of(2).has_value());
  for (const PhaseResult& r : sink_.results()) {
    EXPECT_NE(r.op, 1U) << "os_provisioning waits for the guest";
  }

  serial.print("booting\ncorral-guest: ready\n");
  std::optional<PowerEvent> ready =
      sink_.event_where([](const PowerEvent& e) { return e.guest_ready; });
  ASSERT_TRUE(ready.has_value());
  EXPECT_EQ(ready->power, Power::kRunning);
  {
    std::lock_guard lock(console_mu);
    EXPECT_NE(console.find("corral-guest: ready"), std::string::npos) << console;
  }
  EXPECT_TRUE(worker_->write_console("root\n"));
  EXPECT_TRUE(serial.received("root\n"));
  worker_->detach_console(handle);

  // Once ready, a later os_provisioning (a re-dispatch) answers at once.
  worker_->submit(request(3, Action::kCreate, Phase::kOsProvisioning));
  std::optional<PhaseResult> again = sink_.result_of(3);
  ASSERT_TRUE(again.has_value());
  EXPECT_TRUE(again->ok) << again->error;
  EXPECT_EQ(again->power, Power::kRunning);
  std::size_t readiness_events = 0;
  for (const PowerEvent& e : sink_.events()) readiness_events += e.guest_ready ? 1 : 0;
  EXPECT_EQ(readiness_events, 1U) << "the readiness line is reported once";
}

TEST_F(VmWorkerTest, AfterARestartAVmWithoutItsProcessIsLost) {
  worker_ = std::make_unique<VmWorker>(kVm, config_, images_, &sink_);
  worker_->reconcile(Power::kRunning);
  std::optional<PowerEvent> lost = sink_.event_where([](const PowerEvent& e) { return e.lost; });
  ASSERT_TRUE(lost.has_value());
  EXPECT_EQ(lost->cause, "found no QEMU process after a restart");
}

}  // namespace
}  // namespace corral::driver::qemu
