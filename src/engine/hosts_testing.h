// A fixture for the engine's host tests: the sim driver (zero latency; its own hosts are the
// "local" ones), an in-memory store, a fake clock, and helpers that play an agent by calling
// Engine::agent_connected / agent_heartbeat directly (the sim driver runs every host's phases).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "driver/sim/sim_driver.h"
#include "engine/engine.h"
#include "engine/memory_store_testing.h"

namespace corral::engine::testing {

class HostsTest : public ::testing::Test {
 protected:
  void TearDown() override { stop(); }

  // `local` sim hosts of `vcpus` and `memory_mib` each; `wire` sets the engine's fabric or
  // storage before it starts.
  void start(EngineOptions options = {}, int local = 0, int vcpus = 8, int memory_mib = 8192,
             const std::function<void(Engine&)>& wire = {}) {
    driver::sim::SimOptions sim;
    sim.host_count = local;
    sim.host_vcpus = vcpus;
    sim.host_memory_mib = memory_mib;
    sim.default_latency = std::chrono::milliseconds(0);
    options_ = options;
    sim_options_ = sim;
    driver_ = std::make_unique<driver::sim::SimDriver>(sim);
    engine_ = std::make_unique<Engine>(*store_, *driver_, clock_, options);
    if (wire) wire(*engine_);
    ASSERT_TRUE(engine_->start());
  }
  void stop() {
    if (engine_) engine_->stop();
    engine_.reset();
    driver_.reset();
  }
  // A new engine (and driver) on the same store and clock: a controller restart.
  void restart() {
    stop();
    driver_ = std::make_unique<driver::sim::SimDriver>(sim_options_);
    engine_ = std::make_unique<Engine>(*store_, *driver_, clock_, options_);
    ASSERT_TRUE(engine_->start());
  }

  // Polls committed state until `pred` holds (the engine works asynchronously).
  static bool eventually(const std::function<bool()>& pred) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < until) {
      if (pred()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return pred();
  }
  // Holds for a while: for "nothing happens" checks (the engine had the chance to act).
  static bool stays(const std::function<bool()>& pred) {
    for (int i = 0; i < 50; ++i) {
      if (!pred()) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return true;
  }

  Result<HostDetail> add(const std::string& name, HostSpec spec = {}) {
    spec.name = name;
    return engine_->add_host(std::move(spec));
  }
  // Plays the host's agent connecting; remembers its epoch for heartbeats.
  Result<AgentWelcome> connect(const std::string& name, std::vector<AgentVm> vms = {},
                               int vcpus = 8, std::int64_t memory_mib = 8192) {
    AgentHello hello;
    hello.host = name;
    hello.agent_version = "test";
    hello.driver = "sim";
    hello.capacity = {vcpus, memory_mib};
    hello.vms = std::move(vms);
    Result<AgentWelcome> welcome = engine_->agent_connected(std::move(hello));
    if (welcome) epochs_[name] = welcome->epoch;
    return welcome;
  }
  // As a sim agent does, reports every VM placed there as guarded (sure to stop with the
  // lease) unless `metrics` says otherwise.
  void heartbeat(const std::string& name, HostMetrics metrics = {}, bool guard_all = true) {
    if (guard_all && metrics.guarded_vms.empty()) {
      if (const auto host = engine_->host(name)) metrics.guarded_vms = host->vms;
    }
    engine_->agent_heartbeat(name, epochs_[name], metrics);
  }
  // Advances the clock `ms` in steps of one second, heartbeating `alive` after each step.
  void advance(Millis ms, const std::vector<std::string>& alive = {}) {
    while (ms > 0) {
      const Millis step = std::min<Millis>(ms, 1000);
      clock_.advance(step);
      ms -= step;
      for (const std::string& name : alive) heartbeat(name);
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }

  store::VmId create(int vcpus = 1, int memory_mib = 128) {
    CreateRequest request;
    request.name = "vm";
    request.model = {vcpus, memory_mib, "img"};
    Result<Accepted> accepted = engine_->create(std::move(request));
    EXPECT_TRUE(accepted) << (accepted ? "" : accepted.error().message);
    return accepted ? accepted->vm.id : 0;
  }
  bool is(store::VmId id, lifecycle::State state, const std::string& host = {}) const {
    const std::optional<store::Vm> vm = engine_->get(id);
    return vm && vm->record.state == state && !vm->record.busy() &&
           (host.empty() || vm->host == host);
  }
  std::string host_of(store::VmId id) const { return engine_->get(id)->host; }
  lifecycle::HostState state_of(const std::string& host) const {
    const std::optional<HostDetail> d = engine_->host(host);
    return d ? d->row.state : lifecycle::HostState::kInit;
  }

  FakeClock clock_;
  std::unique_ptr<store::Store> store_ = std::make_unique<MemoryStore>();
  EngineOptions options_;
  driver::sim::SimOptions sim_options_;
  std::unique_ptr<driver::sim::SimDriver> driver_;
  std::unique_ptr<Engine> engine_;
  std::map<std::string, std::uint64_t> epochs_;
};

}  // namespace corral::engine::testing
