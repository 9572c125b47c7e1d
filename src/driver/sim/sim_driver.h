// SimDriver: a simulated hypervisor. It answers every phase after a configurable latency,
// tracks each VM's power, and lets tests and users inject faults (fail, fail_intact, hang,
// crash) and drift (a guest powers off, a VM is lost) to rehearse what a real hypervisor does.
//
// Contract:
// - Implements driver::Driver. run_phase() only enqueues: it never blocks and never calls the
//   sink. One worker thread delivers every PhaseResult and PowerEvent, in order of due time
//   (steady clock; the simulated hypervisor runs in real time, the engine's Clock is not
//   involved), items due at the same time in the order they were enqueued.
// - A result echoes (vm, op, step, attempt), is ok unless a fault says otherwise, and always
//   carries power_known=true with the VM's power at the end of the phase: the request's
//   power_after (the engine's, from the table), else the power it had.
//   A VM the driver has never seen is kNoState until a phase or adopt() gives it a power; a
//   VM is forgotten once the epilog or cleanup of terminate(_hard) or recover_delete succeeds.
// - Faults are matched in run_phase(), in the order they were added; the first whose set
//   fields all equal the request's consumes one of its `times`. kFail answers ok=false after
//   the phase's latency, saying nothing of the VM's origin (Integrity::kUnknown); kFailIntact
//   answers the same but reports the origin intact (Integrity::kIntact: the failure changed
//   nothing, as Nova's InstanceFaultRollback); both leave the power as it was. kHang never
//   answers; kCrash SIGKILLs the whole process when the phase's latency has passed (a server
//   crash in the middle of that phase).
// - A migrate phase that will succeed and takes time (latency > 0) reports PhaseProgress:
//   kProgressReports reports spread over its latency (memory of the model's memory_mib sent
//   in equal parts, no disks: shared storage), then, just before its result, one with all
//   memory sent and a downtime. A failing or instant migrate reports none.
// - stop() drops whatever is pending and joins the worker: no callback after it returns.
//   Called from a sink callback it cannot join its own thread: the worker then ends when the
//   callback returns, and a later stop() (or the destructor) joins it.
// - Every public method is thread-safe. No lock is held while the sink is called.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <mutex>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/result.h"
#include "driver/driver.h"
#include "driver/sim/fault_injector.h"
#include "lifecycle/types.h"
#include "store/types.h"

namespace corral::driver::sim {

using Latency = std::chrono::milliseconds;

struct SimOptions {
  int host_count = 4;  // hosts "sim-1" .. "sim-N"
  int host_vcpus = 64;
  int host_memory_mib = 262144;
  Latency default_latency{2};                         // of every phase without an override
  std::map<lifecycle::Phase, Latency> phase_latency;  // per-phase overrides
  // The images the sim says it has (kind "kernel", no path); empty: it takes any name, and
  // lists none. With a list, the API refuses another name as a real driver would.
  std::vector<std::string> images;

