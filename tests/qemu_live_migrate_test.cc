// Live migration through the qemu driver's phases, with real QEMU (TCG, the `tiny` guest,
// 128 MiB): two QemuDriver instances on this machine, each with its own data dir (two hosts),
// driven through run_phase() with the PhaseRequests the engine sends for a live_migrate
// (prepare_migrate on the target, migrate on the source, finish_migrate on the target,
// cleanup on the source; the undo: cleanup on the target, abort_migrate on the source).
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <condition_variable>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <regex>
#include <thread>

#include "driver/qemu/launch.h"
#include "driver/qemu/migrate.h"
#include "driver/qemu/migrate_health.h"
#include "driver/qemu/posix.h"
#include "driver/qemu/qemu_driver.h"
#include "support/qemu_host.h"

namespace corral::driver::qemu {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using lifecycle::Action;
using lifecycle::Integrity;
using lifecycle::Phase;
using lifecycle::Power;
using lifecycle::RunsOn;
using SteadyClock = std::chrono::steady_clock;
constexpr store::VmId kVm = 7;

class Sink final : public DriverSink {
 public:
  void phase_done(PhaseResult result) override {
    std::lock_guard lock(mu_);
    results_.push_back(std::move(result));
    cv_.notify_all();
  }
  void power_event(PowerEvent event) override {
    std::lock_guard lock(mu_);
    events_.push_back(std::move(event));
  }
  std::optional<PhaseResult> wait(const PhaseRequest& r, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    std::optional<PhaseResult> found;
    cv_.wait_for(lock, timeout, [&] {
      for (const PhaseResult& p : results_) {
        if (p.op == r.op && p.step == r.step && p.attempt == r.attempt) found = p;
      }
      return found.has_value();
    });
    return found;
  }
  std::vector<PowerEvent> events() {
    std::lock_guard lock(mu_);
    return events_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<PhaseResult> results_;
  std::vector<PowerEvent> events_;
};

// One "host": a driver on its own data dir.
struct Host {
  std::string name;
  QemuConfig config;
  Sink sink;
  std::unique_ptr<QemuDriver> driver;

  Host(const std::string& root, const std::string& host_name, const std::string& shared) {
    name = host_name;
    config.data_dir = root + "/" + host_name;
    config.host_name = host_name;
    config.accel = "tcg";
    config.shared_dir = shared;
    const std::string tiny = config.data_dir + "/images/tiny";
    fs::create_directories(tiny);
    for (const char* file : {"vmlinuz", "initrd.img"}) {
      fs::copy_file(std::string(CORRAL_GUEST_DIR) + "/" + file, tiny + "/" + file);
    }
    driver = std::make_unique<QemuDriver>(config);
    driver->start(&sink);
  }
  ~Host() {
    driver->stop();
    for (const auto& [vm, pid] : driver->processes()) {  // by the pids the driver found
      ::kill(pid, SIGKILL);
      for (int i = 0; i < 300 && process_alive(pid); ++i) std::this_thread::sleep_for(10ms);
    }
  }
  VmPaths paths() const { return VmPaths::of(config.data_dir, kVm, config.shared_dir); }
  std::string console() const { return testing::read_file(paths().serial_log); }
  bool console_has(const std::string& text, std::chrono::milliseconds timeout) const {
    const auto until = SteadyClock::now() + timeout;
    while (SteadyClock::now() < until) {
      if (console().find(text) != std::string::npos) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }
  void type(const std::string& text) { ASSERT_TRUE(driver->write_console(kVm, text)); }
  HealthReport health(const std::string& nonce) {
    return check_guest_health(
        paths().serial_log, console().size(),
        [this](const std::string& text) { (void)driver->write_console(kVm, text); },
        console_probe(nonce), 20s, 1s);
  }
  std::size_t processes() const { return driver->processes().count(kVm); }
};

// The guest's counter on its console, once a second, and the highest value in `console`.
constexpr const char* kTicker = "(i=0; while :; do i=$((i+1)); echo tick-$i; sleep 1; done) &\n";
constexpr const char* kDirtyLoop =
    "(while :; do dd if=/dev/zero of=/dirty bs=1M count=32 2>/dev/null; done) &\n";
int ticks(const std::string& console, bool lowest) {
  static const std::regex tick("tick-([0-9]+)");
  int out = lowest ? INT32_MAX : 0;
  for (std::sregex_iterator it(console.begin(), console.end(), tick), end; it != end; ++it) {
    const int n = std::stoi((*it)[1]);
    out = lowest ? std::min(out, n) : std::max(out, n);
  }
  return out == INT32_MAX ? 0 : out;
}

class QemuLiveMigrate : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "corral-live-XXXXXX").string();
    root_ = ::mkdtemp(templ.data());
  }
  void TearDown() override {
    a_.reset();
    b_.reset();
    fs::remove_all(root_);
  }

