// The OpenStack API (issue 15) driven by the real clients: Debian's `openstack` command
// (python3-openstackclient) and openstacksdk, against a real `corral server` (the sim driver),
// as a Nova user types them. Every state a client prints is checked against Corral's own Nova
// view (GET /v1/vms/{id}?views=nova), and a wrong-state action's refusal is Nova's.
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "support/api_call.h"
#include "support/server_process.h"

namespace corral::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

using Ran = ProgramResult;

class OpenStackClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new ServerProcess(
        {"--sim-profile", "zero", "--sim-hosts", "2", "--sim-images", "tiny,cirros"});
    ASSERT_TRUE(server_->start()) << server_->log();
    const std::string admin = server_->admin_token();
    ASSERT_EQ(api_call(server_->url(), admin, "POST", "/v1/projects", {{"name", "demo"}}).status,
              201);
    const ApiReply user = api_call(
        server_->url(), admin, "POST", "/v1/users",
        {{"name", "demo"}, {"password", "password-demo"}, {"project", "demo"}, {"role", "member"}});
    ASSERT_EQ(user.status, 201) << user.body.dump();
    // The cloud's admin (admin on the admin project), as Nova's operator: moves and hosts.
    const ApiReply ops = api_call(
        server_->url(), admin, "POST", "/v1/users",
        {{"name", "ops"}, {"password", "password-ops"}, {"project", "admin"}, {"role", "admin"}});
    ASSERT_EQ(ops.status, 201) << ops.body.dump();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  // `openstack ARGS...` as the user demo of the project demo (OS_* as in the README).
  static Ran openstack(std::vector<std::string> args) {
    return openstack_as("demo", "demo", std::move(args));
  }
  // ... as `user` (password "password-<user>") of `project`.
  static Ran openstack_as(const std::string& user, const std::string& project,
                          std::vector<std::string> args) {
    args.insert(args.begin(), "openstack");
    return run_program(args,
                       {{"OS_AUTH_URL", server_->url() + "/identity/v3"},
                        {"OS_IDENTITY_API_VERSION", "3"},
                        {"OS_USERNAME", user},
                        {"OS_PASSWORD", "password-" + user},
                        {"OS_PROJECT_NAME", project},
                        {"OS_USER_DOMAIN_NAME", "Default"},
                        {"OS_PROJECT_DOMAIN_NAME", "Default"},
                        {"OS_REGION_NAME", "RegionOne"}},
                       120s);
  }
  static json openstack_json(std::vector<std::string> args, const std::string& user = "demo",
                             const std::string& project = "demo") {
    args.insert(args.end(), {"-f", "json"});
    const Ran ran = openstack_as(user, project, args);
    EXPECT_EQ(ran.exit_code, 0) << ran.out << ran.err;
    const json parsed = json::parse(ran.out, nullptr, false);
    EXPECT_FALSE(parsed.is_discarded()) << ran.out << ran.err;
    return parsed.is_discarded() ? json() : parsed;
  }
  // Corral's own Nova view of VM `id`, once no task runs on it.
  static json settled_view(const std::string& id) {
    json view;
    for (int i = 0; i < 500; ++i) {
      const ApiReply r =
          api_call(server_->url(), server_->admin_token(), "GET", "/v1/vms/" + id + "?views=nova");
      view = r.body["views"]["nova"];
      if (view["task_state"].is_null()) break;
      std::this_thread::sleep_for(20ms);
    }
    return view;
  }
  static std::string vm_host(const std::string& id) {
    const ApiReply r =
        api_call(server_->url(), server_->admin_token(), "GET", "/v1/vms/" + id + "?views=none");
    const json vm = r.body.contains("vm") ? r.body["vm"] : r.body;
    return vm.value("host", "");
  }
  // `openstack server show` agrees with Corral's view and shows `status`.
  static void expect_status(const std::string& id, const std::string& status,
                            const std::string& step) {
    const json view = settled_view(id);
    EXPECT_EQ(view["status"], status) << step << ": " << view.dump();
    const json shown = openstack_json({"server", "show", id});
    EXPECT_EQ(shown["status"], view["status"]) << step << ": " << shown.dump();
    EXPECT_EQ(shown["OS-EXT-STS:vm_state"], view["vm_state"]) << step << ": " << shown.dump();
  }

  static ServerProcess* server_;
};

ServerProcess* OpenStackClientTest::server_ = nullptr;

