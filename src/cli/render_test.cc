#include "cli/render.h"

#include <gtest/gtest.h>

#include "cli/stratuslab_commands.h"
#include "cli/vm_queries.h"

namespace corral::cli {
namespace {

namespace lc = corral::lifecycle;
using nlohmann::json;

json running_vm() {
  return json::parse(R"({
    "id": 12, "name": "web", "state": "RUNNING", "power": "running", "host": "host-1",
    "vcpus": 2, "memory_mib": 512, "image": "ttylinux", "pending_reason": null,
    "created_at": "2024-05-01T10:00:00Z", "updated_at": "2024-05-01T10:00:05Z",
    "operation": null,
    "views": {
      "opennebula": {"state": "ACTIVE", "state_id": 3, "lcm_state": "RUNNING",
                     "lcm_state_id": 3, "short": "runn"},
      "nova": {"vm_state": "active", "task_state": null, "power_state": 1, "status": "ACTIVE"},
      "azure": {"statuses": [{"code": "ProvisioningState/succeeded", "level": "Info",
                              "displayStatus": "Provisioning succeeded"},
                             {"code": "PowerState/running", "level": "Info",
                              "displayStatus": "VM running"}],
                "provisioning_state": "Succeeded", "power_state": "running",
                "billing": "hardware_and_software"},
      "stratuslab": {"state": "Running"}}})");
}

json pending_vm() {
  return json::parse(R"({
    "id": 13, "name": "db", "state": "PENDING", "host": null, "vcpus": 1, "memory_mib": 1536,
    "operation": {"id": 40, "action": "create", "phase": "schedule", "status": "running"},
    "views": {"opennebula": {"state": "PENDING", "lcm_state": "LCM_INIT", "short": "pend"},
              "nova": {"status": "BUILD"}, "azure": {"provisioning_state": "Creating",
              "power_state": null}, "stratuslab": {"state": "Pending"}}})");
}

TEST(RenderTest, TextOfNeverThrows) {
  EXPECT_EQ(text_of(json()), "-");
  EXPECT_EQ(text_of(json(""), "none"), "none");
  EXPECT_EQ(text_of(json(7)), "7");
  EXPECT_EQ(text_of(json(true)), "true");
  EXPECT_EQ(text_of(json("x")), "x");
  EXPECT_EQ(text_of(json::array({1})), "[1]");
  EXPECT_TRUE(field(json(3), "x").is_null());
  EXPECT_TRUE(field(json::object(), "x").is_null());
}

TEST(RenderTest, MemoryLikeOneVm) {
  EXPECT_EQ(memory_text(json(256)), "256M");
  EXPECT_EQ(memory_text(json(2048)), "2G");
  EXPECT_EQ(memory_text(json(1536)), "1.5G");
  EXPECT_EQ(memory_text(json("x")), "-");
}

TEST(RenderTest, Operation) {
  EXPECT_EQ(operation_text(json()), "-");
  EXPECT_EQ(operation_text(field(pending_vm(), "operation")), "create/schedule");
  EXPECT_EQ(operation_text(json({{"action", "stop"}, {"phase", "epilog"}, {"status", "failed"}})),
            "stop/epilog (failed)");
  EXPECT_EQ(operation_text(json({{"action", "create"}, {"status", "succeeded"}})), "-");
}

TEST(RenderTest, StateInEachVocabulary) {
  const json vm = running_vm();
  EXPECT_EQ(state_label(vm, lc::Vocabulary::kCorral), "RUNNING");
  EXPECT_EQ(state_label(vm, lc::Vocabulary::kOpenNebula), "ACTIVE/RUNNING");
  EXPECT_EQ(state_label(vm, lc::Vocabulary::kNova), "ACTIVE");
  EXPECT_EQ(state_label(vm, lc::Vocabulary::kAzure), "running");
  EXPECT_EQ(state_label(vm, lc::Vocabulary::kStratusLab), "Running");
  EXPECT_EQ(state_label(pending_vm(), lc::Vocabulary::kOpenNebula), "PENDING");
  EXPECT_EQ(state_label(pending_vm(), lc::Vocabulary::kAzure), "Creating");
  EXPECT_EQ(state_label(json::object(), lc::Vocabulary::kNova), "-");
}

