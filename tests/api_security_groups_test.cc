// Security groups over HTTP and the CLI against a real `corral server` (sim driver): the
// default group, rules in Neutron's, OpenNebula's and Corral's words, refusals that change
// nothing, a VM's NICs in named groups, and deletes refused while a NIC lists a group.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "support/recipes.h"
#include "support/server_process.h"

namespace corral::testing {
namespace {

using nlohmann::json;

class ApiSecurityGroupsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerProcess>();
    ASSERT_TRUE(server_->start()) << server_->log();
    api_ = std::make_unique<Api>(*server_);
  }
  json groups() { return api_->get("/v1/security-groups").body["security_groups"]; }

  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<Api> api_;
};

// Catches: no default group, a vocabulary misread, a rule's views wrong, a bad request that
// changed something or was not a 4xx naming the problem.
TEST_F(ApiSecurityGroupsTest, GroupsAndRulesInEveryVocabulary) {
  const json list = groups();
  ASSERT_EQ(list.size(), 1u) << list.dump();
  EXPECT_EQ(list[0]["name"], "default");
  EXPECT_EQ(list[0]["id"], 1);
  ASSERT_EQ(list[0]["rules"].size(), 2u);
  EXPECT_EQ(list[0]["rules"][0]["direction"], "egress");
  EXPECT_EQ(list[0]["rules"][1]["remote_own_network"], true);

  const ApiResult made =
      api_->post("/v1/security-groups",
                 {{"name", "web"},
                  {"description", "ssh and http"},
                  {"rules",
                   {{{"direction", "ingress"},
                     {"protocol", "tcp"},
                     {"port_range_min", 22},
                     {"port_range_max", 22},
                     {"remote_ip_prefix", "10.0.0.0/8"}},
                    {{"RULE_TYPE", "inbound"}, {"PROTOCOL", "TCP"}, {"RANGE", "80,443"}}}}});
  ASSERT_EQ(made.status, 201) << made.body.dump();
  const json& web = made.body["security_group"];
  EXPECT_EQ(web["id"], 2);
  EXPECT_EQ(web["description"], "ssh and http");
  ASSERT_EQ(web["rules"].size(), 2u);
  EXPECT_EQ(web["rules"][0]["ports"], "22");
  EXPECT_EQ(web["rules"][0]["remote"], "10.0.0.0/8");
  EXPECT_EQ(web["rules"][0]["opennebula"]["RANGE"], "22");
  EXPECT_EQ(web["rules"][0]["opennebula"]["NETWORK"], "10.0.0.0/8");
  EXPECT_EQ(web["rules"][1]["ports"], "80,443");
  EXPECT_EQ(web["rules"][1]["neutron"]["port_range_min"], nullptr);  // two ranges
  EXPECT_EQ(web["rules"][1]["neutron"]["direction"], "ingress");

  struct Bad {
    std::string method;
    std::string path;
    json body;
    int status;
    std::string words;
  };
  const json mixed = {{"direction", "ingress"}, {"PROTOCOL", "TCP"}};
  for (const Bad& b : {
           Bad{"POST", "/v1/security-groups", {{"name", "web"}}, 409, "exists"},
           Bad{"POST", "/v1/security-groups", {{"name", "Bad Name"}}, 400, "name"},
           Bad{"POST", "/v1/security-groups", {{"name", "x"}, {"colour", "red"}}, 400, "colour"},
           Bad{"POST", "/v1/security-groups", {{"name", "x"}, {"rules", {mixed}}}, 400, "rules[0]"},
           Bad{"POST",
               "/v1/security-groups",
               {{"name", "x"},
                {"rules",
                 {{{"direction", "ingress"}},
                  {{"direction", "ingress"}, {"protocol", "tcp"}, {"port_range_min", 70000}}}}},
               400,
               "rules[1]"},
           Bad{"POST",
               "/v1/security-groups/web/rules",
               {{"RULE_TYPE", "sideways"}},
               400,
               "RULE_TYPE"},
           Bad{"POST",
               "/v1/security-groups/web/rules",
               {{"direction", "ingress"}, {"ethertype", "IPv6"}},
               400,
               "IPv6"},
           Bad{"PUT", "/v1/security-groups/web/rules", {{"rules", "all"}}, 400, "rules"},
           Bad{"PUT", "/v1/security-groups/nope/rules", {{"rules", json::array()}}, 404, "nope"},
           Bad{"DELETE", "/v1/security-groups/web/rules/9", {}, 404, "rule 9"},
           Bad{"DELETE", "/v1/security-groups/web/rules/x", {}, 400, "rule"},
           Bad{"DELETE", "/v1/security-groups/default", {}, 409, "default"},
           Bad{"DELETE", "/v1/security-groups/nope", {}, 404, "nope"},
           Bad{"GET", "/v1/security-groups/nope", {}, 404, "nope"},
       }) {
    const ApiResult r = b.method == "POST"  ? api_->post(b.path, b.body)
                        : b.method == "PUT" ? api_->put(b.path, b.body)
                        : b.method == "GET" ? api_->get(b.path)
                                            : api_->del(b.path);
    EXPECT_EQ(r.status, b.status) << b.method << " " << b.path << " " << b.body.dump() << " -> "
                                  << r.body.dump();
    EXPECT_NE(r.body.dump().find(b.words), std::string::npos) << r.body.dump();
  }
  EXPECT_EQ(groups().size(), 2u);
  EXPECT_EQ(api_->get("/v1/security-groups/web").body["security_group"], web);

  const ApiResult added = api_->post(
      "/v1/security-groups/2/rules",
      {{"direction", "egress"}, {"protocol", "udp"}, {"ports", "53"}, {"remote", "10.1.0.0/16"}});
  ASSERT_EQ(added.status, 201) << added.body.dump();
  EXPECT_EQ(added.body["rule"]["id"], 3);
  EXPECT_EQ(added.body["rule"]["neutron"]["port_range_max"], 53);
  EXPECT_EQ(added.body["security_group"]["rules"].size(), 3u);
  const ApiResult removed = api_->del("/v1/security-groups/web/rules/1");
  ASSERT_EQ(removed.status, 200) << removed.body.dump();
  EXPECT_EQ(removed.body["security_group"]["rules"].size(), 2u);
  const ApiResult replaced =
      api_->put("/v1/security-groups/web/rules",
                {{"rules", {{{"direction", "ingress"}, {"protocol", "icmp"}}}}});
  ASSERT_EQ(replaced.status, 200) << replaced.body.dump();
  ASSERT_EQ(replaced.body["security_group"]["rules"].size(), 1u);
  EXPECT_EQ(replaced.body["security_group"]["rules"][0]["id"], 4);
  EXPECT_EQ(replaced.body["security_group"]["rules"][0]["protocol"], "icmp");
}

