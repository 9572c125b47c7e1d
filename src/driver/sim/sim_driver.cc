#include "driver/sim/sim_driver.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "common/text.h"

namespace corral::driver::sim {

using lifecycle::Action;
using lifecycle::Phase;
using lifecycle::Power;

namespace {

std::vector<HostInfo> make_hosts(const SimOptions& options) {
  std::vector<HostInfo> hosts;
  for (int i = 1; i <= options.host_count; ++i) {
    hosts.push_back(
        HostInfo{"sim-" + std::to_string(i), options.host_vcpus, options.host_memory_mib});
  }
  return hosts;
}

std::string in_quotes(std::string_view text) { return "\"" + std::string(text) + "\""; }

}  // namespace

// ---- Options ----------------------------------------------------------------------------

std::vector<ImageInfo> SimDriver::images() const {
  std::vector<ImageInfo> out;
  out.reserve(options_.images.size());
  for (const std::string& name : options_.images) out.push_back({name, "kernel", ""});
  return out;
}

Latency SimOptions::latency(Phase phase) const {
  auto it = phase_latency.find(phase);
  return it != phase_latency.end() ? it->second : default_latency;
}

Result<SimOptions> parse_sim_profile(std::string_view name) {
  using std::chrono::milliseconds;
  if (iequals(name, "zero")) {
    SimOptions options;
    options.default_latency = milliseconds(0);
    return options;
  }
  if (iequals(name, "fast")) return SimOptions{};
  if (iequals(name, "realistic")) {
    SimOptions options;
    options.default_latency = milliseconds(500);
    options.phase_latency = {
        {Phase::kProlog, milliseconds(2000)},         {Phase::kBoot, milliseconds(3000)},
        {Phase::kOsProvisioning, milliseconds(4000)}, {Phase::kShutdown, milliseconds(2000)},
        {Phase::kSave, milliseconds(1500)},           {Phase::kRestore, milliseconds(500)},
        {Phase::kEpilog, milliseconds(1000)},         {Phase::kMigrate, milliseconds(3000)},
    };
    return options;
  }
  return fail(Error::invalid_argument("unknown sim profile " + in_quotes(name) +
                                      " (expected zero, fast or realistic)"));
}

// ---- Faults -----------------------------------------------------------------------------

std::string_view fault_kind_name(FaultKind kind) {
  switch (kind) {
    case FaultKind::kFail:
      return "fail";
    case FaultKind::kHang:
      return "hang";
    case FaultKind::kCrash:
      return "crash";
    case FaultKind::kFailIntact:
      return "fail_intact";
  }
  return "?";
}

namespace {

Result<std::string> string_field(const std::string& key, const nlohmann::json& value) {
  if (!value.is_string()) {
    return fail(Error::invalid_argument("fault field " + in_quotes(key) + " must be a string"));
  }
  return value.get<std::string>();
}

Result<std::int64_t> integer_field(const std::string& key, const nlohmann::json& value) {
  if (!value.is_number_integer()) {
    return fail(Error::invalid_argument("fault field " + in_quotes(key) + " must be an integer"));
  }
  return value.get<std::int64_t>();
}

}  // namespace

Result<Fault> parse_fault(const nlohmann::json& json) {
  if (!json.is_object()) return fail(Error::invalid_argument("a fault must be a JSON object"));
  Fault fault;
  bool has_kind = false;
  for (auto it = json.begin(); it != json.end(); ++it) {
    const std::string& key = it.key();
    const nlohmann::json& value = it.value();
    auto want_string = [&] { return string_field(key, value); };
    auto want_integer = [&] { return integer_field(key, value); };
    if (key == "kind") {
      auto text = want_string();
      if (!text) return fail(text.error());
      if (iequals(*text, "fail")) {
        fault.kind = FaultKind::kFail;
      } else if (iequals(*text, "hang")) {
        fault.kind = FaultKind::kHang;
      } else if (iequals(*text, "crash")) {
        fault.kind = FaultKind::kCrash;
      } else if (iequals(*text, "fail_intact")) {
        fault.kind = FaultKind::kFailIntact;
      } else {
        return fail(Error::invalid_argument("unknown fault kind " + in_quotes(*text) +
                                            " (expected fail, fail_intact, hang or crash)"));
      }
      has_kind = true;
    } else if (key == "action") {
      auto text = want_string();
      if (!text) return fail(text.error());
      auto action = lifecycle::parse_action(*text);
      if (!action) {
        return fail(Error::invalid_argument("unknown action " + in_quotes(*text) +
                                            " in fault (use a canonical action name, e.g. "
                                            "\"deploy\" or \"shutdown_hard\")"));
      }
      fault.action = *action;
    } else if (key == "phase") {
      auto text = want_string();
      if (!text) return fail(text.error());
      auto phase = lifecycle::parse_phase(*text);
      if (!phase) {
        return fail(Error::invalid_argument("unknown phase " + in_quotes(*text) +
                                            " in fault (e.g. \"prolog\", \"boot\", \"epilog\")"));
      }
      fault.phase = *phase;
    } else if (key == "vm") {
      auto vm = want_integer();
      if (!vm) return fail(vm.error());
      fault.vm = *vm;
    } else if (key == "times") {
      auto times = want_integer();
      if (!times) return fail(times.error());
      if (*times != -1 && (*times < 1 || *times > std::numeric_limits<int>::max())) {
        return fail(Error::invalid_argument("fault times must be -1 (until removed) or >= 1, got " +
                                            std::to_string(*times)));
      }
      fault.times = static_cast<int>(*times);
    } else if (key == "message") {
      auto text = want_string();
      if (!text) return fail(text.error());
      fault.message = std::move(*text);
    } else if (key == "id") {
      // Shown by fault_json() but assigned by add_fault(): a listed fault can be re-posted.
      auto id = want_integer();
      if (!id) return fail(id.error());
    } else {
      return fail(Error::invalid_argument("unknown fault field " + in_quotes(key) +
                                          " (expected kind, action, phase, vm, times, message)"));
    }
  }
  if (!has_kind) {
    return fail(
        Error::invalid_argument("a fault needs a \"kind\": fail, fail_intact, hang or crash"));
  }
  return fault;
}

nlohmann::json fault_json(const Fault& fault) {
  nlohmann::json json = {{"id", fault.id}, {"kind", fault_kind_name(fault.kind)}};
  if (fault.action) json["action"] = lifecycle::action_name(*fault.action);
  if (fault.phase) json["phase"] = lifecycle::phase_name(*fault.phase);
  if (fault.vm) json["vm"] = *fault.vm;
  json["times"] = fault.times;
  if (!fault.message.empty()) json["message"] = fault.message;
  return json;
}

// ---- Drift ------------------------------------------------------------------------------

std::string_view external_event_name(ExternalEvent kind) {
  switch (kind) {
    case ExternalEvent::kGuestPoweroff:
      return "guest_poweroff";
    case ExternalEvent::kLost:
      return "lost";
    case ExternalEvent::kUnresponsive:
      return "unresponsive";
    case ExternalEvent::kPausedOutside:
      return "paused";
    case ExternalEvent::kRunningAgain:
      return "running";
    case ExternalEvent::kGuestReady:
      return "guest_ready";
  }
  return "?";
}

Result<ExternalEvent> parse_external_event(std::string_view name) {
  for (ExternalEvent kind :
       {ExternalEvent::kGuestPoweroff, ExternalEvent::kLost, ExternalEvent::kUnresponsive,
        ExternalEvent::kPausedOutside, ExternalEvent::kRunningAgain, ExternalEvent::kGuestReady}) {
    if (iequals(external_event_name(kind), name)) return kind;
  }
  return fail(Error::invalid_argument(
      "unknown external event " + in_quotes(name) +
      " (expected guest_poweroff, lost, unresponsive, paused, running or guest_ready)"));
}

// ---- PowerMap ---------------------------------------------------------------------------

namespace detail {

std::size_t PowerMap::home(store::VmId vm) const {
  // splitmix64's finalizer: ids are sequential, and linear probing wants them spread.
  auto x = static_cast<std::uint64_t>(vm);
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return static_cast<std::size_t>(x) & (keys_.size() - 1);
}

std::size_t PowerMap::slot_of(store::VmId vm) const {
  const std::size_t mask = keys_.size() - 1;
  std::size_t i = home(vm);
  while (keys_[i] != kEmpty && keys_[i] != vm) i = (i + 1) & mask;
  return i;
}

std::optional<Power> PowerMap::find(store::VmId vm) const {
  if (vm == kEmpty) return sentinel_power_;
  if (keys_.empty()) return std::nullopt;
  std::size_t i = slot_of(vm);
  if (keys_[i] == kEmpty) return std::nullopt;
  return powers_[i];
}

void PowerMap::set(store::VmId vm, Power power) {
  if (vm == kEmpty) {
    sentinel_power_ = power;
    return;
  }
  // Keep the load at most 3/4: probes stay short.
  if ((size_ + 1) * 4 > keys_.size() * 3) grow();
  std::size_t i = slot_of(vm);
  if (keys_[i] == kEmpty) {
    keys_[i] = vm;
    ++size_;
  }
  powers_[i] = power;
}

bool PowerMap::erase(store::VmId vm) {
  if (vm == kEmpty) return std::exchange(sentinel_power_, std::nullopt).has_value();
  if (keys_.empty()) return false;
  const std::size_t mask = keys_.size() - 1;
  std::size_t hole = slot_of(vm);
  if (keys_[hole] == kEmpty) return false;
  // Backward shift: pull later entries of the probe run into the hole unless their home lies
  // cyclically in (hole, j] (moving them would put them before their home).
  for (std::size_t j = (hole + 1) & mask; keys_[j] != kEmpty; j = (j + 1) & mask) {
    std::size_t k = home(keys_[j]);
    bool stays = hole <= j ? (hole < k && k <= j) : (hole < k || k <= j);
    if (stays) continue;
    keys_[hole] = keys_[j];
    powers_[hole] = powers_[j];
    hole = j;
  }
  keys_[hole] = kEmpty;
  --size_;
  return true;
}

void PowerMap::grow() {
  std::vector<store::VmId> old_keys = std::move(keys_);
  std::vector<Power> old_powers = std::move(powers_);
  std::size_t capacity = old_keys.empty() ? 16 : old_keys.size() * 2;
  keys_.assign(capacity, kEmpty);
  powers_.assign(capacity, Power::kNoState);
  for (std::size_t i = 0; i < old_keys.size(); ++i) {
    if (old_keys[i] == kEmpty) continue;
    std::size_t slot = slot_of(old_keys[i]);
    keys_[slot] = old_keys[i];
    powers_[slot] = old_powers[i];
  }
}

}  // namespace detail

// ---- SimDriver --------------------------------------------------------------------------

SimDriver::SimDriver(SimOptions options)
    : options_([&] {
        options.host_count = std::max(options.host_count, 0);
        options.default_latency = std::max(options.default_latency, Latency(0));
        for (auto& [phase, latency] : options.phase_latency) {
          latency = std::max(latency, Latency(0));
        }
        return std::move(options);
      }()),
      hosts_(make_hosts(options_)) {
  for (Phase phase : lifecycle::kAllPhases) {
    latency_[static_cast<std::size_t>(phase)] = options_.latency(phase);
  }
}

SimDriver::~SimDriver() { stop(); }

void SimDriver::start(DriverSink* sink) {
  std::lock_guard lock(mu_);
  if (worker_.joinable()) return;
  sink_ = sink;
  stopped_ = false;
  stopping_ = false;
  worker_ = std::thread([this] { worker_loop(); });
}

void SimDriver::stop() {
  {
    std::lock_guard lock(mu_);
    stopped_ = true;
    stopping_ = true;
    heap_.clear();
  }
  cv_.notify_all();
  // From a callback (misuse) the worker cannot join itself: it ends once the callback
  // returns, as it checks stopping_ between deliveries; a later stop() or the destructor
  // joins it.
  if (worker_.joinable() && worker_.get_id() != std::this_thread::get_id()) worker_.join();
}

std::optional<Fault> SimDriver::match_fault(const PhaseRequest& request) {
  std::lock_guard lock(faults_mu_);
  for (auto it = faults_.begin(); it != faults_.end(); ++it) {
    if (it->action && *it->action != request.action) continue;
    if (it->phase && *it->phase != request.phase) continue;
    if (it->vm && *it->vm != request.vm) continue;
    Fault hit = *it;
    if (it->times > 0 && --it->times == 0) {
      faults_.erase(it);
      fault_count_.store(faults_.size(), std::memory_order_release);
    }
    return hit;
  }
  return std::nullopt;
}

void SimDriver::run_phase(const PhaseRequest& request) {
  Job job;
  job.due = std::chrono::steady_clock::now() + latency_[static_cast<std::size_t>(request.phase)];
  job.vm = request.vm;
  job.op = request.op;
  job.attempt = request.attempt;
  job.step = request.step;
  job.action = request.action;
  job.phase = request.phase;
  // A sim of many hosts keeps one copy of a VM for all of them: a move's side forgetting its
  // copy leaves the VM. A sim of one host (an agent's) holds only that host's copy: a side's
  // cleanup removes it, as it would the source's process once the target runs the VM.
  job.ends_vm =
      request.ends_vm && (request.runs_on == lifecycle::RunsOn::kHost || options_.host_count == 1);
  job.power_after = request.power_after;
  // As the qemu driver does: a resize that moves stops the source's guest in its resize
  // phase (Nova's migrate_disk_and_power_off); the target's boot phase starts it.
  if (request.action == lifecycle::Action::kResizeMigrate && request.phase == Phase::kResize) {
    job.power_after = Power::kShutdown;
  }
  if (fault_count_.load(std::memory_order_acquire) != 0) {
    if (auto fault = match_fault(request)) {
      switch (fault->kind) {
        case FaultKind::kFail:
        case FaultKind::kFailIntact:
          job.kind = JobKind::kFail;
          job.intact = fault->kind == FaultKind::kFailIntact;
          job.error = !fault->message.empty()
                          ? fault->message
                          : "injected failure in " +
                                std::string(lifecycle::action_name(request.action)) + "/" +
                                std::string(lifecycle::phase_name(request.phase));
          break;
        case FaultKind::kHang:
          return;  // no answer, ever: the engine's deadline has to notice
        case FaultKind::kCrash:
          job.kind = JobKind::kCrash;
          break;
      }
    }
  }
  if (job.kind == JobKind::kPhase && request.phase == Phase::kMigrate) {
    enqueue_progress(request, job);
  }
  enqueue(std::move(job));
}

void SimDriver::enqueue_progress(const PhaseRequest& request, const Job& result) {
  const Latency latency = latency_[static_cast<std::size_t>(request.phase)];
  if (latency <= Latency(0)) return;
  const SteadyTime start = result.due - latency;
  const std::uint64_t memory =
      static_cast<std::uint64_t>(std::max<std::int64_t>(request.model.memory_mib, 0)) << 20;
  // Enqueued before the result: the last report, due with it, is delivered first.
  for (std::uint8_t k = 1; k <= kProgressReports + 1; ++k) {
    Job job;
    job.kind = JobKind::kProgress;
    job.due = start + latency * k / (kProgressReports + 1);
    job.vm = result.vm;
    job.op = result.op;
    job.attempt = result.attempt;
    job.step = result.step;
    job.phase = result.phase;
    job.memory_bytes = memory;
    job.report = k;
    enqueue(std::move(job));
  }
}

void SimDriver::adopt(store::VmId vm, const std::string& /*host*/, Power power) {
  std::lock_guard lock(mu_);
  power_.set(vm, power);
}

std::vector<FoundVm> SimDriver::found() const {
  std::vector<FoundVm> out;
  std::lock_guard lock(mu_);
  power_.for_each([&out](store::VmId vm, Power power) { out.push_back({vm, power, 0}); });
  return out;
}

void SimDriver::fence(store::VmId vm) {
  std::lock_guard lock(mu_);
  if (power_.find(vm)) power_.set(vm, Power::kShutdown);
}

void SimDriver::discard(store::VmId vm) {
  std::lock_guard lock(mu_);
  power_.erase(vm);
}

void SimDriver::external_event(store::VmId vm, ExternalEvent kind) {
  Job job;
  job.due = std::chrono::steady_clock::now();
  job.vm = vm;
  job.kind = JobKind::kEvent;
  job.event = kind;
  enqueue(std::move(job));
}

void SimDriver::enqueue(Job job) {
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    job.seq = next_seq_++;
    if (job.due < sleeping_until_) {
      // The worker sleeps past this job's due time: wake it, once (it is awake from now on).
      wake = true;
      sleeping_until_ = SteadyTime::min();
    }
    heap_.push_back(std::move(job));
    std::push_heap(heap_.begin(), heap_.end(), JobLater{});
  }
  if (wake) cv_.notify_one();
}

