// Volumes in the engine: create, extend, snapshot and delete with their statuses and the
// storage's jobs; attach and detach as the VM's operations (a claim no second VM can take, a
// failed attach leaving the volume available); what a terminated VM leaves; and a restart
// that sends unanswered work again.
#include <gtest/gtest.h>

#include <mutex>

#include "engine/hosts_testing.h"

namespace corral::engine {
namespace {

namespace lc = corral::lifecycle;
using lc::State;
using lc::VolumeStatus;
using store::VolumeJob;

// Storage that records its jobs and answers them when told (or at once).
class RecordingStorage : public driver::VolumeStorage {
 public:
  void start(driver::VolumeSink* sink) override { sink_ = sink; }
  void stop() override {}
  bool shared() const override { return shared_; }
  void set_shared(bool shared) { shared_ = shared; }
  void submit(driver::VolumeStorageJob job) override {
    std::lock_guard lock(mu_);
    jobs_.push_back(job);
    if (auto_answer_) sink_->volume_done(answer(job, error_));
  }
  static driver::VolumeJobDone answer(const driver::VolumeStorageJob& job,
                                      std::optional<std::string> error) {
    return {job.volume,     job.kind, job.snapshot,
            job.generation, error,    "/ds/vol-" + std::to_string(job.volume) + ".raw"};
  }
  std::vector<driver::VolumeStorageJob> jobs() const {
    std::lock_guard lock(mu_);
    return jobs_;
  }
  void fail_with(std::optional<std::string> error) {
    std::lock_guard lock(mu_);
    error_ = std::move(error);
  }
  void hold() { auto_answer_ = false; }
  void release() { auto_answer_ = true; }

