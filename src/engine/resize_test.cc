// Nova's resize across hosts in the sim (issue 12, Deliver 3): resize_migrate moves the VM to a
// host that fits the new model and ends RESIZED there with the source's copy kept (the
// operation's params.source_host); confirm_resize removes the source's copy, revert_resize
// removes the target's and goes back to the source with the old model. A failure in each
// phase ends where the table says. With no other host that fits, the VM resizes on its own.
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "engine/hosts_testing.h"

namespace corral::engine {
namespace {

namespace lc = corral::lifecycle;
using lc::Action;
using lc::Phase;
using lc::State;
using testing::HostsTest;

class ResizeTest : public HostsTest {
 protected:
  // Two sim hosts, sim-1 and sim-2, of 8 vCPUs and 8192 MiB.
  void SetUp() override { start({}, 2, 8, 8192); }

  store::VmId running_vm() {
    const store::VmId id = create(1, 512);
    EXPECT_TRUE(eventually([&] { return is(id, State::kRunning); }));
    return id;
  }
  Result<Accepted> act(store::VmId id, Action action, std::optional<store::VmModel> model = {}) {
    ActionRequest request;
    request.vm = id;
    request.action = action;
    request.model = std::move(model);
    return engine_->act(std::move(request));
  }
  Result<Accepted> resize(store::VmId id) { return act(id, Action::kResizeMigrate, kBigger); }
  store::Vm idle(store::VmId id) {
    EXPECT_TRUE(eventually([&] {
      const std::optional<store::Vm> vm = engine_->get(id);
      return vm && !vm->record.busy();
    }));
    return *engine_->get(id);
  }
  bool on(const std::string& host, store::VmId id) const {
    const std::vector<store::VmId> vms = engine_->host(host)->vms;
    return std::ranges::find(vms, id) != vms.end();
  }
  std::string other(const std::string& host) const { return host == "sim-1" ? "sim-2" : "sim-1"; }
  void fail(Action action, Phase phase, driver::sim::FaultKind kind) {
    driver::sim::Fault f;
    f.kind = kind;
    f.action = action;
    f.phase = phase;
    driver_->add_fault(f);
  }
  // Resized to the other host: RESIZED there, the source remembered.
  store::Vm resized(store::VmId id, const std::string& source) {
    EXPECT_TRUE(resize(id).has_value());
    const store::Vm vm = idle(id);
    EXPECT_EQ(vm.record.state, State::kResized);
    EXPECT_EQ(vm.host, other(source));
    EXPECT_EQ(vm.op.params.source_host, source);
    EXPECT_EQ(vm.op.params.target_host, other(source));
    EXPECT_EQ(vm.model.vcpus, 2);
    return vm;
  }

