// Crash consistency: concurrent clients run mixed operations on the sim driver while the
// server is SIGKILLed at random moments and restarted on the same data dir. After every
// restart: every acknowledged creation exists, every acknowledged action is in its VM's
// history (done or visibly failed, never dropped), nothing stays stuck, every history is a
// continuous path whose operations the table allows, and SQLite's integrity check passes.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "driver/qemu/posix.h"
#include "lifecycle/model.h"
#include "support/recipes.h"

namespace corral::testing {
namespace {

namespace lc = corral::lifecycle;
using nlohmann::json;
using namespace std::chrono_literals;

// At least this many SIGKILLs and acknowledged operations; `make soak` asks for more through
// CORRAL_CRASH_KILLS and CORRAL_CRASH_OPS (and other random moments with CORRAL_CRASH_SEED).
long env_or(const char* name, long fallback) {
  const char* value = std::getenv(name);
  return value != nullptr ? std::strtol(value, nullptr, 10) : fallback;
}
const int kKills = static_cast<int>(env_or("CORRAL_CRASH_KILLS", 21));
const auto kAcked = static_cast<std::size_t>(env_or("CORRAL_CRASH_OPS", 1000));
const int kMaxRounds = std::max(200, kKills * 10);  // a slow build (ASan) needs more rounds
constexpr int kClients = 8;

json full_history(Api& api, std::int64_t vm) {
  json out = json::array();
  std::int64_t after = 0;
  for (;;) {
    const ApiResult r = api.get("/v1/vms/" + std::to_string(vm) +
                                "/history?limit=1000&after=" + std::to_string(after));
    if (r.status != 200) return out;
    const json& page = r.body["transitions"];
    for (const json& t : page) out.push_back(t);
    if (page.size() < 1000) return out;
    after = page.back()["id"].get<std::int64_t>();
  }
}

struct Ledger {
  std::mutex mu;
  std::map<std::int64_t, std::string> created;  // vm -> request id
  std::map<std::string, std::int64_t> acted;    // request id -> vm
  std::vector<std::int64_t> vms;
  std::atomic<long> sent = 0;
};

void client_loop(const std::string& url, Ledger& ledger, int client, int round,
                 std::atomic<bool>& stop) {
  httplib::Client http(url);
  http.set_connection_timeout(0, 300'000);
  http.set_read_timeout(2, 0);
  std::mt19937 random(static_cast<unsigned>(round * 1000 + client));
  const std::vector<std::string> actions = {
      "pause",  "unpause", "shutdown",       "start",     "suspend",
      "resume", "reboot",  "terminate_hard", "hibernate", "shutdown_hard"};
  for (int i = 0; !stop; ++i) {
    const std::string request_id =
        "r" + std::to_string(round) + "c" + std::to_string(client) + "n" + std::to_string(i);
    const httplib::Headers headers = {{"X-Request-Id", request_id}};
    std::int64_t vm = 0;
    {
      std::lock_guard lock(ledger.mu);
      if (!ledger.vms.empty() && random() % 8 != 0) vm = ledger.vms[random() % ledger.vms.size()];
    }
    ++ledger.sent;
    if (vm == 0) {
      auto r = http.Post(
          "/v1/vms", headers,
          json{{"name", request_id}, {"image", "tiny"}, {"vcpus", 1}, {"memory_mib", 64}}.dump(),
          "application/json");
      if (r && r->status == 202) {
        const json body = json::parse(r->body);
        std::lock_guard lock(ledger.mu);
        const std::int64_t id = body["vm"]["id"].get<std::int64_t>();
        ledger.created[id] = request_id;
        ledger.vms.push_back(id);
      }
    } else {
      auto r = http.Post("/v1/vms/" + std::to_string(vm) + "/actions", headers,
                         json{{"action", actions[random() % actions.size()]}}.dump(),
                         "application/json");
      if (r && r->status == 202) {
        std::lock_guard lock(ledger.mu);
        ledger.acted[request_id] = vm;
      }
    }
  }
}

TEST(CrashTest, SigkillAtRandomMomentsLosesNothingAndLeavesNothingStuck) {
  ServerProcess server({"--sim-profile", "fast", "--sim-hosts", "64"});
  ASSERT_TRUE(server.start()) << server.log();
  Ledger ledger;
  const auto seed = static_cast<unsigned>(env_or("CORRAL_CRASH_SEED", 42));
  SCOPED_TRACE("CORRAL_CRASH_SEED=" + std::to_string(seed));
  std::mt19937 random(seed);
  int kills = 0;
  const auto enough = [&] {
    std::lock_guard lock(ledger.mu);
    return kills >= kKills && ledger.created.size() + ledger.acted.size() >= kAcked;
  };
  for (int round = 0; round < kMaxRounds && !enough(); ++round) {
    std::atomic<bool> stop = false;
    std::vector<std::thread> clients;
    for (int c = 0; c < kClients; ++c) {
      clients.emplace_back(client_loop, server.url(), std::ref(ledger), c, round, std::ref(stop));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50 + random() % 300));
    server.kill();  // SIGKILL, whatever is in flight
    ++kills;
    stop = true;
    for (std::thread& t : clients) t.join();
    ASSERT_TRUE(server.start()) << server.log();

    Api api(server);
    std::lock_guard lock(ledger.mu);
    for (const auto& [vm, request_id] : ledger.created) {
      ASSERT_EQ(api.get("/v1/vms/" + std::to_string(vm)).status, 200)
          << "acknowledged creation " << request_id << " of VM " << vm << " was lost";
    }
    std::map<std::int64_t, std::set<std::string>> requests_in_history;
    for (std::int64_t vm : ledger.vms) {
      ASSERT_TRUE(api.wait_idle(vm, 20'000).is_object()) << "VM " << vm << " stuck after restart";
      const json h = full_history(api, vm);
      std::string state = "INIT";
      for (const json& t : h) {
        // Continuous: each transition starts where the last one ended.
        ASSERT_EQ(t["from"], state) << "VM " << vm << ": " << t.dump();
        state = t["to"].get<std::string>();
        if (!t["request_id"].is_null()) {
          requests_in_history[vm].insert(t["request_id"].get<std::string>());
        }
        // An operation a client started is one the table allows from where it started.
        if (t["actor"] == "api" && t["status"] == "running" && t["action"] != "create") {
          const auto action = lc::parse_action(t["action"].get<std::string>());
          const auto from = lc::parse_state(t["from"].get<std::string>());
          ASSERT_TRUE(action && from);
          EXPECT_TRUE(lc::allowed(lc::record_at_rest(*from), *action))
              << "VM " << vm << ": " << t.dump();
        }
      }
    }
    for (const auto& [request_id, vm] : ledger.acted) {
      EXPECT_TRUE(requests_in_history[vm].contains(request_id))
          << "acknowledged action " << request_id << " on VM " << vm << " was dropped";
    }
    Result<driver::qemu::CommandResult> check = driver::qemu::run_command(
        {"sqlite3", server.data_dir() + "/var/corral.db", "PRAGMA integrity_check;"}, 30s);
    ASSERT_TRUE(check.has_value());
    EXPECT_EQ(check->output, "ok\n");
  }
  std::printf(
      "crash: %ld requests sent, %zu creations and %zu actions acknowledged, %d SIGKILLs "
      "survived, 0 lost, 0 stuck\n",
      ledger.sent.load(), ledger.created.size(), ledger.acted.size(), kills);
  EXPECT_GE(kills, kKills);
  EXPECT_GE(ledger.created.size() + ledger.acted.size(), kAcked);
}

}  // namespace
}  // namespace corral::testing
