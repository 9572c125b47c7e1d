// Faults in every phase, generated from the transition table. For every row whose phases a
// request starts — create and the pre-empting rows included — every origin the row allows and
// every phase of it: a driver failure (the origin unknown), a hang past the deadline (in
// simulated time), and, where the phase's rule is kRollbackIfIntact, a failure the driver
// reports with the origin intact. The schedule phase is the engine's own (no driver runs it):
// its only failure is its deadline, reached when no host has room. Each injection must end
// the VM where the model says, with the reason in its history, and the VM's whole history must
// replay through the model step by step. The injections made are asserted equal to the set
// computed from the table. From FAILED, every recover option works: each on its own copy of
// the failure at a row's first origin, one option in turn at its other origins.
// A new row or origin is covered without new code.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "engine/engine.h"
#include "engine/fault_points_testing.h"
#include "engine/history_replay_testing.h"
#include "engine/memory_store_testing.h"
#include "lifecycle/table.h"

namespace corral::engine {
namespace {

namespace lc = corral::lifecycle;
using lc::Action;
using lc::Phase;
using lc::State;
using testing::MemoryStore;
using namespace std::chrono_literals;

constexpr Millis kDeadline = 60'000;

enum class Fault : std::uint8_t {
  kFail,        // the driver answers failed and says nothing of the origin
  kFailIntact,  // the driver answers failed and reports the origin intact
  kHang,        // the driver never answers: the engine's deadline fails the phase
};

std::string_view fault_name(Fault fault) {
  switch (fault) {
    case Fault::kFail:
      return "failing";
    case Fault::kFailIntact:
      return "failing with the origin intact";
    case Fault::kHang:
      return "hanging";
  }
  return "?";
}

// One injection: a fault in one phase of one row, started from one origin.
struct Injection {
  testing::FaultPoint at;
  Fault fault = Fault::kFail;
  friend auto operator<=>(const Injection&, const Injection&) = default;
};

std::string describe(const Injection& i) {
  return i.at.describe() + ", " + std::string(fault_name(i.fault));
}

// What the test must inject, computed from the table alone: at every point, a failure and a
// hang; a failure with the origin intact where the phase's rule reads it; only a hang in the
// engine's own schedule phase.
std::set<Injection> injections_from_table() {
  std::set<Injection> out;
  for (const testing::FaultPoint& p : testing::fault_points_from_table()) {
    if (p.phase() == Phase::kSchedule) {
      out.insert({p, Fault::kHang});
      continue;
    }
    out.insert({p, Fault::kFail});
    out.insert({p, Fault::kHang});
    if (p.transition().steps[p.step].on_failure == lc::FailureRule::kRollbackIfIntact) {
      out.insert({p, Fault::kFailIntact});
    }
  }
  return out;
}

// Answers every phase at once, except those armed to fail or hang (each once).
class FaultDriver final : public driver::Driver {
 public:
  std::string name() const override { return "faults"; }
  std::vector<driver::HostInfo> hosts() const override {
    return {{"h1", kHostVcpus, kHostMemory}, {"h2", kHostVcpus, kHostMemory}};
  }
  void start(driver::DriverSink* sink) override { sink_ = sink; }
  void stop() override {}
  void run_phase(const driver::PhaseRequest& r) override {
    std::optional<Fault> fault;
    {
      std::lock_guard lock(mu_);
      for (auto it = armed_.begin(); it != armed_.end(); ++it) {
        if ((it->vm == 0 || it->vm == r.vm) && it->action == r.action && it->phase == r.phase) {
          fault = it->fault;
          hit_.insert(it->id);
          armed_.erase(it);
          break;
        }
      }
    }
    cv_.notify_all();
    if (fault == Fault::kHang) return;
    driver::PhaseResult result{r.vm, r.op, r.step, r.attempt, true, "", lc::Power::kNoState, false};
    if (fault) {
      result.ok = false;
      result.error = "injected failure";
      result.integrity =
          fault == Fault::kFailIntact ? lc::Integrity::kIntact : lc::Integrity::kUnknown;
    }
    sink_->phase_done(std::move(result));
  }
  // vm 0: any VM (a create's, before its id is known). Returns what wait_hit() waits for.
  int arm(store::VmId vm, Action action, Phase phase, Fault fault) {
    std::lock_guard lock(mu_);
    armed_.push_back({++next_id_, vm, action, phase, fault});
    return next_id_;
  }
  bool wait_hit(int id) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, 5s, [&] { return hit_.contains(id); });
  }
  void disarm() {
    std::lock_guard lock(mu_);
    armed_.clear();
  }
  driver::DriverSink* sink() { return sink_; }

