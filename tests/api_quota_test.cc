// Quotas against a real `corral server` (sim driver): 64 clients creating at once against a
// limit of 10 make exactly 10; the refusals are 403 quota_exceeded naming the resource, the
// request, the use and the limit; SIGKILLs in the middle of bursts lose no acknowledged VM,
// never leave the project over its limit, and leave the use the server reports equal to a
// recount of the VMs; a start from POWEROFF takes the running quota back.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/api_call.h"
#include "support/server_process.h"

namespace corral::testing {
namespace {

using nlohmann::json;

using Reply = ApiReply;

Reply send(const std::string& url, const std::string& token, const std::string& method,
           const std::string& path, const json& body = nullptr) {
  return api_call(url, token, method, path, body);
}

class QuotaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerProcess>(
        std::vector<std::string>{"--sim-profile", "zero", "--sim-hosts", "4"});
    ASSERT_TRUE(server_->start()) << server_->log();
    const std::string admin = server_->admin_token();
    ASSERT_EQ(send(url(), admin, "POST", "/v1/projects", {{"name", "q"}}).status, 201);
    ASSERT_EQ(
        send(url(), admin, "POST", "/v1/users",
             {{"name", "m"}, {"password", "password-m"}, {"project", "q"}, {"role", "member"}})
            .status,
        201);
    const Reply limits = send(url(), admin, "PUT", "/v1/projects/q/quotas", {{"vms", 10}});
    ASSERT_EQ(limits.status, 200) << limits.body.dump();
    // A long-lived token: it outlives the restarts below.
    const Reply t =
        send(url(), "", "POST", "/v1/auth/tokens", {{"user", "m"}, {"password", "password-m"}});
    ASSERT_EQ(t.status, 201) << t.body.dump();
    token_ = t.body["token"];
  }
  std::string url() const { return server_->url(); }

  // `n` clients create at once; the ids of those answered 202, and the refusals.
  std::pair<std::vector<std::int64_t>, std::vector<json>> burst(int n) {
    std::mutex mu;
    std::vector<std::int64_t> made;
    std::vector<json> refused;
    std::vector<std::thread> clients;
    std::atomic<int> ready = 0;
    for (int i = 0; i < n; ++i) {
      clients.emplace_back([&, i] {
        ++ready;
        while (ready < n) std::this_thread::yield();
        const Reply r = send(url(), token_, "POST", "/v1/vms",
                             {{"name", "b" + std::to_string(i)},
                              {"image", "tiny"},
                              {"vcpus", 1},
                              {"memory_mib", 128}});
        std::lock_guard lock(mu);
        if (r.status == 202) made.push_back(r.body["vm"]["id"]);
        if (r.status == 403) refused.push_back(r.body);
      });
    }
    for (std::thread& t : clients) t.join();
    return {made, refused};
  }
  // The project's VMs that count (not DONE), by listing them.
  std::set<std::int64_t> live_vms() {
    std::set<std::int64_t> ids;
    const Reply r = send(url(), token_, "GET", "/v1/vms?limit=1000");
    EXPECT_EQ(r.status, 200) << r.body.dump();
    for (const json& vm : r.body["vms"]) {
      if (vm["state"] != "DONE") ids.insert(vm["id"].get<std::int64_t>());
    }
    return ids;
  }
  json quota(const std::string& name) {
    return send(url(), token_, "GET", "/v1/projects/q/quotas").body["quotas"][name];
  }

  std::unique_ptr<ServerProcess> server_;
  std::string token_;
};

TEST_F(QuotaTest, SixtyFourConcurrentCreatesAgainstTenMakeTen) {
  auto [made, refused] = burst(64);
  EXPECT_EQ(made.size(), 10U);
  EXPECT_EQ(refused.size(), 54U);
  for (const json& r : refused) {
    EXPECT_EQ(r["error"]["code"], "quota_exceeded") << r.dump();
    EXPECT_EQ(r["error"]["quota"]["resource"], "vms");
    EXPECT_EQ(r["error"]["quota"]["requested"], 1);
    EXPECT_EQ(r["error"]["quota"]["limit"], 10);
    EXPECT_EQ(r["error"]["quota"]["used"], 10);
    EXPECT_EQ(r["error"]["message"],
              "quota exceeded for vms: requested 1, but already used 10 of 10");
  }
  EXPECT_EQ(live_vms().size(), 10U);
  EXPECT_EQ(quota("vms")["in_use"], 10);
  EXPECT_EQ(quota("vcpus")["in_use"], 10);
  EXPECT_EQ(quota("memory_mib")["in_use"], 1280);
  EXPECT_EQ(quota("vms")["limit"], 10);
}

