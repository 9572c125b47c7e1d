// Tenants against a real `corral server` (sim driver): the policy matrix — every route, every
// role, the caller's own project's object and another project's — with the expected status
// written here from Nova's and Keystone's defaults, not read from the policy table; tokens
// that are wrong, forged, expired or of a deleted user (401, nothing changes); and what a
// member sees.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "api/routes.h"
#include "support/api_call.h"
#include "support/server_process.h"

namespace corral::testing {
namespace {

using api::RouteId;
using nlohmann::json;

using Reply = ApiReply;

Reply call(const std::string& url, const std::string& token, const std::string& method,
           const std::string& path, const json& body = nullptr, int timeout_s = 5) {
  return api_call(url, token, method, path, body, timeout_s);
}

std::string message(const Reply& r) { return error_message(r); }

// Who may call a route, from Nova's and Keystone's default policies.
enum class Min { kPublic, kAnyone, kReader, kMember, kManager, kProjectAdmin, kCloudAdmin };

struct Caller {
  std::string name;     // "" : no token
  std::string project;  // its token's project
  int rank = 0;         // reader 1, member 2, manager 3, admin 4 (on `project`)
  std::string token;
  bool cloud_admin() const { return project == "admin" && rank == 4; }
};

class TenancyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new ServerProcess({"--sim-profile", "zero", "--sim-hosts", "2"});
    ASSERT_TRUE(server_->start()) << server_->log();
    admin_ = server_->admin_token();
    for (const char* p : {"alpha", "beta", "spare"}) {
      ASSERT_EQ(post("/v1/projects", {{"name", p}}).status, 201);
    }
    const std::vector<std::tuple<std::string, std::string, std::string>> users = {
        {"reader-a", "alpha", "reader"},
        {"member-a", "alpha", "member"},
        {"manager-a", "alpha", "manager"},
        {"admin-a", "alpha", "admin"},
        {"member-b", "beta", "member"},
        {"reader-admin", "admin", "reader"},
        // A second cloud admin: the matrix logs its callers out, and the server's local
        // credential serves the other tests.
        {"root", "admin", "admin"},
    };
    for (const auto& [name, project, role] : users) {
      const Reply made = post(
          "/v1/users",
          {{"name", name}, {"password", "password-" + name}, {"project", project}, {"role", role}});
      ASSERT_EQ(made.status, 201) << made.body.dump();
    }
    ASSERT_EQ(post("/v1/users", {{"name", "victim"}, {"password", "password-victim"}}).status, 201);
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  static Reply post(const std::string& path, const json& body) {
    return call(server_->url(), admin_, "POST", path, body);
  }
  static std::string login(const std::string& user, const std::string& project = "") {
    json body = {{"user", user}, {"password", "password-" + user}};
    if (!project.empty()) body["project"] = project;
    const Reply r = call(server_->url(), "", "POST", "/v1/auth/tokens", body);
    EXPECT_EQ(r.status, 201) << r.body.dump();
    return r.body.value("token", "");
  }
  // A running VM of `token`'s project.
  static std::int64_t vm_of(const std::string& token, const std::string& name) {
    const Reply r = call(server_->url(), token, "POST", "/v1/vms",
                         {{"name", name}, {"image", "tiny"}, {"vcpus", 1}, {"memory_mib", 128}});
    EXPECT_EQ(r.status, 202) << r.body.dump();
    const std::int64_t id = r.body["vm"]["id"];
    for (int i = 0; i < 200; ++i) {
      if (call(server_->url(), token, "GET", "/v1/vms/" + std::to_string(id)).body["state"] ==
          "RUNNING") {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return id;
  }

  static ServerProcess* server_;
  static std::string admin_;
};

ServerProcess* TenancyTest::server_ = nullptr;
std::string TenancyTest::admin_;

struct RouteCase {
  RouteId route;
  Min min;
  std::string method;
  // {vm}: the target VM; {project}: the target project; {user}: the target user; {volume},
  // {network}, {group}, {secgroup}: the target project's volume, network, server group and
  // security group.
  std::string path;
  json body = nullptr;
  bool scoped = false;  // the path names an object of a project (or a user): other -> 404
  bool stream = false;  // an open stream is an allowed answer
};

TEST_F(TenancyTest, PolicyMatrixEveryRoleEveryRouteOwnAndOtherProject) {
  const std::map<std::string, std::int64_t> vms = {
      {"alpha", vm_of(login("member-a"), "va")},
      {"beta", vm_of(login("member-b"), "vb")},
      {"admin", vm_of(admin_, "vadm")},
  };
  // A volume, a network, a server group and a security group of each project, made by its
  // member: {volume}, {network}, {group} and {secgroup} in the paths below.
  const std::map<std::string, std::string> third_octet = {
      {"alpha", "81"}, {"beta", "82"}, {"admin", "83"}};
  for (const auto& [project, token] : std::map<std::string, std::string>{
           {"alpha", login("member-a")}, {"beta", login("member-b")}, {"admin", admin_}}) {
    const int id = project == "admin" ? 1 : (project == "alpha" ? 2 : 3);
    const std::map<std::string, json> made_by_path = {
        {"/v1/volumes", {{"name", "vol-" + project}, {"size_mib", 1}}},
        {"/v1/networks",
         {{"name", "net-" + project}, {"cidr", "10." + third_octet.at(project) + ".0.0/24"}}},
        {"/v1/server-groups", {{"name", "grp-" + project}, {"policy", "soft-anti-affinity"}}},
        {"/v1/security-groups", {{"name", "sec-" + project}}},
    };
    for (const auto& [path, body] : made_by_path) {
      const Reply made = call(server_->url(), token, "POST", path, body);
      ASSERT_EQ(made.status, 201) << path << " " << made.body.dump();
      for (const auto& [key, value] : made.body.items()) {
        EXPECT_EQ(value.value("project", -1), id) << path << " " << made.body.dump();
      }
    }
  }
  // Objects for the routes that make or remove them.
  ASSERT_EQ(post("/v1/hosts", {{"name", "hx"}}).status, 201);
  const std::vector<RouteCase> cases = {
      {RouteId::kCreateVm,
       Min::kMember,
       "POST",
       "/v1/vms",
       {{"name", "m"}, {"image", "tiny"}, {"vcpus", 1}, {"memory_mib", 128}}},
      {RouteId::kListVms, Min::kReader, "GET", "/v1/vms"},
      {RouteId::kGetVm, Min::kReader, "GET", "/v1/vms/{vm}", nullptr, true},
      {RouteId::kInstanceView, Min::kReader, "GET", "/v1/vms/{vm}/instance-view", nullptr, true},
      {RouteId::kVmHistory, Min::kReader, "GET", "/v1/vms/{vm}/history", nullptr, true},
      {RouteId::kVmMigrations, Min::kManager, "GET", "/v1/vms/{vm}/migrations", nullptr, true},
      {RouteId::kListMigrations, Min::kCloudAdmin, "GET", "/v1/migrations"},
      {RouteId::kActOnVm,
       Min::kMember,
       "POST",
       "/v1/vms/{vm}/actions",
       {{"action", "reboot"}},
       true},
      {RouteId::kUpdateNic,
       Min::kMember,
       "PUT",
       "/v1/vms/{vm}/nics/0",
       {{"security_groups", {"default"}}},
       true},
      // The cloud admin locks last, and only the admin lifts the admin's lock: the unlock
      // case's 403 for the others is the engine's (tolerated below), and root unlocks last.
      {RouteId::kLockVm, Min::kMember, "PUT", "/v1/vms/{vm}/lock", {{"reason", "test"}}, true},
      {RouteId::kUnlockVm, Min::kMember, "DELETE", "/v1/vms/{vm}/lock", nullptr, true},
      {RouteId::kGetOperation, Min::kReader, "GET", "/v1/operations/{op}", nullptr, true},
      {RouteId::kListHosts, Min::kCloudAdmin, "GET", "/v1/hosts"},
      {RouteId::kGetHost, Min::kCloudAdmin, "GET", "/v1/hosts/sim-1"},
      {RouteId::kAddHost, Min::kCloudAdmin, "POST", "/v1/hosts", {{"name", "hy"}}},
      {RouteId::kActOnHost,
       Min::kCloudAdmin,
       "POST",
       "/v1/hosts/hx/action",
       {{"action", "disable"}}},
      {RouteId::kHostJoinToken, Min::kCloudAdmin, "POST", "/v1/hosts/hx/join-token",
       json::object()},
      {RouteId::kDeleteHost, Min::kCloudAdmin, "DELETE", "/v1/hosts/hy"},
      {RouteId::kListGroups, Min::kReader, "GET", "/v1/server-groups"},
      {RouteId::kCreateGroup,
       Min::kMember,
       "POST",
       "/v1/server-groups",
       {{"name", "g"}, {"policy", "anti-affinity"}}},
      {RouteId::kGetGroup, Min::kReader, "GET", "/v1/server-groups/{group}", nullptr, true},
      // Resource groups are named within the caller's project (no path names another's): the
      // first member of each project to PUT makes it, the readers then read it.
      {RouteId::kListResourceGroups, Min::kReader, "GET", "/v1/resource-groups"},
      {RouteId::kPutResourceGroup,
       Min::kMember,
       "PUT",
       "/v1/resource-groups/rg-case",
       {{"location", "westus"}}},
      {RouteId::kGetResourceGroup, Min::kReader, "GET", "/v1/resource-groups/rg-case"},
      {RouteId::kDeleteResourceGroup, Min::kMember, "DELETE", "/v1/resource-groups/rg-case"},
      {RouteId::kListNetworks, Min::kReader, "GET", "/v1/networks"},
      {RouteId::kCreateNetwork,
       Min::kMember,
       "POST",
       "/v1/networks",
       {{"name", "n"}, {"cidr", "10.90.0.0/24"}}},
      {RouteId::kGetNetwork, Min::kReader, "GET", "/v1/networks/{network}", nullptr, true},
      {RouteId::kUpdateNetwork,
       Min::kMember,
       "PATCH",
       "/v1/networks/{network}",
       {{"description", "d"}},
       true},
      {RouteId::kListVolumes, Min::kReader, "GET", "/v1/volumes"},
      {RouteId::kCreateVolume,
       Min::kMember,
       "POST",
       "/v1/volumes",
       {{"name", "v"}, {"size_mib", 1}}},
      {RouteId::kGetVolume, Min::kReader, "GET", "/v1/volumes/{volume}", nullptr, true},
      {RouteId::kActOnVolume,
       Min::kMember,
       "POST",
       "/v1/volumes/{volume}/action",
       {{"action", "snapshot"}},
       true},
      {RouteId::kListSecurityGroups, Min::kReader, "GET", "/v1/security-groups"},
      {RouteId::kCreateSecurityGroup, Min::kMember, "POST", "/v1/security-groups", {{"name", "s"}}},
      {RouteId::kGetSecurityGroup, Min::kReader, "GET", "/v1/security-groups/{secgroup}", nullptr,
       true},
      {RouteId::kSetSecurityGroupRules,
       Min::kMember,
       "PUT",
       "/v1/security-groups/{secgroup}/rules",
       {{"rules", json::array()}},
       true},
      {RouteId::kAddSecurityGroupRule,
       Min::kMember,
       "POST",
       "/v1/security-groups/{secgroup}/rules",
       {{"direction", "ingress"},
        {"protocol", "tcp"},
        {"port_range_min", 22},
        {"port_range_max", 22}},
       true},
      {RouteId::kDeleteSecurityGroupRule, Min::kMember, "DELETE",
       "/v1/security-groups/{secgroup}/rules/1", nullptr, true},
      {RouteId::kListImages, Min::kReader, "GET", "/v1/images"},
      {RouteId::kVmUsage, Min::kReader, "GET", "/v1/monitoring"},
      {RouteId::kConsoleLog, Min::kMember, "GET", "/v1/vms/{vm}/console/log", nullptr, true},
      {RouteId::kConsoleStream, Min::kMember, "GET", "/v1/vms/{vm}/console", nullptr, true, true},
      {RouteId::kConsoleInput,
       Min::kMember,
       "POST",
       "/v1/vms/{vm}/console",
       {{"input", "x"}},
       true},
      {RouteId::kConsoleWebSocket, Min::kMember, "GET", "/v1/vms/{vm}/console/ws", nullptr, true},
      {RouteId::kGetStates, Min::kAnyone, "GET", "/v1/states"},
      {RouteId::kStreamEvents, Min::kReader, "GET", "/v1/events", nullptr, false, true},
      {RouteId::kHealthz, Min::kPublic, "GET", "/healthz"},
      {RouteId::kUsage, Min::kReader, "GET", "/v1/usage"},
      {RouteId::kVmActions, Min::kReader, "GET", "/v1/vms/{vm}/actions", nullptr, true},
      {RouteId::kAudit, Min::kCloudAdmin, "GET", "/v1/audit"},
      {RouteId::kMetrics, Min::kCloudAdmin, "GET", "/metrics"},
      {RouteId::kLogin,
       Min::kPublic,
       "POST",
       "/v1/auth/tokens",
       {{"user", "member-b"}, {"password", "password-member-b"}}},
      {RouteId::kWhoAmI, Min::kAnyone, "GET", "/v1/auth/token"},
      {RouteId::kListProjects, Min::kAnyone, "GET", "/v1/projects"},
      {RouteId::kCreateProject, Min::kCloudAdmin, "POST", "/v1/projects", {{"name", "made"}}},
      {RouteId::kGetProject, Min::kAnyone, "GET", "/v1/projects/{project}", nullptr, true},
      {RouteId::kUpdateProject,
       Min::kCloudAdmin,
       "PATCH",
       "/v1/projects/{project}",
       {{"description", "d"}},
       true},
      {RouteId::kDeleteProject, Min::kCloudAdmin, "DELETE", "/v1/projects/spare"},
      {RouteId::kProjectMembers, Min::kReader, "GET", "/v1/projects/{project}/users", nullptr,
       true},
      {RouteId::kGrantRole, Min::kProjectAdmin, "PUT",
       "/v1/projects/{project}/users/victim/roles/reader", json::object(), true},
      {RouteId::kRevokeRole, Min::kProjectAdmin, "DELETE",
       "/v1/projects/{project}/users/victim/roles/reader", nullptr, true},
      {RouteId::kGetQuotas, Min::kReader, "GET", "/v1/projects/{project}/quotas", nullptr, true},
      {RouteId::kSetQuotas,
       Min::kCloudAdmin,
       "PUT",
       "/v1/projects/{project}/quotas",
       {{"vms", 20}},
       true},
      {RouteId::kListUsers, Min::kCloudAdmin, "GET", "/v1/users"},
      {RouteId::kCreateUser,
       Min::kCloudAdmin,
       "POST",
       "/v1/users",
       {{"name", "fresh"}, {"password", "password-fresh"}}},
      {RouteId::kGetUser, Min::kAnyone, "GET", "/v1/users/{user}", nullptr, true},
      {RouteId::kUpdateUser, Min::kAnyone, "PATCH", "/v1/users/{user}", json::object(), true},
      {RouteId::kAddFault,
       Min::kCloudAdmin,
       "POST",
       "/v1/admin/faults",
       {{"phase", "boot"}, {"kind", "fail"}, {"count", 0}}},
      {RouteId::kListFaults, Min::kCloudAdmin, "GET", "/v1/admin/faults"},
      {RouteId::kRemoveFault, Min::kCloudAdmin, "DELETE", "/v1/admin/faults/999"},
      {RouteId::kClearFaults, Min::kCloudAdmin, "DELETE", "/v1/admin/faults"},
      {RouteId::kExternalEvent,
       Min::kCloudAdmin,
       "POST",
       "/v1/admin/vms/{vm}/external",
       {{"event", "crash"}}},
      // Last: they end what they act on (the VMs, a user, the caller's own token).
      {RouteId::kDeleteVolume, Min::kMember, "DELETE", "/v1/volumes/{volume}", nullptr, true},
      {RouteId::kDeleteNetwork, Min::kMember, "DELETE", "/v1/networks/{network}", nullptr, true},
      {RouteId::kDeleteGroup, Min::kMember, "DELETE", "/v1/server-groups/{group}", nullptr, true},
      {RouteId::kDeleteSecurityGroup, Min::kMember, "DELETE", "/v1/security-groups/{secgroup}",
       nullptr, true},
      {RouteId::kDeleteVm, Min::kMember, "DELETE", "/v1/vms/{vm}", nullptr, true},
      {RouteId::kDeleteUser, Min::kCloudAdmin, "DELETE", "/v1/users/victim"},
      {RouteId::kLogout, Min::kAnyone, "DELETE", "/v1/auth/token"},
  };
  // Every route has its case, once.
  std::set<RouteId> covered;
  for (const RouteCase& c : cases) EXPECT_TRUE(covered.insert(c.route).second);
  EXPECT_EQ(covered.size(), std::size(api::kRoutes)) << "a route without a case";

  std::vector<Caller> callers = {
      {"", "", 0},
      {"reader-a", "alpha", 1},
      {"member-a", "alpha", 2},
      {"manager-a", "alpha", 3},
      {"admin-a", "alpha", 4},
      {"reader-admin", "admin", 1},
      {"root", "admin", 4},
  };
  for (Caller& c : callers) {
    if (!c.name.empty()) c.token = login(c.name);
  }
  // An operation of each project's VM, for GET /v1/operations/{op}.
  std::map<std::string, std::int64_t> ops;
  for (const auto& [project, vm] : vms) {
    ops[project] = call(server_->url(), admin_, "GET", "/v1/vms/" + std::to_string(vm))
                       .body["operation"]["id"];
  }
  const auto meets = [](const Caller& c, Min min) {
    switch (min) {
      case Min::kPublic:
        return true;
      case Min::kAnyone:
        return !c.name.empty();
      case Min::kReader:
      case Min::kMember:
      case Min::kManager:
        return c.cloud_admin() || c.rank >= static_cast<int>(min) - static_cast<int>(Min::kAnyone);
      case Min::kProjectAdmin:
        return c.rank == 4;
      case Min::kCloudAdmin:
        return c.cloud_admin();
    }
    return false;
  };
  int checked = 0;
  for (const RouteCase& rc : cases) {
    for (const Caller& c : callers) {
      for (const bool own : {true, false}) {
        if (!own && !rc.scoped) continue;
        const std::string mine = c.project.empty() ? "alpha" : c.project;
        const std::string target = own ? mine : (mine == "alpha" ? "beta" : "alpha");
        std::string path = rc.path;
        const auto put = [&](const std::string& key, const std::string& value) {
          if (const auto at = path.find(key); at != std::string::npos)
            path.replace(at, key.size(), value);
        };
        put("{vm}", std::to_string(vms.at(target)));
        put("{volume}", "vol-" + target);
        put("{network}", "net-" + target);
        put("{group}", "grp-" + target);
        put("{secgroup}", "sec-" + target);
        put("{op}", std::to_string(ops.at(target)));
        put("{project}", target);
        put("{user}", own ? (c.name.empty() ? "victim" : c.name) : "victim");
        const Reply r = call(server_->url(), c.token, rc.method, path, rc.body, rc.stream ? 1 : 5);
        SCOPED_TRACE(rc.method + " " + path + " as " + (c.name.empty() ? "(no token)" : c.name) +
                     ": " + std::to_string(r.status) + " " + r.body.dump());
        ++checked;
        // The expected answer, in the order the rules apply.
        if (rc.min == Min::kPublic) {
          EXPECT_NE(r.status, 401);
          EXPECT_NE(r.status, 403);
        } else if (c.name.empty()) {
          EXPECT_EQ(r.status, 401);
        } else if (!meets(c, rc.min)) {
          EXPECT_EQ(r.status, 403);
        } else if (!own && !c.cloud_admin()) {
          EXPECT_EQ(r.status, 404) << "another project's object is not found";
        } else {
          if (rc.stream && r.status == 0) continue;  // the stream opened
          if (rc.route == RouteId::kUnlockVm && r.status == 403 &&
              message(r).find("locked by the cloud's admin") != std::string::npos) {
            continue;  // the admin's lock (lifecycle/lock.h), not the route's policy
          }
          EXPECT_NE(r.status, 0);
          EXPECT_NE(r.status, 401);
          EXPECT_NE(r.status, 403);
          const std::string m = message(r);
          EXPECT_FALSE(r.status == 404 &&
                       (m.starts_with("no VM with id") || m.starts_with("no project") ||
                        m.starts_with("no user") || m.starts_with("no operation")))
              << "an object the caller may see was not found";
        }
      }
    }
  }
  EXPECT_GT(checked, 500);
}

TEST_F(TenancyTest, BadTokensAre401WithAClearMessageAndChangeNothing) {
  ASSERT_EQ(post("/v1/users", {{"name", "gone"},
                               {"password", "password-gone"},
                               {"project", "beta"},
                               {"role", "member"}})
                .status,
            201);
  const std::string gone = login("gone");
  const std::string forged = "crl_" + std::string(43, 'A');
  ASSERT_EQ(call(server_->url(), admin_, "DELETE", "/v1/users/gone").status, 200);
  const auto count = [&] {
    return call(server_->url(), admin_, "GET", "/v1/vms?all_projects=true&limit=1000")
        .body["vms"]
        .size();
  };
  const std::size_t before = count();
  struct Case {
    std::string token;
    std::string says;
  };
  const Case cases[] = {
      {"", "no token"},
      {forged, "unknown token"},
      {"not-even-a-token", "not a Corral token"},
      {gone, "the token was revoked: the user was deleted"},
  };
  for (const Case& c : cases) {
    const Reply r = call(server_->url(), c.token, "POST", "/v1/vms",
                         {{"name", "x"}, {"image", "tiny"}, {"vcpus", 1}, {"memory_mib", 128}});
    EXPECT_EQ(r.status, 401) << r.body.dump();
    EXPECT_EQ(r.body["error"]["code"], "unauthenticated");
    EXPECT_NE(message(r).find(c.says), std::string::npos) << message(r);
  }
  const Reply wrong = call(server_->url(), "", "POST", "/v1/auth/tokens",
                           {{"user", "member-b"}, {"password", "not-the-password"}});
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(message(wrong), "wrong user name or password");
  EXPECT_EQ(count(), before) << "a refused request created something";

  // A token lives its seconds, then is refused.
  const Reply brief =
      call(server_->url(), "", "POST", "/v1/auth/tokens",
           {{"user", "member-b"}, {"password", "password-member-b"}, {"expires_in", 1}});
  ASSERT_EQ(brief.status, 201);
  EXPECT_EQ(call(server_->url(), brief.body["token"], "GET", "/v1/auth/token").status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  const Reply expired = call(server_->url(), brief.body["token"], "GET", "/v1/auth/token");
  EXPECT_EQ(expired.status, 401);
  EXPECT_EQ(message(expired), "the token expired; log in again");
}

TEST_F(TenancyTest, AMemberSeesOnlyTheirProjectsVmsAndTheAdminSeesAllWhenAsked) {
  const std::string b = login("member-b");
  const std::int64_t mine = vm_of(b, "mine");
  const std::int64_t theirs = vm_of(admin_, "theirs");
  const json listed = call(server_->url(), b, "GET", "/v1/vms?limit=1000").body["vms"];
  bool saw_mine = false;
  for (const json& vm : listed) {
    EXPECT_NE(vm["id"], theirs);
    saw_mine = saw_mine || vm["id"] == mine;
  }
  EXPECT_TRUE(saw_mine);
  EXPECT_EQ(call(server_->url(), b, "GET", "/v1/vms?all_projects=true").status, 403);
  bool admin_saw = false;
  const Reply all = call(server_->url(), admin_, "GET", "/v1/vms?all_projects=true&limit=1000");
  ASSERT_EQ(all.status, 200) << all.body.dump();
  for (const json& vm : all.body["vms"]) {
    admin_saw = admin_saw || vm["id"] == mine;
  }
  EXPECT_TRUE(admin_saw);
  // Without all_projects, the admin lists the admin project's, as Nova's all_tenants.
  // (The reply is kept: a range-for over a member of a temporary would read freed memory.)
  const Reply own = call(server_->url(), admin_, "GET", "/v1/vms?limit=1000");
  ASSERT_EQ(own.status, 200) << own.body.dump();
  for (const json& vm : own.body["vms"]) {
    EXPECT_NE(vm["id"], mine);
  }
}

TEST_F(TenancyTest, UsageIsPerProjectInEveryBillingTableAndAsCsv) {
  const std::string b = login("member-b");
  const std::int64_t vm = vm_of(b, "billed");
  vm_of(login("member-a"), "billed-a");  // another project's: the admin's report has both
  const Reply mine = call(server_->url(), b, "GET", "/v1/usage?billing=azure-current");
  ASSERT_EQ(mine.status, 200) << mine.body.dump();
  EXPECT_EQ(mine.body["billing_table"], "azure-current");
  ASSERT_EQ(mine.body["projects"].size(), 1U);
  EXPECT_EQ(mine.body["projects"][0]["project"]["name"], "beta");
  bool found = false;
  for (const json& s : mine.body["projects"][0]["servers"]) found = found || s["id"] == vm;
  EXPECT_TRUE(found);
  EXPECT_EQ(mine.body["tenant_usages"][0]["tenant_id"],
            mine.body["projects"][0]["project"]["id"].dump());
  EXPECT_EQ(call(server_->url(), b, "GET", "/v1/usage?all_projects=true").status, 403);
  EXPECT_EQ(call(server_->url(), b, "GET", "/v1/usage?billing=cheap").status, 400);
  EXPECT_EQ(call(server_->url(), b, "GET", "/v1/usage?from=yesterday").status, 400);
  const Reply all = call(server_->url(), admin_, "GET", "/v1/usage?all_projects=true");
  ASSERT_EQ(all.status, 200);
  EXPECT_GE(all.body["projects"].size(), 2U);
  const CliResult csv = run_cli({"usage", "--all-projects", "--csv"}, server_->url());
  EXPECT_EQ(csv.exit_code, 0) << csv.out;
  EXPECT_TRUE(csv.out.starts_with("project,vm_id,vm_name,state,")) << csv.out;
  EXPECT_NE(csv.out.find("beta," + std::to_string(vm) + ",billed,"), std::string::npos) << csv.out;
}

// A project is deleted only when it owns nothing: not a VM, nor a volume, network, server group
// or security group (Keystone leaves them orphaned). The refusal says what it still owns.
TEST_F(TenancyTest, AProjectThatStillOwnsResourcesIsNotDeleted) {
  ASSERT_EQ(post("/v1/projects", {{"name", "leaving"}}).status, 201);
  ASSERT_EQ(post("/v1/users", {{"name", "member-l"},
                               {"password", "password-member-l"},
                               {"project", "leaving"},
                               {"role", "member"}})
                .status,
            201);
  const std::string l = login("member-l");
  const Reply vol =
      call(server_->url(), l, "POST", "/v1/volumes", {{"name", "vol-leaving"}, {"size_mib", 1}});
  ASSERT_EQ(vol.status, 201) << vol.body.dump();
  const Reply grp = call(server_->url(), l, "POST", "/v1/server-groups",
                         {{"name", "grp-leaving"}, {"policy", "affinity"}});
  ASSERT_EQ(grp.status, 201) << grp.body.dump();

  const Reply refused = call(server_->url(), admin_, "DELETE", "/v1/projects/leaving");
  EXPECT_EQ(refused.status, 409) << refused.body.dump();
  const std::string message = refused.body.dump();
  EXPECT_NE(message.find("1 volume"), std::string::npos) << message;
  EXPECT_NE(message.find("1 server group"), std::string::npos) << message;
  EXPECT_EQ(call(server_->url(), admin_, "GET", "/v1/projects/leaving").status, 200);

  EXPECT_EQ(call(server_->url(), l, "DELETE", "/v1/server-groups/grp-leaving").status, 200);
  for (int i = 0; i < 200; ++i) {  // a volume is deleted once it is available
    const int status = call(server_->url(), l, "DELETE", "/v1/volumes/vol-leaving").status;
    if (status != 409) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  Reply deleted;
  for (int i = 0; i < 200; ++i) {  // and goes once its file is removed
    deleted = call(server_->url(), admin_, "DELETE", "/v1/projects/leaving");
    if (deleted.status != 409) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(deleted.status, 200) << deleted.body.dump();
  EXPECT_EQ(call(server_->url(), admin_, "GET", "/v1/projects/leaving").status, 404);
}

}  // namespace
}  // namespace corral::testing