TEST(RenderTest, VmListLikeOnevmList) {
  EXPECT_EQ(vm_list_table({running_vm(), pending_vm()}, lc::Vocabulary::kCorral),
            "ID NAME STAT STATE   CPU  MEM HOST   OPERATION\n"
            "12 web  runn RUNNING   2 512M host-1 -\n"
            "13 db   pend PENDING   1 1.5G -      create/schedule\n");
  EXPECT_NE(vm_list_table({running_vm()}, lc::Vocabulary::kNova).find(" ACTIVE "),
            std::string::npos);
}

TEST(RenderTest, ShowHasEveryFieldAndEveryView) {
  json vm = running_vm();
  vm["future_field"] = "x";
  vm["model"] = {{"effective", {{"vcpus", 2}}}, {"error", nullptr}};
  const std::string text = vm_details(vm);
  for (const char* expected :
       {"VIRTUAL MACHINE 12 INFORMATION\n", "ID                    : 12\n",
        "NAME                  : web\n", "MEMORY_MIB            : 512\n",
        "PENDING_REASON        : -\n", "FUTURE_FIELD          : x\n", "\nOPERATION\n-\n",
        "\nOPENNEBULA VIEW\n", "LCM_STATE             : RUNNING\n",
        "SHORT                 : runn\n", "\nNOVA VIEW\n", "STATUS                : ACTIVE\n",
        "\nAZURE VIEW\n", "  PowerState/running  Info  VM running\n", "\nSTRATUSLAB VIEW\n",
        "STATE                 : Running\n",
        "\nMODEL\nEFFECTIVE.VCPUS       : 2\nERROR                 : -\n",
        "\nSTATUSES\n  ProvisioningState"}) {
    EXPECT_NE(text.find(expected), std::string::npos) << expected << "\nin:\n" << text;
  }
  // Fields come in a person's order: id before name before state.
  EXPECT_LT(text.find("ID   "), text.find("NAME   "));
  EXPECT_LT(text.find("NAME   "), text.find("STATE   "));
  EXPECT_NE(vm_details(pending_vm()).find("PHASE                 : schedule\n"), std::string::npos);
  EXPECT_EQ(text.find("VM NICS"), std::string::npos);  // none: no section

  // OpenNebula's onevm show sections, as tables.
  vm["nics"] = json::parse(R"([{"nic": 0, "network_id": 1, "network": "default",
      "ip": "10.77.0.2", "mac": "02:00:0a:4d:00:02", "security_groups": [1, 3]}])");
  vm["volumes"] = json::parse(R"([{"id": 4, "name": "data", "slot": 0, "size_mib": 64,
      "status": "in-use", "guest_device": "/dev/disk/by-id/virtio-vol4"}])");
  const std::string linked = vm_details(vm);
  EXPECT_NE(linked.find("\nVM NICS\nID NETWORK IP        MAC               SECURITY_GROUPS\n"
                        " 0 default 10.77.0.2 02:00:0a:4d:00:02 1,3\n"),
            std::string::npos)
      << linked;
  EXPECT_NE(linked.find("\nVM VOLUMES\nID NAME SLOT SIZE STATUS GUEST_DEVICE\n"
                        " 4 data    0  64M in-use /dev/disk/by-id/virtio-vol4\n"),
            std::string::npos)
      << linked;
}

TEST(RenderTest, History) {
  const json history = json::parse(R"({"transitions": [
      {"id": 1, "from": "INIT", "to": "PENDING", "action": "create", "phase": "init",
       "status": "succeeded", "actor": "api", "request_id": "r1", "at": "T1", "reason": null}]})");
  EXPECT_EQ(history_table(history),
            "ID AT FROM TO      ACTION PHASE STATUS    ACTOR REASON\n"
            " 1 T1 INIT PENDING create init  succeeded api   -\n");
  EXPECT_EQ(history_table(json::object()), "ID AT FROM TO ACTION PHASE STATUS ACTOR REASON\n");
}

TEST(RenderTest, Hosts) {
  const json hosts = json::parse(R"({"hosts": [
      {"name": "host-1", "state": "MONITORED", "nova": {"status": "enabled", "state": "up"},
       "vcpus": 8, "memory_mib": 16384, "used_vcpus": 2, "used_memory_mib": 512, "vms": [3],
       "local": true},
      {"name": "h2", "state": "ERROR", "nova": {"status": "enabled", "state": "down"},
       "vcpus": 4, "memory_mib": 2048, "used_vcpus": 0, "used_memory_mib": 0, "vms": [],
       "local": false, "connected": false}]})");
  EXPECT_EQ(
      hosts_table(hosts),
      "NAME   STATE     SERVICE      VCPUS USED_VCPUS MEMORY USED_MEMORY VMS AGENT\n"
      "host-1 MONITORED enabled/up       8          2    16G        512M   1 local\n"
      "h2     ERROR     enabled/down     4          0     2G          0M   0 not connected\n");
}