TEST_F(QuotaTest, SigkillsDuringBurstsLoseNothingNeverOvershootAndTheCountEqualsARecount) {
  std::set<std::int64_t> acknowledged;
  for (int round = 0; round < 4; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    // Make room: end half of the project's VMs.
    int ended = 0;
    for (std::int64_t id : live_vms()) {
      if (ended++ % 2 == 0) {
        send(url(), token_, "POST", "/v1/vms/" + std::to_string(id) + "/actions",
             {{"action", "terminate_hard"}});
      }
    }
    // A burst, and the server killed while it runs.
    std::thread killer([&, round] {
      std::this_thread::sleep_for(std::chrono::milliseconds(5 + 10 * round));
      server_->kill();
    });
    auto [made, refused] = burst(64);
    killer.join();
    acknowledged.insert(made.begin(), made.end());
    ASSERT_TRUE(server_->start()) << server_->log();
    const std::set<std::int64_t> live = live_vms();
    EXPECT_LE(live.size(), 10U) << "over the quota";
    EXPECT_EQ(quota("vms")["in_use"], static_cast<int>(live.size()))
        << "the count is not a recount";
    EXPECT_EQ(quota("vcpus")["in_use"], static_cast<int>(live.size()));
    // Every acknowledged create is there (live, or ended by a terminate above).
    for (std::int64_t id : acknowledged) {
      EXPECT_EQ(send(url(), token_, "GET", "/v1/vms/" + std::to_string(id)).status, 200)
          << "VM " << id << " was acknowledged and is lost";
    }
  }
  // After the last restart a burst fills the project exactly up to its limit.
  const std::size_t before = live_vms().size();
  auto [made, refused] = burst(64);
  EXPECT_EQ(before + made.size(), 10U);
  EXPECT_EQ(live_vms().size(), 10U);
  EXPECT_EQ(quota("vms")["in_use"], 10);
}

