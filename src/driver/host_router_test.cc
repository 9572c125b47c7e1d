// HostRouter: requests go to the local driver or to the host's agent by request.host; agents'
// results reach the engine's sink only while the router is started.
#include "driver/host_router.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace corral::driver {
namespace {

// Records what the router hands it (a stand-in for the sim or qemu driver).
class RecordingDriver final : public Driver {
 public:
  std::string name() const override { return "recording"; }
  std::vector<HostInfo> hosts() const override { return {{"local-1", 4, 4096}}; }
  void start(DriverSink* sink) override { sink_ = sink; }
  void stop() override { sink_ = nullptr; }
  void run_phase(const PhaseRequest& request) override { ran.push_back(request.host); }
  void adopt(store::VmId vm, const std::string&, lifecycle::Power) override {
    adopted.push_back(vm);
  }
  DriverSink* sink_ = nullptr;
  std::vector<std::string> ran;
  std::vector<store::VmId> adopted;
};

class RecordingRemote final : public RemoteHosts {
 public:
  bool run_remote(const PhaseRequest& request) override {
    if (request.host != attached) return false;
    sent.push_back(request.vm);
    return true;
  }
  std::string attached = "node-1";
  std::vector<store::VmId> sent;
};

class RecordingSink final : public DriverSink {
 public:
  void phase_done(PhaseResult result) override { results.push_back(result.vm); }
  void power_event(PowerEvent event) override { events.push_back(event.vm); }
  std::vector<store::VmId> results;
  std::vector<store::VmId> events;
};

PhaseRequest on(std::string host, store::VmId vm) {
  PhaseRequest request;
  request.vm = vm;
  request.host = std::move(host);
  return request;
}

TEST(HostRouter, RoutesByHost) {
  RecordingDriver local;
  RecordingRemote remote;
  HostRouter router(local);
  router.set_remote(&remote);
  RecordingSink sink;
  router.start(&sink);

  struct Case {
    std::string host;
    bool to_local;
    bool to_remote;
  };
  const std::vector<Case> cases = {
      {"", true, false},         // not placed yet: the local driver (schedule, cleanup)
      {"local-1", true, false},  // a host of the in-process driver
      {"node-1", false, true},   // an attached agent
      {"node-2", false, false},  // an agent that is away: dropped
  };
  store::VmId vm = 0;
  std::uint64_t dropped = 0;
  for (const Case& c : cases) {
    ++vm;
    const std::size_t local_before = local.ran.size();
    const std::size_t remote_before = remote.sent.size();
    router.run_phase(on(c.host, vm));
    EXPECT_EQ(local.ran.size() - local_before, c.to_local ? 1U : 0U) << c.host;
    EXPECT_EQ(remote.sent.size() - remote_before, c.to_remote ? 1U : 0U) << c.host;
    if (!c.to_local && !c.to_remote) ++dropped;
    EXPECT_EQ(router.dropped(), dropped) << c.host;
  }
  router.stop();
}

TEST(HostRouter, WithoutRemoteEveryOtherHostIsDropped) {
  RecordingDriver local;
  HostRouter router(local);
  router.run_phase(on("node-1", 1));
  EXPECT_TRUE(local.ran.empty());
  EXPECT_EQ(router.dropped(), 1U);
}

TEST(HostRouter, AdoptsOnlyLocalVms) {
  RecordingDriver local;
  HostRouter router(local);
  router.adopt(1, "local-1", lifecycle::Power::kRunning);
  router.adopt(2, "node-1", lifecycle::Power::kRunning);
  EXPECT_EQ(local.adopted, std::vector<store::VmId>{1});
}

TEST(HostRouter, RemoteResultsReachTheSinkOnlyWhileStarted) {
  RecordingDriver local;
  HostRouter router(local);
  RecordingSink sink;
  PhaseResult result;
  result.vm = 1;
  router.remote_sink().phase_done(result);  // before start: dropped
  router.start(&sink);
  EXPECT_EQ(local.sink_, &sink);
  result.vm = 2;
  router.remote_sink().phase_done(result);
  PowerEvent event;
  event.vm = 3;
  router.remote_sink().power_event(event);
  router.stop();
  result.vm = 4;
  router.remote_sink().phase_done(result);  // after stop: dropped
  EXPECT_EQ(sink.results, std::vector<store::VmId>{2});
  EXPECT_EQ(sink.events, std::vector<store::VmId>{3});
}

}  // namespace
}  // namespace corral::driver