 private:
  mutable std::mutex mu_;
  driver::VolumeSink* sink_ = nullptr;
  std::vector<driver::VolumeStorageJob> jobs_;
  std::optional<std::string> error_;
  bool auto_answer_ = true;
  std::atomic<bool> shared_ = true;
};

class VolumesTest : public testing::HostsTest {
 protected:
  void start_with_storage() {
    // One sim host of the sim's default size.
    start(options_, 1, 64, 262144, [this](Engine& e) {
      storage_.start(&e);
      e.set_volume_storage(&storage_);
    });
  }
  void restart_with_storage() {
    stop();
    start_with_storage();
  }
  VolumeStatus status_of(const std::string& name) const {
    const std::optional<store::VolumeRow> v = engine_->volume(name);
    return v ? v->status : VolumeStatus::kError;
  }
  bool gone(const std::string& name) const { return !engine_->volume(name); }
  store::VmId running_vm() {
    CreateRequest request;
    request.name = "db";
    request.model = {1, 128, "img"};
    Result<Accepted> vm = engine_->create(std::move(request));
    EXPECT_TRUE(vm) << vm.error().message;
    const store::VmId id = vm ? vm->vm.id : 0;
    EXPECT_TRUE(eventually([&] { return is(id, State::kRunning); }));
    return id;
  }
  Result<Accepted> disk(store::VmId vm, lc::Action action, std::string volume,
                        std::optional<bool> delete_on_termination = std::nullopt) {
    ActionRequest request;
    request.vm = vm;
    request.action = action;
    request.volume = std::move(volume);
    request.delete_on_termination = delete_on_termination;
    return engine_->act(std::move(request));
  }
  Result<store::VolumeRow> verb(VolumeVerb v, std::string name, std::uint64_t size = 0,
                                std::int64_t snapshot = 0) {
    return engine_->volume_action({v, std::move(name), size, snapshot});
  }
  RecordingStorage storage_;
};

// Catches: a volume available before its file exists, a failed create not in error, bad
// names or sizes accepted, a second volume under a taken name.
TEST_F(VolumesTest, CreateIsCreatingUntilTheStorageAnswers) {
  storage_.hold();
  start_with_storage();
  Result<store::VolumeRow> made = engine_->create_volume({"data", 64, false});
  ASSERT_TRUE(made) << made.error().message;
  EXPECT_EQ(made->status, VolumeStatus::kCreating);
  ASSERT_TRUE(eventually([&] { return storage_.jobs().size() == 1; }));
  const driver::VolumeStorageJob job = storage_.jobs()[0];
  EXPECT_EQ(job.kind, VolumeJob::kCreate);
  EXPECT_EQ(job.size_mib, 64u);
  EXPECT_TRUE(stays([&] { return status_of("data") == VolumeStatus::kCreating; }));
  engine_->volume_done(RecordingStorage::answer(job, std::nullopt));
  ASSERT_TRUE(eventually([&] { return status_of("data") == VolumeStatus::kAvailable; }));
  EXPECT_EQ(engine_->volume("data")->path, "/ds/vol-1.raw");
  EXPECT_EQ(engine_->volume("1")->name, "data");

  ASSERT_TRUE(engine_->create_volume({"broken", 8, false}));
  ASSERT_TRUE(eventually([&] { return storage_.jobs().size() == 2; }));
  engine_->volume_done(RecordingStorage::answer(storage_.jobs()[1], "disk full"));
  ASSERT_TRUE(eventually([&] { return status_of("broken") == VolumeStatus::kError; }));
  EXPECT_EQ(engine_->volume("broken")->error, "disk full");

  struct Bad {
    std::string name;
    std::uint64_t size;
    ErrorCode code;
  };
  for (const Bad& b :
       {Bad{"data", 8, ErrorCode::kConflict}, Bad{"Bad Name", 8, ErrorCode::kInvalidArgument},
        Bad{"42", 8, ErrorCode::kInvalidArgument}, Bad{"zero", 0, ErrorCode::kInvalidArgument},
        Bad{"huge", kMaxVolumeMib + 1, ErrorCode::kInvalidArgument}}) {
    Result<store::VolumeRow> r = engine_->create_volume({b.name, b.size, false});
    ASSERT_FALSE(r) << b.name;
    EXPECT_EQ(r.error().code, b.code) << b.name << ": " << r.error().message;
  }
  EXPECT_EQ(engine_->volumes().size(), 2u);
}

// Catches: a volume attached to two VMs, a detach of a volume another VM holds, delete or
// extend of an attached volume, a failed attach leaving the claim (stuck reserved/attaching),
// the slot not given or not reused.
TEST_F(VolumesTest, AttachClaimsTheVolumeForOneVmAndAFailedAttachGivesItBack) {
  start_with_storage();
  ASSERT_TRUE(engine_->create_volume({"data", 64, false}));
  ASSERT_TRUE(engine_->create_volume({"logs", 64, false}));
  ASSERT_TRUE(eventually([&] { return status_of("logs") == VolumeStatus::kAvailable; }));
  const store::VmId a = running_vm();
  const store::VmId b = running_vm();

  Result<Accepted> attach = disk(a, lc::Action::kDiskAttach, "data");
  ASSERT_TRUE(attach) << attach.error().message;
  EXPECT_EQ(attach->op->meta.params.volume, engine_->volume("data")->id);
  ASSERT_TRUE(eventually([&] { return status_of("data") == VolumeStatus::kInUse; }));
  EXPECT_EQ(engine_->volume("data")->vm, a);
  EXPECT_EQ(engine_->volume("data")->slot, 0);
  ASSERT_TRUE(eventually([&] { return is(a, State::kRunning); }));

  Result<Accepted> second = disk(b, lc::Action::kDiskAttach, "data");
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, ErrorCode::kInvalidState);
  EXPECT_NE(second.error().message.find("one VM at a time"), std::string::npos)
      << second.error().message;
  Result<Accepted> not_theirs = disk(b, lc::Action::kDiskDetach, "data");
  ASSERT_FALSE(not_theirs);
  EXPECT_EQ(not_theirs.error().code, ErrorCode::kInvalidArgument);
  Result<store::VolumeRow> del = verb(VolumeVerb::kDelete, "data");
  ASSERT_FALSE(del);
  EXPECT_EQ(del.error().code, ErrorCode::kInvalidState);
  Result<store::VolumeRow> grow = verb(VolumeVerb::kExtend, "data", 128);
  ASSERT_FALSE(grow);
  EXPECT_EQ(grow.error().code, ErrorCode::kInvalidState);  // the table refuses, with "allowed"
  EXPECT_EQ(grow.error().allowed_actions, (std::vector<std::string>{"detach", "snapshot"}));
  Result<Accepted> missing = disk(a, lc::Action::kDiskAttach, "nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  Result<Accepted> unnamed = disk(a, lc::Action::kDiskAttach, "");
  ASSERT_FALSE(unnamed);
  EXPECT_EQ(unnamed.error().code, ErrorCode::kInvalidArgument);

  // The next volume takes the next slot; a failed plug gives the volume back.
  driver_->add_fault({0, driver::sim::FaultKind::kFail, lc::Action::kDiskAttach, std::nullopt, a, 1,
                      "the guest refused the disk"});
  ASSERT_TRUE(disk(a, lc::Action::kDiskAttach, "logs"));
  ASSERT_TRUE(eventually([&] {
    return status_of("logs") == VolumeStatus::kAvailable && !engine_->get(a)->record.busy();
  }));
  EXPECT_EQ(engine_->volume("logs")->vm, 0);
  EXPECT_NE(engine_->volume("logs")->error.find("refused"), std::string::npos);
  ASSERT_TRUE(disk(a, lc::Action::kDiskAttach, "logs"));
  ASSERT_TRUE(eventually([&] { return status_of("logs") == VolumeStatus::kInUse; }));
  EXPECT_EQ(engine_->volume("logs")->slot, 1);
  EXPECT_TRUE(engine_->volume("logs")->error.empty());

  ASSERT_TRUE(eventually([&] { return is(a, State::kRunning); }));
  ASSERT_TRUE(disk(a, lc::Action::kDiskDetach, "data"));
  ASSERT_TRUE(eventually([&] { return status_of("data") == VolumeStatus::kAvailable; }));
  EXPECT_EQ(engine_->volume("data")->vm, 0);
  ASSERT_TRUE(eventually([&] { return is(a, State::kRunning); }));
  ASSERT_TRUE(disk(b, lc::Action::kDiskAttach, "data"));
  ASSERT_TRUE(eventually([&] { return status_of("data") == VolumeStatus::kInUse; }));
  EXPECT_EQ(engine_->volume("data")->vm, b);
}

// A datastore that is not shared (the default --volume-dir) is reached by the controller's own
// host only: a VM with volumes stays there, and a VM on an agent's host gets none. Shared, the
// same VM moves. Catches: a VM moved to a host without its volumes' files (its disk gone
// from under the guest), an attach on a host that cannot open the file.
TEST_F(VolumesTest, VolumesOnlyTheControllersHostReachesKeepTheirVmThere) {
  storage_.set_shared(false);
  start_with_storage();
  ASSERT_TRUE(engine_->create_volume({"data", 64, false}));
  ASSERT_TRUE(engine_->create_volume({"more", 64, false}));
  ASSERT_TRUE(eventually([&] { return status_of("more") == VolumeStatus::kAvailable; }));
  const store::VmId here = running_vm();  // before the agent's host exists: on the local one
  const std::string local = host_of(here);
  ASSERT_TRUE(add("b"));
  ASSERT_TRUE(connect("b"));
  ASSERT_TRUE(disk(here, lc::Action::kDiskAttach, "data"));
  ASSERT_TRUE(eventually([&] { return status_of("data") == VolumeStatus::kInUse; }));
  ASSERT_TRUE(eventually([&] { return is(here, State::kRunning, local); }));

  for (const lc::Action move : {lc::Action::kLiveMigrate, lc::Action::kMigrate}) {
    SCOPED_TRACE(lc::action_name(move));
    ActionRequest request;
    request.vm = here;
    request.action = move;
    request.host = "b";
    Result<Accepted> moved = engine_->act(std::move(request));
    if (moved) {
      ASSERT_TRUE(eventually([&] { return !engine_->get(here)->record.busy(); }));
      EXPECT_EQ(engine_->get(here)->record.op->status, lc::OpStatus::kFailed);
      EXPECT_NE(engine_->get(here)->op.error.find("not shared"), std::string::npos)
          << engine_->get(here)->op.error;
    } else {
      EXPECT_NE(moved.error().message.find("not shared"), std::string::npos)
          << moved.error().message;
    }
    EXPECT_TRUE(is(here, State::kRunning, local)) << host_of(here);
  }

  // A VM on the agent's host gets no volume from this datastore.
  CreateRequest there_request;
  there_request.name = "there";
  there_request.model = {1, 128, "img"};
  there_request.requirements = R"(NAME = "b")";
  Result<Accepted> there = engine_->create(std::move(there_request));
  ASSERT_TRUE(there) << there.error().message;
  ASSERT_TRUE(eventually([&] { return is(there->vm.id, State::kRunning, "b"); }));
  Result<Accepted> refused = disk(there->vm.id, lc::Action::kDiskAttach, "more");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kConflict);
  EXPECT_NE(refused.error().message.find("not shared"), std::string::npos)
      << refused.error().message;
  EXPECT_EQ(status_of("more"), VolumeStatus::kAvailable);

