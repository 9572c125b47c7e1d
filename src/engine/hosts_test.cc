// The engine's hosts: registration, operator actions through the host table, placement
// across hosts. Fake clock, sim driver (its hosts are local; other hosts are played by
// calling agent_connected/heartbeat). Silent hosts and failure policies: hosts_failure_test.cc.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "engine/hosts_testing.h"

namespace corral::engine {
namespace {

namespace lc = corral::lifecycle;
using lc::HostEvent;
using lc::HostState;
using lc::State;
using testing::HostsTest;

TEST_F(HostsTest, LocalHostsAreRegisteredUpAndStored) {
  start({}, 2, 4, 4096);
  const std::vector<HostDetail> hosts = engine_->host_details();
  ASSERT_EQ(hosts.size(), 2u);
  for (const HostDetail& h : hosts) {
    EXPECT_TRUE(h.local);
    EXPECT_TRUE(h.up);
    EXPECT_TRUE(h.connected);
    EXPECT_EQ(h.row.state, HostState::kMonitored);
    EXPECT_EQ(h.row.capacity.vcpus, 4);
    EXPECT_EQ(h.row.cpu_allocation_ratio, 1.0) << "this machine is not overcommitted";
  }
  ASSERT_TRUE(eventually([&] { return store_->load_hosts()->size() == 2; }));
  // Kept across a restart, with the same ids.
  const store::HostId first = hosts[0].row.id;
  restart();
  EXPECT_EQ(engine_->host_details().size(), 2u);
  EXPECT_EQ(engine_->host(hosts[0].row.name)->row.id, first);
}

TEST_F(HostsTest, AddValidatesNamesAndDefaultsTheRatios) {
  start();
  struct Case {
    std::string name;
    ErrorCode error;  // kInternal: accepted
  };
  const Case cases[] = {
      {"node-1", ErrorCode::kInternal},        {"a.b_c", ErrorCode::kInternal},
      {"node-1", ErrorCode::kConflict},        {"", ErrorCode::kInvalidArgument},
      {"Node", ErrorCode::kInvalidArgument},   {"-x", ErrorCode::kInvalidArgument},
      {"a b", ErrorCode::kInvalidArgument},    {std::string(64, 'a'), ErrorCode::kInvalidArgument},
      {"../etc", ErrorCode::kInvalidArgument},
  };
  for (const Case& c : cases) {
    HostSpec spec;
    spec.labels = {{"zone", "a"}};
    Result<HostDetail> added = add(c.name, spec);
    if (c.error == ErrorCode::kInternal) {
      ASSERT_TRUE(added) << c.name << ": " << added.error().message;
      EXPECT_EQ(added->row.state, HostState::kInit);
      EXPECT_EQ(added->row.cpu_allocation_ratio, 4.0);
      EXPECT_EQ(added->row.ram_allocation_ratio, 1.0);
      EXPECT_EQ(added->row.labels.at("zone"), "a");
      EXPECT_FALSE(added->local);
      EXPECT_FALSE(added->up);
    } else {
      ASSERT_FALSE(added) << c.name;
      EXPECT_EQ(added.error().code, c.error) << c.name << ": " << added.error().message;
    }
  }
  HostSpec ratios;
  ratios.cpu_allocation_ratio = 2.0;
  ratios.reserved = {1, 512};
  Result<HostDetail> custom = add("custom", ratios);
  ASSERT_TRUE(custom);
  EXPECT_EQ(custom->row.cpu_allocation_ratio, 2.0);
  EXPECT_EQ(custom->row.reserved, (store::HostResources{1, 512}));
  EXPECT_EQ(engine_->host_details().size(), 3u);
  ASSERT_TRUE(eventually([&] { return store_->load_hosts()->size() == 3; }));
}

TEST_F(HostsTest, ActionsFollowTheHostTableAndRefusalsListTheAllowedOnes) {
  start();
  ASSERT_TRUE(add("h"));
  struct Step {
    HostEvent event;
    ErrorCode error;  // kInternal: accepted
    HostState state;  // after
    bool forced = false;
  };
  const Step steps[] = {
      {HostEvent::kEnable, ErrorCode::kInvalidState, HostState::kInit},
      {HostEvent::kDisable, ErrorCode::kInternal, HostState::kDisabled},
      {HostEvent::kDisable, ErrorCode::kInvalidState, HostState::kDisabled},
      {HostEvent::kEnable, ErrorCode::kInternal, HostState::kInit},
      {HostEvent::kOffline, ErrorCode::kInternal, HostState::kOffline},
      {HostEvent::kFlush, ErrorCode::kInvalidState, HostState::kOffline},
      {HostEvent::kEnable, ErrorCode::kInternal, HostState::kInit},
      {HostEvent::kUnforceDown, ErrorCode::kInvalidState, HostState::kInit},
      {HostEvent::kForceDown, ErrorCode::kInternal, HostState::kError, true},
      {HostEvent::kEnable, ErrorCode::kInvalidState, HostState::kError, true},
      {HostEvent::kUnforceDown, ErrorCode::kInternal, HostState::kInit},
      {HostEvent::kHeartbeat, ErrorCode::kInvalidArgument, HostState::kInit},
      {HostEvent::kFlush, ErrorCode::kInternal, HostState::kDisabled},
  };
  for (const Step& s : steps) {
    const std::string what(lc::host_event_name(s.event));
    Result<HostDetail> done = engine_->host_action({"h", s.event, "maintenance", "op", {}});
    if (s.error == ErrorCode::kInternal) {
      ASSERT_TRUE(done) << what << ": " << done.error().message;
      EXPECT_EQ(done->row.state, s.state) << what;
      EXPECT_EQ(done->row.forced_down, s.forced) << what;
    } else {
      ASSERT_FALSE(done) << what;
      EXPECT_EQ(done.error().code, s.error) << what << ": " << done.error().message;
      if (s.error == ErrorCode::kInvalidState) {
        EXPECT_FALSE(done.error().allowed_actions.empty()) << what;
      }
    }
    EXPECT_EQ(state_of("h"), s.state) << what;
  }
  const HostDetail disabled = *engine_->host("h");
  EXPECT_EQ(disabled.row.disabled_reason, "maintenance");
  EXPECT_FALSE(disabled.row.enabled);
  EXPECT_FALSE(disabled.allowed_actions.empty());
  // Agents of unknown or offline hosts are refused; delete forgets the host.
  EXPECT_EQ(connect("nope").error().code, ErrorCode::kNotFound);
  ASSERT_TRUE(engine_->host_action({"h", HostEvent::kOffline, {}, "op", {}}));
  EXPECT_EQ(connect("h").error().code, ErrorCode::kInvalidState);
  ASSERT_TRUE(engine_->host_action({"h", HostEvent::kDelete, {}, "op", {}}));
  EXPECT_FALSE(engine_->host("h"));
  EXPECT_EQ(engine_->host_action({"h", HostEvent::kEnable, {}, "op", {}}).error().code,
            ErrorCode::kNotFound);
  ASSERT_TRUE(eventually([&] { return store_->load_hosts()->empty(); }));
}

TEST_F(HostsTest, DeleteIsRefusedWhileTheHostHasVms) {
  start();
  ASSERT_TRUE(add("h"));
  ASSERT_TRUE(connect("h"));
  const store::VmId vm = create();
  ASSERT_TRUE(eventually([&] { return is(vm, State::kRunning, "h"); }));
  const HostDetail d = *engine_->host("h");
  EXPECT_EQ(d.vms, std::vector<store::VmId>{vm});
  EXPECT_EQ(d.used_vcpus, 1);
  EXPECT_EQ(d.used_memory_mib, 128);
  EXPECT_EQ(engine_->host_action({"h", HostEvent::kDelete, {}, "op", {}}).error().code,
            ErrorCode::kConflict);
}

TEST_F(HostsTest, HostChangesArePublishedAsEvents) {
  start();
  std::mutex mu;
  std::vector<HostChange> changes;
  engine_->subscribe([&](const std::vector<Event>& events) {
    std::lock_guard lock(mu);
    for (const Event& e : events) {
      if (e.host_change) changes.push_back(*e.host_change);
    }
  });
  ASSERT_TRUE(add("h"));
  ASSERT_TRUE(connect("h"));
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(mu);
    return changes.size() == 2;
  }));
  std::lock_guard lock(mu);
  EXPECT_EQ(changes[1].event, HostEvent::kAgentConnected);
  EXPECT_EQ(changes[1].from, HostState::kInit);
  EXPECT_EQ(changes[1].to, HostState::kMonitored);
}