  Latency latency(lifecycle::Phase phase) const;
};

// "zero": every phase 0 ms (tests, benchmarks). "fast": the default, 2 ms a phase.
// "realistic": seconds (boot 3 s, os_provisioning 4 s ...), to watch a VM move through its
// phases. Case-insensitive; anything else is kInvalidArgument.
[[nodiscard]] Result<SimOptions> parse_sim_profile(std::string_view name);

// ---- Faults -----------------------------------------------------------------------------

enum class FaultKind : std::uint8_t { kFail, kHang, kCrash, kFailIntact };

std::string_view fault_kind_name(FaultKind kind);  // "fail", "hang", "crash", "fail_intact"

struct Fault {
  std::uint64_t id = 0;  // assigned by add_fault()
  FaultKind kind = FaultKind::kFail;
  // Which requests it matches: every field that is set must be equal; none set: every one.
  std::optional<lifecycle::Action> action;
  std::optional<lifecycle::Phase> phase;
  std::optional<store::VmId> vm;
  int times = 1;  // how many requests it hits; -1: until removed
  // kFail's and kFailIntact's error; empty: "injected failure in <action>/<phase>"
  std::string message;
};

// {"kind": "fail"|"fail_intact"|"hang"|"crash", "action": "deploy", "phase": "boot",
//  "vm": 12, "times": 1, "message": "..."}; all but kind optional; "id" is accepted and
// ignored. Unknown keys, names or types, and times other than -1 or >= 1, are
// kInvalidArgument.
[[nodiscard]] Result<Fault> parse_fault(const nlohmann::json& json);
nlohmann::json fault_json(const Fault& fault);

// ---- Drift ------------------------------------------------------------------------------

// What the hypervisor does behind Corral's back.
enum class ExternalEvent : std::uint8_t {
  kGuestPoweroff,  // the guest shut itself down: kShutdown, guest_initiated
  kLost,           // the VM vanished: kNoState, lost
  kUnresponsive,   // its host stops answering for it: kNoState, unresponsive
  kPausedOutside,  // someone paused it on the host: kPaused
  kRunningAgain,   // it runs again: kRunning
  kGuestReady,     // the guest's readiness line arrived: kRunning, guest_ready
};

std::string_view external_event_name(ExternalEvent kind);  // as parse_external_event reads
// "guest_poweroff" | "lost" | "unresponsive" | "paused" | "running" | "guest_ready"
// (case-insensitive).
[[nodiscard]] Result<ExternalEvent> parse_external_event(std::string_view name);

namespace detail {

// VmId -> Power in open addressing (linear probing, backward-shift deletion): 9 bytes a
// slot, no node per VM, so 100,000 VMs cost about 2 MB. Not thread-safe.
class PowerMap {
 public:
  std::optional<lifecycle::Power> find(store::VmId vm) const;
  void set(store::VmId vm, lifecycle::Power power);
  bool erase(store::VmId vm);
  template <typename F>
  void for_each(F&& f) const {  // f(vm, power), in no particular order
    if (sentinel_power_) f(kEmpty, *sentinel_power_);
    for (std::size_t i = 0; i < keys_.size(); ++i) {
      if (keys_[i] != kEmpty) f(keys_[i], powers_[i]);
    }
  }
  std::size_t size() const { return size_ + (sentinel_power_ ? 1 : 0); }
  std::size_t memory_bytes() const {
    return keys_.capacity() * sizeof(store::VmId) + powers_.capacity() * sizeof(lifecycle::Power);
  }

 private:
  // Marks an empty slot; the one VM that really has this id is kept aside.
  static constexpr store::VmId kEmpty = std::numeric_limits<store::VmId>::min();

  std::size_t home(store::VmId vm) const;
  std::size_t slot_of(store::VmId vm) const;  // its slot, or the empty slot ending its probe
  void grow();

  std::vector<store::VmId> keys_;
  std::vector<lifecycle::Power> powers_;
  std::size_t size_ = 0;
  std::optional<lifecycle::Power> sentinel_power_;
};

}  // namespace detail

// ---- The driver -------------------------------------------------------------------------

class SimDriver final : public Driver, public FaultInjector {
 public:
  static constexpr std::uint8_t kProgressReports = 3;  // a migrate's, before its last
  // Negative latencies count as 0, a negative host count as 0.
  explicit SimDriver(SimOptions options = {});
  ~SimDriver() override;
  SimDriver(const SimDriver&) = delete;
  SimDriver& operator=(const SimDriver&) = delete;

  std::string name() const override { return "sim"; }
  std::vector<ImageInfo> images() const override;
  std::vector<HostInfo> hosts() const override { return hosts_; }
  // Starts the worker. Requests enqueued before start() are delivered once it runs.
  void start(DriverSink* sink) override;
  void stop() override;
  void run_phase(const PhaseRequest& request) override;
  // The sim keeps no placement of its own: only the power is recorded.
  void adopt(store::VmId vm, const std::string& host, lifecycle::Power power) override;
  // Every VM with a recorded power (pid 0). fence: its power becomes kShutdown (no event: the
  // agent that fences is cut off from its controller anyway).
  // discard: forgotten.
  std::vector<FoundVm> found() const override;
  void fence(store::VmId vm) override;
  void discard(store::VmId vm) override;