SimDriver::Delivery SimDriver::finish(Job& job) {
  Delivery out;
  out.kind = job.kind;
  switch (job.kind) {
    case JobKind::kPhase:
    case JobKind::kFail:
    case JobKind::kCrash: {
      std::optional<Power> known = power_.find(job.vm);
      Power before = known.value_or(Power::kNoState);
      // The engine says what power a phase leaves (the table's); a failed phase changed nothing.
      Power after = job.kind == JobKind::kPhase ? job.power_after.value_or(before) : before;
      // A hotplug plugs into the VM's process: a host that does not hold the VM (an agent
      // that lost it with its process) has none, and the plug leaves nothing running — as the
      // qemu driver answers (the devices are the next boot's), never a VM started from nothing.
      if (job.kind == JobKind::kPhase && !known && job.phase == Phase::kHotplug) {
        after = Power::kShutdown;
      }
      // A deleted VM is forgotten, so the map holds live VMs only.
      const bool deleted = job.kind == JobKind::kPhase && job.ends_vm;
      if (deleted) {
        power_.erase(job.vm);
      } else if (!known || after != before) {
        power_.set(job.vm, after);
      }
      out.result =
          PhaseResult{job.vm,
                      job.op,
                      job.step,
                      job.attempt,
                      job.kind != JobKind::kFail,
                      std::move(job.error),
                      after,
                      /*power_known=*/true,
                      job.intact ? lifecycle::Integrity::kIntact : lifecycle::Integrity::kUnknown};
      break;
    }
    case JobKind::kProgress: {
      PhaseProgress& p = out.progress;
      p.vm = job.vm;
      p.op = job.op;
      p.step = job.step;
      p.attempt = job.attempt;
      // Memory goes in equal parts; the last report has it all sent and the guest paused for
      // a moment (20 ms, plus 1 ms per 64 MiB: the last dirty pages).
      constexpr std::uint64_t kParts = kProgressReports + 1;
      const bool last = job.report > kProgressReports;
      p.memory_total = job.memory_bytes;
      p.memory_processed = last ? job.memory_bytes : job.memory_bytes / kParts * job.report;
      p.memory_remaining = p.memory_total - p.memory_processed;
      p.expected_downtime_ms = 20 + static_cast<std::int64_t>(job.memory_bytes >> 26);
      p.downtime_ms = last ? p.expected_downtime_ms : 0;
      break;
    }
    case JobKind::kEvent: {
      PowerEvent& event = out.event;
      event.vm = job.vm;
      switch (job.event) {
        case ExternalEvent::kGuestPoweroff:
          event.power = Power::kShutdown;
          event.kind = PowerEventKind::kGuestPoweroff;
          event.cause = "sim: the guest powered itself off";
          break;
        case ExternalEvent::kLost:
          event.power = Power::kNoState;
          event.kind = PowerEventKind::kVanished;
          event.cause = "sim: the VM is gone from its host";
          break;
        case ExternalEvent::kUnresponsive:
          event.power = Power::kNoState;
          event.kind = PowerEventKind::kUnresponsive;
          event.cause = "sim: its host does not answer for the VM";
          break;
        case ExternalEvent::kPausedOutside:
          event.power = Power::kPaused;
          event.cause = "sim: paused on the host, outside Corral";
          break;
        case ExternalEvent::kRunningAgain:
          event.power = Power::kRunning;
          event.cause = "sim: running again";
          break;
        case ExternalEvent::kGuestReady:
          event.power = Power::kRunning;  // only a running guest prints its readiness line
          event.kind = PowerEventKind::kGuestReady;
          event.cause = "sim: the guest is ready";
          break;
      }
      power_.set(job.vm, event.power);
      break;
    }
  }
  return out;
}

