// The audit log and /metrics against a real `corral server` (sim driver): every change and
// every refusal is recorded with who, from where, the request id, the verb in the caller's
// vocabulary and the outcome; successful reads are not; a VM's owners see its entries and
// nobody else does; an acknowledged change's entry survives a SIGKILL of the server; the
// metrics count the VMs by project and state, the operations and the requests.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "audit/entry_codec.h"
#include "support/api_call.h"
#include "support/server_process.h"

namespace corral::testing {
namespace {

using nlohmann::json;

class AuditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerProcess>(
        std::vector<std::string>{"--sim-profile", "zero", "--sim-hosts", "1"});
    ASSERT_TRUE(server_->start()) << server_->log();
    admin_ = server_->admin_token();
    for (const char* p : {"p", "q"}) {
      ASSERT_EQ(api_call(url(), admin_, "POST", "/v1/projects", {{"name", p}}).status, 201);
    }
    for (const auto& [user, project] : {std::pair{"ann", "p"}, std::pair{"bob", "q"}}) {
      ASSERT_EQ(api_call(url(), admin_, "POST", "/v1/users",
                         {{"name", user},
                          {"password", std::string("password-") + user},
                          {"project", project},
                          {"role", "member"}})
                    .status,
                201);
    }
    ann_ = login("ann");
    bob_ = login("bob");
  }