TEST_F(OpenStackClientTest, TheOpenstackCommandDrivesAServerThroughItsLife) {
  bool nano = false;
  for (const json& f : openstack_json({"flavor", "list"})) nano = nano || f["Name"] == "m1.nano";
  EXPECT_TRUE(nano);
  bool tiny = false;
  for (const json& i : openstack_json({"image", "list"})) tiny = tiny || i["Name"] == "tiny";
  EXPECT_TRUE(tiny);

  const json made = openstack_json(
      {"server", "create", "--image", "tiny", "--flavor", "m1.nano", "--wait", "c1"});
  ASSERT_EQ(made["status"], "ACTIVE") << made.dump();
  const std::string id = made["id"].get<std::string>();
  EXPECT_EQ(made["OS-EXT-STS:vm_state"], "active");
  bool listed = false;
  for (const json& s : openstack_json({"server", "list"})) {
    listed = listed || (s["Name"] == "c1" && s["Status"] == "ACTIVE");
  }
  EXPECT_TRUE(listed);

  const std::vector<std::pair<std::vector<std::string>, std::string>> steps = {
      {{"server", "stop", "c1"}, "SHUTOFF"},
      {{"server", "start", "c1"}, "ACTIVE"},
      {{"server", "reboot", "--hard", "c1"}, "ACTIVE"},
      {{"server", "pause", "c1"}, "PAUSED"},
      {{"server", "unpause", "c1"}, "ACTIVE"},
      {{"server", "suspend", "c1"}, "SUSPENDED"},
      {{"server", "resume", "c1"}, "ACTIVE"},
      {{"server", "shelve", "c1"}, "SHELVED_OFFLOADED"},
      {{"server", "unshelve", "c1"}, "ACTIVE"},
      {{"server", "rescue", "c1"}, "RESCUE"},
      {{"server", "unrescue", "c1"}, "ACTIVE"},
      {{"server", "resize", "--flavor", "m1.micro", "c1"}, "VERIFY_RESIZE"},
      {{"server", "resize", "confirm", "c1"}, "ACTIVE"},
  };
  for (const auto& [args, status] : steps) {
    const Ran ran = openstack(args);
    EXPECT_EQ(ran.exit_code, 0) << args[1] << ": " << ran.out << ran.err;
    expect_status(id, status, args[1] + " " + args[2]);
  }
  EXPECT_EQ(openstack_json({"server", "show", "c1"})["flavor"], "m1.micro (84)");

  // The cloud's admin moves it: cold, then live, each to the other host; Nova's records of
  // both; the hosts as hypervisors and compute services.
  const auto host_of = [&] { return settled_view(id).empty() ? std::string() : vm_host(id); };
  const std::string first_host = host_of();
  ASSERT_FALSE(first_host.empty());
  Ran moved = openstack_as("ops", "admin", {"server", "migrate", "--wait", id});
  EXPECT_EQ(moved.exit_code, 0) << moved.out << moved.err;
  expect_status(id, "ACTIVE", "migrate");
  const std::string second_host = host_of();
  EXPECT_NE(second_host, first_host);
  moved = openstack_as("ops", "admin", {"server", "migrate", "--live-migration", "--wait", id});
  EXPECT_EQ(moved.exit_code, 0) << moved.out << moved.err;
  expect_status(id, "ACTIVE", "live migrate");
  EXPECT_EQ(host_of(), first_host);
  const json migrations =
      openstack_json({"server", "migration", "list", "--server", id}, "ops", "admin");
  // Newest first: the live move back, then the cold move (a resize before them may have one).
  ASSERT_GE(migrations.size(), 2U) << migrations.dump();
  for (const json& m : migrations) EXPECT_EQ(m["Server UUID"], id) << m.dump();
  EXPECT_EQ(migrations[0]["Status"], "completed") << migrations.dump();
  EXPECT_EQ(migrations[0]["Dest Compute"], first_host) << migrations.dump();
  EXPECT_EQ(migrations[1]["Status"], "finished") << migrations.dump();
  EXPECT_EQ(migrations[1]["Dest Compute"], second_host) << migrations.dump();
  std::set<std::string> hypervisors;
  for (const json& h : openstack_json({"hypervisor", "list"}, "ops", "admin")) {
    hypervisors.insert(h["Hypervisor Hostname"].get<std::string>());
    EXPECT_EQ(h["State"], "up") << h.dump();
  }
  EXPECT_EQ(hypervisors, (std::set<std::string>{"sim-1", "sim-2"}));
  std::set<std::string> services;
  for (const json& s : openstack_json({"compute", "service", "list"}, "ops", "admin")) {
    services.insert(s["Host"].get<std::string>());
    EXPECT_EQ(s["Binary"], "nova-compute") << s.dump();
  }
  EXPECT_EQ(services, (std::set<std::string>{"sim-1", "sim-2"}));
  // A member may not move servers or list hosts: Nova's 403, printed by the client.
  const Ran member_migrate = openstack({"server", "migrate", "c1"});
  EXPECT_EQ(member_migrate.exit_code, 1) << member_migrate.out << member_migrate.err;
  const Ran member_hosts = openstack({"hypervisor", "list"});
  EXPECT_EQ(member_hosts.exit_code, 1) << member_hosts.out << member_hosts.err;
  // Evacuate while the host is up: Nova's refusal. (Its success path is in the SDK script:
  // this client, 6.0, reads evacuate's reply as a server and fails after the request.)
  const Ran refused_evacuate = openstack_as("ops", "admin", {"server", "evacuate", id});
  EXPECT_EQ(refused_evacuate.exit_code, 1);
  EXPECT_NE(refused_evacuate.err.find("is still in use"), std::string::npos)
      << refused_evacuate.out << refused_evacuate.err;

  // Nova's instance actions, from the audit log: every accepted request on the server.
  std::set<std::string> actions;
  for (const json& a : openstack_json({"server", "event", "list", "c1"})) {
    actions.insert(a["Action"].get<std::string>());
  }
  for (const char* a : {"create", "stop", "start", "reboot", "pause", "shelve", "unshelve",
                        "resize", "confirmResize"}) {
    EXPECT_TRUE(actions.contains(a)) << a;
  }
  // The project's usage (os-simple-tenant-usage) and quotas (os-quota-sets).
  const json usage = openstack_json({"usage", "show"});
  ASSERT_TRUE(usage["Servers"].is_array()) << usage.dump();
  EXPECT_EQ(usage["Servers"].size(), 1U) << usage.dump();
  EXPECT_GT(usage["CPU Hours"].get<double>(), 0) << usage.dump();
  const json quota = openstack_json({"quota", "show"});
  EXPECT_EQ(quota["instances"], 10) << quota.dump();
  EXPECT_EQ(quota["cores"], 20) << quota.dump();

  // A wrong state: Nova's 409 and sentence, printed by the client, exit 1, nothing changed.
  ASSERT_EQ(openstack({"server", "stop", "c1"}).exit_code, 0);
  expect_status(id, "SHUTOFF", "stop");
  const Ran refused = openstack({"server", "pause", "c1"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("Cannot 'pause' instance " + id + " while it is in vm_state stopped"),
            std::string::npos)
      << refused.out << refused.err;
  expect_status(id, "SHUTOFF", "refused pause");

  // Locked by its owner: the owner's actions are refused with Nova's sentence until unlocked.
  ASSERT_EQ(openstack({"server", "lock", "c1"}).exit_code, 0);
  EXPECT_EQ(openstack_json({"server", "show", "c1"})["locked"], true);
  const Ran locked = openstack({"server", "start", "c1"});
  EXPECT_EQ(locked.exit_code, 1);
  EXPECT_NE(locked.err.find("Instance " + id + " is locked"), std::string::npos)
      << locked.out << locked.err;
  expect_status(id, "SHUTOFF", "start while locked");
  ASSERT_EQ(openstack({"server", "unlock", "c1"}).exit_code, 0);
  EXPECT_EQ(openstack_json({"server", "show", "c1"})["locked"], false);

  // Over the project's quota: Nova's 403, printed by the client, nothing made. Another
  // project's server: not found, as in Nova.
  const std::string admin = server_->admin_token();
  const std::string quotas = "/v1/projects/demo/quotas";
  ASSERT_EQ(api_call(server_->url(), admin, "PUT", quotas, {{"vms", 1}}).status, 200);
  const Ran over =
      openstack({"server", "create", "--image", "tiny", "--flavor", "m1.nano", "c-over"});
  EXPECT_EQ(over.exit_code, 1);
  EXPECT_NE(over.err.find("Quota exceeded"), std::string::npos) << over.out << over.err;
  EXPECT_NE(over.err.find("403"), std::string::npos) << over.out << over.err;
  ASSERT_EQ(api_call(server_->url(), admin, "PUT", quotas, {{"vms", nullptr}}).status, 200);
  EXPECT_EQ(openstack_json({"server", "list"}).size(), 1U);
  const ApiReply theirs =
      api_call(server_->url(), admin, "POST", "/v1/vms",
               {{"name", "theirs"}, {"image", "tiny"}, {"vcpus", 1}, {"memory_mib", 128}});
  ASSERT_EQ(theirs.status, 202) << theirs.body.dump();
  const std::string theirs_id = std::to_string(theirs.body["vm"]["id"].get<std::int64_t>());
  const Ran hidden = openstack({"server", "show", theirs_id});
  EXPECT_EQ(hidden.exit_code, 1) << hidden.out << hidden.err;
  EXPECT_EQ(hidden.out.find("theirs"), std::string::npos) << hidden.out;

  const Ran deleted = openstack({"server", "delete", "--wait", "c1"});
  EXPECT_EQ(deleted.exit_code, 0) << deleted.out << deleted.err;
  const Ran gone = openstack({"server", "show", id});
  EXPECT_EQ(gone.exit_code, 1) << gone.out << gone.err;
  for (const json& s : openstack_json({"server", "list"})) EXPECT_NE(s["ID"], id);

  // A server on a network named with --nic (the client finds it through os-networks: there is
  // no network endpoint), its address as Corral leased it.
  const ApiReply login = api_call(server_->url(), "", "POST", "/v1/auth/tokens",
                                  {{"user", "demo"}, {"password", "password-demo"}});
  ASSERT_EQ(login.status, 201) << login.body.dump();
  const ApiReply net = api_call(server_->url(), login.body.value("token", ""), "POST",
                                "/v1/networks", {{"name", "osc-net"}, {"cidr", "10.92.0.0/24"}});
  ASSERT_EQ(net.status, 201) << net.body.dump();
  json on_net;
  for (int i = 0; i < 500 && on_net.is_null(); ++i) {
    const ApiReply n =
        api_call(server_->url(), login.body.value("token", ""), "GET", "/v1/networks/osc-net");
    if (n.body["network"].value("state", "") == "READY") on_net = n.body;
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_FALSE(on_net.is_null());
  const json c2 = openstack_json({"server", "create", "--image", "tiny", "--flavor", "m1.nano",
                                  "--nic", "net-id=osc-net", "--wait", "c2"});
  ASSERT_EQ(c2["status"], "ACTIVE") << c2.dump();
  const std::string c2_id = c2["id"].get<std::string>();
  const json ips = openstack_json({"server", "show", c2_id})["addresses"];
  EXPECT_NE(ips.dump().find("10.92.0."), std::string::npos) << ips.dump();
  EXPECT_EQ(openstack({"server", "delete", "--wait", c2_id}).exit_code, 0);
}

TEST_F(OpenStackClientTest, OpenstackSdkDrivesAServerThroughItsLife) {
  const Ran ran =
      run_program({"/usr/bin/python3", std::string(CORRAL_TESTS_DIR) + "/openstack_sdk_check.py",
                   server_->url()},
                  {}, 120s);
  EXPECT_EQ(ran.exit_code, 0) << ran.out << ran.err;
  for (const char* line : {"create ACTIVE active",
                           "stop SHUTOFF stopped",
                           "pause PAUSED paused",
                           "refused Cannot 'pause' instance",
                           "suspend SUSPENDED suspended",
                           "resume ACTIVE active",
                           "reboot ACTIVE active",
                           "shelve SHELVED_OFFLOADED shelved_offloaded",
                           "unshelve ACTIVE active",
                           "rescue RESCUE rescued",
                           "resize VERIFY_RESIZE resized",
                           "confirm ACTIVE active",
                           "locked Instance",
                           "actions ",
                           "usage quota limits ok",
                           "attach ",
                           "detach gone",
                           "interface 10.91.0.",
                           "interface gone",
                           "migrate ACTIVE active",
                           "live_migrate ACTIVE active",
                           "evacuate ACTIVE active",
                           "delete gone"}) {
    EXPECT_NE(ran.out.find(line), std::string::npos) << line << "\n" << ran.out << ran.err;
  }
}

}  // namespace
}  // namespace corral::testing
