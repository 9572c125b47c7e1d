// A running migration's progress on its record (records.h): the sim driver's reports seen
// while the migrate phase runs and the downtime at the end; the throttle on the fake clock
// (one write per second per record, the held values landing when the phase ends); stale
// reports dropped.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "engine/hosts_testing.h"
#include "engine/records.h"

namespace corral::engine {
namespace {

namespace lc = corral::lifecycle;
using lc::Action;
using lc::Phase;
using lc::State;
using MS = store::MigrationStatus;
using testing::HostsTest;

constexpr std::int64_t kMiB = 1 << 20;

class RecordsProgressTest : public HostsTest {
 protected:
  // Two sim hosts; the migrate phase takes `migrate` (real time), the others none.
  void start_slow(std::chrono::milliseconds migrate) {
    driver::sim::SimOptions sim;
    sim.host_count = 2;
    sim.default_latency = std::chrono::milliseconds(0);
    sim.phase_latency = {{Phase::kMigrate, migrate}};
    sim_options_ = sim;
    driver_ = std::make_unique<driver::sim::SimDriver>(sim);
    engine_ = std::make_unique<Engine>(*store_, *driver_, clock_, options_);
    ASSERT_TRUE(engine_->start());
  }
  store::VmId running_vm(int memory_mib) {
    const store::VmId id = create(1, memory_mib);
    EXPECT_TRUE(eventually([&] { return is(id, State::kRunning); }));
    return id;
  }
  Result<Accepted> live_migrate(store::VmId id) {
    ActionRequest request;
    request.vm = id;
    request.action = Action::kLiveMigrate;
    return engine_->act(std::move(request));
  }
  std::optional<store::MigrationRow> record(store::VmId id) {
    Result<std::vector<store::MigrationRow>> rows = engine_->migrations(id);
    if (!rows || rows->empty()) return std::nullopt;
    return rows->back();
  }
  bool in_migrate(store::VmId id) {
    const std::optional<store::Vm> vm = engine_->get(id);
    return vm && vm->record.busy() && lc::current_phase(*vm->record.op) == Phase::kMigrate;
  }
  // A report echoing the VM's running phase, `sent_mib` of `total_mib` sent.
  driver::PhaseProgress report(store::VmId id, std::int64_t sent_mib, std::int64_t total_mib,
                               std::int64_t downtime_ms = 0) {
    const std::optional<store::Vm> vm = engine_->get(id);
    driver::PhaseProgress p;
    p.vm = id;
    p.op = vm->op.id;
    p.step = vm->record.op->step;
    p.attempt = vm->op.attempt;
    p.memory_total = static_cast<std::uint64_t>(total_mib * kMiB);
    p.memory_processed = static_cast<std::uint64_t>(sent_mib * kMiB);
    p.memory_remaining = static_cast<std::uint64_t>((total_mib - sent_mib) * kMiB);
    p.expected_downtime_ms = 30;
    p.downtime_ms = downtime_ms;
    return p;
  }
  bool processed_is(store::VmId id, std::int64_t mib) {
    const std::optional<store::MigrationRow> r = record(id);
    return r && r->memory_processed_bytes == mib * kMiB;
  }
};

// The sim's migrate reports progress over its latency: the record shows it while the phase
// runs (status running), and once the move completed, all memory sent and the downtime.
TEST_F(RecordsProgressTest, ALiveMigrationShowsProgressThenItsDowntime) {
  start_slow(std::chrono::milliseconds(800));
  const store::VmId id = running_vm(256);
  const std::string source = host_of(id);
  ASSERT_TRUE(live_migrate(id));
  ASSERT_TRUE(eventually([&] {
    const std::optional<store::MigrationRow> r = record(id);
    return r && r->memory_processed_bytes > 0 && in_migrate(id);
  }));
  const store::MigrationRow during = *record(id);
  EXPECT_EQ(during.status, MS::kRunning) << store::migration_status_name(during.status);
  EXPECT_EQ(during.memory_total_bytes, 256 * kMiB);
  EXPECT_LT(during.memory_processed_bytes, during.memory_total_bytes);
  EXPECT_EQ(during.memory_processed_bytes + during.memory_remaining_bytes,
            during.memory_total_bytes);
  EXPECT_EQ(during.downtime_ms, 0) << "not known before the switch-over";

  ASSERT_TRUE(eventually([&] { return is(id, State::kRunning) && host_of(id) != source; }));
  const store::MigrationRow done = *record(id);
  EXPECT_EQ(done.status, MS::kCompleted);
  EXPECT_EQ(done.memory_total_bytes, 256 * kMiB);
  EXPECT_EQ(done.memory_processed_bytes, 256 * kMiB);
  EXPECT_EQ(done.memory_remaining_bytes, 0);
  EXPECT_EQ(done.disk_total_bytes, 0) << "the sim's disks are shared";
  EXPECT_EQ(done.downtime_ms, 24) << "20 ms + 1 ms per 64 MiB";

  // A restart reads the progress back as it was committed.
  restart();
  EXPECT_EQ(record(id)->downtime_ms, 24);
}

// On the fake clock: the first report is written at once, the next ones within a second are
// held (the record keeps the first), one a second later is written, and the held one lands
// with the phase's end. Stale reports (another attempt) change nothing.
TEST_F(RecordsProgressTest, ProgressIsWrittenAtMostOnceASecondAndTheLastLands) {
  start({}, 2);
  const store::VmId id = running_vm(1024);
  // The test plays the driver for the migrate phase: the sim never answers it.
  driver::sim::Fault hang;
  hang.kind = driver::sim::FaultKind::kHang;
  hang.phase = Phase::kMigrate;
  driver_->add_fault(hang);
  ASSERT_TRUE(live_migrate(id));
  ASSERT_TRUE(eventually([&] { return in_migrate(id); }));

  engine_->phase_progress(report(id, 100, 1024));
  ASSERT_TRUE(eventually([&] { return processed_is(id, 100); }));
  const Millis first_write = record(id)->updated_at;

  engine_->phase_progress(report(id, 200, 1024));
  engine_->phase_progress(report(id, 300, 1024));
  driver::PhaseProgress stale = report(id, 999, 1024);
  stale.attempt += 1;
  engine_->phase_progress(stale);
  EXPECT_TRUE(stays([&] { return processed_is(id, 100); })) << "held: less than a second";

  clock_.advance(internal::kProgressInterval);
  engine_->phase_progress(report(id, 400, 1024));
  ASSERT_TRUE(eventually([&] { return processed_is(id, 400); }));
  EXPECT_EQ(record(id)->updated_at, first_write + internal::kProgressInterval);

  // Held, then the phase ends: the last values and the downtime land with that step.
  engine_->phase_progress(report(id, 1024, 1024, 42));
  EXPECT_TRUE(stays([&] { return processed_is(id, 400); }));
  const std::optional<store::Vm> vm = engine_->get(id);
  driver::PhaseResult ok;
  ok.vm = id;
  ok.op = vm->op.id;
  ok.step = vm->record.op->step;
  ok.attempt = vm->op.attempt;
  engine_->phase_done(ok);
  ASSERT_TRUE(eventually([&] { return is(id, State::kRunning) && !in_migrate(id); }));
  const store::MigrationRow done = *record(id);
  EXPECT_EQ(done.status, MS::kCompleted) << store::migration_status_name(done.status);
  EXPECT_EQ(done.memory_processed_bytes, 1024 * kMiB);
  EXPECT_EQ(done.memory_remaining_bytes, 0);
  EXPECT_EQ(done.downtime_ms, 42);

  // A report after the phase ended (its step is over) changes nothing.
  driver::PhaseProgress late;
  late.vm = id;
  late.op = done.op_id;
  late.step = ok.step;
  late.attempt = ok.attempt;
  late.memory_total = late.memory_processed = 1;
  engine_->phase_progress(late);
  EXPECT_TRUE(stays([&] { return record(id)->downtime_ms == 42 && processed_is(id, 1024); }));
}

}  // namespace
}  // namespace corral::engine
