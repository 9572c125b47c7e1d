// A VM's lock (engine/locks.cc, lifecycle/lock.h): it stops every action a lock blocks, for
// all but the cloud's admin, before the state is looked at; snapshot stays open; the admin's
// lock is lifted by the admin only; a lock is committed with the VM and outlives a restart.
#include <gtest/gtest.h>

#include <mutex>
#include <vector>

#include "engine/hosts_testing.h"

namespace corral::engine {
namespace {

namespace lc = corral::lifecycle;
using lc::Action;
using lc::State;

class LockTest : public testing::HostsTest {
 protected:
  void SetUp() override { start({}, 1); }
  Result<Accepted> act(store::VmId vm, Action action, bool admin = false) {
    ActionRequest request;
    request.vm = vm;
    request.action = action;
    request.admin = admin;
    return engine_->act(std::move(request));
  }
  Result<store::Vm> lock(store::VmId vm, bool admin, std::string reason = {}) {
    return engine_->lock({vm, true, admin, std::move(reason)});
  }
  Result<store::Vm> unlock(store::VmId vm, bool admin) {
    return engine_->lock({vm, false, admin, {}});
  }
  store::VmId running() {
    const store::VmId id = create();
    EXPECT_TRUE(eventually([&] { return is(id, State::kRunning); }));
    return id;
  }
};

// Catches: a lock change the event stream never hears of (the dashboard follows it).
TEST_F(LockTest, ALockChangeIsPublishedOnceCommitted) {
  const store::VmId id = running();
  std::mutex mu;
  std::vector<VmId> changed;
  engine_->subscribe([&](const std::vector<Event>& events) {
    std::lock_guard guard(mu);
    for (const Event& e : events) {
      if (e.changed_vm != 0) changed.push_back(e.changed_vm);
    }
  });
  ASSERT_TRUE(lock(id, false, "upgrade"));
  ASSERT_TRUE(unlock(id, false));
  ASSERT_TRUE(eventually([&] {
    std::lock_guard guard(mu);
    return changed.size() == 2;
  }));
  std::lock_guard guard(mu);
  EXPECT_EQ(changed, (std::vector<VmId>{id, id}));
}

// Catches: a lock not checked, checked after the state (a wrong-state refusal would hide it),
// snapshot blocked, or the message not naming who locked and why.
TEST_F(LockTest, ALockStopsEveryBlockedActionButSnapshotForAllButTheAdmin) {
  const store::VmId id = running();
  Result<store::Vm> locked = lock(id, false, "upgrade");
  ASSERT_TRUE(locked) << locked.error().message;
  EXPECT_EQ(locked->locked_by, lc::LockedBy::kOwner);
  EXPECT_EQ(engine_->get(id)->locked_by, lc::LockedBy::kOwner);
  for (const Action a : {Action::kShutdown, Action::kTerminate, Action::kPause,
                         Action::kUnpause /* wrong state too: the lock answers first */}) {
    Result<Accepted> refused = act(id, a);
    ASSERT_FALSE(refused) << lc::action_name(a);
    EXPECT_EQ(refused.error().code, ErrorCode::kLocked) << lc::action_name(a);
    EXPECT_EQ(refused.error().message,
              "VM " + std::to_string(id) + " is locked by its owner (upgrade)");
  }
  EXPECT_TRUE(stays([&] { return is(id, State::kRunning); }));
  EXPECT_FALSE(lc::lock_blocks(Action::kSnapshot));
  EXPECT_TRUE(lc::lock_blocks(Action::kTerminateHard));
  ASSERT_TRUE(act(id, Action::kPause, /*admin=*/true));  // the admin passes
  EXPECT_TRUE(eventually([&] { return is(id, State::kPaused); }));
  ASSERT_TRUE(unlock(id, false));
  EXPECT_EQ(engine_->get(id)->locked_by, lc::LockedBy::kNone);
  EXPECT_EQ(engine_->get(id)->lock_reason, "");
  ASSERT_TRUE(act(id, Action::kUnpause));
  EXPECT_TRUE(eventually([&] { return is(id, State::kRunning); }));
}

// Catches: the owner lifting the admin's lock (Nova's unlock_override), or a lock lost at a
// restart (it is part of the VM's row).
TEST_F(LockTest, TheAdminsLockIsTheAdminsToLiftAndOutlivesARestart) {
  const store::VmId id = running();
  ASSERT_TRUE(lock(id, true));
  Result<store::Vm> refused = unlock(id, false);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kForbidden);
  restart();
  EXPECT_EQ(engine_->get(id)->locked_by, lc::LockedBy::kAdmin);
  EXPECT_EQ(act(id, Action::kShutdown).error().code, ErrorCode::kLocked);
  EXPECT_EQ(lock(id, false, std::string(256, 'x')).error().code, ErrorCode::kInvalidArgument);
  ASSERT_TRUE(unlock(id, true));
  ASSERT_TRUE(act(id, Action::kTerminate));
  EXPECT_TRUE(eventually([&] { return is(id, State::kDone); }));
  EXPECT_EQ(lock(id, false).error().code, ErrorCode::kInvalidState);
  EXPECT_EQ(lock(9999, true).error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace corral::engine