  PhaseRequest request(store::OpId op, Phase phase, std::uint8_t step, RunsOn on, Host& host,
                       Host& peer) {
    PhaseRequest r;
    r.vm = kVm;
    r.op = op;
    r.step = step;
    r.attempt = step + 1;  // undo phases come with a higher attempt
    r.action = Action::kLiveMigrate;
    r.phase = phase;
    r.origin = lifecycle::State::kRunning;
    r.model = {1, 128, "tiny"};
    r.host = host.name;
    r.runs_on = on;
    r.peer_host = peer.name;
    r.migration = params_;
    return r;
  }
  static PhaseResult run(Host& host, const PhaseRequest& r, std::chrono::milliseconds timeout) {
    const auto start = SteadyClock::now();
    host.driver->run_phase(r);
    std::optional<PhaseResult> result = host.sink.wait(r, timeout);
    std::cout
        << "[ measured ] " << lifecycle::phase_name(r.phase) << " on " << host.name << ": "
        << std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - start).count()
        << " ms" << (result && !result->ok ? ", failed: " + result->error : "") << "\n";
    EXPECT_TRUE(result) << lifecycle::phase_name(r.phase) << " was not answered";
    PhaseResult none;
    none.ok = false;
    none.error = "no answer";
    return result.value_or(none);
  }

  // Creates the VM on `host` and waits for its shell.
  void boot(Host& host) {
    PhaseRequest r;
    r.vm = kVm;
    r.op = 1;
    r.action = Action::kCreate;
    r.model = {1, 128, "tiny"};
    r.host = host.name;
    r.phase = Phase::kProlog;
    ASSERT_TRUE(run(host, r, 30s).ok);
    r.step = 1;
    r.phase = Phase::kBoot;
    const PhaseResult booted = run(host, r, 60s);
    ASSERT_TRUE(booted.ok) << booted.error;
    ASSERT_TRUE(host.console_has("corral-guest: ready", 60s)) << host.console();
    host.type("\n");
    ASSERT_TRUE(host.console_has("/ # ", 30s)) << host.console();
  }

  // The four phases of a live migration that works.
  void move(Host& from, Host& to, store::OpId op) {
    const PhaseResult prepared =
        run(to, request(op, Phase::kPrepareMigrate, 0, RunsOn::kTarget, to, from), 30s);
    ASSERT_TRUE(prepared.ok) << prepared.error;
    ASSERT_TRUE(prepared.endpoint);
    EXPECT_TRUE(prepared.endpoint->migration_uri.starts_with("tcp:127.0.0.1:"));
    EXPECT_EQ(prepared.endpoint->nbd_port != 0, params_.copy_storage);
    PhaseRequest migrate = request(op, Phase::kMigrate, 1, RunsOn::kSource, from, to);
    migrate.endpoint = prepared.endpoint;
    const PhaseResult migrated = run(from, migrate, 60s);
    ASSERT_TRUE(migrated.ok) << migrated.error;
    const int last_tick = ticks(from.console(), false);
    if (params_.postcopy_after_ms > 0 && last_tick > 0) {
      // Post-copy started: the target runs the guest at once, before finish_migrate.
      EXPECT_TRUE(to.console_has("tick-", 5s)) << "the guest waits, paused, for finish";
    }
    const PhaseResult finished =
        run(to, request(op, Phase::kFinishMigrate, 2, RunsOn::kTarget, to, from), 60s);
    ASSERT_TRUE(finished.ok) << finished.error << "\n" << to.console();
    EXPECT_EQ(finished.power, Power::kRunning);
    // Re-sent (a crash lost the answer): migrate reports the migration done, finish checks again.
    migrate.attempt += 10;
    const PhaseResult again = run(from, migrate, 30s);
    EXPECT_TRUE(again.ok) << again.error;
    const PhaseResult cleaned =
        run(from, request(op, Phase::kCleanup, 3, RunsOn::kSource, from, to), 30s);
    ASSERT_TRUE(cleaned.ok) << cleaned.error;
    PhaseRequest cleanup_again = request(op, Phase::kCleanup, 3, RunsOn::kSource, from, to);
    cleanup_again.attempt += 10;
    EXPECT_TRUE(run(from, cleanup_again, 30s).ok);
    EXPECT_EQ(from.processes(), 0U);
    EXPECT_EQ(to.processes(), 1U);
    EXPECT_FALSE(fs::exists(from.paths().dir)) << "the source's own files go";
    EXPECT_TRUE(fs::exists(to.paths().disk));
    // The same guest, not a new boot: its counter goes on from where it was.
    std::cout << "[ measured ] counter on the source up to " << last_tick << "\n";
    if (last_tick > 0) {
      ASSERT_TRUE(to.console_has("tick-", 10s)) << to.console();
      const int first_here = ticks(to.console(), true);
      std::cout << "[ measured ] counter on the target from " << first_here << "\n";
      EXPECT_GE(first_here + 1, last_tick) << to.console();
      EXPECT_GT(first_here, 1) << to.console();
    }
    const HealthReport health = to.health("after-op" + std::to_string(op));
    EXPECT_TRUE(health.healthy) << health.reason << "\n" << to.console();
  }

  std::string root_;
  std::unique_ptr<Host> a_, b_;
  store::MigrationParams params_;
};