void SimDriver::worker_loop() {
  // Bounds the time the lock is held when a large backlog falls due at once.
  constexpr std::size_t kMaxBatch = 4096;
  std::vector<Delivery> batch;
  batch.reserve(kMaxBatch);
  std::unique_lock lock(mu_);
  while (!stopping_.load(std::memory_order_relaxed)) {
    if (heap_.empty()) {
      sleeping_until_ = SteadyTime::max();
      cv_.wait(lock);
      sleeping_until_ = SteadyTime::min();
      continue;
    }
    SteadyTime now = std::chrono::steady_clock::now();
    if (heap_.front().due > now) {
      sleeping_until_ = heap_.front().due;
      cv_.wait_until(lock, sleeping_until_);
      sleeping_until_ = SteadyTime::min();
      continue;
    }
    while (!heap_.empty() && heap_.front().due <= now && batch.size() < kMaxBatch) {
      std::pop_heap(heap_.begin(), heap_.end(), JobLater{});
      batch.push_back(finish(heap_.back()));
      heap_.pop_back();
    }
    DriverSink* sink = sink_;
    lock.unlock();
    for (Delivery& delivery : batch) {
      if (stopping_.load(std::memory_order_relaxed)) break;
      switch (delivery.kind) {
        case JobKind::kPhase:
        case JobKind::kFail:
          sink->phase_done(std::move(delivery.result));
          break;
        case JobKind::kEvent:
          sink->power_event(std::move(delivery.event));
          break;
        case JobKind::kProgress:
          sink->phase_progress(delivery.progress);
          break;
        case JobKind::kCrash:
          // As abrupt as a real crash: no destructor, no flush, no answer.
          ::kill(::getpid(), SIGKILL);
          break;
      }
    }
    batch.clear();
    lock.lock();
  }
}

