#include "driver/sim/sim_driver.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "lifecycle/model.h"

namespace corral::driver::sim {
namespace {

using lifecycle::Action;
using lifecycle::Phase;
using lifecycle::Power;
using namespace std::chrono_literals;

constexpr auto kWait = 5s;  // generous: only a broken driver ever waits this long

// Records everything the driver reports. Notifies only when the count a waiter asked for is
// reached, so the waiting test thread does not slow the worker down by waking per result.
class RecordingSink final : public DriverSink {
 public:
  void phase_done(PhaseResult result) override {
    std::lock_guard lock(mu_);
    EXPECT_NE(std::this_thread::get_id(), caller_) << "the sink was called from run_phase()";
    results_.push_back(std::move(result));
    order_.push_back('r');
    if (results_.size() >= want_results_) cv_.notify_all();
  }
  void phase_progress(PhaseProgress progress) override {
    std::lock_guard lock(mu_);
    progress_.push_back(progress);
    order_.push_back('p');
  }
  std::vector<PhaseProgress> progress() const {
    std::lock_guard lock(mu_);
    return progress_;
  }
  // What came, in order: 'r' a result, 'p' a progress report (power events are not listed).
  std::string order() const {
    std::lock_guard lock(mu_);
    return order_;
  }
  void power_event(PowerEvent event) override {
    std::lock_guard lock(mu_);
    events_.push_back(std::move(event));
    if (events_.size() >= want_events_) cv_.notify_all();
  }

  // The thread that calls run_phase(): the sink must never run on it.
  void set_caller(std::thread::id id) {
    std::lock_guard lock(mu_);
    caller_ = id;
  }
  bool wait_results(std::size_t n, std::chrono::milliseconds timeout = kWait) {
    std::unique_lock lock(mu_);
    want_results_ = n;
    bool ok = cv_.wait_for(lock, timeout, [&] { return results_.size() >= n; });
    want_results_ = 0;
    return ok;
  }
  bool wait_events(std::size_t n, std::chrono::milliseconds timeout = kWait) {
    std::unique_lock lock(mu_);
    want_events_ = n;
    bool ok = cv_.wait_for(lock, timeout, [&] { return events_.size() >= n; });
    want_events_ = 0;
    return ok;
  }
  std::vector<PhaseResult> results() const {
    std::lock_guard lock(mu_);
    return results_;
  }
  std::vector<PowerEvent> events() const {
    std::lock_guard lock(mu_);
    return events_;
  }
  std::size_t result_count() const {
    std::lock_guard lock(mu_);
    return results_.size();
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<PhaseResult> results_;
  std::vector<PowerEvent> events_;
  std::vector<PhaseProgress> progress_;
  std::string order_;
  std::size_t want_results_ = 0;
  std::size_t want_events_ = 0;
  std::thread::id caller_;
};

SimOptions zero() {
  auto options = parse_sim_profile("zero");
  EXPECT_TRUE(options.has_value());
  return *options;
}

PhaseRequest request(store::VmId vm, Action action, Phase phase, store::OpId op = 1,
                     std::uint8_t step = 0, std::uint32_t attempt = 0) {
  PhaseRequest r;
  r.vm = vm;
  r.op = op;
  r.step = step;
  r.attempt = attempt;
  r.action = action;
  r.phase = phase;
  r.host = "sim-1";
  // As the engine does: phases that change the guest's power name it (lifecycle::phase_power).
  if (Power p = lifecycle::phase_power(phase, Power::kNoState); p != Power::kNoState) {
    r.power_after = p;
  }
  return r;
}

// A fault as a user posts it (and a check of parse_fault on the way).
Fault fault(std::string_view json) {
  auto parsed = parse_fault(nlohmann::json::parse(json));
  EXPECT_TRUE(parsed.has_value()) << json << ": " << parsed.error().message;
  return parsed.value_or(Fault{});
}

// ---- Progress ---------------------------------------------------------------------------

// A migrate with a latency reports kProgressReports steps of its memory, then all of it with a
// downtime, before its result; an instant or failing one reports nothing.
TEST(SimProgressTest, AMigrateReportsItsMemoryThenTheDowntimeBeforeItsResult) {
  SimOptions options = zero();
  options.phase_latency = {{Phase::kMigrate, 80ms}};
  SimDriver driver(options);
  RecordingSink sink;
  driver.start(&sink);
  PhaseRequest migrate = request(5, Action::kLiveMigrate, Phase::kMigrate, 9, 2, 1);
  migrate.model = store::VmModel{1, 512, "img"};
  driver.run_phase(migrate);
  ASSERT_TRUE(sink.wait_results(1));
  EXPECT_EQ(sink.order(), "ppppr");
  const std::vector<PhaseProgress> reports = sink.progress();
  ASSERT_EQ(reports.size(), SimDriver::kProgressReports + 1U);
  std::uint64_t sent = 0;
  for (const PhaseProgress& p : reports) {
    EXPECT_EQ(p.vm, 5);
    EXPECT_EQ(p.op, 9);
    EXPECT_EQ(p.step, 2);
    EXPECT_EQ(p.attempt, 1U);
    EXPECT_EQ(p.memory_total, 512ULL << 20);
    EXPECT_GT(p.memory_processed, sent) << "memory goes forward";
    EXPECT_EQ(p.memory_processed + p.memory_remaining, p.memory_total);
    sent = p.memory_processed;
  }
  EXPECT_EQ(reports.back().memory_remaining, 0U);
  EXPECT_EQ(reports.back().downtime_ms, 28) << "20 ms + 1 ms per 64 MiB";
  EXPECT_EQ(reports.front().downtime_ms, 0);

  // A failing migrate, and a boot, report nothing.
  driver.add_fault(fault(R"({"kind": "fail", "phase": "migrate"})"));
  driver.run_phase(request(6, Action::kLiveMigrate, Phase::kMigrate));
  driver.run_phase(request(6, Action::kDeploy, Phase::kBoot));
  ASSERT_TRUE(sink.wait_results(3));
  EXPECT_EQ(sink.progress().size(), reports.size());
  driver.stop();
}

// ---- Options ----------------------------------------------------------------------------

TEST(SimOptionsTest, DefaultsAreFourHostsOfSixtyFourCpus) {
  SimDriver driver;
  EXPECT_EQ(driver.name(), "sim");
  auto hosts = driver.hosts();
  ASSERT_EQ(hosts.size(), 4U);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(hosts[i].name, "sim-" + std::to_string(i + 1));
    EXPECT_EQ(hosts[i].vcpus, 64);
    EXPECT_EQ(hosts[i].memory_mib, 262144);
  }
  EXPECT_EQ(driver.options().latency(Phase::kBoot), 2ms);