  std::string url() const { return server_->url(); }
  std::string login(const std::string& user) {
    const ApiReply r = api_call(url(), "", "POST", "/v1/auth/tokens",
                                {{"user", user}, {"password", "password-" + user}});
    EXPECT_EQ(r.status, 201) << r.text;
    return r.body.value("token", "");
  }
  std::int64_t running_vm(const std::string& token, const std::string& request_id) {
    const ApiReply r = api_call(
        url(), token, "POST", "/v1/vms",
        {{"name", "v"}, {"image", "tiny"}, {"vcpus", 1}, {"memory_mib", 128}}, 5, request_id);
    EXPECT_EQ(r.status, 202) << r.text;
    const std::int64_t id = r.body["vm"]["id"];
    wait_state(token, id, "RUNNING");
    return id;
  }
  void wait_state(const std::string& token, std::int64_t id, const std::string& state) {
    for (int i = 0; i < 250; ++i) {
      const ApiReply r = api_call(url(), token, "GET", "/v1/vms/" + std::to_string(id));
      if (r.body["state"] == state) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ADD_FAILURE() << "VM " << id << " never reached " << state;
  }
  // The VM's audit entries once there are at least `n` (refusals are written shortly after
  // their reply).
  json actions(const std::string& token, std::int64_t vm, std::size_t n) {
    json last;
    for (int i = 0; i < 100; ++i) {
      const ApiReply r =
          api_call(url(), token, "GET", "/v1/vms/" + std::to_string(vm) + "/actions");
      EXPECT_EQ(r.status, 200) << r.text;
      last = r.body["actions"];
      if (last.size() >= n) return last;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return last;
  }
  json audit(const std::string& query, std::size_t n) {
    json last;
    for (int i = 0; i < 100; ++i) {
      const ApiReply r = api_call(url(), admin_, "GET", "/v1/audit?" + query);
      EXPECT_EQ(r.status, 200) << r.text;
      last = r.body["actions"];
      if (last.size() >= n) return last;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return last;
  }

  std::unique_ptr<ServerProcess> server_;
  std::string admin_, ann_, bob_;
};

TEST_F(AuditTest, EveryChangeAndRefusalIsRecordedWithWhoWhereAndHowAndOnlyOwnersSeeIt) {
  const std::int64_t vm = running_vm(ann_, "req-audit-create");
  const std::string path = "/v1/vms/" + std::to_string(vm);
  // A change in Nova's words, a refusal in them, a read (not recorded), and another project's
  // attempts on the VM (404 for them, recorded for the owners).
  EXPECT_EQ(api_call(url(), ann_, "POST", path + "/actions",
                     {{"vocabulary", "nova"}, {"action", "stop"}}, 5, "req-audit-stop")
                .status,
            202);
  wait_state(ann_, vm, "POWEROFF");
  const ApiReply refused = api_call(url(), ann_, "POST", path + "/actions",
                                    {{"vocabulary", "nova"}, {"action", "stop"}});
  EXPECT_EQ(refused.status, 409) << refused.text;
  EXPECT_EQ(api_call(url(), ann_, "GET", path).status, 200);
  EXPECT_EQ(api_call(url(), bob_, "GET", path).status, 404);
  EXPECT_EQ(api_call(url(), bob_, "POST", path + "/actions", {{"action", "terminate"}}).status,
            404);

  const json got = actions(ann_, vm, 5);
  ASSERT_EQ(got.size(), 5U) << got.dump(1);
  struct Want {
    std::string user, project, method, verb, vocabulary, outcome;
    int status;
  };
  const Want want[] = {
      {"ann", "p", "POST", "create", "corral", "accepted", 202},
      {"ann", "p", "POST", "stop", "nova", "accepted", 202},
      {"ann", "p", "POST", "stop", "nova", "refused", 409},
      {"bob", "q", "GET", "GET /v1/vms/{id}", "corral", "refused", 404},
      {"bob", "q", "POST", "terminate", "corral", "refused", 404},
  };
  for (std::size_t i = 0; i < std::size(want); ++i) {
    const json& e = got[i];
    SCOPED_TRACE(e.dump());
    EXPECT_EQ(e["user"], want[i].user);
    EXPECT_EQ(e["project"], want[i].project);
    EXPECT_EQ(e["method"], want[i].method);
    EXPECT_EQ(e["verb"], want[i].verb);
    EXPECT_EQ(e["vocabulary"], want[i].vocabulary);
    EXPECT_EQ(e["outcome"], want[i].outcome);
    EXPECT_EQ(e["status"], want[i].status);
    EXPECT_EQ(e["vm"], vm);
    EXPECT_EQ(e["source"], "127.0.0.1");
    EXPECT_TRUE(e["at"].is_string());
    EXPECT_TRUE(e["request_id"].is_string() && !e["request_id"].get<std::string>().empty());
  }
  EXPECT_EQ(got[0]["request_id"], "req-audit-create");
  EXPECT_EQ(got[1]["request_id"], "req-audit-stop");
  EXPECT_TRUE(got[0]["message"].is_null());
  EXPECT_EQ(got[2]["message"], error_message(refused));
  // Not the owners': another project's member, and the audit of the whole cloud.
  EXPECT_EQ(api_call(url(), bob_, "GET", path + "/actions").status, 404);
  EXPECT_EQ(api_call(url(), ann_, "GET", "/v1/audit").status, 403);

  // Refusals without a caller: no token, and a wrong password (recorded with the name tried).
  EXPECT_EQ(api_call(url(), "", "POST", "/v1/vms", {{"name", "x"}}).status, 401);
  EXPECT_EQ(api_call(url(), "", "POST", "/v1/auth/tokens",
                     {{"user", "ann"}, {"password", "not-her-password"}})
                .status,
            401);
  const json refusals = audit("outcome=refused", 7);
  bool anonymous = false, bad_login = false;
  for (const json& e : refusals) {
    if (e["status"] == 401 && e["path"] == "/v1/vms" && e["user"].is_null()) anonymous = true;
    if (e["status"] == 401 && e["verb"] == "login" && e["user"] == "ann") bad_login = true;
    EXPECT_EQ(e["outcome"], "refused");
  }
  EXPECT_TRUE(anonymous) << refusals.dump(1);
  EXPECT_TRUE(bad_login) << refusals.dump(1);
  // Filters: one user's, one project's.
  for (const json& e : audit("user=bob", 2)) EXPECT_EQ(e["user"], "bob");
  for (const json& e : audit("project=p", 3)) EXPECT_EQ(e["project"], "p");
  EXPECT_EQ(api_call(url(), admin_, "GET", "/v1/audit?outcome=maybe").status, 400);
  EXPECT_EQ(api_call(url(), admin_, "GET", "/v1/audit?colour=red").status, 400);
}

TEST_F(AuditTest, AnAcknowledgedChangesEntrySurvivesASigkill) {
  const std::int64_t vm = running_vm(ann_, "req-made");
  const std::string path = "/v1/vms/" + std::to_string(vm);
  ASSERT_EQ(api_call(url(), ann_, "POST", path + "/actions", {{"action", "reboot"}}, 5, "req-last")
                .status,
            202);
  server_->kill();  // right after the reply: nothing more is written
  ASSERT_TRUE(server_->start()) << server_->log();
  const json got = actions(ann_, vm, 2);
  ASSERT_GE(got.size(), 2U) << got.dump(1);
  EXPECT_EQ(got.back()["request_id"], "req-last");
  EXPECT_EQ(got.back()["verb"], "reboot");
  EXPECT_EQ(got.back()["outcome"], "accepted");
}

// The crash window of an accepted change, made on purpose: an entry left in corral.db's audit
// outbox that audit.db never got (as after a SIGKILL between the engine's commit and the audit
// writer's) is copied in at the next start, exactly once.
TEST_F(AuditTest, AnEntryLeftInTheOutboxIsCopiedInAtTheNextStartOnce) {
  const std::int64_t vm = running_vm(ann_, "req-before");
  ASSERT_EQ(server_->stop(), 0);
  audit::Entry left;
  left.at = 1'700'000'000'000;
  left.request_id = "req-left-in-outbox";
  left.user_id = 2;
  left.user = "ann";
  left.project_id = 2;
  left.project = "p";
  left.source = "127.0.0.1";
  left.method = "POST";
  left.path = "/v1/vms/" + std::to_string(vm) + "/actions";
  left.route = "/v1/vms/{id}/actions";
  left.verb = "reboot";
  left.vocabulary = "corral";
  left.status = 202;
  left.outcome = audit::Outcome::kAccepted;
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((server_->server_data_dir() + "/corral.db").c_str(), &db), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db,
                                 "INSERT INTO audit_outbox(id, vm_id, body, at) VALUES ("
                                 "(SELECT max_id + 1 FROM audit_outbox_ids), ?1, ?2,"
                                 " CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))",
                                 -1, &stmt, nullptr),
              SQLITE_OK)
        << sqlite3_errmsg(db);
    const std::string body = audit::encode_entry(left);
    sqlite3_bind_int64(stmt, 1, vm);
    sqlite3_bind_text(stmt, 2, body.c_str(), static_cast<int>(body.size()), SQLITE_TRANSIENT);
    EXPECT_EQ(sqlite3_step(stmt), SQLITE_DONE) << sqlite3_errmsg(db);
    sqlite3_finalize(stmt);
    EXPECT_EQ(sqlite3_exec(db, "UPDATE audit_outbox_ids SET max_id = max_id + 1", nullptr, nullptr,
                           nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  for (int start = 0; start < 2; ++start) {  // the second start copies nothing again
    ASSERT_TRUE(server_->start()) << server_->log();
    const json got = actions(ann_, vm, 2);
    int copies = 0;
    for (const json& e : got) copies += e["request_id"] == "req-left-in-outbox" ? 1 : 0;
    EXPECT_EQ(copies, 1) << got.dump(1);
    EXPECT_EQ(got.back()["verb"], "reboot");
    EXPECT_EQ(got.back()["user"], "ann");
    // A change after it commits and deletes it from the outbox once copied.
    EXPECT_EQ(api_call(url(), ann_, "POST", "/v1/vms/" + std::to_string(vm) + "/actions",
                       {{"action", "reboot"}})
                  .status,
              202);
    wait_state(ann_, vm, "RUNNING");
    ASSERT_EQ(server_->stop(), 0);
  }
}

// The value of the sample `series` (name and labels, exactly as printed); -1 if absent.
double sample(const std::string& text, const std::string& series) {
  const std::string line = "\n" + series + " ";
  const std::size_t at = ("\n" + text).find(line);
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + line.size() - 1));
}

TEST_F(AuditTest, MetricsCountVmsByProjectAndStateOperationsAndRequests) {
  const std::int64_t a = running_vm(ann_, "");
  running_vm(ann_, "");
  running_vm(bob_, "");
  ASSERT_EQ(api_call(url(), ann_, "POST", "/v1/vms/" + std::to_string(a) + "/actions",
                     {{"action", "shutdown"}})
                .status,
            202);
  wait_state(ann_, a, "POWEROFF");

  EXPECT_EQ(api_call(url(), ann_, "GET", "/metrics").status, 403);
  const ApiReply r = api_call(url(), admin_, "GET", "/metrics");
  ASSERT_EQ(r.status, 200);
  const std::string& text = r.text;
  EXPECT_EQ(sample(text, R"(corral_vms{project="p",state="RUNNING"})"), 1) << text;
  EXPECT_EQ(sample(text, R"(corral_vms{project="p",state="POWEROFF"})"), 1);
  EXPECT_EQ(sample(text, R"(corral_vms{project="q",state="RUNNING"})"), 1);
  EXPECT_EQ(sample(text, R"(corral_operations_total{action="create",outcome="succeeded"})"), 3);
  EXPECT_EQ(sample(text, R"(corral_operations_total{action="shutdown",outcome="succeeded"})"), 1);
  EXPECT_EQ(sample(text, R"(corral_operation_duration_seconds_count{action="create"})"), 3);
  EXPECT_EQ(sample(text, R"(corral_http_requests_total{route="/v1/vms",method="POST",code="202"})"),
            3);
  EXPECT_EQ(sample(text, R"(corral_http_requests_total{route="/metrics",method="GET",code="403"})"),
            1);
  EXPECT_GT(
      sample(text,
             R"(corral_http_request_duration_seconds_count{route="/v1/vms/{id}",method="GET"})"),
      0);
  EXPECT_GT(sample(text, "corral_store_commit_duration_seconds_count"), 0);
  EXPECT_GT(sample(text, "corral_transitions_total"), 0);
  EXPECT_EQ(sample(text, R"(corral_host_vms{host="sim-1"})"), 3);
  // POWEROFF keeps its claim on the host (OpenNebula: the VM stays deployed there).
  EXPECT_EQ(sample(text, R"(corral_host_vcpus_used{host="sim-1"})"), 3);
  EXPECT_NE(text.find("# TYPE corral_phase_duration_seconds histogram"), std::string::npos);
}

}  // namespace
}  // namespace corral::testing