// Shared storage: a busy guest (dirtying its memory, printing a counter) goes to host b and
// back, healthy each time; then two failed migrations are undone and the guest runs on a.
// Catches: an endpoint not answered; a source not confirmed (two QEMUs of the VM); the
// shared disk deleted by a cleanup; a re-sent migrate starting a second migration; an abort
// that does not cancel a migrate() in progress (it would complete); a failure not intact; a
// guest left paused on the source after the undo; the target's QEMU left behind.
TEST_F(QemuLiveMigrate, SharedStorageThereAndBackThenUndone) {
  const std::string shared = root_ + "/shared";
  a_ = std::make_unique<Host>(root_, "a", shared);
  b_ = std::make_unique<Host>(root_, "b", shared);
  ASSERT_NO_FATAL_FAILURE(boot(*a_));
  EXPECT_TRUE(a_->paths().disk.starts_with(shared));
  a_->type(kTicker);
  a_->type(kDirtyLoop);
  ASSERT_TRUE(a_->console_has("tick-2", 10s)) << a_->console();

  // Without copy_storage a host without a shared dir refuses, intact, before starting QEMU.
  {
    Host lonely(root_, "c", "");
    const PhaseResult refused =
        run(lonely, request(9, Phase::kPrepareMigrate, 0, RunsOn::kTarget, lonely, *a_), 10s);
    EXPECT_FALSE(refused.ok);
    EXPECT_EQ(refused.integrity, Integrity::kIntact);
    EXPECT_NE(refused.error.find("shared"), std::string::npos) << refused.error;
    EXPECT_EQ(lonely.processes(), 0U);
  }

  params_.postcopy_after_ms = 1;  // surely post-copy (the way back: the defaults)
  ASSERT_NO_FATAL_FAILURE(move(*a_, *b_, 10));
  params_ = {};
  ASSERT_NO_FATAL_FAILURE(move(*b_, *a_, 11));

  // A migration too slow to finish (pre-copy at 4 MiB/s), aborted while migrate() runs.
  params_.bandwidth_mib_s = 4;
  params_.postcopy_after_ms = 0;
  const PhaseResult prepared =
      run(*b_, request(12, Phase::kPrepareMigrate, 0, RunsOn::kTarget, *b_, *a_), 30s);
  ASSERT_TRUE(prepared.ok) << prepared.error;
  PhaseRequest migrate = request(12, Phase::kMigrate, 1, RunsOn::kSource, *a_, *b_);
  migrate.endpoint = prepared.endpoint;
  a_->driver->run_phase(migrate);
  std::this_thread::sleep_for(1500ms);
  PhaseRequest abort = request(12, Phase::kAbortMigrate, 5, RunsOn::kSource, *a_, *b_);
  const PhaseResult aborted = run(*a_, abort, 30s);
  std::optional<PhaseResult> cancelled = a_->sink.wait(migrate, 1s);
  ASSERT_TRUE(cancelled);
  EXPECT_FALSE(cancelled->ok);
  EXPECT_EQ(cancelled->integrity, Integrity::kIntact) << cancelled->error;
  EXPECT_TRUE(aborted.ok) << aborted.error;
  EXPECT_EQ(aborted.power, Power::kRunning);
  EXPECT_TRUE(run(*b_, request(12, Phase::kCleanup, 4, RunsOn::kTarget, *b_, *a_), 30s).ok);
  EXPECT_EQ(b_->processes(), 0U);
  EXPECT_EQ(a_->processes(), 1U);
  EXPECT_TRUE(fs::exists(a_->paths().disk)) << "the target's cleanup keeps the shared disk";

  // The target's QEMU dies after prepare: migrate fails intact; the undo leaves the guest
  // running on the source.
  // Its prepare is sent twice (a lost answer): the second starts afresh, one QEMU remains.
  params_ = {};
  PhaseRequest prepare = request(13, Phase::kPrepareMigrate, 0, RunsOn::kTarget, *b_, *a_);
  const PhaseResult prepared1 = run(*b_, prepare, 30s);
  ASSERT_TRUE(prepared1.ok) << prepared1.error;
  prepare.attempt += 10;
  const PhaseResult prepared2 = run(*b_, prepare, 30s);
  ASSERT_TRUE(prepared2.ok) << prepared2.error;
  EXPECT_EQ(b_->processes(), 1U);
  for (const auto& [vm, pid] : b_->driver->processes()) ::kill(pid, SIGKILL);
  PhaseRequest migrate2 = request(13, Phase::kMigrate, 1, RunsOn::kSource, *a_, *b_);
  migrate2.endpoint = prepared2.endpoint;
  const PhaseResult failed = run(*a_, migrate2, 60s);
  EXPECT_FALSE(failed.ok);
  EXPECT_EQ(failed.integrity, Integrity::kIntact) << failed.error;
  EXPECT_TRUE(run(*b_, request(13, Phase::kCleanup, 4, RunsOn::kTarget, *b_, *a_), 30s).ok);
  const PhaseResult undone =
      run(*a_, request(13, Phase::kAbortMigrate, 5, RunsOn::kSource, *a_, *b_), 30s);
  EXPECT_TRUE(undone.ok) << undone.error;
  EXPECT_EQ(undone.power, Power::kRunning);
  PhaseRequest abort_again = request(13, Phase::kAbortMigrate, 5, RunsOn::kSource, *a_, *b_);
  abort_again.attempt += 10;
  EXPECT_TRUE(run(*a_, abort_again, 30s).ok);
  EXPECT_EQ(a_->processes(), 1U);
  EXPECT_EQ(b_->processes(), 0U);
  EXPECT_FALSE(fs::exists(b_->paths().dir));
  const HealthReport health = a_->health("after-undo");
  EXPECT_TRUE(health.healthy) << health.reason << "\n" << a_->console();
  // The target's QEMU ending by itself during a migration is no news of the VM.
  for (const PowerEvent& e : b_->sink.events()) {
    EXPECT_NE(e.kind, PowerEventKind::kVanished) << e.cause;
  }
}