  SimOptions options;
  options.host_count = 2;
  options.host_vcpus = 8;
  options.host_memory_mib = 4096;
  auto small = SimDriver(options).hosts();
  ASSERT_EQ(small.size(), 2U);
  EXPECT_EQ(small[1].name, "sim-2");
  EXPECT_EQ(small[1].vcpus, 8);
  EXPECT_EQ(small[1].memory_mib, 4096);
}

TEST(SimOptionsTest, Profiles) {
  auto zero_profile = parse_sim_profile("zero");
  ASSERT_TRUE(zero_profile.has_value());
  for (Phase phase : lifecycle::kAllPhases) EXPECT_EQ(zero_profile->latency(phase), 0ms);

  auto fast = parse_sim_profile("FAST");
  ASSERT_TRUE(fast.has_value());
  EXPECT_EQ(fast->latency(Phase::kBoot), 2ms);
  EXPECT_EQ(fast->host_count, 4);

  auto realistic = parse_sim_profile("realistic");
  ASSERT_TRUE(realistic.has_value());
  EXPECT_EQ(realistic->latency(Phase::kProlog), 2000ms);
  EXPECT_EQ(realistic->latency(Phase::kBoot), 3000ms);
  EXPECT_EQ(realistic->latency(Phase::kOsProvisioning), 4000ms);
  EXPECT_EQ(realistic->latency(Phase::kShutdown), 2000ms);
  EXPECT_EQ(realistic->latency(Phase::kSave), 1500ms);
  EXPECT_EQ(realistic->latency(Phase::kRestore), 500ms);
  EXPECT_EQ(realistic->latency(Phase::kEpilog), 1000ms);
  EXPECT_EQ(realistic->latency(Phase::kMigrate), 3000ms);
  EXPECT_EQ(realistic->latency(Phase::kHotplug), 500ms);

  auto bad = parse_sim_profile("slow");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.error().message.find("slow"), std::string::npos);
}

// The sim decides no power: it reports the request's power_after, else keeps what it had.
TEST(SimDriverTest, ReportsThePowerTheRequestNames) {
  SimDriver driver(zero());
  RecordingSink sink;
  driver.start(&sink);
  PhaseRequest save = request(1, Action::kSuspend, Phase::kSave);
  save.power_after = Power::kShutdown;
  driver.run_phase(save);
  PhaseRequest snapshot = request(1, Action::kSnapshot, Phase::kSnapshot, 2);
  snapshot.power_after.reset();
  driver.run_phase(snapshot);
  ASSERT_TRUE(sink.wait_results(2));
  driver.stop();
  const std::vector<PhaseResult> results = sink.results();
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].power, Power::kShutdown);
  EXPECT_EQ(results[1].power, Power::kShutdown);  // kept
}

// ---- Results ----------------------------------------------------------------------------