TEST_F(HostsTest, HostRowsSurviveARestartInSqlite) {
  const std::string dir = ::testing::TempDir() + "/corral-hosts-" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/corral.db";
  std::filesystem::remove(path);
  {
    Result<std::unique_ptr<store::Store>> opened = store::open_sqlite_store(path);
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(*opened);
  }
  start({}, 1);
  HostSpec spec;
  spec.labels = {{"rack", "r1"}};
  spec.reserved = {-2, 1024};
  ASSERT_TRUE(add("a", spec));
  ASSERT_TRUE(connect("a", {}, 16, 65536));
  ASSERT_TRUE(engine_->host_action({"a", HostEvent::kDisable, "disk swap", "op", {}}));
  const HostDetail before = *engine_->host("a");
  stop();
  {
    Result<std::unique_ptr<store::Store>> opened = store::open_sqlite_store(path);
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(*opened);
  }
  restart();
  const std::optional<HostDetail> after = engine_->host("a");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->row.id, before.row.id);
  EXPECT_EQ(after->row.state, HostState::kDisabled);
  EXPECT_EQ(after->row.disabled_reason, "disk swap");
  EXPECT_EQ(after->row.labels, spec.labels);
  EXPECT_EQ(after->row.reserved, spec.reserved);
  EXPECT_EQ(after->row.capacity, (store::HostResources{16, 65536}));
  EXPECT_EQ(after->row.epoch, before.row.epoch);
  EXPECT_TRUE(engine_->host("sim-1")->local);
  // The next connect gets a newer epoch than any before the restart.
  Result<AgentWelcome> welcome = connect("a");
  ASSERT_TRUE(welcome);
  EXPECT_GT(welcome->epoch, static_cast<std::uint64_t>(before.row.epoch));
  stop();
  store_.reset();
  std::filesystem::remove_all(dir);
}