  static constexpr store::VmModel kBigger{2, 1024, "img"};
};

TEST_F(ResizeTest, ResizeMovesToAnotherHostAndConfirmFreesTheSource) {
  const store::VmId id = running_vm();
  const std::string source = host_of(id);
  resized(id, source);
  // Both hosts are charged while RESIZED: the target the new model, the source the old one
  // (Nova keeps the source's claim), the VM listed on its target only.
  EXPECT_EQ(engine_->host(source)->used_vcpus, 1);
  EXPECT_EQ(engine_->host(source)->used_memory_mib, 512);
  EXPECT_FALSE(on(source, id));
  EXPECT_EQ(engine_->host(other(source))->used_vcpus, 2);
  // A restarted controller knows the source from the store (the operation's params).
  restart();
  EXPECT_EQ(engine_->host(source)->used_vcpus, 1);
  EXPECT_EQ(engine_->get(id)->op.params.source_host, source);
  ASSERT_TRUE(act(id, Action::kConfirmResize).has_value());
  const store::Vm vm = idle(id);
  EXPECT_EQ(vm.record.state, State::kRunning);
  EXPECT_EQ(vm.record.op->status, lc::OpStatus::kSucceeded);
  EXPECT_EQ(vm.host, other(source));
  EXPECT_EQ(vm.op.params.source_host, source) << "confirm ran its cleanup on the source";
  EXPECT_FALSE(on(source, id)) << "the source is free";
  EXPECT_EQ(engine_->host(source)->used_vcpus, 0);
  EXPECT_TRUE(on(other(source), id));
  EXPECT_EQ(engine_->host(other(source))->used_vcpus, 2);
}

TEST_F(ResizeTest, RevertGoesBackToTheSourceWithTheOldModel) {
  const store::VmId id = running_vm();
  const std::string source = host_of(id);
  resized(id, source);
  ASSERT_TRUE(act(id, Action::kRevertResize).has_value());
  const store::Vm vm = idle(id);
  EXPECT_EQ(vm.record.state, State::kRunning);
  EXPECT_EQ(vm.record.op->status, lc::OpStatus::kSucceeded);
  EXPECT_EQ(vm.host, source) << "back on the host the resize left";
  EXPECT_EQ(vm.model.vcpus, 1);
  EXPECT_FALSE(on(other(source), id)) << "the target is free";
  EXPECT_EQ(engine_->host(other(source))->used_vcpus, 0);
  EXPECT_TRUE(on(source, id));
  EXPECT_EQ(engine_->host(source)->used_vcpus, 1) << "the old model, charged once";
  EXPECT_EQ(engine_->host(source)->used_vcpus, 1);
}

// Nova's rollback (reference nova.md:41): a failure in any phase of the move removes the
// target's copy, resumes the source's (the undo phases) and leaves the VM where it was.
TEST_F(ResizeTest, AFailedPhaseOfTheMoveIsUndoneAndTheVmStaysOnTheSource) {
  for (Phase phase : {Phase::kResize, Phase::kProlog, Phase::kBoot}) {
    SCOPED_TRACE(std::string(lc::phase_name(phase)));
    const store::VmId id = running_vm();
    const std::string source = host_of(id);
    fail(Action::kResizeMigrate, phase, driver::sim::FaultKind::kFail);
    ASSERT_TRUE(resize(id).has_value());
    const store::Vm vm = idle(id);
    EXPECT_EQ(vm.record.state, State::kRunning);
    EXPECT_EQ(vm.record.op->status, lc::OpStatus::kFailed);
    EXPECT_EQ(vm.host, source);
    EXPECT_EQ(vm.model.vcpus, 1) << "the old model stays in effect";
    EXPECT_FALSE(on(other(source), id)) << "the target's copy is gone, its room too";
  }
}

TEST_F(ResizeTest, AFailedUndoOrConfirmOrRevertStopsInFailed) {
  {
    const store::VmId id = running_vm();
    fail(Action::kResizeMigrate, Phase::kProlog, driver::sim::FaultKind::kFail);
    fail(Action::kResizeMigrate, Phase::kCleanup, driver::sim::FaultKind::kFail);
    ASSERT_TRUE(resize(id).has_value());
    EXPECT_EQ(idle(id).record.state, State::kFailed) << "the target's copy could not go";
  }
  for (Action action : {Action::kConfirmResize, Action::kRevertResize}) {
    SCOPED_TRACE(std::string(lc::action_name(action)));
    const store::VmId id = running_vm();
    const std::string source = host_of(id);
    resized(id, source);
    const int claimed = engine_->host(source)->used_vcpus;
    fail(action, action == Action::kConfirmResize ? Phase::kConfirm : Phase::kCleanup,
         driver::sim::FaultKind::kFail);
    ASSERT_TRUE(act(id, action).has_value());
    const store::Vm vm = idle(id);
    EXPECT_EQ(vm.record.state, State::kFailed);  // Nova: ERROR (nova.md:42-43)
    EXPECT_EQ(vm.host, other(source));
    // The source's copy may still be there: its room stays taken until a recover option.
    EXPECT_EQ(engine_->host(source)->used_vcpus, claimed) << "the source's room was freed";
    ASSERT_TRUE(act(id, Action::kRecoverDelete).has_value());
    EXPECT_EQ(idle(id).record.state, State::kDone);
    EXPECT_EQ(engine_->host(source)->used_vcpus, claimed - 1) << "the claim outlived the VM";
  }
}

// With no other host that fits the new model, the VM resizes where it is (Nova's
// allow_resize_to_same_host); confirm then has no other copy to remove.
TEST_F(ResizeTest, WithNoOtherHostThatFitsTheVmResizesOnItsOwn) {
  const store::VmId id = running_vm();
  const std::string host = host_of(id);
  const store::VmId filler = create(8, 512);  // fills the other host's vCPUs
  ASSERT_TRUE(eventually([&] { return is(filler, State::kRunning, other(host)); }));
  ASSERT_TRUE(resize(id).has_value());
  store::Vm vm = idle(id);
  EXPECT_EQ(vm.record.state, State::kResized);
  EXPECT_EQ(vm.host, host);
  EXPECT_TRUE(vm.op.params.source_host.empty());
  ASSERT_TRUE(act(id, Action::kConfirmResize).has_value());
  vm = idle(id);
  EXPECT_EQ(vm.record.state, State::kRunning);
  EXPECT_EQ(vm.host, host);
  EXPECT_EQ(driver_->power_of(id), lc::Power::kRunning) << "the only copy was kept";
}

}  // namespace
}  // namespace corral::engine