TEST_F(QuotaTest, ARunningQuotaIsReleasedByPowerOffAndTakenBackByStart) {
  const std::string admin = server_->admin_token();
  ASSERT_EQ(send(url(), admin, "PUT", "/v1/projects/q/quotas", {{"running_vms", 1}}).status, 200);
  const Reply first = send(url(), token_, "POST", "/v1/vms",
                           {{"name", "a"}, {"image", "tiny"}, {"vcpus", 1}, {"memory_mib", 128}});
  ASSERT_EQ(first.status, 202) << first.body.dump();
  const std::string a = "/v1/vms/" + std::to_string(first.body["vm"]["id"].get<std::int64_t>());
  const auto wait_for = [&](const std::string& path, const std::string& state) {
    for (int i = 0; i < 300; ++i) {
      const Reply r = send(url(), token_, "GET", path);
      if (r.body["state"] == state && r.body["operation"].is_object() &&
          r.body["operation"]["status"] != "running") {
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  };
  ASSERT_TRUE(wait_for(a, "RUNNING"));
  const json body = {{"name", "b"}, {"image", "tiny"}, {"vcpus", 1}, {"memory_mib", 128}};
  Reply second = send(url(), token_, "POST", "/v1/vms", body);
  EXPECT_EQ(second.status, 403) << second.body.dump();
  EXPECT_EQ(second.body["error"]["quota"]["resource"], "running_vms");
  ASSERT_EQ(send(url(), token_, "POST", a + "/actions", {{"action", "shutdown_hard"}}).status, 202);
  ASSERT_TRUE(wait_for(a, "POWEROFF"));
  EXPECT_EQ(quota("running_vms")["in_use"], 0);
  EXPECT_EQ(quota("vms")["in_use"], 1) << "a powered-off VM still counts in the total";
  second = send(url(), token_, "POST", "/v1/vms", body);
  ASSERT_EQ(second.status, 202) << second.body.dump();
  // Now the first cannot start again: OpenNebula checks RUNNING_* on resume.
  const Reply start = send(url(), token_, "POST", a + "/actions", {{"action", "start"}});
  EXPECT_EQ(start.status, 403) << start.body.dump();
  EXPECT_EQ(start.body["error"]["code"], "quota_exceeded");
}

TEST_F(QuotaTest, VolumesCountByNumberAndSizeWithSnapshotsAndAreTheirProjectsOwn) {
  const std::string admin = server_->admin_token();
  ASSERT_EQ(
      send(url(), admin, "PUT", "/v1/projects/q/quotas", {{"volumes", 2}, {"volume_mib", 100}})
          .status,
      200);
  const auto make = [&](const std::string& name, int mib) {
    return send(url(), token_, "POST", "/v1/volumes", {{"name", name}, {"size_mib", mib}});
  };
  const auto settle = [&](const std::string& name) {
    for (int i = 0; i < 300; ++i) {
      const Reply r = send(url(), token_, "GET", "/v1/volumes/" + name);
      if (r.body["volume"]["busy"] == false) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ADD_FAILURE() << name << " stayed busy";
  };
  ASSERT_EQ(make("d1", 40).status, 201);
  settle("d1");
  Reply over = make("d2", 70);  // 40 + 70 > 100
  EXPECT_EQ(over.status, 403) << over.body.dump();
  EXPECT_EQ(over.body["error"]["quota"]["resource"], "volume_mib");
  EXPECT_EQ(over.body["error"]["quota"]["used"], 40);
  ASSERT_EQ(make("d2", 20).status, 201);
  settle("d2");
  over = make("d3", 1);
  EXPECT_EQ(over.status, 403);
  EXPECT_EQ(over.body["error"]["quota"]["resource"], "volumes");
  // A snapshot is a full copy: 40 more would make 100 — allowed; then an extend by 1 is not.
  ASSERT_EQ(send(url(), token_, "POST", "/v1/volumes/d1/action", {{"action", "snapshot"}}).status,
            202);
  settle("d1");
  EXPECT_EQ(quota("volume_mib")["in_use"], 100);
  over = send(url(), token_, "POST", "/v1/volumes/d2/action",
              {{"action", "extend"}, {"size_mib", 21}});
  EXPECT_EQ(over.status, 403) << over.body.dump();
  EXPECT_EQ(over.body["error"]["quota"]["resource"], "volume_mib");
  EXPECT_EQ(quota("volumes")["in_use"], 2);

  // Another project's member: the volumes are not there, and cannot be attached to its VMs.
  ASSERT_EQ(send(url(), admin, "POST", "/v1/projects", {{"name", "other"}}).status, 201);
  ASSERT_EQ(
      send(url(), admin, "POST", "/v1/users",
           {{"name", "o"}, {"password", "password-o"}, {"project", "other"}, {"role", "member"}})
          .status,
      201);
  const std::string other =
      send(url(), "", "POST", "/v1/auth/tokens", {{"user", "o"}, {"password", "password-o"}})
          .body.value("token", "");
  EXPECT_EQ(send(url(), other, "GET", "/v1/volumes/d1").status, 404);
  EXPECT_EQ(send(url(), other, "DELETE", "/v1/volumes/d1").status, 404);
  EXPECT_EQ(send(url(), other, "POST", "/v1/volumes/d1/action", {{"action", "snapshot"}}).status,
            404);
  EXPECT_TRUE(send(url(), other, "GET", "/v1/volumes").body["volumes"].empty());
  const Reply vm = send(url(), other, "POST", "/v1/vms",
                        {{"name", "ov"}, {"image", "tiny"}, {"vcpus", 1}, {"memory_mib", 128}});
  ASSERT_EQ(vm.status, 202);
  const std::string path = "/v1/vms/" + std::to_string(vm.body["vm"]["id"].get<std::int64_t>());
  for (int i = 0; i < 300 && send(url(), other, "GET", path).body["state"] != "RUNNING"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const Reply attach =
      send(url(), other, "POST", path + "/actions", {{"action", "disk_attach"}, {"volume", "d1"}});
  EXPECT_EQ(attach.status, 404) << attach.body.dump();
  EXPECT_EQ(send(url(), token_, "GET", "/v1/volumes/d1").body["volume"]["attach_status"],
            "detached");
}

// Nova's server_groups (groups per project) and server_group_members (VMs per group, each
// group counted alone): 403 quota_exceeded naming the resource; the use shown is the number
// of groups and the fullest group's members.
TEST_F(QuotaTest, ServerGroupsCountByNumberAndTheirMembersPerGroup) {
  const std::string admin = server_->admin_token();
  ASSERT_EQ(send(url(), admin, "PUT", "/v1/projects/q/quotas",
                 {{"server_groups", 2}, {"server_group_members", 1}})
                .status,
            200);
  const auto group = [&](const std::string& name) {
    return send(url(), token_, "POST", "/v1/server-groups",
                {{"name", name}, {"policy", "soft-anti-affinity"}});
  };
  ASSERT_EQ(group("g1").status, 201);
  ASSERT_EQ(group("g2").status, 201);
  Reply over = group("g3");
  EXPECT_EQ(over.status, 403) << over.body.dump();
  EXPECT_EQ(over.body["error"]["quota"]["resource"], "server_groups");
  const auto member = [&](const std::string& in) {
    return send(
        url(), token_, "POST", "/v1/vms",
        {{"name", "m"}, {"image", "tiny"}, {"vcpus", 1}, {"memory_mib", 128}, {"group", in}});
  };
  ASSERT_EQ(member("g1").status, 202);
  over = member("g1");
  EXPECT_EQ(over.status, 403) << over.body.dump();
  EXPECT_EQ(over.body["error"]["quota"]["resource"], "server_group_members");
  EXPECT_EQ(over.body["error"]["quota"]["used"], 1);
  EXPECT_EQ(member("g2").status, 202) << "the limit is per group";
  EXPECT_EQ(quota("server_groups")["in_use"], 2);
  EXPECT_EQ(quota("server_group_members")["in_use"], 1);
  EXPECT_EQ(quota("server_group_members")["nova"], "server_group_members");
}

// Per token and per project (the per-address limit is limits_test's): a member's token is cut
// at its burst, a second token of the same project at the project's, and the cloud's admin not
// at all; the refusal is 429 naming which limit.
TEST(RateLimitTest, PerTokenAndPerProjectButNotTheCloudAdmin) {
  ServerProcess server({"--sim-profile", "zero", "--token-rate-limit", "0.01", "--token-rate-burst",
                        "5", "--project-rate-limit", "0.01", "--project-rate-burst", "8"});
  ASSERT_TRUE(server.start()) << server.log();
  const std::string url = server.url();
  const std::string admin = server.admin_token();
  ASSERT_EQ(send(url, admin, "POST", "/v1/projects", {{"name", "r"}}).status, 201);
  ASSERT_EQ(send(url, admin, "POST", "/v1/users",
                 {{"name", "m"}, {"password", "password-m"}, {"project", "r"}, {"role", "member"}})
                .status,
            201);
  const auto login = [&] {
    return send(url, "", "POST", "/v1/auth/tokens", {{"user", "m"}, {"password", "password-m"}})
        .body.value("token", "");
  };
  const std::string first = login();
  const std::string second = login();
  const auto count_ok = [&](const std::string& token, int n, std::string* refusal) {
    int ok = 0;
    for (int i = 0; i < n; ++i) {
      const Reply r = send(url, token, "GET", "/v1/vms");
      if (r.status == 200) ++ok;
      if (r.status == 429 && refusal != nullptr && refusal->empty()) *refusal = error_message(r);
    }
    return ok;
  };
  std::string why;
  EXPECT_EQ(count_ok(first, 8, &why), 5);  // the token's burst
  EXPECT_NE(why.find("with this token"), std::string::npos) << why;
  why.clear();
  EXPECT_EQ(count_ok(second, 8, &why), 3);  // what is left of the project's 8
  EXPECT_NE(why.find("in project r;"), std::string::npos) << why;
  EXPECT_EQ(count_ok(admin, 50, nullptr), 50);  // the cloud's admin: no limit
}

}  // namespace
}  // namespace corral::testing