TEST(SimDriverTest, ResultEchoesTheRequest) {
  RecordingSink sink;
  sink.set_caller(std::this_thread::get_id());
  SimDriver driver(zero());
  driver.start(&sink);
  driver.run_phase(request(7, Action::kDeploy, Phase::kBoot, /*op=*/42, /*step=*/2,
                           /*attempt=*/3));
  ASSERT_TRUE(sink.wait_results(1));
  auto result = sink.results().at(0);
  EXPECT_EQ(result.vm, 7);
  EXPECT_EQ(result.op, 42);
  EXPECT_EQ(result.step, 2);
  EXPECT_EQ(result.attempt, 3U);
  EXPECT_TRUE(result.ok);
  EXPECT_TRUE(result.error.empty());
  EXPECT_TRUE(result.power_known);
  EXPECT_EQ(result.power, Power::kRunning);
  EXPECT_EQ(driver.power_of(7), Power::kRunning);
}

TEST(SimDriverTest, PowerFollowsThePhases) {
  RecordingSink sink;
  SimDriver driver(zero());
  driver.start(&sink);
  const struct {
    Action action;
    Phase phase;
    Power power;
  } steps[] = {
      {Action::kCreate, Phase::kProlog, Power::kNoState},  // never seen: no state yet
      {Action::kCreate, Phase::kBoot, Power::kRunning},
      {Action::kPause, Phase::kPause, Power::kPaused},
      {Action::kSnapshot, Phase::kSnapshot, Power::kPaused},
      {Action::kUnpause, Phase::kUnpause, Power::kRunning},
      {Action::kShutdown, Phase::kShutdown, Power::kShutdown},
      {Action::kStart, Phase::kBoot, Power::kRunning},
      {Action::kSuspend, Phase::kSave, Power::kShutdown},
      {Action::kResume, Phase::kRestore, Power::kRunning},
  };
  std::size_t n = 0;
  for (const auto& step : steps) {
    driver.run_phase(request(5, step.action, step.phase));
    ASSERT_TRUE(sink.wait_results(++n));
    EXPECT_EQ(sink.results().back().power, step.power) << lifecycle::phase_name(step.phase);
    EXPECT_EQ(driver.power_of(5), step.power);
  }
}

TEST(SimDriverTest, RunPhaseBeforeStartIsDeliveredOnceStarted) {
  RecordingSink sink;
  SimDriver driver(zero());
  driver.run_phase(request(1, Action::kCreate, Phase::kBoot));
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(sink.result_count(), 0U);
  driver.start(&sink);
  EXPECT_TRUE(sink.wait_results(1));
}

TEST(SimDriverTest, ShortPhaseOvertakesLongOne) {
  SimOptions options = zero();
  options.phase_latency[Phase::kBoot] = 50ms;
  RecordingSink sink;
  SimDriver driver(options);
  driver.start(&sink);
  auto begin = std::chrono::steady_clock::now();
  driver.run_phase(request(1, Action::kCreate, Phase::kBoot));
  driver.run_phase(request(2, Action::kCreate, Phase::kProlog));
  ASSERT_TRUE(sink.wait_results(2));
  auto elapsed = std::chrono::steady_clock::now() - begin;
  auto results = sink.results();
  EXPECT_EQ(results[0].vm, 2);  // the 0 ms prolog
  EXPECT_EQ(results[1].vm, 1);  // the 50 ms boot
  EXPECT_GE(elapsed, 50ms);     // a lower bound only: never late-sensitive
}

TEST(SimDriverTest, SameDueTimeKeepsRequestOrder) {
  RecordingSink sink;
  SimDriver driver(zero());
  driver.start(&sink);
  for (int i = 0; i < 1000; ++i) {
    driver.run_phase(request(1, Action::kCreate, Phase::kProlog, /*op=*/i));
  }
  ASSERT_TRUE(sink.wait_results(1000));
  auto results = sink.results();
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(results[i].op, i);
}

TEST(SimDriverTest, AdoptSeedsThePower) {
  RecordingSink sink;
  SimDriver driver(zero());
  driver.adopt(9, "sim-3", Power::kPaused);
  EXPECT_EQ(driver.power_of(9), Power::kPaused);
  EXPECT_EQ(driver.power_of(10), std::nullopt);
  driver.start(&sink);
  driver.run_phase(request(9, Action::kSnapshot, Phase::kSnapshot));
  ASSERT_TRUE(sink.wait_results(1));
  EXPECT_EQ(sink.results()[0].power, Power::kPaused);
  EXPECT_TRUE(sink.results()[0].power_known);
}

// The engine says which phase ends a VM (PhaseRequest::ends_vm); the sim forgets it then.
TEST(SimDriverTest, TerminatedVmsAreForgotten) {
  RecordingSink sink;
  SimDriver driver(zero());
  driver.start(&sink);
  driver.adopt(3, "sim-1", Power::kRunning);
  driver.adopt(4, "sim-1", Power::kRunning);
  driver.run_phase(request(3, Action::kTerminate, Phase::kShutdown));
  PhaseRequest epilog = request(3, Action::kTerminate, Phase::kEpilog, 1, 1);
  epilog.delete_files = epilog.ends_vm = true;
  driver.run_phase(epilog);
  driver.run_phase(request(4, Action::kHibernate, Phase::kEpilog));  // not a delete
  ASSERT_TRUE(sink.wait_results(3));
  EXPECT_EQ(sink.results()[1].power, Power::kShutdown);
  EXPECT_EQ(driver.power_of(3), std::nullopt);
  EXPECT_EQ(driver.power_of(4), Power::kShutdown);
  EXPECT_EQ(driver.vm_count(), 1U);
}