// Catches: a VM's NICs not in the groups asked for, an unknown group accepted, a group a NIC
// lists deleted, the group's NIC list wrong.
TEST_F(ApiSecurityGroupsTest, VmNicsListTheirGroupsAndHoldThemInUse) {
  ASSERT_TRUE(ensure_test_network(*api_));
  ASSERT_EQ(api_->post("/v1/security-groups", {{"name", "web"}}).status, 201);
  const json vm_body = {
      {"name", "g"}, {"image", "tiny"}, {"vcpus", 1}, {"memory_mib", 128}, {"networks", {"net"}}};
  json unknown = vm_body;
  unknown["security_groups"] = {"nope"};
  ApiResult r = api_->post("/v1/vms", unknown);
  EXPECT_EQ(r.status, 400) << r.body.dump();
  json without_networks = vm_body;
  without_networks.erase("networks");
  without_networks["security_groups"] = {"web"};
  r = api_->post("/v1/vms", without_networks);
  EXPECT_EQ(r.status, 400) << r.body.dump();

  json in_web = vm_body;
  in_web["security_groups"] = {"web", "default"};
  r = api_->post("/v1/vms", in_web);
  ASSERT_EQ(r.status, 202) << r.body.dump();
  const std::int64_t id = r.body["vm"]["id"].get<std::int64_t>();
  EXPECT_EQ(r.body["vm"]["nics"][0]["security_groups"], json({2, 1}));
  r = api_->post("/v1/vms", vm_body);
  ASSERT_EQ(r.status, 202) << r.body.dump();
  EXPECT_EQ(r.body["vm"]["nics"][0]["security_groups"], json({1}));

  EXPECT_EQ(api_->get("/v1/security-groups/web").body["security_group"]["nics"],
            json({{{"vm", id}, {"nic", 0}}}));
  r = api_->del("/v1/security-groups/web");
  EXPECT_EQ(r.status, 409) << r.body.dump();
  ASSERT_FALSE(api_->wait_idle(id).is_null());

  // The VM's NIC in Nova's and OpenNebula's words, keyed by the network's name.
  const json vm = api_->get("/v1/vms/" + std::to_string(id)).body;
  const std::string ip = vm["nics"][0]["ip"].get<std::string>();
  EXPECT_EQ(vm["nics"][0]["network"], "net");
  EXPECT_EQ(vm["views"]["nova"]["addresses"]["net"][0]["addr"], ip) << vm.dump();
  EXPECT_EQ(vm["views"]["opennebula"]["NIC"][0]["SECURITY_GROUPS"], "2,1") << vm.dump();

  // nic_update: refusals change nothing; then the NIC leaves `web`, which can go.
  const std::string nic0 = "/v1/vms/" + std::to_string(id) + "/nics/0";
  const struct {
    std::string path;
    json body;
    int status;
  } bad[] = {{nic0, {{"security_groups", {"nope"}}}, 404},  // Neutron's port update
             {nic0, json::object(), 400},
             {nic0, {{"security_groups", {"default"}}, {"extra", 1}}, 400},
             {nic0, {{"security_groups", "default"}}, 400},
             {"/v1/vms/" + std::to_string(id) + "/nics/5", {{"security_groups", {"default"}}}, 404},
             {"/v1/vms/" + std::to_string(id) + "/nics/x", {{"security_groups", {"default"}}}, 404},
             {"/v1/vms/999/nics/0", {{"security_groups", {"default"}}}, 404}};
  for (const auto& b : bad) {
    r = api_->put(b.path, b.body);
    EXPECT_EQ(r.status, b.status) << b.path << " " << b.body.dump() << " " << r.body.dump();
    EXPECT_TRUE(r.body.contains("error")) << r.body.dump();
  }
  EXPECT_EQ(api_->get("/v1/vms/" + std::to_string(id)).body["nics"][0]["security_groups"],
            json({2, 1}));
  r = api_->put(nic0, {{"security_groups", {"default"}}});
  ASSERT_EQ(r.status, 200) << r.body.dump();
  EXPECT_EQ(r.body["vm"]["nics"][0]["security_groups"], json({1}));
  EXPECT_EQ(r.body["vm"]["state"], "RUNNING");
  r = api_->del("/v1/security-groups/web");
  EXPECT_EQ(r.status, 200) << r.body.dump();
  EXPECT_EQ(groups().size(), 1u);
  ASSERT_EQ(api_->del("/v1/vms/" + std::to_string(id)).status, 202);
  ASSERT_FALSE(api_->wait_idle(id).is_null());
}