  // Shared storage: the volume follows its VM.
  storage_.set_shared(true);
  ActionRequest request;
  request.vm = here;
  request.action = lc::Action::kLiveMigrate;
  request.host = "b";
  ASSERT_TRUE(engine_->act(std::move(request)));
  ASSERT_TRUE(eventually([&] { return is(here, State::kRunning, "b"); }));
  EXPECT_EQ(engine_->volume("data")->vm, here);
  EXPECT_EQ(status_of("data"), VolumeStatus::kInUse);
}

// Catches: a volume deleted with its VM by default (Nova and Azure keep it), one kept despite
// delete_on_termination, a volume with snapshots deleted (its snapshots would dangle).
TEST_F(VolumesTest, TerminateDetachesOrDeletesByDeleteOnTermination) {
  start_with_storage();
  for (const char* name : {"keep", "drop", "snapped"}) {
    ASSERT_TRUE(engine_->create_volume({name, 16, false}));
  }
  ASSERT_TRUE(eventually([&] { return status_of("snapped") == VolumeStatus::kAvailable; }));
  const store::VmId vm = running_vm();
  for (auto [name, dot] : {std::pair{"keep", false}, {"drop", true}, {"snapped", true}}) {
    ASSERT_TRUE(disk(vm, lc::Action::kDiskAttach, name, dot));
    ASSERT_TRUE(eventually(
        [&, n = name] { return status_of(n) == VolumeStatus::kInUse && is(vm, State::kRunning); }));
  }
  ASSERT_TRUE(verb(VolumeVerb::kSnapshot, "snapped"));
  ASSERT_TRUE(eventually([&] {
    const auto v = engine_->volume("snapped");
    return v->snapshots.size() == 1 && v->snapshots[0].status == lc::SnapshotStatus::kAvailable;
  }));
  ActionRequest terminate;
  terminate.vm = vm;
  terminate.action = lc::Action::kTerminate;
  ASSERT_TRUE(engine_->act(terminate));
  ASSERT_TRUE(eventually([&] { return is(vm, State::kDone); }));
  ASSERT_TRUE(eventually([&] { return gone("drop"); }));
  EXPECT_EQ(status_of("keep"), VolumeStatus::kAvailable);
  EXPECT_EQ(engine_->volume("keep")->vm, 0);
  EXPECT_EQ(status_of("snapped"), VolumeStatus::kAvailable);
  bool deleted_drop = false;
  for (const auto& job : storage_.jobs()) {
    deleted_drop |= job.kind == VolumeJob::kDelete && job.volume == 2;
  }
  EXPECT_TRUE(deleted_drop);
}

// Catches: extend that shrinks or keeps the size, snapshot statuses not followed, a delete
// while snapshots exist, a second job accepted while one runs, a failed extend not shown.
TEST_F(VolumesTest, ExtendSnapshotAndDeleteFollowTheTable) {
  start_with_storage();
  ASSERT_TRUE(engine_->create_volume({"data", 64, false}));
  ASSERT_TRUE(eventually([&] { return status_of("data") == VolumeStatus::kAvailable; }));
  for (std::uint64_t size : {64u, 32u}) {
    Result<store::VolumeRow> r = verb(VolumeVerb::kExtend, "data", size);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  }
  storage_.hold();
  Result<store::VolumeRow> growing = verb(VolumeVerb::kExtend, "data", 128);
  ASSERT_TRUE(growing);
  EXPECT_EQ(growing->status, VolumeStatus::kExtending);
  Result<store::VolumeRow> during = verb(VolumeVerb::kSnapshot, "data");
  ASSERT_FALSE(during);
  EXPECT_EQ(during.error().code, ErrorCode::kConflict);
  ASSERT_TRUE(eventually([&] { return storage_.jobs().size() == 2; }));
  engine_->volume_done(RecordingStorage::answer(storage_.jobs()[1], "no space"));
  ASSERT_TRUE(eventually([&] { return status_of("data") == VolumeStatus::kErrorExtending; }));
  EXPECT_EQ(engine_->volume("data")->size_mib, 64u);
  storage_.release();
  ASSERT_TRUE(verb(VolumeVerb::kExtend, "data", 128));  // again, from error_extending
  ASSERT_TRUE(eventually([&] { return status_of("data") == VolumeStatus::kAvailable; }));
  EXPECT_EQ(engine_->volume("data")->size_mib, 128u);

  ASSERT_TRUE(verb(VolumeVerb::kSnapshot, "data"));
  ASSERT_TRUE(eventually([&] {
    const auto v = engine_->volume("data");
    return v->job == VolumeJob::kNone && v->snapshots.size() == 1;
  }));
  const std::int64_t snap = engine_->volume("data")->snapshots[0].id;
  EXPECT_EQ(engine_->volume("data")->snapshots[0].size_mib, 128u);
  Result<store::VolumeRow> refused = verb(VolumeVerb::kDelete, "data");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kConflict);
  Result<store::VolumeRow> no_snap = verb(VolumeVerb::kDeleteSnapshot, "data", 0, snap + 100);
  ASSERT_FALSE(no_snap);
  EXPECT_EQ(no_snap.error().code, ErrorCode::kNotFound);
  ASSERT_TRUE(verb(VolumeVerb::kDeleteSnapshot, "data", 0, snap));
  ASSERT_TRUE(eventually([&] { return engine_->volume("data")->snapshots.empty(); }));
  ASSERT_TRUE(verb(VolumeVerb::kDelete, "data"));
  ASSERT_TRUE(eventually([&] { return gone("data"); }));
  Result<store::VolumeRow> after = verb(VolumeVerb::kDelete, "data");
  ASSERT_FALSE(after);
  EXPECT_EQ(after.error().code, ErrorCode::kNotFound);
}