  std::uint64_t add_fault(Fault fault) override;  // a fault with times == 0 is spent: not kept
  std::vector<Fault> faults() const override;
  bool remove_fault(std::uint64_t id) override;
  void clear_faults() override;

  // Delivered through sink->power_event() by the worker, after what is already due.
  void external_event(store::VmId vm, ExternalEvent kind) override;

  // What the driver believes now (it changes when a result is delivered, not when asked).
  std::optional<lifecycle::Power> power_of(store::VmId vm) const;
  std::size_t vm_count() const;
  const SimOptions& options() const { return options_; }

 private:
  using SteadyTime = std::chrono::steady_clock::time_point;

  enum class JobKind : std::uint8_t { kPhase, kFail, kCrash, kEvent, kProgress };

  // One pending delivery. Small on purpose: the heap moves these around.
  struct Job {
    SteadyTime due;
    std::uint64_t seq = 0;  // ties broken by enqueue order
    store::VmId vm = 0;
    store::OpId op = 0;
    std::uint32_t attempt = 0;
    std::uint8_t step = 0;
    JobKind kind = JobKind::kPhase;
    bool intact = false;  // kFail only: the origin is reported intact
    lifecycle::Action action = lifecycle::Action::kCreate;
    lifecycle::Phase phase = lifecycle::Phase::kNone;
    bool ends_vm = false;  // kPhase: the request's intent (the VM is gone after it)
    std::optional<lifecycle::Power> power_after;  // kPhase: the request's power_after
    ExternalEvent event = ExternalEvent::kGuestReady;
    std::string error;  // kFail only
    // kProgress: the VM's memory, and which report (1..kProgressReports; past it: the last,
    // with the downtime).
    std::uint64_t memory_bytes = 0;
    std::uint8_t report = 0;
  };
  struct JobLater {
    bool operator()(const Job& a, const Job& b) const {
      return a.due != b.due ? a.due > b.due : a.seq > b.seq;
    }
  };
  // A job popped from the heap, turned into what the sink receives (built under the lock,
  // delivered without it).
  struct Delivery {
    JobKind kind = JobKind::kPhase;
    PhaseResult result;
    PowerEvent event;
    PhaseProgress progress;
  };
  void enqueue_progress(const PhaseRequest& request, const Job& result);

  // Returns the fault outcome for a request, consuming one of the matching fault's times.
  std::optional<Fault> match_fault(const PhaseRequest& request);
  void enqueue(Job job);
  void worker_loop();
  Delivery finish(Job& job);  // requires mu_

  const SimOptions options_;
  const std::vector<HostInfo> hosts_;
  std::array<Latency, lifecycle::kPhaseCount> latency_{};

  mutable std::mutex mu_;  // guards everything below up to faults_mu_
  std::condition_variable cv_;
  std::vector<Job> heap_;  // a min-heap by (due, seq)
  std::uint64_t next_seq_ = 0;
  // When the worker sleeps: until when (max: until notified). While it is awake: min, so
  // enqueue() notifies only when the worker would otherwise oversleep.
  SteadyTime sleeping_until_ = SteadyTime::min();
  detail::PowerMap power_;
  DriverSink* sink_ = nullptr;
  std::thread worker_;
  bool stopped_ = false;                // stop() was called: enqueue nothing more
  std::atomic<bool> stopping_ = false;  // read by the worker between deliveries

  mutable std::mutex faults_mu_;
  std::vector<Fault> faults_;
  std::uint64_t next_fault_id_ = 1;
  std::atomic<std::size_t> fault_count_ = 0;  // lets run_phase skip faults_mu_ when none
};

}  // namespace corral::driver::sim
