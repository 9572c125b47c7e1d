#include "api/events.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

namespace corral::api {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;

engine::Event event(std::int64_t id, store::VmId vm) {
  engine::Event e;
  e.transition.id = id;
  e.transition.vm_id = vm;
  e.transition.from = lifecycle::State::kPending;
  e.transition.to = lifecycle::State::kRunning;
  e.transition.action = lifecycle::Action::kDeploy;
  e.transition.phase = lifecycle::Phase::kBoot;
  e.state = lifecycle::State::kRunning;
  return e;
}

TEST(EventHub, DeliversTransitionsAsServerSentEvents) {
  EventHub hub;
  auto client = hub.open(0);
  hub.publish({event(1, 5), event(2, 6)});
  const std::string text = client->next(0ms);
  EXPECT_THAT(text, HasSubstr("id: 1\nevent: transition\ndata: {"));
  EXPECT_THAT(text, HasSubstr("id: 2\nevent: transition\ndata: {"));
  EXPECT_THAT(text, HasSubstr("\"vm_id\":5"));
  EXPECT_THAT(text, HasSubstr("\"state\":\"RUNNING\""));
  EXPECT_EQ(text.substr(text.size() - 2), "\n\n");
  EXPECT_FALSE(client->finished());
}

TEST(EventHub, FiltersByVm) {
  EventHub hub;
  auto client = hub.open(6);
  hub.publish({event(1, 5)});
  EXPECT_EQ(client->next(0ms), ": heartbeat\n\n");
  hub.publish({event(2, 5), event(3, 6)});
  const std::string text = client->next(0ms);
  EXPECT_THAT(text, HasSubstr("id: 3\n"));
  EXPECT_THAT(text, Not(HasSubstr("id: 2\n")));
}

// A VM's change that is no transition (its lock): an `event: vm` naming it, with no id (live
// only), to that VM's followers and its project's, not to another VM's.
TEST(EventHub, ALockChangeIsAVmEventForThatVmsFollowers) {
  EventHub hub;
  auto every = hub.open(0);
  auto same = hub.open(5);
  auto other = hub.open(6);
  auto other_project = hub.open(EventFilter{0, store::ProjectId{9}});
  engine::Event e;
  e.changed_vm = 5;
  e.project = 2;
  e.state = lifecycle::State::kRunning;
  hub.publish({e});
  EXPECT_EQ(every->next(0ms), "event: vm\ndata: {\"vm_id\":5,\"change\":\"lock\"}\n\n");
  EXPECT_EQ(same->next(0ms), "event: vm\ndata: {\"vm_id\":5,\"change\":\"lock\"}\n\n");
  EXPECT_EQ(other->next(0ms), ": heartbeat\n\n");
  EXPECT_EQ(other_project->next(0ms), ": heartbeat\n\n");
}

TEST(EventHub, HeartbeatWhenNothingHappens) {
  EventHub hub;
  auto client = hub.open(0);
  EXPECT_EQ(client->next(1ms), ": heartbeat\n\n");
}

TEST(EventHub, SlowClientsAreDroppedNotWaitedFor) {
  EventHub hub(3);
  auto client = hub.open(0);
  hub.publish({event(1, 1), event(2, 1)});
  hub.publish({event(3, 1), event(4, 1)});  // over the limit: dropped, publish returns
  const std::string text = client->next(0ms);
  EXPECT_THAT(text, HasSubstr("event: dropped"));
  EXPECT_TRUE(client->finished());
  hub.remove(client);
  EXPECT_EQ(hub.clients(), 0u);
}

TEST(EventHub, CloseWakesWaitingClients) {
  EventHub hub;
  auto client = hub.open(0);
  std::string text = "unset";
  std::thread reader([&] { text = client->next(10s); });
  std::this_thread::sleep_for(20ms);
  hub.close();
  reader.join();
  EXPECT_EQ(text, "");
  EXPECT_TRUE(client->finished());
  EXPECT_EQ(hub.open(0), nullptr);
}

TEST(EventHub, PublishWakesAWaitingClient) {
  EventHub hub;
  auto client = hub.open(0);
  std::string text;
  std::thread reader([&] { text = client->next(10s); });
  std::this_thread::sleep_for(20ms);
  hub.publish({event(9, 1)});
  reader.join();
  EXPECT_THAT(text, HasSubstr("id: 9\n"));
}

}  // namespace
}  // namespace corral::api
