#include "cli/sim_hosts.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "agent/identity.h"
#include "cli/client.h"
#include "cli/credentials.h"
#include "cli/trust.h"
#include "common/log.h"
#include "daemon/data_dir.h"

namespace corral::cli {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {
Error unavailable(std::string message) {
  return Error{ErrorCode::kUnavailable, std::move(message), {}, {}};
}
}  // namespace

struct SimHosts::Host {
  std::string name;
  std::string dir;
  std::string token;  // for its first start only
  std::mutex mu;      // the fields below: the control loop against the host's own thread
  std::unique_ptr<driver::sim::SimDriver> driver;
  std::unique_ptr<agent::Agent> agent;
  std::thread thread;
  bool killed = false;             // on purpose (kill): not an end to report
  std::atomic<bool> ended{false};  // its agent's run() returned
};

SimHosts::SimHosts(SimHostsSettings settings, const Clock& clock, const Clock& lease_clock)
    : settings_(std::move(settings)), clock_(clock), lease_clock_(lease_clock) {}

SimHosts::~SimHosts() {
  for (auto& host : hosts_) {
    if (host->thread.joinable()) host->thread.join();
  }
}

// Only the flag: run() stops the agents (hosts_ is run()'s, and may be growing now).
void SimHosts::stop() {
  {
    std::lock_guard lock(mu_);
    stopped_ = true;
  }
  cv_.notify_all();
}

std::string SimHosts::api_ca_cert() const {
  if (!settings_.api_ca_cert.empty()) return settings_.api_ca_cert;
  if (const char* env = std::getenv(kCaCertEnv); env != nullptr && *env != '\0') return env;
  for (int i = 1; i <= settings_.count; ++i) {
    const fs::path dir =
        fs::path(settings_.data_dir) / sim_host_name(settings_.prefix, i, settings_.count);
    const fs::path ca = agent::identity_dir(dir) / "ca.crt";
    std::error_code ec;
    if (fs::exists(ca, ec)) return ca.string();
  }
  return ca_cert_for("");
}

Status SimHosts::prepare() {
  std::optional<Client> client;
  for (int i = 1; i <= settings_.count; ++i) {
    auto host = std::make_unique<Host>();
    host->name = sim_host_name(settings_.prefix, i, settings_.count);
    host->dir = (fs::path(settings_.data_dir) / host->name).string();
    if (Status dir = daemon::prepare_data_dir(host->dir); !dir) return dir;
    Result<wire::AgentIdentity> identity = agent::load_identity(host->dir);
    if (identity) {
      if (identity->host != host->name) {
        return fail(Error::invalid_argument(host->dir + " holds the identity of host '" +
                                            identity->host + "', not '" + host->name + "'"));
      }
    } else if (identity.error().code != ErrorCode::kNotFound) {
      return fail(std::move(identity.error()));
    } else {
      // No identity yet: add the host as an operator would (`corral host add`) for its token.
      if (settings_.api_url.empty()) {
        return fail(Error::invalid_argument(
            "host " + host->name + " has no identity in " + host->dir +
            ": give --api URL so the hosts are added and joined through the controller's API"));
      }
      if (!client) {
        // As every client command: --token's env CORRAL_TOKEN, a saved login, or the local
        // admin credential (cli/credentials.h). Adding a host is the cloud admin's.
        CliResult<Client> made =
            make_client(settings_.api_url, token_for(settings_.api_url, ""), api_ca_cert());
        if (!made) return fail(Error::invalid_argument(made.error().error.message));
        client.emplace(std::move(*made));
      }
      json body = {{"name", host->name}};
      if (!settings_.agent.labels.empty()) body["labels"] = settings_.agent.labels;
      CliResult<json> reply = client->post("/v1/hosts", body);
      if (!reply && reply.error().http_status == 409) {  // added before: a new token
        reply = client->post("/v1/hosts/" + host->name + "/join-token", json::object());
      }
      if (!reply) {
        return fail(unavailable("adding host " + host->name + " at " + settings_.api_url + ": " +
                                reply.error().error.message));
      }
      const json& token = (*reply)["join_token"];
      if (!token.is_string()) {
        return fail(unavailable("the controller gave no join token for " + host->name + ": " +
                                reply->dump()));
      }
      host->token = token.get<std::string>();
    }
    hosts_.push_back(std::move(host));
  }
  return {};
}

void SimHosts::start(Host& host) {
  std::lock_guard lock(host.mu);
  if (host.thread.joinable()) host.thread.join();
  driver::sim::SimOptions sim = settings_.sim;
  sim.host_count = 1;
  host.driver = std::make_unique<driver::sim::SimDriver>(sim);
  agent::AgentOptions options = settings_.agent;
  options.data_dir = host.dir;
  options.join.token = host.token;
  options.fence_guard_binary.clear();  // the sim's VMs live and die with this process
  host.agent = std::make_unique<agent::Agent>(*host.driver, clock_, options, &lease_clock_);
  host.killed = false;
  host.ended = false;
  host.thread = std::thread([this, &host, agent = host.agent.get()] {
    const int code = agent->run();
    if (code != 0) {
      log(LogLevel::kError, "sim_host_ended",
          {{"host", host.name}, {"reason", agent->fatal_message()}});
    }
    host.ended = true;
    cv_.notify_all();
  });
}

void SimHosts::apply(const SimFailure& failure) {
  const auto it =
      std::ranges::find_if(hosts_, [&](const auto& h) { return h->name == failure.host; });
  if (it == hosts_.end()) {
    log(LogLevel::kWarn, "sim_fail", {{"host", failure.host}, {"error", "no such simulated host"}});
    return;
  }
  Host& host = **it;
  log(LogLevel::kWarn, "sim_fail",
      {{"host", host.name}, {"mode", std::string(sim_fail_mode_name(failure.mode))}});
  switch (failure.mode) {
    case SimFailMode::kKill: {
      std::unique_lock lock(host.mu);
      if (host.killed || !host.agent) return;
      host.killed = true;
      host.agent->stop();
      std::thread thread = std::move(host.thread);
      lock.unlock();
      if (thread.joinable()) thread.join();
      lock.lock();
      host.agent.reset();
      host.driver.reset();  // its VMs are gone with it
      return;
    }
    case SimFailMode::kCut: {
      std::lock_guard lock(host.mu);
      if (host.agent) host.agent->cut(true);
      return;
    }
    case SimFailMode::kRestore: {
      {
        std::lock_guard lock(host.mu);
        if (!host.killed) {
          if (host.agent) host.agent->cut(false);
          return;
        }
      }
      host.token.clear();  // spent: it boots again with the identity it stored
      start(host);
      return;
    }
  }
}

void SimHosts::read_control(std::uintmax_t& offset) {
  const fs::path path = fs::path(settings_.data_dir) / "sim-control";
  std::ifstream in(path);
  if (!in) return;
  in.seekg(static_cast<std::streamoff>(offset));
  std::string line;
  // Only whole lines: a writer's half-written line is read on a later pass.
  while (in.peek() != EOF) {
    const std::streampos at = in.tellg();
    if (!std::getline(in, line) || in.eof()) {
      in.clear();
      in.seekg(at);
      break;
    }
    offset = static_cast<std::uintmax_t>(in.tellg());
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    Result<SimFailure> failure = parse_sim_control_line(line);
    if (!failure) {
      log(LogLevel::kWarn, "sim_control", {{"error", failure.error().message}});
      continue;
    }
    apply(*failure);
  }
}

bool SimHosts::all_ended() {
  for (auto& host : hosts_) {
    std::lock_guard lock(host->mu);
    if (host->killed || !host->ended) return false;
  }
  return true;
}

int SimHosts::run() {
  if (Status prepared = prepare(); !prepared) {
    fatal_ = prepared.error().message;
    return 1;
  }
  { std::ofstream truncate(fs::path(settings_.data_dir) / "sim-control", std::ios::trunc); }
  for (auto& host : hosts_) start(*host);
  log(LogLevel::kInfo, "sim_hosts_started",
      {{"hosts", std::to_string(hosts_.size())}, {"prefix", settings_.prefix}});

  std::vector<SimFailure> pending = settings_.failures;
  std::ranges::stable_sort(pending, {}, &SimFailure::after_ms);
  const auto started = std::chrono::steady_clock::now();
  std::uintmax_t control_offset = 0;
  int code = 0;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(100), [&] { return stopped_; });
      if (stopped_) break;
    }
    const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::steady_clock::now() - started)
                             .count();
    while (!pending.empty() && pending.front().after_ms <= elapsed) {
      apply(pending.front());
      pending.erase(pending.begin());
    }
    read_control(control_offset);
    if (all_ended()) {
      fatal_ = "every simulated host's agent ended (see the log)";
      code = 1;
      break;
    }
  }
  for (auto& host : hosts_) {
    std::thread thread;
    {
      std::lock_guard lock(host->mu);
      if (host->agent) host->agent->stop();
      thread = std::move(host->thread);
    }
    if (thread.joinable()) thread.join();
  }
  return code;
}

}  // namespace corral::cli
