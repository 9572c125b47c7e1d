#include "agent/agent.h"

#include <algorithm>
#include <thread>

#include "agent/metrics.h"
#include "common/log.h"

namespace corral::agent {

void Agent::stop() {
  std::lock_guard lock(mu_);
  stopped_ = true;
  if (session_ != nullptr) session_->stop();
  cv_.notify_all();
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
  // The driver's own host name (qemu: this machine's), which may differ from the cluster's.
  const std::vector<driver::HostInfo> hosts = driver_.hosts();
  const std::string local = hosts.empty() ? identity->host : hosts.front().name;
  for (const driver::FoundVm& vm : driver_.found()) driver_.adopt(vm.vm, local, vm.power);
  state_ = std::make_unique<AgentState>(driver_, lease_clock_, hello);
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

  // 4. Streams, one at a time, until stopped or refused.
  int backoff = options_.backoff_min_ms;
  int code = 0;
  for (;;) {
    Session session(*state_, *identity, options_.controller_host, options_.controller_port);
    session.set_welcome_timeout_ms(options_.welcome_timeout_ms);
    {
      std::lock_guard lock(mu_);
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
  driver_.stop();
  return code;
}

}  // namespace corral::agent
