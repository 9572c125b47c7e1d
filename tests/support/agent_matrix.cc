#include "support/agent_matrix.h"

#include <gtest/gtest.h>

#include <chrono>

namespace corral::testing {

namespace lc = corral::lifecycle;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

// A report counts once it is this much newer than the end of the operation: more than one
// heartbeat interval (0.3 s), so that its figures were taken after the last phase.
constexpr std::int64_t kFreshMs = 400;

}  // namespace

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool fresh(const json& host, std::int64_t after_ms) {
  const json& at = host["last_heartbeat_ms"];
  return at.is_number() && at.get<std::int64_t>() > after_ms;
}

std::string AgentPoint::describe() const {
  return std::string(lc::action_name(row->action)) + " from " +
         std::string(lc::state_name(origin)) + (undo ? ", undo phase " : ", phase ") +
         std::string(lc::phase_name(phase));
}

std::vector<AgentPoint> agent_points_from_table(
    const std::function<bool(const lc::Transition&)>& selects) {
  std::vector<AgentPoint> out;
  for (const lc::Transition& t : lc::transitions()) {
    if (!selects(t) || !t.when_idle || t.instant()) continue;
    for (lc::State origin : lc::kAllStates) {
      if (!t.from.contains(origin)) continue;
      for (const lc::PhaseStep& s : t.phases()) {
        if (s.phase == lc::Phase::kSchedule) continue;  // the engine's own, no agent runs it
        out.push_back({&t, origin, s.phase, s.runs_on, false});
      }
      for (const lc::PhaseStep& s : t.undo()) out.push_back({&t, origin, s.phase, s.runs_on, true});
    }
  }
  return out;
}

bool AgentRig::start(const std::set<lc::Phase>& held) {
  if (!cluster_.start()) return false;
  AgentOptions o = cluster_.agent_options();
  for (lc::Phase phase : held) {
    o.extra.push_back("--sim-latency");
    o.extra.push_back(std::string(lc::phase_name(phase)) + "=" + std::to_string(kHoldMs));
  }
  agents_["h1"] = cluster_.join("h1", o);
  agents_["h2"] = cluster_.join("h2", o);
  return agents_["h1"] && agents_["h2"];
}

void AgentRig::restart_agent(const std::string& host) {
  EXPECT_TRUE(agents_.at(host)->start()) << agents_.at(host)->log();
  EXPECT_TRUE(cluster_.wait_connected(host)) << host << ": " << agents_.at(host)->log();
}

std::int64_t bring_vm_to(Cluster& c, lc::State origin, const std::string& name, const json& extra) {
  const std::int64_t id = c.create(name, extra);
  if (id == 0 || !c.wait_vm(id, "RUNNING")) {
    ADD_FAILURE() << c.vm(id).dump();
    return 0;
  }
  const std::string path = "/v1/vms/" + std::to_string(id);
  switch (origin) {
    case lc::State::kRunning:
      return id;
    case lc::State::kPoweroff:
      c.api().post(path + "/actions", {{"action", "shutdown"}});
      return c.wait_vm(id, "POWEROFF") ? id : 0;
    case lc::State::kSuspended:
      c.api().post(path + "/actions", {{"action", "suspend"}});
      return c.wait_vm(id, "SUSPENDED") ? id : 0;
    case lc::State::kUnknown:
      c.api().post("/v1/admin/vms/" + std::to_string(id) + "/external", {{"event", "lost"}});
      return c.wait_vm(id, "UNKNOWN") ? id : 0;
    case lc::State::kPaused:
      c.api().post(path + "/actions", {{"action", "pause"}});
      return c.wait_vm(id, "PAUSED") ? id : 0;
    case lc::State::kResized:
      c.api().post(path + "/actions", {{"action", "resize_migrate"}, {"memory_mib", 192}});
      return c.wait_vm(id, "RESIZED") ? id : 0;
    default:
      ADD_FAILURE() << "no recipe for origin " << lc::state_name(origin);
      return 0;
  }
}

bool wait_in_phase(Cluster& c, std::int64_t id, const AgentPoint& p) {
  return eventually(
      [&] {
        const json vm = c.vm(id);
        const json& op = vm["operation"];
        if (!op.is_object() || op.value("status", "") != "running") return false;
        if (op["phase"] != lc::phase_name(p.phase)) return false;
        return op["undoing"].is_null() != p.undo;
      },
      10s);
}

bool store_says_runs(const json& vm) {
  const std::string state = vm.value("state", "");
  const std::string power = vm.value("power", "");
  return (state == "RUNNING" || state == "PAUSED" || state == "RESIZED") &&
         (power == "running" || power == "paused");
}

std::string HostsSeen::describe() const {
  std::string out;
  for (const auto& [host, n] : running) {
    out += (out.empty() ? "" : ", ") + host + " runs " + std::to_string(n);
  }
  return out;
}

HostsSeen hosts_agree(Cluster& c, const std::vector<std::string>& hosts, const std::string& at,
                      bool runs) {
  HostsSeen seen;
  const std::int64_t idle_at = now_ms() + kFreshMs;
  seen.agree = eventually(
      [&] {
        std::map<std::string, int> running;
        for (const std::string& name : hosts) {
          const json h = c.host(name);
          if (!fresh(h, idle_at)) return false;
          running[name] = h["metrics"].value("running_vms", 0);
        }
        seen.running = running;
        int all = 0;
        for (const auto& [name, n] : running) all += n;
        if (all > 1) seen.doubled = true;
        const int there = running.contains(at) ? running.at(at) : 0;
        return runs ? (all == 1 && there == 1) : all == 0;
      },
      8s);
  return seen;
}

void terminate_out_of_the_way(Cluster& c, std::int64_t id) {
  const std::string path = "/v1/vms/" + std::to_string(id);
  c.api().post(path + "/actions", {{"action", "terminate_hard"}});
  EXPECT_TRUE(eventually(
      [&] { return c.api().get(path).status == 404 || c.vm(id).value("state", "") == "DONE"; },
      20s))
      << c.vm(id).dump();
}

}  // namespace corral::testing