  static constexpr int kHostVcpus = 1 << 20;
  static constexpr int kHostMemory = 1 << 30;

 private:
  struct Armed {
    int id = 0;
    store::VmId vm = 0;
    Action action = Action::kCreate;
    Phase phase = Phase::kNone;
    Fault fault = Fault::kFail;
  };
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Armed> armed_;
  std::set<int> hit_;
  int next_id_ = 0;
  driver::DriverSink* sink_ = nullptr;
};

// Runs the model's operation to its end, every phase succeeding.
void run_to_end(lc::VmRecord& record) {
  while (record.busy()) record = lc::phase_succeeded(record).record;
}

// A VM ready for a row to start, and its mirror in the model. id 0: not created yet (the
// create row creates it).
struct Ready {
  store::VmId id = 0;
  lc::VmRecord mirror;
};

class FaultsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    EngineOptions options;
    options.default_phase_deadline_ms = kDeadline;
    options.auto_schedule = false;
    options.commit_delay = std::chrono::microseconds(0);
    engine_ = std::make_unique<Engine>(store_, driver_, clock_, options);
    ASSERT_TRUE(engine_->start().has_value());
    // Every VM has a NIC on it, so nic_detach has one to remove and nic_attach a network.
    ASSERT_TRUE(engine_->create_network({"net", "10.0.0.0/16"}));
    for (int i = 0; i < 5000 && engine_->network("net")->row.state != lc::NetworkState::kReady;
         ++i) {
      std::this_thread::sleep_for(1ms);
    }
  }
  void TearDown() override { engine_->stop(); }

  std::optional<store::Vm> wait_idle(store::VmId id) {
    for (int i = 0; i < 5000; ++i) {
      std::optional<store::Vm> vm = engine_->get(id);
      if (vm && !vm->record.busy()) return vm;
      std::this_thread::sleep_for(1ms);
    }
    ADD_FAILURE() << "VM " << id << " still busy";
    return std::nullopt;
  }

  Result<Accepted> act(store::VmId id, Action action, const std::string& host = {}) {
    ActionRequest r;
    r.vm = id;
    r.action = action;
    r.host = host;
    if (action == Action::kResize || action == Action::kResizeMigrate ||
        action == Action::kRebuild) {
      r.model = store::VmModel{2, 1024, "tiny"};
    }
    if (action == Action::kNicAttach) r.network = "net";
    if (action == Action::kNicDetach) {
      const std::optional<store::Vm> vm = engine_->get(id);
      r.nic = vm && !vm->nics.empty() ? vm->nics.back().index : 0;
    }
    // disk_attach: a new volume (no storage: available at once); disk_detach: one it has.
    if (action == Action::kDiskAttach) {
      Result<store::VolumeRow> volume =
          engine_->create_volume({"vol-" + std::to_string(++volumes_made_), 1, false});
      if (!volume) return std::unexpected(volume.error());
      r.volume = volume->name;
      for (int i = 0; i < 5000 && engine_->volume(r.volume)->status != lc::VolumeStatus::kAvailable;
           ++i) {
        std::this_thread::sleep_for(1ms);
      }
    }
    if (action == Action::kDiskDetach) {
      for (const store::VolumeRow& v : engine_->volumes()) {
        if (v.vm == id && v.status == lc::VolumeStatus::kInUse) r.volume = v.name;
      }
    }
    return engine_->act(r);
  }

  Result<Accepted> create(const std::string& name, store::VmModel model, bool hold) {
    CreateRequest request{name, std::move(model), hold, "test", "", "", ""};
    request.networks = {"net"};
    return engine_->create(std::move(request));
  }

  // Acts on the engine and the mirror alike, to the end of the operation.
  bool step(store::VmId id, lc::VmRecord& mirror, Action action) {
    Result<Accepted> accepted = act(id, action);
    if (!accepted) {
      ADD_FAILURE() << lc::action_name(action) << ": " << accepted.error().message;
      return false;
    }
    Result<lc::Step> begun = lc::begin(mirror, {action});
    if (!begun) return false;
    mirror = begun->record;
    run_to_end(mirror);
    const std::optional<store::Vm> vm = wait_idle(id);
    return vm && vm->record.state == mirror.state;
  }

  // A new VM at rest in `state` (INIT aside), and its mirror; nullopt if that fails.
  std::optional<Ready> vm_in(State state) {
    Result<Accepted> created = create("vm", {1, 512, "tiny"}, state == State::kHold);
    if (!created) return std::nullopt;
    const store::VmId id = created->vm.id;
    lc::VmRecord mirror = lc::new_record();
    run_to_end(mirror);
    if (state == State::kHold) {
      mirror = lc::begin(mirror, {Action::kHold})->record;
      run_to_end(mirror);
    }
    if (!wait_idle(id)) return std::nullopt;
    if (state == State::kPending || state == State::kHold) return Ready{id, mirror};
    if (state == State::kFailed) {
      driver_.arm(id, Action::kDeploy, Phase::kBoot, Fault::kFail);
      if (!act(id, Action::kDeploy)) return std::nullopt;
      mirror = lc::begin(mirror, {Action::kDeploy})->record;
      mirror = lc::phase_succeeded(mirror).record;  // prolog
      mirror = lc::phase_failed(mirror).record;     // boot
      const std::optional<store::Vm> failed = wait_idle(id);
      if (!failed || failed->record.state != State::kFailed) return std::nullopt;
      return Ready{id, mirror};
    }
    if (!step(id, mirror, Action::kDeploy)) return std::nullopt;
    // A VM left RUNNING or POWEROFF has a volume, so disk_detach has one to remove.
    if ((state == State::kRunning || state == State::kPoweroff) &&
        !step(id, mirror, Action::kDiskAttach)) {
      return std::nullopt;
    }
    static const std::map<State, Action> kFromRunning = {
        {State::kPaused, Action::kPause},           {State::kSuspended, Action::kSuspend},
        {State::kPoweroff, Action::kShutdown},      {State::kHibernated, Action::kHibernate},
        {State::kDeallocated, Action::kDeallocate}, {State::kShelved, Action::kShelve},
        {State::kRescued, Action::kRescue},         {State::kResized, Action::kResizeMigrate},
        {State::kSoftDeleted, Action::kSoftDelete},
    };
    if (state == State::kUnknown) {
      driver_.sink()->power_event(
          {.vm = id, .kind = driver::PowerEventKind::kVanished, .cause = "lost (test)"});
      mirror = lc::begin(mirror, {Action::kObservedLost})->record;
      for (int i = 0; i < 5000 && engine_->get(id)->record.state != State::kUnknown; ++i) {
        std::this_thread::sleep_for(1ms);
      }
      return Ready{id, mirror};
    }
    if (auto it = kFromRunning.find(state); it != kFromRunning.end()) {
      if (!step(id, mirror, it->second)) return std::nullopt;
    }
    const std::optional<store::Vm> vm = wait_idle(id);
    if (!vm || vm->record.state != state) return std::nullopt;
    return Ready{id, mirror};
  }

  // A VM where row `t` can start from `origin`: at rest there, or — for a pre-empting row —
  // in an operation from there that `t` may cut short, hung in its first phase.
  std::optional<Ready> ready_for(const lc::Transition& t, State origin) {
    if (t.when_idle && origin == State::kInit) return Ready{0, lc::new_record()};  // create
    if (t.when_idle) return vm_in(origin);
    std::optional<Ready> ready;
    Action running = Action::kCreate;
    Phase phase = Phase::kInit;
    if (origin == State::kInit) {
      ready = Ready{0, lc::new_record()};
      const int armed = driver_.arm(0, Action::kCreate, Phase::kInit, Fault::kHang);
      Result<Accepted> created = create("vm", {1, 512, "tiny"}, false);
      if (!created || !driver_.wait_hit(armed)) return std::nullopt;
      ready->id = created->vm.id;
    } else {
      const lc::Transition* q = testing::operation_to_preempt(t, origin);
      if (q == nullptr) {
        ADD_FAILURE() << "no operation from " << lc::state_name(origin) << " for "
                      << lc::action_name(t.action) << " to pre-empt";
        return std::nullopt;
      }
      ready = vm_in(origin);
      if (!ready) return std::nullopt;
      running = q->action;
      phase = q->steps[0].phase;
      const int armed = driver_.arm(ready->id, running, phase, Fault::kHang);
      if (!act(ready->id, running) || !driver_.wait_hit(armed)) return std::nullopt;
      Result<lc::Step> begun = lc::begin(ready->mirror, {running});
      if (!begun) return std::nullopt;
      ready->mirror = begun->record;
    }
    if (lc::allowed_row(ready->mirror, t.action) != &t) {
      ADD_FAILURE() << lc::action_name(t.action) << " during " << lc::action_name(running)
                    << " from " << lc::state_name(origin) << " is not the pre-empting row";
      return std::nullopt;
    }
    return ready;
  }

  // Takes every host's free room with a running VM, so a schedule phase finds none.
  std::vector<store::VmId> fill_hosts() {
    std::vector<store::VmId> fillers;
    for (const HostUsage& h : engine_->hosts()) {
      Result<Accepted> created = create(
          "filler", {h.host.vcpus - h.used_vcpus, h.host.memory_mib - h.used_memory_mib, "tiny"},
          false);
      if (!created || !wait_idle(created->vm.id) ||
          !act(created->vm.id, Action::kDeploy, h.host.name)) {
        ADD_FAILURE() << "cannot fill host " << h.host.name;
        continue;
      }
      fillers.push_back(created->vm.id);
      wait_idle(created->vm.id);
    }
    return fillers;
  }
  void empty_hosts(const std::vector<store::VmId>& fillers) {
    for (store::VmId id : fillers) {
      EXPECT_TRUE(act(id, Action::kTerminateHard).has_value());
      wait_idle(id);
    }
  }

  // Replays the VM's whole history through the model; it must end where the VM is.
  void expect_history_replays(store::VmId id) {
    Result<std::vector<store::TransitionRow>> h = engine_->history(id, 0, 10'000);
    ASSERT_TRUE(h.has_value());
    const testing::Replay replay = testing::replay_history(*h);
    EXPECT_TRUE(replay.ok()) << "VM " << id << ": " << replay.error;
    const std::optional<store::Vm> vm = engine_->get(id);
    ASSERT_TRUE(vm.has_value());
    if (replay.ok()) {
      EXPECT_TRUE(testing::replay_ends_at(replay, vm->record))
          << "VM " << id << " is " << testing::describe_record(vm->record)
          << ", which its history does not lead to";
    }
    ++histories_;
    entries_ += h->size();
  }

  // Once VM `id` is idle its volumes say the truth: attached (in-use, to it) or free
  // (available, to no VM), never half-way (reserved, attaching, detaching).
  void expect_volumes_settled(store::VmId id) {
    for (const store::VolumeRow& v : engine_->volumes()) {
      if (v.vm != id && v.vm != 0) continue;
      const bool settled = v.vm == id ? v.status == lc::VolumeStatus::kInUse
                                      : v.status == lc::VolumeStatus::kAvailable;
      EXPECT_TRUE(settled) << "volume " << v.name << " is " << lc::volume_status_name(v.status)
                           << " on VM " << v.vm << " after VM " << id << "'s operation";
    }
  }

  // Makes the injection on `ready`; returns the VM's id and the model's expected record, or
  // nullopt (with a test failure) if the fault never struck or the VM ended elsewhere.
  std::optional<std::pair<store::VmId, lc::VmRecord>> inject(const Injection& i, Ready ready) {
    const lc::Transition& t = i.at.transition();
    const Phase phase = i.at.phase();
    // The model's prediction: every earlier phase succeeds, this one fails.
    lc::VmRecord expected = ready.mirror;
    if (ready.id != 0 || t.action != Action::kCreate) {
      Result<lc::Step> begun = lc::begin(ready.mirror, {t.action});
      if (!begun) {
        ADD_FAILURE() << begun.error().message;
        return std::nullopt;
      }
      expected = begun->record;
    }
    while (expected.op->step != i.at.step) expected = lc::phase_succeeded(expected).record;
    expected = lc::phase_failed(
                   expected, lc::OpStatus::kFailed,
                   i.fault == Fault::kFailIntact ? lc::Integrity::kIntact : lc::Integrity::kUnknown)
                   .record;
    run_to_end(expected);  // a rollback through undo phases (table.h) ends at the origin

    std::vector<store::VmId> fillers;
    if (phase == Phase::kSchedule) fillers = fill_hosts();
    const int armed =
        phase == Phase::kSchedule ? 0 : driver_.arm(ready.id, t.action, phase, i.fault);
    store::VmId id = ready.id;
    if (id == 0 && t.action == Action::kCreate) {
      Result<Accepted> created = create("vm", {1, 512, "tiny"}, false);
      if (!created) {
        ADD_FAILURE() << created.error().message;
        return std::nullopt;
      }
      id = created->vm.id;
    } else if (Result<Accepted> accepted = act(id, t.action); !accepted) {
      ADD_FAILURE() << accepted.error().message;
      driver_.disarm();
      return std::nullopt;
    }
    if (phase == Phase::kSchedule) {
      const std::optional<store::Vm> waiting = engine_->get(id);
      if (!waiting || !waiting->record.busy() ||
          lc::current_phase(*waiting->record.op) != Phase::kSchedule) {
        ADD_FAILURE() << "not waiting for a host";
        empty_hosts(fillers);
        return std::nullopt;
      }
    } else if (!driver_.wait_hit(armed)) {
      ADD_FAILURE() << "the fault never struck";
      driver_.disarm();
      return std::nullopt;
    }
    if (i.fault == Fault::kHang) clock_.advance(kDeadline + 1);
    const std::optional<store::Vm> after = wait_idle(id);
    empty_hosts(fillers);
    expect_volumes_settled(id);
    if (!after || !after->record.op) return std::nullopt;
    const lc::Operation& op = *after->record.op;
    EXPECT_EQ(after->record.state, expected.state);
    EXPECT_EQ(op.action, t.action);
    EXPECT_EQ(op.origin, i.at.origin);
    EXPECT_EQ(op.status, expected.op->status);
    // The phase it ended in: the one that failed, or the last undo phase after it.
    const Phase ended_in = lc::current_phase(*expected.op);
    EXPECT_EQ(lc::current_phase(op), ended_in);
    Result<std::vector<store::TransitionRow>> h = engine_->history(id, 0, 10'000);
    if (!h || h->empty()) return std::nullopt;
    const char* why = i.fault == Fault::kHang ? "deadline exceeded" : "injected failure";
    EXPECT_TRUE(std::any_of(h->begin(), h->end(), [&](const store::TransitionRow& row) {
      return row.op_id == after->op.id && row.reason.find(why) != std::string::npos;
    })) << h->back().reason;
    expect_history_replays(id);
    if (after->record.state != expected.state || op.status != expected.op->status ||
        lc::current_phase(op) != ended_in) {
      return std::nullopt;
    }
    return std::pair{id, expected};
  }

  // From FAILED, `recover` ends the VM where the model says.
  void expect_recovers(store::VmId id, const lc::VmRecord& failed, Action recover) {
    SCOPED_TRACE(std::string(lc::action_name(recover)));
    Result<lc::Step> model = lc::begin(failed, {recover});
    ASSERT_TRUE(model.has_value()) << model.error().message;
    lc::VmRecord want = model->record;
    run_to_end(want);
    ASSERT_TRUE(act(id, recover).has_value());
    const std::optional<store::Vm> done = wait_idle(id);
    ASSERT_TRUE(done.has_value() && done->record.op.has_value());
    EXPECT_EQ(done->record.state, want.state);
    EXPECT_EQ(done->record.op->action, want.op->action);
    EXPECT_EQ(done->record.op->status, want.op->status);
    expect_history_replays(id);
    ++recovered_;
  }

  MemoryStore store_;
  FaultDriver driver_;
  FakeClock clock_;
  std::unique_ptr<Engine> engine_;
  int recovered_ = 0;
  int histories_ = 0;
  std::size_t entries_ = 0;
  int volumes_made_ = 0;
};

constexpr Action kRecoverOptions[] = {Action::kRecoverRetry, Action::kRecoverSuccess,
                                      Action::kRecoverFailure, Action::kRecoverDelete,
                                      Action::kRecoverRecreate};

TEST_F(FaultsTest, EveryPhaseOfEveryRowFromEveryOriginFailsAndHangsWhereTheTableSays) {
  const auto started = std::chrono::steady_clock::now();
  const std::set<Injection> want = injections_from_table();
  std::set<Injection> covered;
  std::map<Fault, int> by_fault;
  std::set<std::pair<std::size_t, std::uint8_t>> row_phases;
  std::set<std::pair<std::size_t, State>> row_origins;
  std::size_t turn = 0;  // which recover option the next FAILED at a later origin gets
  for (const Injection& i : want) {
    SCOPED_TRACE(describe(i));
    const lc::Transition& t = i.at.transition();
    std::optional<Ready> ready = ready_for(t, i.at.origin);
    if (!ready) {
      ADD_FAILURE() << "cannot start the row";
      continue;
    }
    auto failed = inject(i, *ready);
    if (!failed) continue;
    covered.insert(i);
    ++by_fault[i.fault];
    row_phases.insert({i.at.row, i.at.step});
    row_origins.insert({i.at.row, i.at.origin});

    auto [id, at] = *failed;
    if (at.state != State::kFailed || i.fault != Fault::kFail) continue;
    const bool first_origin = i.at.origin == testing::first_origin_of(t);
    if (!first_origin) {
      expect_recovers(id, at, kRecoverOptions[turn++ % std::size(kRecoverOptions)]);
      continue;
    }
    // At the row's first origin, every recover option, each on its own copy of this failure.
    for (Action recover : kRecoverOptions) {
      store::VmId copy = id;
      if (recover != kRecoverOptions[0]) {  // the first option uses this VM
        std::optional<Ready> again = ready_for(t, i.at.origin);
        ASSERT_TRUE(again.has_value());
        auto refailed = inject(i, *again);
        ASSERT_TRUE(refailed.has_value());
        copy = refailed->first;
      }
      expect_recovers(copy, at, recover);
    }
  }
  // Exactly what the table asks for: a missing origin, phase or row is a failure.
  EXPECT_TRUE(covered == want) << covered.size() << " of the table's " << want.size()
                               << " injections made";
  for (const Injection& i : want) {
    if (!covered.contains(i)) ADD_FAILURE() << "not covered: " << describe(i);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf(
      "faults: %zu injections (%d failures, %d failures with the origin intact, %d hangs) over "
      "%zu (row, phase) pairs and %zu (row, origin) pairs; %d recoveries from FAILED; %d "
      "histories (%zu entries) replayed through the model; %.1f s\n",
      covered.size(), by_fault[Fault::kFail], by_fault[Fault::kFailIntact], by_fault[Fault::kHang],
      row_phases.size(), row_origins.size(), recovered_, histories_, entries_, seconds);
}

}  // namespace
}  // namespace corral::engine