TEST_F(HostsTest, FlushMovesEveryVmAway) {
  EngineOptions packing;
  packing.rank_policy = 0;
  start(packing, 2);
  std::vector<store::VmId> vms;
  for (int i = 0; i < 3; ++i) vms.push_back(create());
  for (store::VmId vm : vms)
    ASSERT_TRUE(eventually([&] { return is(vm, State::kRunning, "sim-1"); }));
  Result<HostDetail> flushed = engine_->host_action({"sim-1", HostEvent::kFlush, {}, "op", {}});
  ASSERT_TRUE(flushed) << flushed.error().message;
  EXPECT_EQ(flushed->row.state, HostState::kDisabled);
  for (store::VmId vm : vms)
    ASSERT_TRUE(eventually([&] { return is(vm, State::kRunning, "sim-2"); }));
  EXPECT_TRUE(engine_->host("sim-1")->vms.empty());
  ASSERT_TRUE(engine_->host_action({"sim-1", HostEvent::kEnable, {}, "op", {}}));
}

TEST_F(HostsTest, RankPoliciesSpreadPackOrFollowFreeCpu) {
  struct Case {
    std::uint8_t policy;
    std::vector<std::string> expected;  // hosts of 3 VMs created one after the other
  };
  const Case cases[] = {
      {0, {"sim-1", "sim-1", "sim-1"}},
      {1, {"sim-1", "sim-2", "sim-3"}},
  };
  for (const Case& c : cases) {
    EngineOptions o;
    o.rank_policy = c.policy;
    start(o, 3);
    for (const std::string& want : c.expected) {
      const store::VmId vm = create();
      ASSERT_TRUE(eventually([&] { return is(vm, State::kRunning); }));
      EXPECT_EQ(host_of(vm), want) << "policy " << int(c.policy);
    }
    stop();
    store_ = std::make_unique<testing::MemoryStore>();  // a fresh one per case
  }
  // Load-aware: the host whose agent reports the most idle CPU.
  EngineOptions o;
  o.rank_policy = 2;
  start(o);
  for (const std::string name : {"x", "y", "z"}) {
    ASSERT_TRUE(add(name));
    ASSERT_TRUE(connect(name));
  }
  heartbeat("x", {0, 0, 0, 10.0, 0});
  heartbeat("y", {0, 0, 0, 90.0, 0});
  heartbeat("z", {0, 0, 0, 40.0, 0});
  const store::VmId vm = create();
  ASSERT_TRUE(eventually([&] { return is(vm, State::kRunning); }));
  EXPECT_EQ(host_of(vm), "y");
}

TEST_F(HostsTest, PendingWithAReasonThenPlacedWhenAHostAppears) {
  start();
  const store::VmId vm = create(2, 1024);
  ASSERT_TRUE(eventually([&] {
    const auto v = engine_->get(vm);
    return v->record.state == State::kPending && !v->pending_reason.empty();
  }));
  EXPECT_NE(engine_->get(vm)->pending_reason.find("no host has room for 2 vCPU"),
            std::string::npos);
  // A host too small does not take it; one that fits does.
  ASSERT_TRUE(add("small"));
  ASSERT_TRUE(connect("small", {}, 1, 512));
  EXPECT_TRUE(stays([&] { return engine_->get(vm)->record.state == State::kPending; }));
  EXPECT_NE(engine_->get(vm)->pending_reason.find("capacity"), std::string::npos)
      << engine_->get(vm)->pending_reason;
  ASSERT_TRUE(add("big"));
  ASSERT_TRUE(connect("big", {}, 4, 4096));
  ASSERT_TRUE(eventually([&] { return is(vm, State::kRunning, "big"); }));
  EXPECT_TRUE(engine_->get(vm)->pending_reason.empty());
}

TEST_F(HostsTest, DisabledHostTakesNoScheduledVms) {
  start({}, 2);
  ASSERT_TRUE(engine_->host_action({"sim-1", HostEvent::kDisable, "broken fan", "op", {}}));
  for (int i = 0; i < 3; ++i) {
    const store::VmId vm = create();
    ASSERT_TRUE(eventually([&] { return is(vm, State::kRunning, "sim-2"); }));
  }
}

}  // namespace
}  // namespace corral::engine
