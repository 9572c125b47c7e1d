// Crash consistency: concurrent clients run mixed operations on the sim driver while the
// server is SIGKILLed at random moments and restarted on the same data dir. After every
// restart: every acknowledged creation exists, every acknowledged action is in its VM's
// history (done or visibly failed, never dropped), nothing stays stuck, every history replays
// through the model entry by entry (each a step the model takes from where the earlier ones
// led, ending where the VM is), and SQLite's integrity check passes.
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
  http.set_bearer_token_auth(token_for_url(url));  // the server's local admin credential
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
  int lost = 0;   // acknowledged creations or actions missing after a restart
  int stuck = 0;  // VMs still busy after a restart
  std::size_t histories = 0;
  std::size_t replayed = 0;  // history entries replayed through the model
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
      if (api.get("/v1/vms/" + std::to_string(vm)).status != 200) {
        ++lost;
        ADD_FAILURE() << "acknowledged creation " << request_id << " of VM " << vm << " was lost";
      }
    }
    std::map<std::int64_t, std::set<std::string>> requests_in_history;
    for (std::int64_t vm : ledger.vms) {
      if (!api.wait_idle(vm, 20'000).is_object()) {
        ++stuck;
        ADD_FAILURE() << "VM " << vm << " stuck after restart";
        continue;
      }
      const json h = full_history(api, vm);
      for (const json& t : h) {
        if (!t["request_id"].is_null()) {
          requests_in_history[vm].insert(t["request_id"].get<std::string>());
        }
      }
      // Every entry is a step the model takes from where the earlier ones led.
      replayed += expect_history_replays(api, vm, h);
      ++histories;
    }
    for (const auto& [request_id, vm] : ledger.acted) {
      if (!requests_in_history[vm].contains(request_id)) {
        ++lost;
        ADD_FAILURE() << "acknowledged action " << request_id << " on VM " << vm << " was dropped";
      }
    }
    Result<driver::qemu::CommandResult> check = driver::qemu::run_command(
        {"sqlite3", server.data_dir() + "/var/corral.db", "PRAGMA integrity_check;"}, 30s);
    ASSERT_TRUE(check.has_value());
    EXPECT_EQ(check->output, "ok\n");
  }
  EXPECT_EQ(lost, 0);
  EXPECT_EQ(stuck, 0);
  std::printf(
      "crash: %ld requests sent, %zu creations and %zu actions acknowledged, %d SIGKILLs "
      "survived, %d lost, %d stuck; %zu history replays (%zu entries) through the model\n",
      ledger.sent.load(), ledger.created.size(), ledger.acted.size(), kills, lost, stuck, histories,
      replayed);
  EXPECT_GE(kills, kKills);
  EXPECT_GE(ledger.created.size() + ledger.acted.size(), kAcked);
}

}  // namespace
}  // namespace corral::testing
