// The audit outbox (EngineOptions::audit_sink): an accepted request's audit record commits in
// the batch of its change and reaches the sink, in id order, before the request is answered;
// a refused one's never does; entries the audit log holds (audit_copied) are deleted with a
// later batch; ids go on from the store's highest after a restart.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "engine/auto_driver_testing.h"
#include "engine/engine.h"
#include "engine/memory_store_testing.h"

namespace corral::engine {
namespace {

namespace lc = corral::lifecycle;
using lc::Action;
using lc::State;
using namespace std::chrono_literals;

class AuditOutboxTest : public ::testing::Test {
 protected:
  void SetUp() override { start(); }
  void TearDown() override { engine_->stop(); }
  void start() {
    EngineOptions options;
    options.audit_sink = [this](std::vector<store::AuditOutboxRow> rows) {
      std::lock_guard lock(mu_);
      for (store::AuditOutboxRow& row : rows) sunk_.push_back(std::move(row));
    };
    options.audit_copied = [this] { return copied_.load(); };
    engine_ = std::make_unique<Engine>(store_, driver_, clock_, options);
    ASSERT_TRUE(engine_->start());
  }
  std::vector<store::AuditOutboxRow> sunk() {
    std::lock_guard lock(mu_);
    return sunk_;
  }
  void settle(store::VmId id, State s) {
    for (int i = 0; i < 500; ++i) {
      const std::optional<store::Vm> vm = engine_->get(id);
      if (vm && vm->record.state == s && !vm->record.busy()) return;
      std::this_thread::sleep_for(5ms);
    }
    FAIL() << "VM " << id << " did not settle in " << lc::state_name(s);
  }
  Result<Accepted> create(std::string record) {
    CreateRequest request{"vm", {1, 512, "tiny"}, false, "test", "req"};
    request.audit_record = std::move(record);
    return engine_->create(std::move(request));
  }
  Result<Accepted> act(store::VmId id, Action action, std::string record) {
    ActionRequest request;
    request.vm = id;
    request.action = action;
    request.audit_record = std::move(record);
    return engine_->act(std::move(request));
  }
  std::vector<std::int64_t> stored_ids() {
    const Result<std::vector<store::AuditOutboxRow>> rows = store_.audit_outbox(0);
    std::vector<std::int64_t> ids;
    for (const store::AuditOutboxRow& row : *rows) ids.push_back(row.id);
    return ids;
  }

  testing::MemoryStore store_;
  testing::AutoDriver driver_;
  FakeClock clock_;
  std::unique_ptr<Engine> engine_;
  std::mutex mu_;
  std::vector<store::AuditOutboxRow> sunk_;
  std::atomic<std::int64_t> copied_{0};
};

TEST_F(AuditOutboxTest, AcceptedRecordsCommitWithTheChangeAndReachTheSinkBeforeTheReply) {
  Result<Accepted> made = create("made");
  ASSERT_TRUE(made);
  EXPECT_TRUE(made->audited);
  // Sunk before the reply: no waiting needed here.
  ASSERT_EQ(sunk().size(), 1U);
  EXPECT_EQ(sunk()[0], (store::AuditOutboxRow{1, made->vm.id, "made", clock_.now_ms()}));
  EXPECT_EQ(stored_ids(), (std::vector<std::int64_t>{1}));
  settle(made->vm.id, State::kRunning);

  Result<Accepted> refused = act(made->vm.id, Action::kResume, "refused");
  ASSERT_FALSE(refused);
  Result<Accepted> unrecorded = create("");
  ASSERT_TRUE(unrecorded);
  EXPECT_FALSE(unrecorded->audited);
  Result<Accepted> stopped = act(made->vm.id, Action::kShutdown, "stopped");
  ASSERT_TRUE(stopped);
  EXPECT_TRUE(stopped->audited);
  ASSERT_EQ(sunk().size(), 2U) << "neither a refusal nor a request without a record";
  EXPECT_EQ(sunk()[1], (store::AuditOutboxRow{2, made->vm.id, "stopped", clock_.now_ms()}));
  EXPECT_EQ(stored_ids(), (std::vector<std::int64_t>{1, 2}));
}

TEST_F(AuditOutboxTest, CopiedEntriesGoWithALaterBatchAndIdsGoOnAfterARestart) {
  Result<Accepted> first = create("one");
  ASSERT_TRUE(first);
  Result<Accepted> second = create("two");
  ASSERT_TRUE(second);
  copied_ = 1;                               // the audit log holds entry 1
  Result<Accepted> third = create("three");  // a batch that commits anyway
  ASSERT_TRUE(third);
  EXPECT_EQ(stored_ids(), (std::vector<std::int64_t>{2, 3}));

  engine_->stop();
  start();
  Result<Accepted> fourth = create("four");
  ASSERT_TRUE(fourth);
  ASSERT_FALSE(sunk().empty());
  EXPECT_EQ(sunk().back().id, 4) << "ids are not reused after a restart";
}

}  // namespace
}  // namespace corral::engine
