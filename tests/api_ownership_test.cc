// Networks, security groups and server groups belong to projects, against a real `corral
// server` (sim driver): a member of project b gets 404 on project a's private network,
// security group and server group — read, change, delete, and using them for a VM or a NIC —
// exactly as for ones that do not exist, and never sees them in a list; both projects see the
// shared network `default` and put VMs on it, but only the cloud's admin changes it; each
// project's `default` security group is its own. The policy matrix (api_tenancy_test.cc)
// checks every role on these routes; this checks what each project sees and uses.
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>

#include "support/api_call.h"
#include "support/server_process.h"

namespace corral::testing {
namespace {

using nlohmann::json;

using Reply = ApiReply;

class OwnershipTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new ServerProcess(
        {"--sim-profile", "zero", "--sim-hosts", "1", "--default-network", "10.77.0.0/24"});
    ASSERT_TRUE(server_->start()) << server_->log();
    admin_ = server_->admin_token();
    for (const char* p : {"a", "b"}) {
      ASSERT_EQ(send(admin_, "POST", "/v1/projects", {{"name", p}}).status, 201);
      const std::string user = std::string("m") + p;
      ASSERT_EQ(send(admin_, "POST", "/v1/users",
                     {{"name", user},
                      {"password", "password-" + user},
                      {"project", p},
                      {"role", "member"}})
                    .status,
                201);
    }
    a_ = login("ma");
    b_ = login("mb");
    // Project a's private network, security group and server group.
    Reply made = send(a_, "POST", "/v1/networks", {{"name", "priv-a"}, {"cidr", "10.60.0.0/24"}});
    ASSERT_EQ(made.status, 201) << made.body.dump();
    EXPECT_EQ(made.body["network"]["shared"], false);
    net_a_ = made.body["network"]["id"].get<std::int64_t>();
    made = send(a_, "POST", "/v1/security-groups", {{"name", "web"}});
    ASSERT_EQ(made.status, 201) << made.body.dump();
    web_a_ = made.body["security_group"]["id"].get<std::int64_t>();
    made = send(a_, "POST", "/v1/server-groups", {{"name", "grp-a"}, {"policy", "anti-affinity"}});
    ASSERT_EQ(made.status, 201) << made.body.dump();
    grp_a_ = made.body["server_group"]["id"].get<std::int64_t>();
    ASSERT_TRUE(ready("priv-a", a_));
    ASSERT_TRUE(ready("default", a_));
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  static Reply send(const std::string& token, const std::string& method, const std::string& path,
                    const json& body = nullptr) {
    return api_call(server_->url(), token, method, path, body);
  }
  static std::string login(const std::string& user) {
    Reply r =
        send("", "POST", "/v1/auth/tokens", {{"user", user}, {"password", "password-" + user}});
    EXPECT_EQ(r.status, 201) << r.body.dump();
    return r.body.value("token", "");
  }
  static bool ready(const std::string& network, const std::string& token) {
    for (int i = 0; i < 500; ++i) {
      if (send(token, "GET", "/v1/networks/" + network).body["network"]["state"] == "READY") {
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }
  // A running VM of `token`'s project with a NIC on `network`.
  static std::int64_t vm_on(const std::string& token, const std::string& network) {
    Reply r = send(token, "POST", "/v1/vms",
                   {{"name", "v"},
                    {"image", "tiny"},
                    {"vcpus", 1},
                    {"memory_mib", 128},
                    {"networks", {network}}});
    EXPECT_EQ(r.status, 202) << r.body.dump();
    const std::int64_t id = r.body["vm"].value("id", std::int64_t{0});
    idle(token, id);
    return id;
  }
  static void idle(const std::string& token, std::int64_t vm) {
    for (int i = 0; i < 500; ++i) {
      Reply r = send(token, "GET", "/v1/vms/" + std::to_string(vm));
      if (r.body["state"] == "RUNNING" && r.body["operation"]["status"] != "running") return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ADD_FAILURE() << "VM " << vm << " never idle and RUNNING";
  }
  // The names in a list reply's `key` array.
  static std::set<std::string> names(const Reply& r, const std::string& key) {
    std::set<std::string> out;
    for (const json& item : r.body.value(key, json::array())) out.insert(item.value("name", ""));
    return out;
  }

  static ServerProcess* server_;
  static std::string admin_, a_, b_;
  static std::int64_t net_a_, web_a_, grp_a_;
};

ServerProcess* OwnershipTest::server_ = nullptr;
std::string OwnershipTest::admin_;
std::string OwnershipTest::a_;
std::string OwnershipTest::b_;
std::int64_t OwnershipTest::net_a_ = 0;
std::int64_t OwnershipTest::web_a_ = 0;
std::int64_t OwnershipTest::grp_a_ = 0;

// Every route that names one of project a's objects, by name and by id: 404 for project b,
// with the message a missing one gets; and the owner still has it afterwards.
TEST_F(OwnershipTest, AnotherProjectsObjectsAreNotFoundAtEveryRoute) {
  struct Case {
    std::string method;
    std::string path;  // {id}: the object's id; {missing}: a path to nothing of that kind
    json body;
    std::string says;  // the start of the 404's message
  };
  const std::string net = std::to_string(net_a_);
  const std::string web = std::to_string(web_a_);
  const std::string grp = std::to_string(grp_a_);
  const Case cases[] = {
      {"GET", "/v1/networks/priv-a", nullptr, "no network priv-a"},
      {"GET", "/v1/networks/" + net, nullptr, "no network " + net},
      {"PATCH", "/v1/networks/priv-a", {{"description", "mine now"}}, "no network priv-a"},
      {"DELETE", "/v1/networks/" + net, nullptr, "no network " + net},
      {"GET", "/v1/security-groups/" + web, nullptr, "no security group " + web},
      {"PUT",
       "/v1/security-groups/" + web + "/rules",
       {{"rules", json::array()}},
       "no security group " + web},
      {"POST",
       "/v1/security-groups/" + web + "/rules",
       {{"direction", "ingress"}, {"protocol", "tcp"}},
       "no security group " + web},
      {"DELETE", "/v1/security-groups/" + web + "/rules/1", nullptr, "no security group " + web},
      {"DELETE", "/v1/security-groups/" + web, nullptr, "no security group " + web},
      {"GET", "/v1/server-groups/grp-a", nullptr, "no server group grp-a"},
      {"GET", "/v1/server-groups/" + grp, nullptr, "no server group " + grp},
      {"DELETE", "/v1/server-groups/grp-a", nullptr, "no server group grp-a"},
  };
  for (const Case& c : cases) {
    Reply r = send(b_, c.method, c.path, c.body);
    SCOPED_TRACE(c.method + " " + c.path + ": " + r.body.dump());
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(error_message(r), c.says);
  }
  EXPECT_EQ(send(a_, "GET", "/v1/networks/priv-a").status, 200);
  EXPECT_EQ(send(a_, "GET", "/v1/security-groups/" + web).status, 200);
  EXPECT_EQ(send(a_, "GET", "/v1/server-groups/grp-a").status, 200);
  // The cloud's admin reaches them, by id and (the names being unique) by name.
  EXPECT_EQ(send(admin_, "GET", "/v1/networks/priv-a").status, 200);
  EXPECT_EQ(send(admin_, "GET", "/v1/security-groups/" + web).status, 200);
  EXPECT_EQ(send(admin_, "GET", "/v1/server-groups/grp-a").status, 200);
}

TEST_F(OwnershipTest, AnotherProjectsObjectsAreNeverListed) {
  Reply nets = send(b_, "GET", "/v1/networks");
  ASSERT_EQ(nets.status, 200) << nets.body.dump();
  EXPECT_EQ(names(nets, "networks"), std::set<std::string>{"default"}) << "the shared one only";
  Reply groups = send(b_, "GET", "/v1/server-groups");
  ASSERT_EQ(groups.status, 200);
  EXPECT_TRUE(groups.body["server_groups"].empty()) << groups.body.dump();
  Reply secgroups = send(b_, "GET", "/v1/security-groups");
  ASSERT_EQ(secgroups.status, 200);
  for (const json& g : secgroups.body["security_groups"]) {
    EXPECT_NE(g["id"], web_a_) << secgroups.body.dump();
    EXPECT_NE(g["id"], 1) << "the admin project's default";
  }
  EXPECT_TRUE(names(secgroups, "security_groups").contains("default"));
  // Project a's lists have them; the cloud's admin's, with all_projects.
  EXPECT_TRUE(names(send(a_, "GET", "/v1/networks"), "networks").contains("priv-a"));
  EXPECT_TRUE(names(send(a_, "GET", "/v1/server-groups"), "server_groups").contains("grp-a"));
  EXPECT_FALSE(names(send(admin_, "GET", "/v1/networks"), "networks").contains("priv-a"));
  EXPECT_TRUE(
      names(send(admin_, "GET", "/v1/networks?all_projects=true"), "networks").contains("priv-a"));
  EXPECT_EQ(send(b_, "GET", "/v1/networks?all_projects=true").status, 403);
}

// Using project a's network, security group or server group for project b's VMs: refused as
// if they did not exist — 400 at create (Nova's), 404 at nic_attach and a NIC's update
// (Nova's os-interface, Neutron's port update) — with the same message.
TEST_F(OwnershipTest, AnotherProjectsObjectsCannotBeUsedForAVmOrANic) {
  const std::int64_t vm = vm_on(b_, "default");
  const std::string actions = "/v1/vms/" + std::to_string(vm) + "/actions";
  const json base = {{"name", "x"}, {"image", "tiny"}, {"vcpus", 1}, {"memory_mib", 128}};
  for (const std::string& network : {std::string("priv-a"), std::to_string(net_a_)}) {
    SCOPED_TRACE(network);
    json create = base;
    create["networks"] = {network};
    Reply r = send(b_, "POST", "/v1/vms", create);
    EXPECT_EQ(r.status, 400) << r.body.dump();
    EXPECT_EQ(error_message(r), "no network " + network);
    r = send(b_, "POST", actions, {{"action", "nic_attach"}, {"network", network}});
    EXPECT_EQ(r.status, 404) << r.body.dump();
    EXPECT_EQ(error_message(r), "no network " + network);
  }
  const std::string web = std::to_string(web_a_);
  json create = base;
  create["networks"] = {"default"};
  create["security_groups"] = {web};
  Reply r = send(b_, "POST", "/v1/vms", create);
  EXPECT_EQ(r.status, 400) << r.body.dump();
  EXPECT_EQ(error_message(r), "no security group " + web);
  r = send(b_, "POST", actions,
           {{"action", "nic_attach"}, {"network", "default"}, {"security_groups", {web}}});
  EXPECT_EQ(r.status, 404) << r.body.dump();
  EXPECT_EQ(error_message(r), "no security group " + web);
  r = send(b_, "PUT", "/v1/vms/" + std::to_string(vm) + "/nics/0", {{"security_groups", {web}}});
  EXPECT_EQ(r.status, 404) << r.body.dump();
  EXPECT_EQ(error_message(r), "no security group " + web);
  for (const std::string& group : {std::string("grp-a"), std::to_string(grp_a_)}) {
    json in_group = base;
    in_group["group"] = group;
    r = send(b_, "POST", "/v1/vms", in_group);
    EXPECT_EQ(r.status, 400) << r.body.dump();
    EXPECT_EQ(error_message(r), "no server group " + group);
  }
  // Nothing was taken: no lease on a's network, no member in a's group.
  Reply net = send(a_, "GET", "/v1/networks/priv-a");
  EXPECT_EQ(net.body["network"]["used_leases"], 0) << net.body.dump();
  Reply grp = send(a_, "GET", "/v1/server-groups/grp-a");
  EXPECT_TRUE(grp.body["server_group"]["members"].empty()) << grp.body.dump();
}

// Neutron's shared network: every project lists it and puts VMs on it; only the cloud's
// admin changes or deletes it (403 to the others, who see it), and only the cloud's admin
// shares a network. A project sees only its own VMs' leases on it.
TEST_F(OwnershipTest, TheSharedDefaultNetworkServesEveryProjectAndOnlyTheAdminChangesIt) {
  EXPECT_TRUE(names(send(a_, "GET", "/v1/networks"), "networks").contains("default"));
  EXPECT_TRUE(names(send(b_, "GET", "/v1/networks"), "networks").contains("default"));
  const std::int64_t va = vm_on(a_, "default");
  const std::int64_t vb = vm_on(b_, "default");
  ASSERT_NE(va, 0);
  ASSERT_NE(vb, 0);
  Reply seen = send(b_, "GET", "/v1/networks/default");
  ASSERT_EQ(seen.status, 200);
  EXPECT_EQ(seen.body["network"]["shared"], true);
  EXPECT_EQ(seen.body["network"]["project"], 1);
  bool mine_listed = false;
  for (const json& lease : seen.body["network"]["leases"]) {
    EXPECT_NE(lease["vm"], va) << "project a's VM in project b's view";
    mine_listed = mine_listed || lease["vm"] == vb;
  }
  EXPECT_TRUE(mine_listed) << seen.body.dump();

  Reply r = send(b_, "DELETE", "/v1/networks/default");
  EXPECT_EQ(r.status, 403) << r.body.dump();
  r = send(b_, "PATCH", "/v1/networks/default", {{"description", "ours"}});
  EXPECT_EQ(r.status, 403) << r.body.dump();
  r = send(b_, "POST", "/v1/networks",
           {{"name", "wide"}, {"cidr", "10.61.0.0/24"}, {"shared", true}});
  EXPECT_EQ(r.status, 403) << r.body.dump();
  r = send(a_, "PATCH", "/v1/networks/priv-a", {{"shared", true}});
  EXPECT_EQ(r.status, 403) << r.body.dump();
  r = send(admin_, "PATCH", "/v1/networks/priv-a", {{"shared", true}});
  EXPECT_EQ(r.status, 400) << "only the admin project's networks are shared: " << r.body.dump();
  r = send(admin_, "PATCH", "/v1/networks/default", {{"description", "everyone's"}});
  EXPECT_EQ(r.status, 200) << r.body.dump();
  EXPECT_EQ(r.body["network"]["description"], "everyone's");
  // Un-sharing it under other projects' NICs is refused.
  r = send(admin_, "PATCH", "/v1/networks/default", {{"shared", false}});
  EXPECT_EQ(r.status, 409) << r.body.dump();
  // A member changes its own project's network.
  r = send(a_, "PATCH", "/v1/networks/priv-a", {{"description", "lab"}});
  EXPECT_EQ(r.status, 200) << r.body.dump();
}

// Each project's "default" security group is its own: made on the project's first use, with
// Neutron's rules, its NICs made without groups in it; never the admin project's group 1.
TEST_F(OwnershipTest, EachProjectsDefaultSecurityGroupIsItsOwn) {
  Reply da = send(a_, "GET", "/v1/security-groups/default");
  Reply db = send(b_, "GET", "/v1/security-groups/default");
  ASSERT_EQ(da.status, 200) << da.body.dump();
  ASSERT_EQ(db.status, 200) << db.body.dump();
  const std::int64_t a_default = da.body["security_group"]["id"];
  const std::int64_t b_default = db.body["security_group"]["id"];
  EXPECT_NE(a_default, b_default);
  EXPECT_NE(a_default, 1);
  EXPECT_NE(b_default, 1);
  EXPECT_EQ(da.body["security_group"]["rules"].size(), 2u);
  EXPECT_EQ(send(a_, "GET", "/v1/security-groups/" + std::to_string(b_default)).status, 404);
  EXPECT_EQ(send(a_, "DELETE", "/v1/security-groups/default").status, 409);
  // b's own "web" beside a's: names are unique within a project.
  Reply web_b = send(b_, "POST", "/v1/security-groups", {{"name", "web"}});
  ASSERT_EQ(web_b.status, 201) << web_b.body.dump();
  EXPECT_NE(web_b.body["security_group"]["id"], web_a_);
  EXPECT_EQ(send(b_, "POST", "/v1/security-groups", {{"name", "default"}}).status, 409);
  const std::int64_t vm = vm_on(b_, "default");
  Reply got = send(b_, "GET", "/v1/vms/" + std::to_string(vm));
  EXPECT_EQ(got.body["nics"][0]["security_groups"], json::array({b_default})) << got.body.dump();
  Reply moved =
      send(b_, "PUT", "/v1/vms/" + std::to_string(vm) + "/nics/0", {{"security_groups", {"web"}}});
  ASSERT_EQ(moved.status, 200) << moved.body.dump();
  EXPECT_EQ(moved.body["vm"]["nics"][0]["security_groups"],
            json::array({web_b.body["security_group"]["id"]}));
}

}  // namespace
}  // namespace corral::testing