// Catches: a secgroup subcommand missing or misrouted, a rule-add that does not reach the
// server in Corral's words, `vm create --security-group` ignored.
TEST_F(ApiSecurityGroupsTest, TheCliManagesGroupsAndRules) {
  const std::string url = server_->url();
  CliResult r = run_cli({"secgroup", "create", "ssh", "--description", "ssh only"}, url);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  r = run_cli({"secgroup", "rule-add", "ssh", "--ports", "22", "--remote", "10.0.0.0/8"}, url);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("10.0.0.0/8"), std::string::npos) << r.out;
  r = run_cli({"secgroup", "rule-add", "ssh", "--protocol", "icmp", "--direction", "egress"}, url);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  r = run_cli({"secgroup", "rule-add", "ssh", "--protocol", "icmp", "--ports", "22"}, url);
  EXPECT_NE(r.exit_code, 0) << r.out;
  r = run_cli({"secgroup", "show", "ssh"}, url);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("ssh only"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("egress"), std::string::npos) << r.out;
  r = run_cli({"secgroup", "list"}, url);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("default"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ssh"), std::string::npos) << r.out;
  r = run_cli({"secgroup", "rule-delete", "ssh", "2"}, url);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(api_->get("/v1/security-groups/ssh").body["security_group"]["rules"].size(), 1u);
  r = run_cli({"secgroup", "delete", "default"}, url);
  EXPECT_NE(r.exit_code, 0) << r.out;

  ASSERT_TRUE(ensure_test_network(*api_));
  r = run_cli(
      {"vm", "create", "c", "--image", "tiny", "--network", "net", "--security-group", "ssh"}, url);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(api_->get("/v1/security-groups/ssh").body["security_group"]["nics"].size(), 1u);
  r = run_cli({"secgroup", "delete", "ssh"}, url);
  EXPECT_NE(r.exit_code, 0) << r.out;
  // nic-update moves the NIC back to default; vm show lists it in its NIC table.
  const std::string vm_id = std::to_string(api_->get("/v1/vms").body["vms"][0]["id"].get<int>());
  r = run_cli({"vm", "nic-update", vm_id, "0"}, url);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("VM NICS"), std::string::npos) << r.out;
  EXPECT_TRUE(api_->get("/v1/security-groups/ssh").body["security_group"]["nics"].empty());
  r = run_cli({"vm", "nic-update", vm_id, "3", "--security-group", "ssh"}, url);
  EXPECT_NE(r.exit_code, 0) << r.out;
  r = run_cli({"secgroup", "delete", "ssh"}, url);
  EXPECT_EQ(r.exit_code, 0) << r.out;
}

}  // namespace
}  // namespace corral::testing
