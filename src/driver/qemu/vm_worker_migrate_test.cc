// The worker's live-migration phases on the source over a fake QMP (vm_worker_testing.h):
// what a re-sent migrate does with the migration QEMU already has, and how an abort cancels
// a migrate() in progress and resumes the guest. The whole protocol runs against real QEMU
// in tests/qemu_live_migrate_test.cc.
#include <gtest/gtest.h>

#include <algorithm>

#include "driver/qemu/vm_worker_testing.h"

namespace corral::driver::qemu {
namespace {

using lifecycle::Action;
using lifecycle::Integrity;
using lifecycle::Phase;
using lifecycle::Power;
using nlohmann::json;

class VmWorkerMigrate : public VmWorkerTest {
 protected:
  // The fake QMP's answers read this class's members: it stops before they are destroyed.
  ~VmWorkerMigrate() override { end_all(); }

  // QEMU's migration as the fake tells it: query-migrate says `migration_`, query-status
  // says `runstate_`; a migrate_cancel turns an active migration cancelled.
  void serve() {
    serve_qmp([this](const std::string& command,
                     const std::string& line) -> std::optional<std::string> {
      std::lock_guard lock(mu_);
      if (command == "query-migrate") {
        json answer = {{"status", migration_}};
        if (postcopy_) answer["ram"] = {{"postcopy-bytes", 4096}};
        return FakeQmp::answer(line, answer);
      }
      if (command == "query-status") {
        return FakeQmp::answer(line, {{"status", runstate_}, {"running", runstate_ == "running"}});
      }
      if (command == "migrate_cancel" && migration_ == "active") migration_ = "cancelled";
      if (command == "migrate") {
        migration_ = "active";
        ++migrates_;
        migrated_.notify_all();
      }
      if (command == "cont") runstate_ = "running";
      return std::nullopt;
    });
  }
  void set(const std::string& migration, const std::string& runstate, bool postcopy = false) {
    std::lock_guard lock(mu_);
    migration_ = migration;
    runstate_ = runstate;
    postcopy_ = postcopy;
  }
  PhaseRequest migrate(store::OpId op) {
    PhaseRequest r = request(op, Action::kLiveMigrate, Phase::kMigrate);
    r.runs_on = lifecycle::RunsOn::kSource;
    r.endpoint = store::MigrationEndpoint{"tcp:127.0.0.1:1", "", 0, ""};
    return r;
  }
  PhaseRequest abort(store::OpId op, lifecycle::State origin = lifecycle::State::kRunning) {
    PhaseRequest r = request(op, Action::kLiveMigrate, Phase::kAbortMigrate, origin);
    r.runs_on = lifecycle::RunsOn::kSource;
    return r;
  }
  // Waits until the fake has started `n` migrations (QMP records a command before answering).
  bool await_migrates(int n) {
    std::unique_lock lock(mu_);
    return migrated_.wait_for(lock, kPatience, [&] { return migrates_ >= n; });
  }
  std::size_t count(const std::string& command) {
    const std::vector<std::string> sent = commands();
    return static_cast<std::size_t>(std::count(sent.begin(), sent.end(), command));
  }

