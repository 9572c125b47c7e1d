// The worker's phases over QMP: what each answers, with what power and integrity, and what
// it asks QEMU (vm_worker_testing.h has the stand-in process and fake QMP).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "driver/qemu/vm_worker_testing.h"

namespace corral::driver::qemu {
namespace {

using lifecycle::Action;
using lifecycle::Phase;
using lifecycle::Power;
using std::chrono::milliseconds;

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
      {"a live migrate without the target's endpoint: nothing changed", Action::kLiveMigrate,
       Phase::kMigrate, false, std::nullopt, lifecycle::Integrity::kIntact},
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

// A resize that moved: confirm on the host it left removes that copy's files and forgets it;
// a confirm of a resize in place (no delete intent) touches nothing.
TEST_F(VmWorkerTest, AConfirmThatRemovesTheSourcesCopyDeletesItsFiles) {
  worker_ = std::make_unique<VmWorker>(kVm, config_, images_, &sink_);
  std::ofstream(paths_.disk) << "disk";
  worker_->submit(
      request(201, Action::kConfirmResize, Phase::kConfirm, lifecycle::State::kResized));
  ASSERT_TRUE(sink_.result_of(201).has_value());
  EXPECT_TRUE(std::filesystem::exists(paths_.disk)) << "in place: the only copy stays";
  PhaseRequest confirm =
      request(202, Action::kConfirmResize, Phase::kConfirm, lifecycle::State::kResized);
  confirm.runs_on = lifecycle::RunsOn::kSource;
  confirm.delete_files = confirm.ends_vm = true;
  worker_->submit(confirm);
  const std::optional<PhaseResult> got = sink_.result_of(202);
  ASSERT_TRUE(got.has_value());
  EXPECT_TRUE(got->ok) << got->error;
  EXPECT_FALSE(std::filesystem::exists(paths_.disk));
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

// Catches: a hotplug that QEMU ended under reported as failed with the VM running (the engine
// would keep it RUNNING with no process).
TEST_F(VmWorkerTest, AHotplugQemuEndsUnderFailsWithTheVmOff) {
  start_process();
  serve_qmp([this](const std::string& command, const std::string&) -> std::optional<std::string> {
    if (command != "blockdev-add") return std::nullopt;
    ::kill(pid_, SIGKILL);  // QEMU ends while the volume is being plugged: no answer
    ::waitpid(pid_, nullptr, 0);
    pid_ = 0;
    return std::string();
  });
  attach_worker();
  PhaseRequest r = request(1, Action::kDiskAttach, Phase::kHotplug);
  r.volumes.push_back({.volume = 5, .path = config_.data_dir + "/vol5.raw", .slot = 0});
  worker_->submit(r);
  std::optional<PhaseResult> got = sink_.result_of(1);
  ASSERT_TRUE(got.has_value());
  EXPECT_FALSE(got->ok);
  EXPECT_TRUE(got->power_known);
  EXPECT_EQ(got->power, Power::kShutdown) << got->error;
}

// A QMP error answer to the command `line`.
std::string qmp_error(const std::string& line, const std::string& desc) {
  return nlohmann::json{{"error", {{"class", "GenericError"}, {"desc", desc}}},
                        {"id", nlohmann::json::parse(line)["id"]}}
             .dump() +
         "\r\n";
}

TEST_F(VmWorkerTest, PhasesOverQmpAnswerWithThePowerAndIntegrityQemuLeft) {
  using Answer = std::function<std::optional<std::string>(const std::string& command,
                                                          const std::string& line)>;
  struct Case {
    const char* name;
    Action action;
    Phase phase;
    lifecycle::State origin;
    Answer answer;  // what differs from a QEMU that runs and says yes
    bool ok;
    std::optional<Power> power;
    lifecycle::Integrity integrity;
    std::vector<std::string> sent;      // commands QMP got, in this order (among others)
    std::vector<std::string> not_sent;  // commands QMP never got
    const char* error_has;
  };
  const Answer powers_off_at_the_button =
      [](const std::string& command, const std::string& line) -> std::optional<std::string> {
    if (command != "system_powerdown") return std::nullopt;
    return FakeQmp::answer(line) +
           FakeQmp::event("SHUTDOWN", {{"guest", true}, {"reason", "guest-shutdown"}});
  };
  const auto says = [](const char* status) -> Answer {
    return [status](const std::string& command,
                    const std::string& line) -> std::optional<std::string> {
      if (command != "query-status") return std::nullopt;
      return FakeQmp::answer(line, {{"status", status}});
    };
  };
  const Answer migrate_refused = [](const std::string& command,
                                    const std::string& line) -> std::optional<std::string> {
    if (command != "migrate") return std::nullopt;
    return qmp_error(line, "no space for the stream");
  };
  const Answer migration_fails = [](const std::string& command,
                                    const std::string& line) -> std::optional<std::string> {
    if (command != "query-migrate") return std::nullopt;
    return FakeQmp::answer(line, {{"status", "failed"}, {"error-desc", "disk full"}});
  };
  const std::vector<Case> cases = {
      {"an ACPI reboot: the button, the reset, run again",
       Action::kReboot,
       Phase::kReboot,
       lifecycle::State::kRunning,
       powers_off_at_the_button,
       true,
       Power::kRunning,
       lifecycle::Integrity::kUnknown,
       {"system_powerdown", "system_reset", "cont"},
       {"quit"},
       ""},
      {"a reboot the guest ignores fails, the guest still running as it was",
       Action::kReboot,
       Phase::kReboot,
       lifecycle::State::kRunning,
       nullptr,
       false,
       Power::kRunning,
       lifecycle::Integrity::kIntact,
       {"system_powerdown"},
       {"system_reset", "quit"},
       "did not shut down for the reboot"},
      {"a hard reset of a running guest needs no cont",
       Action::kRebootHard,
       Phase::kReset,
       lifecycle::State::kRunning,
       nullptr,
       true,
       Power::kRunning,
       lifecycle::Integrity::kUnknown,
       {"system_reset"},
       {"cont", "quit"},
       ""},
      {"a hard reset of a guest that had shut down runs it again",
       Action::kRebootHard,
       Phase::kReset,
       lifecycle::State::kRunning,
       says("shutdown"),
       true,
       Power::kRunning,
       lifecycle::Integrity::kUnknown,
       {"system_reset", "cont"},
       {"quit"},
       ""},
      {"a save QEMU refuses resumes the guest: intact",
       Action::kSuspend,
       Phase::kSave,
       lifecycle::State::kRunning,
       migrate_refused,
       false,
       Power::kRunning,
       lifecycle::Integrity::kIntact,
       {"stop", "migrate", "cont", "query-migrate"},
       {"quit"},
       "no space for the stream"},
      {"a failed save of a paused VM leaves it paused: intact",
       Action::kSuspend,
       Phase::kSave,
       lifecycle::State::kPaused,
       [](const std::string& command, const std::string& line) -> std::optional<std::string> {
         if (command == "migrate") return qmp_error(line, "no space for the stream");
         if (command == "query-status") return FakeQmp::answer(line, {{"status", "paused"}});
         return std::nullopt;
       },
       false,
       Power::kPaused,
       lifecycle::Integrity::kIntact,
       {"stop", "migrate"},
       {"cont", "quit"},
       "no space for the stream"},
      {"a migration stream that fails is a failed save, the guest resumed",
       Action::kSuspend,
       Phase::kSave,
       lifecycle::State::kRunning,
       migration_fails,
       false,
       Power::kRunning,
       lifecycle::Integrity::kIntact,
       {"migrate", "query-migrate", "cont"},
       {"quit"},
       "saving memory failed: disk full"},
      {"a save whose guest is not back as it was is not intact",
       Action::kSuspend,
       Phase::kSave,
       lifecycle::State::kRunning,
       [](const std::string& command, const std::string& line) -> std::optional<std::string> {
         if (command == "migrate") return qmp_error(line, "no space for the stream");
         if (command == "query-status") return FakeQmp::answer(line, {{"status", "paused"}});
         return std::nullopt;
       },
       false,
       Power::kRunning,
       lifecycle::Integrity::kUnknown,
       {"migrate", "cont"},
       {"quit"},
       "no space for the stream"},
      {"a boot of a guest already running is done",
       Action::kStart,
       Phase::kBoot,
       lifecycle::State::kPoweroff,
       nullptr,
       true,
       Power::kRunning,
       lifecycle::Integrity::kUnknown,
       {"query-status"},
       {"quit", "cont"},
       ""},
      {"a boot a restart caught before cont finishes the start",
       Action::kStart,
       Phase::kBoot,
       lifecycle::State::kPoweroff,
       says("prelaunch"),
       true,
       Power::kRunning,
       lifecycle::Integrity::kUnknown,
       {"cont"},
       {"quit"},
       ""},
      {"a restore of a guest already running is done",
       Action::kResume,
       Phase::kRestore,
       lifecycle::State::kSuspended,
       nullptr,
       true,
       Power::kRunning,
       lifecycle::Integrity::kUnknown,
       {"query-status"},
       {"quit", "migrate-incoming"},
       ""},
  };
  config_.shutdown_timeout = milliseconds(300);
  store::OpId op = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    start_process();
    serve_qmp(
        [&c, status_asked = 0](const std::string& command,
                               const std::string& line) mutable -> std::optional<std::string> {
          // The first query-status is reconcile's: the VM runs.
          if (command == "query-status" && status_asked++ == 0) return std::nullopt;
          return c.answer ? c.answer(command, line) : std::nullopt;
        });
    attach_worker();
    worker_->submit(request(++op, c.action, c.phase, c.origin));
    std::optional<PhaseResult> got = sink_.result_of(op);
    if (!got) {
      ADD_FAILURE() << "no answer";
      end_all();
      continue;
    }
    EXPECT_EQ(got->ok, c.ok) << got->error;
    EXPECT_EQ(got->power_known, c.power.has_value());
    if (c.power) {
      EXPECT_EQ(got->power, *c.power);
    }
    EXPECT_EQ(got->integrity, c.integrity);
    EXPECT_NE(got->error.find(c.error_has), std::string::npos) << got->error;
    const std::vector<std::string> sent = commands();
    auto at = sent.begin();
    for (const std::string& command : c.sent) {
      at = std::find(at, sent.end(), command);
      EXPECT_NE(at, sent.end()) << command << " was not sent (in order)";
    }
    for (const std::string& command : c.not_sent) {
      EXPECT_EQ(std::find(sent.begin(), sent.end(), command), sent.end()) << command;
    }
    EXPECT_TRUE(worker_->running()) << "none of these ends the process";
    end_all();
  }
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
}  // namespace
}  // namespace corral::driver::qemu