// No shared storage: the disk is mirrored into the target's own overlay; the source's goes.
TEST_F(QemuLiveMigrate, CopyStorageIdleGuest) {
  a_ = std::make_unique<Host>(root_, "a", "");
  b_ = std::make_unique<Host>(root_, "b", "");
  ASSERT_NO_FATAL_FAILURE(boot(*a_));
  a_->type("echo marker-$((40+2)) > /dev/vda 2>/dev/null; sync\n");
  ASSERT_TRUE(a_->console_has("/ # ", 5s));
  params_.copy_storage = true;
  ASSERT_NO_FATAL_FAILURE(move(*a_, *b_, 20));
  EXPECT_FALSE(b_->paths().shared_disk());
  // What the guest wrote to its disk on a is on b's disk (the echoed command has no "42").
  b_->type("head -c 9 /dev/vda; echo\n");
  EXPECT_TRUE(b_->console_has("marker-42", 10s)) << b_->console();
}

// A migration QEMU runs that this call did not start (what a migrate phase re-sent after an
// agent restart finds): cancel_migration() ends one, follow_migration() waits for the next to
// complete. Catches: a second `migrate` issued over a running one; a cancel not waited for.
TEST_F(QemuLiveMigrate, FollowsOrCancelsAMigrationStartedBefore) {
  using testing::HostQemu;
  std::unique_ptr<HostQemu> source = HostQemu::launch(root_ + "/a", false);
  ASSERT_NO_FATAL_FAILURE(source->boot());
  const auto start = [&](const MigrateOptions& options) -> std::unique_ptr<HostQemu> {
    std::unique_ptr<HostQemu> target = HostQemu::launch(root_ + "/b", true, source->paths().disk);
    Result<IncomingEndpoint> ep = prepare_incoming(target->qmp(), options, "127.0.0.1");
    EXPECT_TRUE(ep) << ep.error().message;
    EXPECT_TRUE(source->qmp().execute("migrate-set-capabilities",
                                      {{"capabilities", migration_capabilities(options, true)}}));
    EXPECT_TRUE(source->qmp().execute("migrate-set-parameters", migration_parameters(options)));
    EXPECT_TRUE(source->qmp().execute("migrate", {{"uri", ep ? ep->migration_uri : ""}}));
    return target;
  };
  MigrateOptions slow;
  slow.bandwidth_mib_s = 2;
  std::unique_ptr<HostQemu> target = start(slow);
  std::this_thread::sleep_for(300ms);
  Result<MigrationProgress> cancelled = cancel_migration(source->qmp(), 30s);
  ASSERT_TRUE(cancelled) << cancelled.error().message;
  EXPECT_EQ(cancelled->status, MigrationStatus::kCancelled);
  EXPECT_EQ(source->run_status(), "running");
  EXPECT_TRUE(target->wait_gone(10s));
  // Nothing under way: cancel_migration says what the last one became, and does nothing.
  Result<MigrationProgress> again = cancel_migration(source->qmp(), 5s);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, MigrationStatus::kCancelled);

  MigrateOptions precopy;  // nothing moves it on to post-copy: follow only watches
  target = start(precopy);
  Result<MigrationProgress> followed = follow_migration(source->qmp(), nullptr, 60s);
  ASSERT_TRUE(followed) << followed.error().message;
  EXPECT_EQ(followed->status, MigrationStatus::kCompleted) << followed->error;
  EXPECT_EQ(source->run_status(), "postmigrate");
}

}  // namespace
}  // namespace corral::driver::qemu