// Catches: volumes or attachments lost by a restart, work asked for and not answered before
// the restart never asked again (a volume stuck creating or deleting for ever).
TEST_F(VolumesTest, ARestartKeepsVolumesAndSendsUnansweredWorkAgain) {
  start_with_storage();
  ASSERT_TRUE(engine_->create_volume({"data", 64, false}));
  ASSERT_TRUE(eventually([&] { return status_of("data") == VolumeStatus::kAvailable; }));
  const store::VmId vm = running_vm();
  ASSERT_TRUE(disk(vm, lc::Action::kDiskAttach, "data"));
  ASSERT_TRUE(eventually([&] { return status_of("data") == VolumeStatus::kInUse; }));
  storage_.hold();
  ASSERT_TRUE(engine_->create_volume({"late", 32, false}));
  ASSERT_TRUE(eventually([&] { return storage_.jobs().size() == 2; }));
  restart_with_storage();
  EXPECT_EQ(status_of("data"), VolumeStatus::kInUse);
  EXPECT_EQ(engine_->volume("data")->vm, vm);
  EXPECT_EQ(status_of("late"), VolumeStatus::kCreating);
  ASSERT_TRUE(eventually([&] { return storage_.jobs().size() == 3; }));
  EXPECT_EQ(storage_.jobs()[2].kind, VolumeJob::kCreate);
  EXPECT_EQ(storage_.jobs()[2].size_mib, 32u);
  engine_->volume_done(RecordingStorage::answer(storage_.jobs()[2], std::nullopt));
  EXPECT_TRUE(eventually([&] { return status_of("late") == VolumeStatus::kAvailable; }));
}

