// Wire <-> engine/driver conversions: every direction round-trips, and a newer peer's
// unknown numbers are refused (or read as "not known") as convert.h says.
#include "controller/convert.h"

#include <gtest/gtest.h>

#include <vector>

#include "wire/protocol.h"

namespace corral::controller {
namespace {

namespace lc = ::corral::lifecycle;

driver::PhaseRequest request(lc::Action action, lc::Phase phase) {
  driver::PhaseRequest r;
  r.vm = 42;
  r.op = 7;
  r.step = 3;
  r.attempt = 2;
  r.action = action;
  r.phase = phase;
  r.origin = lc::State::kRunning;
  r.model = store::VmModel{2, 512, "tiny"};
  r.host = "node-1";
  return r;
}

bool same(const driver::PhaseRequest& a, const driver::PhaseRequest& b) {
  return a.vm == b.vm && a.op == b.op && a.step == b.step && a.attempt == b.attempt &&
         a.action == b.action && a.phase == b.phase && a.origin == b.origin && a.model == b.model &&
         a.host == b.host && a.name == b.name && a.size_mib == b.size_mib &&
         a.delete_files == b.delete_files && a.ends_vm == b.ends_vm && a.runs_on == b.runs_on &&
         a.peer_host == b.peer_host && a.power_after == b.power_after && a.nics == b.nics &&
         a.volumes == b.volumes && a.ssh_keys == b.ssh_keys;
}

TEST(Convert, PhaseRequestsRoundTrip) {
  std::vector<driver::PhaseRequest> cases;
  cases.push_back(request(lc::Action::kCreate, lc::Phase::kBoot));
  driver::PhaseRequest snapshot = request(lc::Action::kSnapshot, lc::Phase::kSnapshot);
  snapshot.name = "before-upgrade";
  cases.push_back(snapshot);
  driver::PhaseRequest backup = request(lc::Action::kBackup, lc::Phase::kBackup);
  backup.name = "nightly";
  cases.push_back(backup);
  driver::PhaseRequest resize = request(lc::Action::kDiskResize, lc::Phase::kHotplug);
  resize.size_mib = 20480;
  cases.push_back(resize);
  driver::PhaseRequest terminate = request(lc::Action::kTerminate, lc::Phase::kCleanup);
  terminate.delete_files = true;
  terminate.ends_vm = true;
  terminate.power_after = lc::Power::kShutdown;
  cases.push_back(terminate);
  driver::PhaseRequest save = request(lc::Action::kMigrate, lc::Phase::kSave);
  save.runs_on = lc::RunsOn::kSource;
  save.peer_host = "node-2";
  save.power_after = lc::Power::kShutdown;
  cases.push_back(save);
  driver::PhaseRequest restore = request(lc::Action::kMigrate, lc::Phase::kRestore);
  restore.runs_on = lc::RunsOn::kTarget;
  restore.peer_host = "node-1";
  restore.power_after = lc::Power::kRunning;
  cases.push_back(restore);
  driver::PhaseRequest hotplug = request(lc::Action::kNicAttach, lc::Phase::kHotplug);
  hotplug.nics = {{0, 1, "02:00:0a:4d:00:02", "10.77.0.2"},
                  {3, 2, "02:00:0a:4e:00:09", "10.78.0.9"}};
  hotplug.volumes = {{7, "/data/volumes/7.raw", "raw", 15}};
  hotplug.ssh_keys = {"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK me@there"};
  cases.push_back(hotplug);

  for (const driver::PhaseRequest& original : cases) {
    const v1::PhaseRequest on_wire = phase_request_to_wire(original, 9);
    EXPECT_EQ(on_wire.epoch(), 9U);
    Result<driver::PhaseRequest> back = phase_request_from_wire(on_wire);
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_TRUE(same(original, *back)) << on_wire.DebugString();
  }
  EXPECT_EQ(phase_request_to_wire(backup, 1).params_case(), v1::PhaseRequest::kBackup);
  EXPECT_EQ(phase_request_to_wire(snapshot, 1).params_case(), v1::PhaseRequest::kNamed);
  EXPECT_EQ(phase_request_to_wire(resize, 1).params_case(), v1::PhaseRequest::kDiskResize);
}

// A device the driver could not place never reaches it.
TEST(Convert, DevicesOutsideTheirSlotsAreRefused) {
  driver::PhaseRequest r = request(lc::Action::kDiskAttach, lc::Phase::kHotplug);
  r.volumes = {{7, "/v/7.raw", "raw", 16}};
  EXPECT_FALSE(phase_request_from_wire(phase_request_to_wire(r, 1)));
  r.volumes = {{7, "/v/7.raw", "vmdk", 1}};
  EXPECT_FALSE(phase_request_from_wire(phase_request_to_wire(r, 1)));
  r.volumes.clear();
  r.nics = {{8, 1, "02:00:0a:4d:00:02", "10.77.0.2"}};
  EXPECT_FALSE(phase_request_from_wire(phase_request_to_wire(r, 1)));
}

TEST(Convert, APhaseRequestWithNumbersThisBuildDoesNotKnowIsRefused) {
  v1::PhaseRequest ok = phase_request_to_wire(request(lc::Action::kPause, lc::Phase::kPause), 1);
  struct Case {
    const char* what;
    void (*spoil)(v1::PhaseRequest&);
  };
  const std::vector<Case> cases = {
      {"action", [](v1::PhaseRequest& r) { r.set_action(static_cast<v1::Action>(999)); }},
      {"phase", [](v1::PhaseRequest& r) { r.set_phase(static_cast<v1::Phase>(999)); }},
      {"state", [](v1::PhaseRequest& r) { r.set_origin(static_cast<v1::State>(999)); }},
      {"step", [](v1::PhaseRequest& r) { r.set_step(256); }},
      {"runs_on", [](v1::PhaseRequest& r) { r.set_runs_on(static_cast<v1::RunsOn>(9)); }},
      {"power", [](v1::PhaseRequest& r) { r.set_power_after(static_cast<v1::Power>(2)); }},
  };
  for (const Case& c : cases) {
    v1::PhaseRequest spoiled = ok;
    c.spoil(spoiled);
    Result<driver::PhaseRequest> back = phase_request_from_wire(spoiled);
    ASSERT_FALSE(back) << c.what;
    EXPECT_NE(back.error().message.find(c.what), std::string::npos) << back.error().message;
  }
}

TEST(Convert, PhaseResultsRoundTrip) {
  driver::PhaseResult ok{42, 7, 3, 2, true, "", lc::Power::kPaused, true, lc::Integrity::kUnknown};
  driver::PhaseResult failed{
      42, 7, 1, 1, false, "qemu died", lc::Power::kNoState, false, lc::Integrity::kIntact};
  for (const driver::PhaseResult& original : {ok, failed}) {
    Result<driver::PhaseResult> back = phase_result_from_wire(phase_result_to_wire(original));
    ASSERT_TRUE(back);
    EXPECT_EQ(back->vm, original.vm);
    EXPECT_EQ(back->op, original.op);
    EXPECT_EQ(back->step, original.step);
    EXPECT_EQ(back->attempt, original.attempt);
    EXPECT_EQ(back->ok, original.ok);
    EXPECT_EQ(back->error, original.error);
    EXPECT_EQ(back->power, original.power);
    EXPECT_EQ(back->power_known, original.power_known);
    EXPECT_EQ(back->integrity, original.integrity);
  }
  // A power this build does not know is "not known", not a wrong power.
  v1::PhaseResult odd = phase_result_to_wire(ok);
  odd.set_power(static_cast<v1::Power>(99));
  Result<driver::PhaseResult> back = phase_result_from_wire(odd);
  ASSERT_TRUE(back);
  EXPECT_FALSE(back->power_known);
}

TEST(Convert, PhaseProgressRoundTrips) {
  driver::PhaseProgress p;
  p.vm = 42;
  p.op = 7;
  p.step = 3;
  p.attempt = 2;
  p.memory_total = 1ULL << 40;  // past 32 bits
  p.memory_processed = 1ULL << 39;
  p.memory_remaining = 1ULL << 39;
  p.disk_total = 10;
  p.disk_processed = 4;
  p.disk_remaining = 6;
  p.expected_downtime_ms = 300;
  p.downtime_ms = 45;
  Result<driver::PhaseProgress> back = phase_progress_from_wire(phase_progress_to_wire(p));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, p);
  v1::PhaseProgress odd = phase_progress_to_wire(p);
  odd.set_step(300);
  EXPECT_FALSE(phase_progress_from_wire(odd)) << "a step past 255 is refused";
}

TEST(Convert, PowerEventsRoundTripEveryKind) {
  const std::vector<std::pair<driver::PowerEventKind, lc::Power>> kinds = {
      {driver::PowerEventKind::kPowerChanged, lc::Power::kPaused},
      {driver::PowerEventKind::kGuestPoweroff, lc::Power::kShutdown},
      {driver::PowerEventKind::kVanished, lc::Power::kNoState},
      {driver::PowerEventKind::kUnresponsive, lc::Power::kNoState},
      {driver::PowerEventKind::kGuestReady, lc::Power::kRunning},
  };
  for (const auto& [kind, power] : kinds) {
    const driver::PowerEvent original{5, kind, power, "seen by the monitor"};
    const driver::PowerEvent back = power_event_from_wire(power_event_to_wire(original));
    EXPECT_EQ(back.vm, 5);
    EXPECT_EQ(back.kind, kind);
    EXPECT_EQ(back.power, power);
    EXPECT_EQ(back.cause, original.cause);
  }
}

TEST(Convert, HelloAndWelcomeRoundTrip) {
  engine::AgentHello hello;
  hello.host = "node-1";
  hello.agent_version = "0.1.0";
  hello.driver = "qemu";
  hello.capacity = store::HostResources{16, 65536};
  hello.labels = {{"zone", "a"}, {"rack", "r2"}};
  hello.vms = {{3, lc::Power::kRunning}, {4, lc::Power::kSuspended}};
  hello.last_epoch = 11;
  const v1::Hello wire_hello = hello_to_wire(hello);
  EXPECT_EQ(wire_hello.protocol_version(), wire::kProtocolVersion);
  const engine::AgentHello back = hello_from_wire(wire_hello);
  EXPECT_EQ(back.host, hello.host);
  EXPECT_EQ(back.agent_version, hello.agent_version);
  EXPECT_EQ(back.driver, hello.driver);
  EXPECT_EQ(back.capacity, hello.capacity);
  EXPECT_EQ(back.labels, hello.labels);
  ASSERT_EQ(back.vms.size(), 2U);
  EXPECT_EQ(back.vms[1].vm, 4);
  EXPECT_EQ(back.vms[1].power, lc::Power::kSuspended);
  EXPECT_EQ(back.last_epoch, 11U);

  engine::AgentWelcome welcome;
  welcome.epoch = 12;
  welcome.heartbeat_interval_ms = 2000;
  welcome.lease_ms = 6000;
  welcome.vms = {{3, lc::State::kRunning, lc::Power::kRunning, {1, 128, "tiny"}, true},
                 {4, lc::State::kSuspended, lc::Power::kSuspended, {2, 256, "disk"}, false}};
  const v1::Welcome wire_welcome = welcome_to_wire(welcome);
  EXPECT_EQ(wire_welcome.protocol_version(), wire::kProtocolVersion);
  Result<engine::AgentWelcome> welcome_back = welcome_from_wire(wire_welcome);
  ASSERT_TRUE(welcome_back);
  EXPECT_EQ(welcome_back->epoch, 12U);
  EXPECT_EQ(welcome_back->heartbeat_interval_ms, 2000);
  EXPECT_EQ(welcome_back->lease_ms, 6000);
  ASSERT_EQ(welcome_back->vms.size(), 2U);
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(welcome_back->vms[i].vm, welcome.vms[i].vm);
    EXPECT_EQ(welcome_back->vms[i].state, welcome.vms[i].state);
    EXPECT_EQ(welcome_back->vms[i].power, welcome.vms[i].power);
    EXPECT_EQ(welcome_back->vms[i].model, welcome.vms[i].model);
    EXPECT_EQ(welcome_back->vms[i].may_fence, welcome.vms[i].may_fence);
  }
}

TEST(Convert, MetricsRoundTrip) {
  const engine::HostMetrics m{6, 3072, 4, 37.5, 1.25};
  const engine::HostMetrics back = metrics_from_wire(metrics_to_wire(m));
  EXPECT_EQ(back.used_vcpus, 6);
  EXPECT_EQ(back.used_memory_mib, 3072);
  EXPECT_EQ(back.running_vms, 4);
  EXPECT_DOUBLE_EQ(back.free_cpu_percent, 37.5);
  EXPECT_DOUBLE_EQ(back.load1, 1.25);
}

}  // namespace
}  // namespace corral::controller