  std::mutex mu_;
  std::string migration_ = "none";
  std::string runstate_ = "running";
  bool postcopy_ = false;
  int migrates_ = 0;
  std::condition_variable migrated_;
};

// Catches: a re-sent migrate that issues a second `migrate` over a completed or running
// migration (QEMU refuses it, and the phase would fail a migration that worked).
TEST_F(VmWorkerMigrate, AReSentMigrateReportsOrFollowsTheMigrationQemuHas) {
  start_process();
  serve();
  attach_worker();
  set("completed", "postmigrate");
  worker_->submit(migrate(1));
  std::optional<PhaseResult> done = sink_.result_of(1);
  ASSERT_TRUE(done);
  EXPECT_TRUE(done->ok) << done->error;
  EXPECT_EQ(count("migrate"), 0U);

  set("active", "running");
  worker_->submit(migrate(2));
  ASSERT_TRUE(await_command("query-migrate"));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_FALSE(sink_.results().size() > 1) << "answered while the migration still ran";
  set("completed", "postmigrate");
  std::optional<PhaseResult> followed = sink_.result_of(2);
  ASSERT_TRUE(followed);
  EXPECT_TRUE(followed->ok) << followed->error;
  EXPECT_EQ(count("migrate"), 0U);
  EXPECT_EQ(count("migrate_cancel"), 0U);
}

// Catches: an abort that waits behind the migrate it should end (the migration would run on
// to completion); a cancelled migration reported kUnknown (the undo would stop in FAILED).
TEST_F(VmWorkerMigrate, AnAbortCancelsTheMigrateInProgressAndTheGuestRunsOn) {
  start_process();
  serve();
  attach_worker();
  worker_->submit(migrate(1));
  ASSERT_TRUE(await_command("migrate"));
  worker_->submit(abort(2));
  std::optional<PhaseResult> cancelled = sink_.result_of(1);
  ASSERT_TRUE(cancelled);
  EXPECT_FALSE(cancelled->ok);
  EXPECT_EQ(cancelled->integrity, Integrity::kIntact) << cancelled->error;
  EXPECT_NE(cancelled->error.find("cancelled"), std::string::npos) << cancelled->error;
  std::optional<PhaseResult> aborted = sink_.result_of(2);
  ASSERT_TRUE(aborted);
  EXPECT_TRUE(aborted->ok) << aborted->error;
  EXPECT_EQ(aborted->power, Power::kRunning);
  EXPECT_EQ(count("migrate_cancel"), 1U);
  EXPECT_EQ(count("cont"), 0U) << "the guest never stopped";

  // The next migrate starts afresh (the abort consumed the cancel). It is completed only
  // once started: completing it before would leave the fake's migration active.
  worker_->submit(migrate(3));
  ASSERT_TRUE(await_migrates(2));
  set("completed", "postmigrate");
  std::optional<PhaseResult> done = sink_.result_of(3);
  ASSERT_TRUE(done);
  EXPECT_TRUE(done->ok) << done->error;
}

// After a completed pre-copy whose target was found unhealthy the source resumes (a running
// origin) or stays paused (a paused one); after post-copy it cannot.
// Catches: a paused origin resumed by the undo; a resume after post-copy (two guests).
TEST_F(VmWorkerMigrate, AnAbortAfterACompletedMigrationResumesOnlyARunningOriginBeforePostcopy) {
  start_process();
  serve();
  attach_worker();
  set("completed", "postmigrate");
  worker_->submit(abort(1, lifecycle::State::kPaused));
  std::optional<PhaseResult> paused = sink_.result_of(1);
  ASSERT_TRUE(paused);
  EXPECT_TRUE(paused->ok) << paused->error;
  EXPECT_EQ(paused->power, Power::kPaused);
  EXPECT_EQ(count("cont"), 0U);

  worker_->submit(abort(2));
  std::optional<PhaseResult> resumed = sink_.result_of(2);
  ASSERT_TRUE(resumed);
  EXPECT_TRUE(resumed->ok) << resumed->error;
  EXPECT_EQ(resumed->power, Power::kRunning);
  EXPECT_EQ(count("cont"), 1U);

  set("completed", "postmigrate", true);
  worker_->submit(abort(3));
  std::optional<PhaseResult> lost = sink_.result_of(3);
  ASSERT_TRUE(lost);
  EXPECT_FALSE(lost->ok);
  EXPECT_EQ(lost->integrity, Integrity::kUnknown);
  EXPECT_EQ(count("cont"), 1U);

  // A source still running without a completed migration is not cleaned up.
  set("cancelled", "running");
  PhaseRequest cleanup = request(4, Action::kLiveMigrate, Phase::kCleanup);
  cleanup.runs_on = lifecycle::RunsOn::kSource;
  worker_->submit(cleanup);
  std::optional<PhaseResult> kept = sink_.result_of(4);
  ASSERT_TRUE(kept);
  EXPECT_FALSE(kept->ok);
  EXPECT_TRUE(worker_->running());
}

}  // namespace
}  // namespace corral::driver::qemu