// A move's side removing its copy (a cold migration's or live migration's source cleanup, a
// resize's confirm on its source, revert's cleanup on its target) does not end the VM: the sim
// keeps one copy for all its hosts, and the VM lives on the other side.
TEST(SimDriverTest, ASideRemovingItsCopyKeepsTheVm) {
  RecordingSink sink;
  SimDriver driver(zero());
  driver.start(&sink);
  driver.adopt(5, "sim-1", Power::kRunning);
  struct Side {
    Action action;
    Phase phase;
    lifecycle::RunsOn side;
  };
  std::uint8_t step = 0;
  for (const Side& s : {Side{Action::kMigrate, Phase::kCleanup, lifecycle::RunsOn::kSource},
                        Side{Action::kConfirmResize, Phase::kConfirm, lifecycle::RunsOn::kSource},
                        Side{Action::kRevertResize, Phase::kCleanup, lifecycle::RunsOn::kTarget}}) {
    PhaseRequest r = request(5, s.action, s.phase, 1, step++);
    r.runs_on = s.side;
    r.host = s.side == lifecycle::RunsOn::kSource ? "sim-1" : "sim-2";
    r.peer_host = s.side == lifecycle::RunsOn::kSource ? "sim-2" : "sim-1";
    r.delete_files = r.ends_vm = true;
    r.power_after = Power::kRunning;
    driver.run_phase(r);
  }
  ASSERT_TRUE(sink.wait_results(3));
  for (const auto& result : sink.results()) EXPECT_TRUE(result.ok);
  EXPECT_EQ(driver.power_of(5), Power::kRunning);
  EXPECT_EQ(driver.vm_count(), 1U);
}

// ---- Faults -----------------------------------------------------------------------------

TEST(SimFaultTest, FailAnswersNotOkWithTheMessage) {
  RecordingSink sink;
  SimDriver driver(zero());
  driver.start(&sink);
  driver.adopt(1, "sim-1", Power::kShutdown);
  driver.add_fault(fault(R"({"kind": "fail", "phase": "boot"})"));
  driver.add_fault(fault(R"({"kind": "fail", "phase": "prolog", "message": "disk full"})"));
  driver.run_phase(request(1, Action::kStart, Phase::kBoot, 4, 0, 2));
  driver.run_phase(request(1, Action::kDeploy, Phase::kProlog));
  ASSERT_TRUE(sink.wait_results(2));
  auto results = sink.results();
  EXPECT_FALSE(results[0].ok);
  EXPECT_EQ(results[0].error, "injected failure in start/boot");
  EXPECT_EQ(results[0].op, 4);
  EXPECT_EQ(results[0].attempt, 2U);
  EXPECT_TRUE(results[0].power_known);
  EXPECT_EQ(results[0].power, Power::kShutdown);  // the boot did not happen
  // A plain failure says nothing of the VM's origin.
  EXPECT_EQ(results[0].integrity, lifecycle::Integrity::kUnknown);
  EXPECT_FALSE(results[1].ok);
  EXPECT_EQ(results[1].error, "disk full");
  EXPECT_EQ(results[1].integrity, lifecycle::Integrity::kUnknown);
  EXPECT_EQ(driver.power_of(1), Power::kShutdown);
  EXPECT_TRUE(driver.faults().empty());  // both spent
}

TEST(SimFaultTest, FailIntactReportsTheOriginIntact) {
  RecordingSink sink;
  SimDriver driver(zero());
  driver.start(&sink);
  driver.adopt(1, "sim-1", Power::kRunning);
  driver.add_fault(fault(R"({"kind": "fail_intact", "action": "suspend", "phase": "save"})"));
  driver.add_fault(fault(R"({"kind": "fail_intact", "phase": "migrate", "message": "no link"})"));
  driver.run_phase(request(1, Action::kSuspend, Phase::kSave, 3));
  driver.run_phase(request(1, Action::kLiveMigrate, Phase::kMigrate, 4));
  driver.run_phase(request(1, Action::kSuspend, Phase::kSave, 5));  // spent: succeeds
  ASSERT_TRUE(sink.wait_results(3));
  auto results = sink.results();
  EXPECT_FALSE(results[0].ok);
  EXPECT_EQ(results[0].error, "injected failure in suspend/save");
  EXPECT_EQ(results[0].integrity, lifecycle::Integrity::kIntact);
  EXPECT_EQ(results[0].power, Power::kRunning);  // the save did not happen
  EXPECT_FALSE(results[1].ok);
  EXPECT_EQ(results[1].error, "no link");
  EXPECT_EQ(results[1].integrity, lifecycle::Integrity::kIntact);
  EXPECT_TRUE(results[2].ok);
  EXPECT_EQ(results[2].integrity, lifecycle::Integrity::kUnknown);  // read only when !ok
  EXPECT_EQ(driver.power_of(1), Power::kShutdown);
}