// An agent that comes back without a VM (its host rebooted) while a disk_attach plugs: the
// attach, sent again, finds no process and succeeds with power shutdown, as the qemu driver's
// does. The VM must not stay RUNNING with nothing running: OpenNebula's policy makes it
// UNKNOWN, as any VM its host lost; the volume stays in-use, attached to it.
// Catches: the note of a VM missing at a reconnect dropped by any successful phase (found by
// tests/agents_crash_hotplug_test.cc).
TEST_F(VolumesTest, AnAttachToAVmItsAgentLostEndsWithTheVmUnknownAndTheVolumeInUse) {
  start(options_, 0, 8, 8192, [this](Engine& e) {
    storage_.start(&e);
    e.set_volume_storage(&storage_);
  });
  ASSERT_TRUE(add("a"));
  ASSERT_TRUE(connect("a"));
  ASSERT_TRUE(engine_->create_volume({"data", 64, false}));
  ASSERT_TRUE(eventually([&] { return status_of("data") == VolumeStatus::kAvailable; }));
  const store::VmId vm = create();
  ASSERT_TRUE(eventually([&] { return is(vm, State::kRunning, "a"); }));
  driver::sim::Fault hang;  // the first plug's answer is lost with the agent's stream
  hang.kind = driver::sim::FaultKind::kHang;
  hang.action = lc::Action::kDiskAttach;
  hang.phase = lc::Phase::kHotplug;
  driver_->add_fault(hang);
  ASSERT_TRUE(disk(vm, lc::Action::kDiskAttach, "data"));
  ASSERT_TRUE(eventually([&] {
    const std::optional<store::Vm> v = engine_->get(vm);
    return v->record.busy() && lc::current_phase(*v->record.op) == lc::Phase::kHotplug;
  }));
  driver_->discard(vm);       // the host's process went with it
  ASSERT_TRUE(connect("a"));  // back without the VM: the plug is sent again
  ASSERT_TRUE(eventually([&] { return is(vm, State::kUnknown, "a"); }))
      << lc::state_name(engine_->get(vm)->record.state);
  EXPECT_EQ(engine_->get(vm)->record.power, lc::Power::kNoState);
  EXPECT_EQ(status_of("data"), VolumeStatus::kInUse);
  EXPECT_EQ(engine_->volume("data")->vm, vm);
}

}  // namespace
}  // namespace corral::engine
