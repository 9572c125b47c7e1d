// The agent's pieces on their own: convert (wire <-> driver), outbox, lease, metrics.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "agent/convert.h"
#include "agent/lease.h"
#include "agent/metrics.h"
#include "agent/outbox.h"
#include "cluster/test_dir.h"

namespace corral::agent {
namespace {

namespace lc = corral::lifecycle;
using cluster::testing::TempDir;
using namespace std::chrono_literals;

// ---- convert ----------------------------------------------------------------------------

TEST(AgentConvert, PhaseRequestsRoundTrip) {
  driver::PhaseRequest base;
  base.vm = 12;
  base.op = 34;
  base.step = 2;
  base.attempt = 3;
  base.action = lc::Action::kSnapshot;
  base.phase = lc::Phase::kSnapshot;
  base.origin = lc::State::kRunning;
  base.model = {2, 256, "tiny"};
  base.host = "node-1";
  struct Case {
    const char* name;
    std::optional<std::string> param_name;
    std::int64_t size_mib;
    bool delete_files;
    bool ends_vm;
  };
  for (const Case& c : {Case{"plain", std::nullopt, 0, false, false},
                        Case{"named", "before-upgrade", 0, false, false},
                        Case{"disk_resize", std::nullopt, 4096, false, false},
                        Case{"intents", std::nullopt, 0, true, true}}) {
    SCOPED_TRACE(c.name);
    driver::PhaseRequest r = base;
    r.name = c.param_name;
    r.size_mib = c.size_mib;
    r.delete_files = c.delete_files;
    r.ends_vm = c.ends_vm;
    Result<driver::PhaseRequest> back = to_driver(to_wire(r));
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back->vm, r.vm);
    EXPECT_EQ(back->op, r.op);
    EXPECT_EQ(back->step, r.step);
    EXPECT_EQ(back->attempt, r.attempt);
    EXPECT_EQ(back->action, r.action);
    EXPECT_EQ(back->phase, r.phase);
    EXPECT_EQ(back->origin, r.origin);
    EXPECT_EQ(back->model, r.model);
    EXPECT_EQ(back->host, r.host);
    EXPECT_EQ(back->name, r.name);
    EXPECT_EQ(back->size_mib, r.size_mib);
    EXPECT_EQ(back->delete_files, r.delete_files);
    EXPECT_EQ(back->ends_vm, r.ends_vm);
  }
}

// The table's per-phase side and per-row power travel as intents (a controller and an agent
// of other versions agree on where a phase runs and what power it leaves).
TEST(AgentConvert, RunsOnPeerAndPowerAfterRoundTrip) {
  driver::PhaseRequest r;
  r.action = lc::Action::kMigrate;
  r.phase = lc::Phase::kSave;
  r.origin = lc::State::kRunning;
  r.host = "node-1";
  r.runs_on = lc::RunsOn::kSource;
  r.peer_host = "node-2";
  r.power_after = lc::Power::kShutdown;
  Result<driver::PhaseRequest> back = to_driver(to_wire(r));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->runs_on, lc::RunsOn::kSource);
  EXPECT_EQ(back->peer_host, "node-2");
  EXPECT_EQ(back->power_after, lc::Power::kShutdown);
  r.runs_on = lc::RunsOn::kTarget;
  r.power_after.reset();  // not named: the driver reports what it sees
  back = to_driver(to_wire(r));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->runs_on, lc::RunsOn::kTarget);
  EXPECT_EQ(back->power_after, std::nullopt);
  v1::PhaseRequest w = to_wire(r);
  w.set_runs_on(static_cast<v1::RunsOn>(9));
  EXPECT_FALSE(to_driver(w)) << "a side this agent does not know is refused";
}

TEST(AgentConvert, BackupParamsGiveTheName) {
  v1::PhaseRequest w;
  w.set_action(v1::ACTION_BACKUP);
  w.set_phase(v1::PHASE_BACKUP);
  w.set_origin(v1::STATE_RUNNING);
  w.mutable_backup()->set_name("nightly");
  Result<driver::PhaseRequest> r = to_driver(w);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->name, "nightly");
}

TEST(AgentConvert, UnknownEnumsAreRefused) {
  v1::PhaseRequest w;
  w.set_action(static_cast<v1::Action>(999));
  Result<driver::PhaseRequest> r = to_driver(w);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("action"), std::string::npos) << r.error().message;
  w.set_action(v1::ACTION_REBOOT);
  w.set_phase(static_cast<v1::Phase>(500));
  EXPECT_FALSE(to_driver(w));
}