TEST(SimFaultTest, HangNeverAnswers) {
  RecordingSink sink;
  SimDriver driver(zero());
  driver.start(&sink);
  driver.add_fault(fault(R"({"kind": "hang", "vm": 1})"));
  driver.run_phase(request(1, Action::kCreate, Phase::kBoot));
  driver.run_phase(request(2, Action::kCreate, Phase::kBoot));
  // Same due time, so the hung request would have been delivered before vm 2's.
  ASSERT_TRUE(sink.wait_results(1));
  std::this_thread::sleep_for(30ms);
  auto results = sink.results();
  ASSERT_EQ(results.size(), 1U);
  EXPECT_EQ(results[0].vm, 2);
  // The retry (a new attempt) is answered: the fault was used up.
  driver.run_phase(request(1, Action::kCreate, Phase::kBoot, 1, 0, 1));
  ASSERT_TRUE(sink.wait_results(2));
  EXPECT_EQ(sink.results()[1].vm, 1);
  EXPECT_TRUE(sink.results()[1].ok);
}

TEST(SimFaultDeathTest, CrashKillsTheProcess) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        RecordingSink sink;
        SimDriver driver(zero());
        driver.start(&sink);
        driver.add_fault(fault(R"({"kind": "crash", "action": "deploy", "phase": "boot"})"));
        driver.run_phase(request(1, Action::kDeploy, Phase::kBoot));
        std::this_thread::sleep_for(kWait);
        std::fprintf(stderr, "still alive\n");
        std::_Exit(0);  // not reached: the crash fault kills first
      },
      ::testing::KilledBySignal(SIGKILL), "");
}

TEST(SimFaultTest, MatchesEverySetFieldAndCountsDown) {
  RecordingSink sink;
  SimDriver driver(zero());
  driver.start(&sink);
  std::uint64_t id = driver.add_fault(
      fault(R"({"kind": "fail", "action": "deploy", "phase": "boot", "vm": 7, "times": 2})"));
  EXPECT_GT(id, 0U);
  ASSERT_EQ(driver.faults().size(), 1U);
  EXPECT_EQ(driver.faults()[0].id, id);

  const PhaseRequest misses[] = {
      request(8, Action::kDeploy, Phase::kBoot),    // another vm
      request(7, Action::kStart, Phase::kBoot),     // another action
      request(7, Action::kDeploy, Phase::kProlog),  // another phase
  };
  for (const auto& r : misses) driver.run_phase(r);
  ASSERT_TRUE(sink.wait_results(3));
  for (const auto& result : sink.results()) EXPECT_TRUE(result.ok);
  EXPECT_EQ(driver.faults()[0].times, 2);

  driver.run_phase(request(7, Action::kDeploy, Phase::kBoot));
  ASSERT_TRUE(sink.wait_results(4));
  EXPECT_FALSE(sink.results()[3].ok);
  ASSERT_EQ(driver.faults().size(), 1U);
  EXPECT_EQ(driver.faults()[0].times, 1);

  driver.run_phase(request(7, Action::kDeploy, Phase::kBoot));
  driver.run_phase(request(7, Action::kDeploy, Phase::kBoot));
  ASSERT_TRUE(sink.wait_results(6));
  EXPECT_FALSE(sink.results()[4].ok);
  EXPECT_TRUE(sink.results()[5].ok);  // times ran out
  EXPECT_TRUE(driver.faults().empty());
}

TEST(SimFaultTest, UntilClearedRemoveAndClear) {
  RecordingSink sink;
  SimDriver driver(zero());
  driver.start(&sink);
  std::uint64_t forever = driver.add_fault(fault(R"({"kind": "fail", "times": -1})"));
  for (int i = 0; i < 5; ++i) driver.run_phase(request(i, Action::kCreate, Phase::kBoot));
  ASSERT_TRUE(sink.wait_results(5));
  for (const auto& result : sink.results()) EXPECT_FALSE(result.ok);
  ASSERT_EQ(driver.faults().size(), 1U);
  EXPECT_EQ(driver.faults()[0].times, -1);

  EXPECT_TRUE(driver.remove_fault(forever));
  EXPECT_FALSE(driver.remove_fault(forever));
  driver.run_phase(request(1, Action::kCreate, Phase::kBoot));
  ASSERT_TRUE(sink.wait_results(6));
  EXPECT_TRUE(sink.results()[5].ok);

  driver.add_fault(fault(R"({"kind": "hang", "times": -1})"));
  driver.add_fault(fault(R"({"kind": "fail", "vm": 3})"));
  EXPECT_EQ(driver.faults().size(), 2U);
  driver.clear_faults();
  EXPECT_TRUE(driver.faults().empty());
  driver.run_phase(request(3, Action::kCreate, Phase::kBoot));
  ASSERT_TRUE(sink.wait_results(7));
  EXPECT_TRUE(sink.results()[6].ok);

  Fault spent;
  spent.times = 0;
  EXPECT_GT(driver.add_fault(spent), 0U);
  EXPECT_TRUE(driver.faults().empty());  // spent on arrival
}