TEST(RenderTest, OneHost) {
  const json host = json::parse(R"({"name": "h2", "state": "DISABLED", "state_id": 4,
      "nova": {"status": "disabled", "state": "up", "disabled_reason": "maintenance",
               "forced_down": false},
      "vcpus": 4, "used_vcpus": 1, "memory_mib": 2048, "used_memory_mib": 128,
      "cpu_allocation_ratio": 4.0, "ram_allocation_ratio": 1.0, "vms": [7, 9],
      "labels": {"zone": "a"}, "agent_version": "0.11", "last_heartbeat_ms": 5,
      "allowed_actions": ["enable", "flush"]})");
  const std::string text = host_text(host);
  EXPECT_NE(text.find("DISABLED (4)"), std::string::npos) << text;
  EXPECT_NE(text.find("disabled, up (maintenance)"), std::string::npos) << text;
  EXPECT_NE(text.find("7 9"), std::string::npos) << text;
  EXPECT_NE(text.find("zone=a"), std::string::npos) << text;
  EXPECT_NE(text.find("enable flush"), std::string::npos) << text;
}

TEST(RenderTest, Accepted) {
  const json response = {
      {"vm", running_vm()},
      {"operation",
       {{"id", 7}, {"action", "shutdown"}, {"phase", "shutdown"}, {"status", "running"}}}};
  EXPECT_EQ(accepted_text(response, "stop"),
            "VM 12: stop accepted (operation 7: shutdown/shutdown)\n");
  EXPECT_EQ(accepted_text(json::object(), "stop"), "VM ?: stop accepted\n");
  const json done = {{"vm", {{"id", 1}}},
                     {"operation", {{"id", 9}, {"action", "resize"}, {"status", "succeeded"}}}};
  EXPECT_EQ(accepted_text(done, "resize"),
            "VM 1: resize accepted (operation 9: resize (succeeded))\n");
}

TEST(RenderTest, StratusLabDescribeLikeTheSeed) {
  json vm = running_vm();
  vm["id"] = 5508;
  vm["name"] = "one-5508";
  vm["host"] = "vm-202.lal.stratuslab.eu";
  vm["vcpus"] = 1;
  vm["memory_mib"] = 128;
  // Seed 002: "5508 Running   1    131072    4    vm-202.lal.stratuslab.eu one-5508", with
  // cpu% 0 here (not measured).
  EXPECT_EQ(stratuslab_table({vm}),
            "id   state     vcpu memory    cpu% host/ip                  name\n"
            "5508 Running   1    131072    0    vm-202.lal.stratuslab.eu one-5508\n");
}

TEST(RenderTest, StratusLabRun) {
  EXPECT_EQ(stratuslab_run_text("5508", "host-1"),
            ":: Starting 1 machine\n"
            ":: Machine 1 (vm ID: 5508)\n"
            "       Public ip: host-1\n"
            ":: Done!\n");
}

TEST(RenderTest, WaitVerdict) {
  EXPECT_EQ(wait_verdict(running_vm(), lc::State::kRunning), "");
  EXPECT_EQ(wait_verdict(pending_vm(), lc::State::kRunning), std::nullopt);
  json failed = pending_vm();
  failed["state"] = "FAILED";
  failed["operation"] = {{"action", "create"}, {"error", "prolog: disk full"}};
  EXPECT_EQ(wait_verdict(failed, lc::State::kRunning),
            "VM 13 reached FAILED instead of RUNNING: create failed: prolog: disk full");
  EXPECT_EQ(wait_verdict(failed, lc::State::kFailed), "");
  json done = running_vm();
  done["state"] = "DONE";
  EXPECT_EQ(wait_verdict(done, lc::State::kPoweroff), "VM 12 reached DONE instead of POWEROFF");
  EXPECT_EQ(wait_verdict(json::object(), lc::State::kRunning), std::nullopt);
}

}  // namespace
}  // namespace corral::cli