TEST(AgentConvert, PhaseResultsRoundTrip) {
  for (const bool ok : {true, false}) {
    driver::PhaseResult r{7,
                          8,
                          1,
                          2,
                          ok,
                          ok ? "" : "disk full",
                          lc::Power::kPaused,
                          true,
                          ok ? lc::Integrity::kUnknown : lc::Integrity::kIntact};
    Result<driver::PhaseResult> back = to_driver(to_wire(r));
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back->vm, 7);
    EXPECT_EQ(back->op, 8);
    EXPECT_EQ(back->step, 1);
    EXPECT_EQ(back->attempt, 2U);
    EXPECT_EQ(back->ok, ok);
    EXPECT_EQ(back->error, r.error);
    EXPECT_EQ(back->power, lc::Power::kPaused);
    EXPECT_TRUE(back->power_known);
    EXPECT_EQ(back->integrity, r.integrity);
  }
}

driver::PhaseProgress sample_progress() {
  driver::PhaseProgress p;
  p.vm = 7;
  p.op = 8;
  p.step = 2;
  p.attempt = 3;
  p.memory_total = 1ULL << 40;  // 1 TiB: past 32 bits
  p.memory_processed = 3;
  p.memory_remaining = 4;
  p.disk_total = 5;
  p.disk_processed = 6;
  p.disk_remaining = 7;
  p.expected_downtime_ms = 300;
  p.downtime_ms = 45;
  return p;
}

TEST(AgentConvert, PhaseProgressRoundTrips) {
  const driver::PhaseProgress p = sample_progress();
  Result<driver::PhaseProgress> back = to_driver(to_wire(p));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, p);
  v1::PhaseProgress odd = to_wire(p);
  odd.set_step(256);
  EXPECT_FALSE(to_driver(odd)) << "a step past 255 is refused";
}

TEST(AgentConvert, PowerEventsRoundTripWithTheirObservation) {
  struct Case {
    driver::PowerEventKind kind;
    lc::Power power;
    v1::Observation observation;
  };
  for (const Case& c : {
           Case{driver::PowerEventKind::kPowerChanged, lc::Power::kRunning,
                v1::OBSERVATION_RUNNING},
           Case{driver::PowerEventKind::kPowerChanged, lc::Power::kPaused, v1::OBSERVATION_PAUSED},
           Case{driver::PowerEventKind::kPowerChanged, lc::Power::kCrashed,
                v1::OBSERVATION_UNSPECIFIED},
           Case{driver::PowerEventKind::kGuestPoweroff, lc::Power::kShutdown,
                v1::OBSERVATION_GUEST_POWEROFF},
           Case{driver::PowerEventKind::kVanished, lc::Power::kNoState, v1::OBSERVATION_VANISHED},
           Case{driver::PowerEventKind::kUnresponsive, lc::Power::kNoState,
                v1::OBSERVATION_UNRESPONSIVE},
           Case{driver::PowerEventKind::kGuestReady, lc::Power::kRunning,
                v1::OBSERVATION_GUEST_READY},
       }) {
    SCOPED_TRACE(static_cast<int>(c.kind));
    const driver::PowerEvent e{5, c.kind, c.power, "because"};
    const v1::PowerEvent w = to_wire(e);
    EXPECT_EQ(w.observation(), c.observation);
    Result<driver::PowerEvent> back = to_driver(w);
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back->vm, 5);
    EXPECT_EQ(back->kind, c.kind);
    EXPECT_EQ(back->power, c.power);
    EXPECT_EQ(back->cause, "because");
  }
}

// ---- outbox -----------------------------------------------------------------------------

v1::AgentMessage result_msg(std::int64_t op) {
  v1::AgentMessage m;
  m.mutable_phase_result()->set_op(op);
  return m;
}

v1::AgentMessage event_msg(std::int64_t vm) {
  v1::AgentMessage m;
  m.mutable_power_event()->set_vm(vm);
  return m;
}

TEST(AgentOutbox, KeepsOrderAcrossAFailedSend) {
  Outbox box;
  for (int op = 1; op <= 4; ++op) box.push(result_msg(op));
  std::vector<v1::AgentMessage> taken = box.take_all();
  ASSERT_EQ(taken.size(), 4U);
  EXPECT_EQ(box.size(), 0U);
  box.push(result_msg(5));  // arrives while the first two were being written
  // Writing the third failed: it and the fourth go back in front of the fifth.
  box.put_back_front({taken[2], taken[3]});
  std::vector<v1::AgentMessage> again = box.take_all();
  ASSERT_EQ(again.size(), 3U);
  EXPECT_EQ(again[0].phase_result().op(), 3);
  EXPECT_EQ(again[1].phase_result().op(), 4);
  EXPECT_EQ(again[2].phase_result().op(), 5);
}

TEST(AgentOutbox, WhenFullDropsOldestEventsBeforeResults) {
  Outbox box(3);
  box.push(result_msg(1));
  box.push(event_msg(10));
  box.push(result_msg(2));
  box.push(event_msg(11));  // over: event 10 goes
  box.push(result_msg(3));  // over: event 11 goes
  box.push(result_msg(4));  // over: no event left, result 1 goes
  EXPECT_EQ(box.dropped(), 3U);
  std::vector<v1::AgentMessage> left = box.take_all();
  ASSERT_EQ(left.size(), 3U);
  EXPECT_EQ(left[0].phase_result().op(), 2);
  EXPECT_EQ(left[1].phase_result().op(), 3);
  EXPECT_EQ(left[2].phase_result().op(), 4);
}