TEST(SimFaultTest, FirstAddedMatchingFaultWins) {
  RecordingSink sink;
  SimDriver driver(zero());
  driver.start(&sink);
  driver.add_fault(fault(R"({"kind": "fail", "vm": 1, "message": "first"})"));
  driver.add_fault(fault(R"({"kind": "fail", "vm": 1, "message": "second"})"));
  driver.run_phase(request(1, Action::kCreate, Phase::kBoot));
  driver.run_phase(request(1, Action::kCreate, Phase::kBoot));
  ASSERT_TRUE(sink.wait_results(2));
  EXPECT_EQ(sink.results()[0].error, "first");
  EXPECT_EQ(sink.results()[1].error, "second");
}

TEST(SimFaultTest, ParseFault) {
  auto full = parse_fault(nlohmann::json::parse(
      R"({"kind": "fail", "action": "deploy", "phase": "boot", "vm": 12, "times": 3,
          "message": "no bootable disk"})"));
  ASSERT_TRUE(full.has_value()) << full.error().message;
  EXPECT_EQ(full->kind, FaultKind::kFail);
  EXPECT_EQ(full->action, Action::kDeploy);
  EXPECT_EQ(full->phase, Phase::kBoot);
  EXPECT_EQ(full->vm, 12);
  EXPECT_EQ(full->times, 3);
  EXPECT_EQ(full->message, "no bootable disk");

  auto minimal = parse_fault(nlohmann::json::parse(R"({"kind": "hang"})"));
  ASSERT_TRUE(minimal.has_value());
  EXPECT_EQ(minimal->kind, FaultKind::kHang);
  EXPECT_FALSE(minimal->action || minimal->phase || minimal->vm);
  EXPECT_EQ(minimal->times, 1);

  auto crash = parse_fault(
      nlohmann::json::parse(R"({"kind": "crash", "phase": "os_provisioning", "times": -1})"));
  ASSERT_TRUE(crash.has_value());
  EXPECT_EQ(crash->kind, FaultKind::kCrash);
  EXPECT_EQ(crash->phase, Phase::kOsProvisioning);
  EXPECT_EQ(crash->times, -1);

  auto intact = parse_fault(nlohmann::json::parse(R"({"kind": "FAIL_INTACT", "phase": "save"})"));
  ASSERT_TRUE(intact.has_value()) << intact.error().message;
  EXPECT_EQ(intact->kind, FaultKind::kFailIntact);
  EXPECT_EQ(intact->phase, Phase::kSave);

  const struct {
    const char* json;
    const char* mentions;
  } bad[] = {
      {R"({"action": "deploy"})", "kind"},
      {R"({"kind": "explode"})", "explode"},
      {R"({"kind": "explode"})", "fail_intact"},  // the message lists every kind
      {R"({"kind": "fail", "action": "frobnicate"})", "frobnicate"},
      {R"({"kind": "fail", "phase": "warmup"})", "warmup"},
      {R"({"kind": "fail", "vm": "12"})", "vm"},
      {R"({"kind": "fail", "vm": 1.5})", "vm"},
      {R"({"kind": "fail", "times": 0})", "times"},
      {R"({"kind": "fail", "times": -2})", "times"},
      {R"({"kind": "fail", "message": 3})", "message"},
      {R"({"kind": "fail", "phsae": "boot"})", "phsae"},
      {R"(["fail"])", "object"},
  };
  for (const auto& b : bad) {
    auto fault = parse_fault(nlohmann::json::parse(b.json));
    ASSERT_FALSE(fault.has_value()) << b.json;
    EXPECT_EQ(fault.error().code, ErrorCode::kInvalidArgument) << b.json;
    EXPECT_NE(fault.error().message.find(b.mentions), std::string::npos)
        << b.json << ": " << fault.error().message;
  }
}