std::uint64_t SimDriver::add_fault(Fault fault) {
  std::lock_guard lock(faults_mu_);
  fault.id = next_fault_id_++;
  if (fault.times < 0) fault.times = -1;
  if (fault.times == 0) return fault.id;
  std::uint64_t id = fault.id;
  faults_.push_back(std::move(fault));
  fault_count_.store(faults_.size(), std::memory_order_release);
  return id;
}

std::vector<Fault> SimDriver::faults() const {
  std::lock_guard lock(faults_mu_);
  return faults_;
}

bool SimDriver::remove_fault(std::uint64_t id) {
  std::lock_guard lock(faults_mu_);
  auto it = std::find_if(faults_.begin(), faults_.end(),
                         [id](const Fault& fault) { return fault.id == id; });
  if (it == faults_.end()) return false;
  faults_.erase(it);
  fault_count_.store(faults_.size(), std::memory_order_release);
  return true;
}

void SimDriver::clear_faults() {
  std::lock_guard lock(faults_mu_);
  faults_.clear();
  fault_count_.store(0, std::memory_order_release);
}

std::optional<Power> SimDriver::power_of(store::VmId vm) const {
  std::lock_guard lock(mu_);
  return power_.find(vm);
}

std::size_t SimDriver::vm_count() const {
  std::lock_guard lock(mu_);
  return power_.size();
}

}  // namespace corral::driver::sim