v1::AgentMessage progress_msg(std::int64_t vm, std::uint32_t step, std::uint64_t sent) {
  v1::AgentMessage m;
  v1::PhaseProgress* p = m.mutable_phase_progress();
  p->set_vm(vm);
  p->set_op(1);
  p->set_step(step);
  p->set_memory_processed(sent);
  return m;
}

// Progress is advisory: a newer report of the same phase takes the queued one's place (one
// per phase waits while the stream is down), one of another phase or VM is kept.
TEST(AgentOutbox, KeepsTheNewestProgressOfAPhaseInItsPlace) {
  Outbox box;
  box.push_progress(progress_msg(1, 2, 10));
  box.push(result_msg(5));
  box.push_progress(progress_msg(1, 2, 20));  // replaces the first, before result 5
  box.push_progress(progress_msg(2, 2, 30));  // another VM
  box.push_progress(progress_msg(1, 3, 40));  // another phase of VM 1
  std::vector<v1::AgentMessage> left = box.take_all();
  ASSERT_EQ(left.size(), 4U);
  EXPECT_EQ(left[0].phase_progress().memory_processed(), 20U);
  EXPECT_EQ(left[1].phase_result().op(), 5);
  EXPECT_EQ(left[2].phase_progress().memory_processed(), 30U);
  EXPECT_EQ(left[3].phase_progress().memory_processed(), 40U);
  EXPECT_EQ(box.dropped(), 0U);
}

TEST(AgentOutbox, WhenFullDropsProgressFirst) {
  Outbox box(2);
  box.push(event_msg(10));
  box.push_progress(progress_msg(1, 2, 10));
  box.push(result_msg(1));  // over: the progress goes, not the event
  EXPECT_EQ(box.dropped(), 1U);
  std::vector<v1::AgentMessage> left = box.take_all();
  ASSERT_EQ(left.size(), 2U);
  EXPECT_TRUE(left[0].has_power_event());
  EXPECT_TRUE(left[1].has_phase_result());
}

// ---- lease ------------------------------------------------------------------------------

TEST(AgentLease, ExpiresAfterLeaseMsWithoutWordOncePerExpiry) {
  FakeClock clock;
  Lease lease(clock);
  EXPECT_FALSE(lease.fence_due()) << "never welcomed: nothing to fence";
  lease.welcome(1000);
  clock.advance(999);
  EXPECT_FALSE(lease.fence_due());
  EXPECT_EQ(lease.remaining_ms(), 1);
  clock.advance(1);
  EXPECT_TRUE(lease.expired());
  EXPECT_TRUE(lease.fence_due());
  EXPECT_FALSE(lease.fence_due()) << "once per expiry";
  lease.heard();
  EXPECT_FALSE(lease.expired());
  clock.advance(600);
  lease.heard();
  clock.advance(600);
  EXPECT_FALSE(lease.fence_due()) << "heard 600 ms ago";
  clock.advance(400);
  EXPECT_TRUE(lease.fence_due());
}

TEST(AgentLease, BootClockMovesForward) {
  BootClock clock;
  const Millis a = clock.now_ms();
  std::this_thread::sleep_for(20ms);
  EXPECT_GE(clock.now_ms() - a, 20);
}

TEST(AgentLease, ZeroNeverExpires) {
  FakeClock clock;
  Lease lease(clock);
  lease.welcome(0);
  clock.advance(1'000'000'000);
  EXPECT_FALSE(lease.expired());
  EXPECT_FALSE(lease.fence_due());
}

// ---- metrics ----------------------------------------------------------------------------

TEST(AgentMetrics, ReadsMemoryLoadAndIdleFromProc) {
  TempDir proc;
  auto write = [&](const char* name, const std::string& text) {
    std::ofstream(proc.path() / name) << text;
  };
  write("meminfo", "MemTotal:        8388608 kB\nMemFree:         1024 kB\n");
  write("loadavg", "1.25 0.50 0.10 2/300 4242\n");
  write("stat", "cpu  100 0 100 600 200 0 0 0 0 0\ncpu0 1 2 3 4\n");
  const v1::Capacity c = read_capacity(proc.path().string());
  EXPECT_EQ(c.memory_mib(), 8192);
  EXPECT_GT(c.vcpus(), 0);
  EXPECT_EQ(read_load1(proc.path().string()), 1.25);
  EXPECT_FALSE(read_load1((proc.path() / "none").string()));
  CpuIdle idle(proc.path().string());
  EXPECT_DOUBLE_EQ(idle.free_percent(), 80.0);  // (600 + 200) of 1000 since boot
  write("stat", "cpu  150 0 150 600 200 0 0 0 0 0\n");
  EXPECT_DOUBLE_EQ(idle.free_percent(), 0.0);  // all 100 new ticks busy
}

}  // namespace
}  // namespace corral::agent