TEST(SimFaultTest, FaultJsonRoundTrips) {
  SimDriver driver;
  Fault fault;
  fault.kind = FaultKind::kFail;
  fault.action = Action::kShutdownHard;
  fault.phase = Phase::kPowerOff;
  fault.vm = 5;
  fault.times = -1;
  fault.message = "stuck";
  fault.id = driver.add_fault(fault);
  nlohmann::json json = fault_json(fault);
  EXPECT_EQ(json["id"], fault.id);
  EXPECT_EQ(json["kind"], "fail");
  EXPECT_EQ(json["action"], "shutdown_hard");
  EXPECT_EQ(json["phase"], "power_off");
  EXPECT_EQ(json["vm"], 5);
  EXPECT_EQ(json["times"], -1);
  EXPECT_EQ(json["message"], "stuck");
  auto back = parse_fault(json);
  ASSERT_TRUE(back.has_value()) << back.error().message;
  EXPECT_EQ(back->kind, fault.kind);
  EXPECT_EQ(back->action, fault.action);
  EXPECT_EQ(back->phase, fault.phase);
  EXPECT_EQ(back->vm, fault.vm);
  EXPECT_EQ(back->times, fault.times);
  EXPECT_EQ(back->message, fault.message);

  for (FaultKind kind :
       {FaultKind::kFail, FaultKind::kFailIntact, FaultKind::kHang, FaultKind::kCrash}) {
    Fault f;
    f.kind = kind;
    auto parsed = parse_fault(fault_json(f));
    ASSERT_TRUE(parsed.has_value()) << fault_kind_name(kind);
    EXPECT_EQ(parsed->kind, kind);
  }

  nlohmann::json bare = fault_json(Fault{});  // matches everything: no optional field shown
  EXPECT_FALSE(bare.contains("action") || bare.contains("phase") || bare.contains("vm") ||
               bare.contains("message"));
}

// ---- Drift ------------------------------------------------------------------------------

TEST(SimDriftTest, ExternalEventsArriveAsPowerEvents) {
  RecordingSink sink;
  SimDriver driver(zero());
  driver.start(&sink);
  driver.adopt(1, "sim-1", Power::kRunning);
  driver.external_event(1, ExternalEvent::kGuestPoweroff);
  driver.external_event(1, ExternalEvent::kRunningAgain);
  driver.external_event(1, ExternalEvent::kPausedOutside);
  driver.external_event(1, ExternalEvent::kGuestReady);
  driver.external_event(1, ExternalEvent::kLost);
  ASSERT_TRUE(sink.wait_events(5));
  auto events = sink.events();
  for (const auto& event : events) {
    EXPECT_EQ(event.vm, 1);
    EXPECT_FALSE(event.cause.empty());
  }
  EXPECT_EQ(events[0].power, Power::kShutdown);
  EXPECT_EQ(events[0].kind, PowerEventKind::kGuestPoweroff);
  EXPECT_EQ(events[1].power, Power::kRunning);
  EXPECT_EQ(events[1].kind, PowerEventKind::kPowerChanged);
  EXPECT_EQ(events[2].power, Power::kPaused);
  EXPECT_EQ(events[2].kind, PowerEventKind::kPowerChanged);
  EXPECT_EQ(events[3].power, Power::kRunning);
  EXPECT_EQ(events[3].kind, PowerEventKind::kGuestReady);
  EXPECT_EQ(events[4].power, Power::kNoState);
  EXPECT_EQ(events[4].kind, PowerEventKind::kVanished);
  EXPECT_EQ(driver.power_of(1), Power::kNoState);
  EXPECT_EQ(sink.result_count(), 0U);
}

TEST(SimDriftTest, EventChangesThePowerLaterPhasesReport) {
  RecordingSink sink;
  SimDriver driver(zero());
  driver.start(&sink);
  driver.adopt(2, "sim-2", Power::kRunning);
  driver.external_event(2, ExternalEvent::kPausedOutside);
  driver.run_phase(request(2, Action::kSnapshot, Phase::kSnapshot));
  ASSERT_TRUE(sink.wait_results(1));
  EXPECT_EQ(sink.results()[0].power, Power::kPaused);
}

TEST(SimDriftTest, ParseExternalEvent) {
  EXPECT_EQ(parse_external_event("guest_poweroff"), ExternalEvent::kGuestPoweroff);
  EXPECT_EQ(parse_external_event("lost"), ExternalEvent::kLost);
  EXPECT_EQ(parse_external_event("paused"), ExternalEvent::kPausedOutside);
  EXPECT_EQ(parse_external_event("running"), ExternalEvent::kRunningAgain);
  EXPECT_EQ(parse_external_event("Guest_Ready"), ExternalEvent::kGuestReady);
  auto bad = parse_external_event("reboot");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.error().message.find("reboot"), std::string::npos);
}

// ---- Stop -------------------------------------------------------------------------------

TEST(SimStopTest, NothingArrivesAfterStopReturns) {
  SimOptions options = zero();
  options.default_latency = 20ms;
  RecordingSink sink;
  SimDriver driver(options);
  driver.start(&sink);
  for (int i = 0; i < 1000; ++i) driver.run_phase(request(i, Action::kCreate, Phase::kBoot));
  driver.external_event(1, ExternalEvent::kLost);  // due at once
  driver.stop();
  std::size_t at_stop = sink.result_count();
  auto events_at_stop = sink.events().size();
  driver.run_phase(request(1, Action::kCreate, Phase::kBoot));  // after stop: dropped
  driver.external_event(1, ExternalEvent::kLost);
  std::this_thread::sleep_for(60ms);
  EXPECT_EQ(sink.result_count(), at_stop);
  EXPECT_EQ(sink.events().size(), events_at_stop);
  driver.stop();  // twice is fine
}

