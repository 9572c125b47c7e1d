#include "agent/agent.h"

#include <algorithm>
#include <map>
#include <optional>
#include <thread>

#include "agent/guard/fence_guard_client.h"
#include "agent/metrics.h"
#include "common/log.h"

namespace corral::agent {

void Agent::stop() {
  std::lock_guard lock(mu_);
  stopped_ = true;
  if (session_ != nullptr) session_->stop();
  cv_.notify_all();
}

void Agent::cut(bool cut) {
  std::lock_guard lock(mu_);
  cut_ = cut;
  if (cut && session_ != nullptr) session_->abort();
  cv_.notify_all();
}

void Agent::run_guard() {
  std::optional<guard::FenceGuardClient> client;
  bool armed = false;
  std::string last_error;
  while (sleep_unless_stopped(options_.guard_renew_ms)) {
    const AgentState::GuardLease lease = state_->guard_lease();
    if (lease.expired) continue;  // the guard fires (if this agent has not fenced already)
    std::vector<guard::FencedVm> vms;
    if (lease.remaining_ms > 0) {
      std::map<store::VmId, int> pids;
      for (const driver::FoundVm& vm : driver_.found()) pids[vm.vm] = vm.pid;
      for (const store::VmId vm : lease.vms) {
        const auto pid = pids.find(vm);
        if (pid == pids.end() || pid->second <= 0) continue;  // no process (yet, or the sim)
        if (auto fenced = guard::fenced_vm_for(std::to_string(vm), pid->second)) {
          vms.push_back(std::move(*fenced));
        }
      }
    }
    // Nothing to hold and nothing held: no guard process at all (the sim, the none policy).
    if (vms.empty() && !armed) continue;
    if (!client) {
      auto connected =
          guard::FenceGuardClient::connect_or_spawn(options_.data_dir, options_.fence_guard_binary);
      if (!connected) {
        if (connected.error().message != last_error) {
          last_error = connected.error().message;
          log(LogLevel::kError, "fence_guard", {{"error", last_error}});
        }
        continue;
      }
      client.emplace(std::move(*connected));
    }
    std::vector<store::VmId> held;
    for (const guard::FencedVm& vm : vms) held.push_back(std::stoll(vm.vm));
    const Status renewed = vms.empty() ? client->clear() : client->renew(lease.remaining_ms, vms);
    if (!renewed) {
      state_->set_guarded({});
      if (renewed.error().message != last_error) {
        last_error = renewed.error().message;
        log(LogLevel::kError, "fence_guard", {{"error", last_error}});
      }
      client.reset();
      continue;
    }
    armed = !vms.empty();
    state_->set_guarded(std::move(held));
    last_error.clear();
  }
  // Stopped on purpose (SIGTERM): the guard keeps the lease. The controller sees this host go
  // quiet and may recreate its evacuable VMs elsewhere, so they must stop when it runs out.
}

bool Agent::sleep_unless_stopped(int ms) {
  std::unique_lock lock(mu_);
  return !cv_.wait_for(lock, std::chrono::milliseconds(ms), [&] { return stopped_; });
}

int Agent::run() {
  // 1. Who we are: a stored identity, or a join (retried while the join port is unreachable).
  Result<wire::AgentIdentity> identity = fail(Error::internal("not loaded"));
  for (int backoff = options_.backoff_min_ms;;
       backoff = std::min(backoff * 2, options_.backoff_max_ms)) {
    identity = load_or_join(options_.data_dir, options_.join, clock_);
    if (identity || identity.error().code != ErrorCode::kUnavailable) break;
    log(LogLevel::kWarn, "join_retry", {{"reason", identity.error().message}});
    if (!sleep_unless_stopped(backoff)) return 0;
  }
  if (!identity) {
    fatal_ = identity.error().message;
    return 1;
  }
  log(LogLevel::kInfo, "identity", {{"host", identity->host}});

  // 2. The driver, keeping every VM it finds until a Welcome says which are ours.
  HelloSettings hello;
  hello.host = identity->host;
  hello.agent_version = options_.agent_version;
  hello.driver = driver_.name();
  hello.labels = options_.labels;
  hello.capacity = options_.capacity.value_or(read_capacity());
  if (options_.transfer) {
    if (Status started = options_.transfer->start(*identity); !started) {
      log(LogLevel::kError, "transfer_service", {{"error", started.error().message}});
    } else {
      hello.transfer_address = options_.transfer->address();
      log(LogLevel::kInfo, "transfer_service", {{"address", hello.transfer_address}});
    }
  }
  // The driver's own host name (qemu: this machine's), which may differ from the cluster's.
  const std::vector<driver::HostInfo> hosts = driver_.hosts();
  const std::string local = hosts.empty() ? identity->host : hosts.front().name;
  for (const driver::FoundVm& vm : driver_.found()) driver_.adopt(vm.vm, local, vm.power);
  state_ = std::make_unique<AgentState>(driver_, lease_clock_, hello);
  state_->set_transfer(options_.transfer.get());
  if (options_.firewall) {
    options_.firewall->start(&state_->outbox());
    state_->set_firewall(options_.firewall.get());
  }
  driver_.start(state_.get());

  // 3. The lease, checked whether or not a stream is up.
  std::thread lease_thread([this] {
    while (sleep_unless_stopped(options_.lease_tick_ms)) {
      bool expired = false;
      state_->check_lease(&expired);
      // A stream that carried nothing for a whole lease is dead even if TCP says otherwise
      // (a half-open connection): give it up and dial again.
      if (expired) {
        std::lock_guard lock(mu_);
        if (session_ != nullptr) session_->abort();
      }
    }
  });

  // 3b. The fence guard: renewed with what is left of the lease (so it fires no later than
  // this agent would) and the processes of the may_fence VMs. On its own thread: a call can
  // block for seconds (spawning the guard).
  std::thread guard_thread;
  if (!options_.fence_guard_binary.empty()) {
    guard_thread = std::thread([this] { run_guard(); });
  }

  // 4. Streams, one at a time, until stopped or refused.
  int backoff = options_.backoff_min_ms;
  int code = 0;
  for (;;) {
    Session session(*state_, *identity, options_.controller_host, options_.controller_port);
    session.set_welcome_timeout_ms(options_.welcome_timeout_ms);
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopped_ || !cut_; });
      if (stopped_) break;
      session_ = &session;
    }
    const SessionEnd end = session.run();
    {
      std::lock_guard lock(mu_);
      session_ = nullptr;
    }
    if (end.kind == SessionEnd::Kind::kStopped) break;
    if (end.kind == SessionEnd::Kind::kFatal) {
      fatal_ = end.message;
      code = 1;
      break;
    }
    if (end.welcomed) backoff = options_.backoff_min_ms;
    log(LogLevel::kWarn, "disconnected",
        {{"reason", end.message}, {"retry_ms", std::to_string(backoff)}});
    if (!sleep_unless_stopped(backoff)) break;
    backoff = std::min(backoff * 2, options_.backoff_max_ms);
  }
  stop();
  lease_thread.join();
  if (guard_thread.joinable()) guard_thread.join();
  driver_.stop();
  if (options_.firewall) options_.firewall->stop();
  if (options_.transfer) options_.transfer->stop();
  return code;
}

}  // namespace corral::agent
