// The Azure Resource Manager API (issue 17) driven by the real client: Debian's `az` (2.45) on
// the 2020-09-01-hybrid profile, against a real `corral server` over HTTPS (the sim driver),
// as an Azure user types it after the README's `az cloud register` and `az login`. The
// statuses az prints are checked against seed 000's text, and against Corral's own Azure view.
// Each az process takes 3-5 s here, so the checks share one server, one login and one VM.
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "lifecycle/seed_text.h"
#include "support/api_call.h"
#include "support/server_process.h"

namespace corral::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// Seed 000's instance-view statuses of one power state's row ("Running"): each code, level
// and displayStatus in order, as the seed's table lists them.
struct SeedStatus {
  std::string code;
  std::string level;
  std::string display;
};
std::vector<SeedStatus> seed_statuses(const std::string& row) {
  const std::string text = lifecycle::testing::seed_text("000");
  const std::size_t at = text.find("<strong>" + row + "</strong>");
  if (at == std::string::npos) return {};
  const std::size_t end = text.find("</tr>", at);
  const std::string cell = text.substr(at, end - at);
  static const std::regex kStatus(
      R"re("code": "([^"]+)",</p>\s*<p> "level": "([^"]+)",</p>\s*<p> "displayStatus": "([^"]+)")re");
  std::vector<SeedStatus> out;
  for (auto it = std::sregex_iterator(cell.begin(), cell.end(), kStatus);
       it != std::sregex_iterator(); ++it) {
    out.push_back({(*it)[1].str(), (*it)[2].str(), (*it)[3].str()});
  }
  return out;
}

class AzureCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new ServerProcess({"--sim-profile", "zero", "--sim-hosts", "2"});
    server_->use_tls();
    ASSERT_TRUE(server_->start()) << server_->log();
    const std::string admin = server_->admin_token();
    for (const char* project : {"demo", "other"}) {
      ASSERT_EQ(call(admin, "POST", "/v1/projects", {{"name", project}}).status, 201);
      const ApiReply user = call(admin, "POST", "/v1/users",
                                 {{"name", project},
                                  {"password", std::string("password-") + project},
                                  {"project", project},
                                  {"role", "member"}});
      ASSERT_EQ(user.status, 201) << user.body.dump();
    }
    config_dir_ = server_->data_dir() + "/azure";
    std::filesystem::create_directories(config_dir_);
    // az takes an RSA key for the VM's osProfile.
    const ProgramResult key = run_program({"ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "",
                                           "-C", "test", "-f", server_->data_dir() + "/key"},
                                          {}, 60s);
    ASSERT_EQ(key.exit_code, 0) << key.err;
    std::ifstream in(server_->data_dir() + "/key.pub");
    std::getline(in, public_key_);
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  // `az ARGS...` with the test's own config dir and the cluster CA.
  static ProgramResult az(std::vector<std::string> args) {
    args.insert(args.begin(), "az");
    return run_program(args,
                       {{"AZURE_CONFIG_DIR", config_dir_},
                        {"REQUESTS_CA_BUNDLE", server_->ca_cert_path()},
                        {"AZURE_CORE_COLLECT_TELEMETRY", "false"},
                        {"AZURE_CORE_NO_COLOR", "true"},
                        {"AZURE_CORE_ONLY_SHOW_ERRORS", "true"}},
                       120s);
  }
  static json az_json(std::vector<std::string> args) {
    args.insert(args.end(), {"-o", "json"});
    const ProgramResult ran = az(args);
    EXPECT_EQ(ran.exit_code, 0) << ran.out << ran.err;
    const json parsed = json::parse(ran.out, nullptr, false);
    EXPECT_FALSE(parsed.is_discarded()) << ran.out << ran.err;
    return parsed.is_discarded() ? json() : parsed;
  }
  // One v1 request over the server's HTTPS, verified against its CA (api_call is plain HTTP's).
  static ApiReply call(const std::string& token, const std::string& method, const std::string& path,
                       const json& body = nullptr) {
    std::unique_ptr<httplib::Client> c = server_->plain_client();
    if (!token.empty()) c->set_bearer_token_auth(token);
    const std::string text = body.is_null() ? std::string() : body.dump();
    httplib::Result r = method == "GET"    ? c->Get(path)
                        : method == "POST" ? c->Post(path, text, "application/json")
                        : method == "PUT"  ? c->Put(path, text, "application/json")
                                           : c->Delete(path);
    if (!r) return {};
    return {r->status, json::parse(r->body, nullptr, false), r->body};
  }
  // A VM made in project `project`'s resource group `group` through the v1 API, as `user`.
  static std::int64_t v1_vm(const std::string& user, const std::string& group,
                            const std::string& name) {
    const ApiReply login =
        call("", "POST", "/v1/auth/tokens", {{"user", user}, {"password", "password-" + user}});
    EXPECT_EQ(login.status, 201) << login.body.dump();
    const std::string token = login.body.value("token", "");
    if (!group.empty()) {
      EXPECT_EQ(
          call(token, "PUT", "/v1/resource-groups/" + group, {{"location", "westus"}}).status / 100,
          2);
    }
    json body = {{"name", name}, {"image", "tiny"}, {"vcpus", 1}, {"memory_mib", 512}};
    if (!group.empty()) body["resource_group"] = group;
    const ApiReply made = call(token, "POST", "/v1/vms", body);
    EXPECT_EQ(made.status, 202) << made.body.dump();
    return made.body["vm"].value("id", 0L);
  }
  // Corral's own Azure statuses of VM `id`.
  static json azure_statuses(std::int64_t id) {
    const ApiReply r =
        call(server_->admin_token(), "GET", "/v1/vms/" + std::to_string(id) + "?views=azure");
    return r.body["views"]["azure"]["statuses"];
  }

  static ServerProcess* server_;
  static std::string config_dir_;
  static std::string public_key_;
};

ServerProcess* AzureCliTest::server_ = nullptr;
std::string AzureCliTest::config_dir_;
std::string AzureCliTest::public_key_;

// Catches: an ARM endpoint az cannot register or log in to (metadata, ADFS discovery, the
// client-credentials token, subscriptions), statuses out of seed 000's order or words, a power
// verb that is not the Azure vocabulary's, LRO headers az cannot poll, a refusal not in ARM's
// shape, another project's VM visible.
TEST_F(AzureCliTest, TheAzCommandDrivesAVmThroughItsLife) {
  // The README's lines: register the cloud from its metadata, log in as a service principal.
  const std::string arm = server_->url();
  ProgramResult ran = az({"cloud", "register", "-n", "Corral", "--endpoint-resource-manager", arm,
                          "--profile", "2020-09-01-hybrid"});
  ASSERT_EQ(ran.exit_code, 0) << ran.out << ran.err;
  ran = az({"cloud", "set", "-n", "Corral"});
  ASSERT_EQ(ran.exit_code, 0) << ran.out << ran.err;
  const json login = az_json({"login", "--service-principal", "-u", "demo", "-p", "password-demo",
                              "--tenant", "00000000-0000-0000-0000-000000000000"});
  ASSERT_TRUE(login.is_array() && login.size() == 1) << login.dump();
  EXPECT_EQ(login[0]["name"], "demo") << "the subscription is the project";
  EXPECT_EQ(login[0]["state"], "Enabled");

  const json group = az_json({"group", "create", "-n", "web", "-l", "West US"});
  EXPECT_EQ(group["location"], "westus");
  EXPECT_EQ(group["properties"]["provisioningState"], "Succeeded");
  // vm create: az's deployment (virtual network, NSG, public IP, NIC, VM) — the network a
  // Corral network, the NSG a Corral security group holding the NIC; az waits until the VM
  // runs and reads its NIC and public IP.
  const json created = az_json({"vm", "create", "-g", "web", "-n", "web-1", "--image",
                                "Corral:Images:tiny:latest", "--size", "Standard_B1ls",
                                "--admin-username", "corral", "--ssh-key-values", public_key_});
  EXPECT_EQ(created["powerState"], "VM running") << created.dump();
  EXPECT_EQ(created["resourceGroup"], "web");
  EXPECT_TRUE(created["privateIpAddress"].is_string() &&
              created["privateIpAddress"].get<std::string>().starts_with("10.0.0."))
      << created.dump();
  EXPECT_EQ(created["publicIpAddress"], created["privateIpAddress"])
      << "the public IP is the first NIC's address (no NAT): " << created.dump();
  const ApiReply found =
      call(server_->admin_token(), "GET", "/v1/vms?name=web-1&all_projects=true");
  ASSERT_EQ(found.body["vms"].size(), 1u) << found.text;
  const std::int64_t id = found.body["vms"][0].value("id", 0L);
  EXPECT_EQ(found.body["vms"][0]["image"], "tiny");
  EXPECT_EQ(found.body["vms"][0]["memory_mib"], 512);
  EXPECT_EQ(found.body["vms"][0]["nics"][0]["network"], "web-1vnet");
  const ApiReply nsg = call(server_->admin_token(), "GET", "/v1/security-groups/web-1nsg");
  ASSERT_EQ(nsg.status, 200) << nsg.text;
  const json& sg = nsg.body["security_group"];
  EXPECT_EQ(found.body["vms"][0]["nics"][0]["security_groups"], json::array({sg["id"]}));
  bool ssh_allowed = false;
  for (const json& rule : sg["rules"]) {
    ssh_allowed |= rule["direction"] == "ingress" && rule["protocol"] == "tcp" &&
                   rule["ports"] == "22" && rule["remote"].is_null();
  }
  EXPECT_TRUE(ssh_allowed) << "az's default-allow-ssh rule: " << sg.dump();
  v1_vm("other", "", "secret-1");  // another project's, in its "default" group

  // list -d: every VM of the subscription with its power state (statuses[1] as az reads it).
  const json listed = az_json({"vm", "list", "-d"});
  ASSERT_TRUE(listed.is_array()) << listed.dump();
  ASSERT_EQ(listed.size(), 1u) << "another project's VM is not listed: " << listed.dump();
  EXPECT_EQ(listed[0]["name"], "web-1");
  EXPECT_EQ(listed[0]["resourceGroup"], "web");
  EXPECT_EQ(listed[0]["powerState"], "VM running");
  EXPECT_EQ(listed[0]["hardwareProfile"]["vmSize"], "Standard_B1ls");
  EXPECT_EQ(listed[0]["publicIps"], created["publicIpAddress"]);

  // get-instance-view: seed 000's Running row, status by status, and Corral's own view.
  const std::vector<SeedStatus> running = seed_statuses("Running");
  ASSERT_EQ(running.size(), 2u) << "seed 000's Running row";
  const json view = az_json({"vm", "get-instance-view", "-g", "web", "-n", "web-1"});
  const json statuses = view["instanceView"]["statuses"];
  ASSERT_EQ(statuses.size(), 2u) << view.dump();
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(statuses[i]["code"], running[i].code) << i;
    EXPECT_EQ(statuses[i]["level"], running[i].level) << i;
    EXPECT_EQ(statuses[i]["displayStatus"], running[i].display) << i;
    EXPECT_EQ(statuses[i]["code"], azure_statuses(id)[i]["code"]) << i;
  }

  // A failed update (seed 000:336-339): resize fails on the host; the VM runs on with its old
  // model, GET shows the size asked for, and the instance view the error.
  const std::string admin = server_->admin_token();
  ASSERT_EQ(call(admin, "POST", "/v1/admin/faults",
                 {{"kind", "fail_intact"},
                  {"action", "resize"},
                  {"message", "no room for 2 vCPUs on the host"}})
                .status,
            201);
  ran = az({"vm", "resize", "-g", "web", "-n", "web-1", "--size", "Standard_B2s"});
  EXPECT_NE(ran.exit_code, 0) << ran.out;
  EXPECT_NE(ran.err.find("no room for 2 vCPUs on the host"), std::string::npos) << ran.err;
  json shown = az_json({"vm", "get-instance-view", "-g", "web", "-n", "web-1"});
  EXPECT_EQ(shown["hardwareProfile"]["vmSize"], "Standard_B2s") << "the model last received";
  EXPECT_EQ(shown["provisioningState"], "Failed");
  EXPECT_EQ(shown["instanceView"]["statuses"][0]["code"], "ProvisioningState/failed");
  EXPECT_NE(shown["instanceView"]["statuses"][0].value("message", "").find("no room"),
            std::string::npos)
      << shown.dump();
  EXPECT_EQ(shown["instanceView"]["statuses"][1]["code"], "PowerState/running");
  const ApiReply effective = call(admin, "GET", "/v1/vms/" + std::to_string(id));
  EXPECT_EQ(effective.body["vcpus"], 1) << "the old model stays in effect";

  // A second write while one runs is ARM's Conflict: a graceful stop that hangs (--no-wait
  // returns at once), a start refused, then --skip-shutdown cutting the hung stop short.
  ASSERT_EQ(
      call(admin, "POST", "/v1/admin/faults", {{"kind", "hang"}, {"action", "shutdown"}}).status,
      201);
  ran = az({"vm", "stop", "-g", "web", "-n", "web-1", "--no-wait"});
  ASSERT_EQ(ran.exit_code, 0) << ran.out << ran.err;
  EXPECT_EQ(azure_statuses(id)[1]["code"], "PowerState/stopping");
  ran = az({"vm", "start", "-g", "web", "-n", "web-1"});
  EXPECT_NE(ran.exit_code, 0);
  EXPECT_NE(ran.err.find("(Conflict)"), std::string::npos) << ran.err;
  ran = az({"vm", "stop", "-g", "web", "-n", "web-1", "--skip-shutdown"});
  ASSERT_EQ(ran.exit_code, 0) << ran.out << ran.err;

  // stopped, then deallocate: az waits on each operation; the state shown is seed 000's row.
  shown = az_json({"vm", "show", "-d", "-g", "web", "-n", "web-1"});
  EXPECT_EQ(shown["powerState"], seed_statuses("Stopped").at(1).display);
  ran = az({"vm", "deallocate", "-g", "web", "-n", "web-1"});
  ASSERT_EQ(ran.exit_code, 0) << ran.out << ran.err;
  shown = az_json({"vm", "get-instance-view", "-g", "web", "-n", "web-1"});
  EXPECT_EQ(shown["instanceView"]["statuses"][1]["displayStatus"],
            seed_statuses("Deallocated").at(1).display);

  // A refused action: restart needs a running VM; ARM's code, the allowed verbs, no change.
  ran = az({"vm", "restart", "-g", "web", "-n", "web-1"});
  EXPECT_NE(ran.exit_code, 0);
  EXPECT_NE(ran.err.find("(OperationNotAllowed)"), std::string::npos) << ran.err;
  EXPECT_NE(ran.err.find("'web-1' since the VM is deallocated. Allowed now: start, update, "
                         "delete."),
            std::string::npos)
      << "the README's words, naming what is allowed: " << ran.err;
  EXPECT_EQ(azure_statuses(id)[1]["code"], "PowerState/deallocated");

  ran = az({"vm", "start", "-g", "web", "-n", "web-1"});
  ASSERT_EQ(ran.exit_code, 0) << ran.out << ran.err;
  ran = az({"vm", "restart", "-g", "web", "-n", "web-1"});
  ASSERT_EQ(ran.exit_code, 0) << ran.out << ran.err;
  EXPECT_EQ(azure_statuses(id)[1]["code"], "PowerState/running");

  // Another project's group and VM are not there.
  ran = az({"vm", "show", "-g", "default", "-n", "secret-1"});
  EXPECT_NE(ran.exit_code, 0);
  EXPECT_NE(ran.err.find("(ResourceNotFound)"), std::string::npos) << ran.err;

  ran = az({"vm", "delete", "-g", "web", "-n", "web-1", "--yes"});
  ASSERT_EQ(ran.exit_code, 0) << ran.out << ran.err;
  const ApiReply gone = call(server_->admin_token(), "GET", "/v1/vms/" + std::to_string(id));
  EXPECT_EQ(gone.body.value("state", ""), "DONE");

  // Azure's group delete takes the group's VMs with it (here one made through v1).
  const std::int64_t second = v1_vm("demo", "web", "web-2");
  ran = az({"group", "delete", "-n", "web", "--yes"});
  ASSERT_EQ(ran.exit_code, 0) << ran.out << ran.err;
  EXPECT_EQ(call(admin, "GET", "/v1/vms/" + std::to_string(second)).body.value("state", ""),
            "DONE");
  const ApiReply groups = call(admin, "GET", "/v1/resource-groups?all_projects=true");
  EXPECT_TRUE(groups.body["resource_groups"].empty()) << groups.text;
  const json after = az_json({"vm", "list"});
  EXPECT_TRUE(after.is_array() && after.empty()) << after.dump();
}

}  // namespace
}  // namespace corral::testing