TEST(SimStopTest, StopWhileDeliveringABacklog) {
  RecordingSink sink;
  SimDriver driver(zero());
  driver.start(&sink);
  for (int i = 0; i < 50'000; ++i) driver.run_phase(request(i, Action::kCreate, Phase::kBoot));
  ASSERT_TRUE(sink.wait_results(1));
  driver.stop();
  std::size_t at_stop = sink.result_count();
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(sink.result_count(), at_stop);
}

TEST(SimStopTest, DestructorStops) {
  RecordingSink sink;
  {
    SimOptions options = zero();
    options.default_latency = 10ms;
    SimDriver driver(options);
    driver.start(&sink);
    for (int i = 0; i < 100; ++i) driver.run_phase(request(i, Action::kCreate, Phase::kBoot));
  }
  std::size_t at_destruction = sink.result_count();
  std::this_thread::sleep_for(30ms);
  EXPECT_EQ(sink.result_count(), at_destruction);
}

// ---- Scale ------------------------------------------------------------------------------

TEST(SimScaleTest, HundredThousandZeroLatencyPhases) {
  constexpr int kVms = 100'000;
  RecordingSink sink;
  sink.set_caller(std::this_thread::get_id());
  SimDriver driver(zero());
  driver.start(&sink);
  auto begin = std::chrono::steady_clock::now();
  for (int i = 1; i <= kVms; ++i) {
    driver.run_phase(request(i, Action::kCreate, Phase::kBoot, /*op=*/i));
  }
  ASSERT_TRUE(sink.wait_results(kVms, 30s));
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  std::printf("[ sim      ] %d zero-latency phases in %.3f s: %.0f results/s\n", kVms, seconds,
              kVms / seconds);
  EXPECT_EQ(driver.vm_count(), static_cast<std::size_t>(kVms));
  auto results = sink.results();
  for (int i = 0; i < kVms; ++i) {
    ASSERT_EQ(results[i].op, i + 1);
    ASSERT_EQ(results[i].vm, i + 1);
    ASSERT_TRUE(results[i].ok);
    ASSERT_EQ(results[i].power, Power::kRunning);
  }
}

TEST(SimScaleTest, HundredThousandVmsAreCheap) {
  SimDriver driver;
  for (store::VmId vm = 1; vm <= 100'000; ++vm) driver.adopt(vm, "sim-1", Power::kRunning);
  EXPECT_EQ(driver.vm_count(), 100'000U);
  EXPECT_EQ(driver.power_of(54'321), Power::kRunning);
  EXPECT_EQ(driver.power_of(100'001), std::nullopt);
}

TEST(PowerMapTest, AgreesWithUnorderedMap) {
  detail::PowerMap map;
  std::unordered_map<store::VmId, Power> reference;
  std::mt19937_64 rng(42);
  const Power powers[] = {Power::kNoState, Power::kRunning, Power::kPaused, Power::kShutdown};
  // Ids from a small range so inserts, overwrites and erases collide often; plus the extremes.
  auto pick = [&]() -> store::VmId {
    switch (rng() % 20) {
      case 0:
        return std::numeric_limits<store::VmId>::min();
      case 1:
        return std::numeric_limits<store::VmId>::max();
      case 2:
        return 0;
      default:
        return static_cast<store::VmId>(rng() % 5000) - 100;
    }
  };
  for (int i = 0; i < 200'000; ++i) {
    store::VmId vm = pick();
    switch (rng() % 3) {
      case 0:
      case 1: {
        Power power = powers[rng() % 4];
        map.set(vm, power);
        reference[vm] = power;
        break;
      }
      case 2:
        ASSERT_EQ(map.erase(vm), reference.erase(vm) == 1) << vm;
        break;
    }
    ASSERT_EQ(map.size(), reference.size());
  }
  for (store::VmId vm = -100; vm < 4900; ++vm) {
    auto it = reference.find(vm);
    ASSERT_EQ(map.find(vm), it == reference.end() ? std::nullopt : std::optional(it->second));
  }
  EXPECT_EQ(map.find(std::numeric_limits<store::VmId>::min()).has_value(),
            reference.contains(std::numeric_limits<store::VmId>::min()));
}

TEST(PowerMapTest, MemoryPerVm) {
  detail::PowerMap map;
  for (store::VmId vm = 1; vm <= 100'000; ++vm) map.set(vm, Power::kRunning);
  std::printf("[ sim      ] 100000 VMs: %zu bytes of power map (%.1f bytes a VM)\n",
              map.memory_bytes(), static_cast<double>(map.memory_bytes()) / 100'000.0);
  EXPECT_LE(map.memory_bytes(), 4U << 20);  // a budget, not a timing
}

}  // namespace
}  // namespace corral::driver::sim
