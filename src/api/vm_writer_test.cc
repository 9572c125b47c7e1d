// The fast renderer says exactly what the reference renderer says, for VMs in every state
// and with every optional field set or not.
#include "api/vm_writer.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "api/vm_json.h"
#include "lifecycle/model.h"

namespace corral::api {
namespace {

namespace lc = corral::lifecycle;

std::vector<store::Vm> samples() {
  std::vector<store::Vm> out;
  store::VmId id = 1;
  for (lc::State s : lc::kAllStates) {
    store::Vm vm;
    vm.id = id++;
    vm.name = "vm-" + std::to_string(vm.id);
    vm.model = {2, 1024, "tiny"};
    vm.record = lc::record_at_rest(s);
    vm.created_at = 1'700'000'000'000;
    vm.updated_at = 1'700'000'123'456;
    if (vm.record.op) {
      vm.op.id = 40 + vm.id;
      vm.op.params =
          store::params_from_json_text(R"({"hold":true,"note":"quote \" and \\ and \u00e9"})");
      vm.op.actor = "api";
      vm.op.started_at = vm.created_at;
    }
    out.push_back(vm);
  }
  store::Vm full = out[3];
  full.host = "sim-2";
  full.desired = store::VmModel{4, 2048, "other"};
  full.model_error = "resize failed: \"no room\"\n";
  full.pending_reason = "no host has room";
  full.requirements = R"(ARCH = "x86_64" & !(zone = a*))";
  full.group = 7;
  full.record.resched = true;
  full.record = lc::begin(full.record, {lc::Action::kShutdown})->record;
  full.op.deadline = 1'700'000'200'000;
  full.op.error = "tab\there";
  full.op.request_id = "req-1";
  full.op.params = {};
  full.nics = {{0, 3, "10.77.0.2", "02:00:0a:4d:00:02", {1, 4}},
               {1, 5, "10.78.0.9", "02:00:0a:4e:00:09", {}}};
  full.locked_by = lc::LockedBy::kAdmin;
  full.lock_reason = "maintenance \"window\"";
  store::Vm owner_locked = out[1];
  owner_locked.locked_by = lc::LockedBy::kOwner;  // no reason: null
  out.push_back(owner_locked);
  out.push_back(full);  // last: the tests below read it as the full one
  return out;
}

// Network 3 is named, network 5 is not (deleted since, or links not read); the full VM has
// two volumes, one being detached, in slot order.
VmLinks sample_links() {
  VmLinks links;
  links.network_names = {{3, "default"}, {4, "other"}};
  const store::VmId full = samples().back().id;  // a copy of the fourth VM, with its id
  store::VolumeRow data;
  data.id = 9;
  data.name = "data";
  data.size_mib = 1536;
  data.status = lc::VolumeStatus::kInUse;
  data.vm = full;
  data.slot = 0;
  store::VolumeRow logs = data;
  logs.id = 12;
  logs.name = "logs \"x\"";
  logs.size_mib = 64;
  logs.status = lc::VolumeStatus::kDetaching;
  logs.slot = 1;
  logs.delete_on_termination = true;
  links.volumes[full] = {data, logs};
  return links;
}

TEST(VmWriterTest, RenderVmEqualsVmJson) {
  for (const VmLinks& links : {VmLinks{}, sample_links()}) {
    for (const store::Vm& vm : samples()) {
      const nlohmann::json fast = nlohmann::json::parse(render_vm(vm, links), nullptr, false);
      ASSERT_FALSE(fast.is_discarded()) << render_vm(vm, links);
      EXPECT_EQ(fast, vm_json(vm, links)) << lc::state_name(vm.record.state);
    }
  }
}

// Catches: a lock not shown, shown without who set it, or a lockless VM showing one.
TEST(VmWriterTest, ALockShowsWhoSetItAndWhy) {
  const std::vector<store::Vm> vms = samples();
  const auto lock_of = [](const store::Vm& vm) {
    return nlohmann::json::parse(render_vm(vm, sample_links()))["lock"];
  };
  EXPECT_TRUE(lock_of(vms.front()).is_null());
  EXPECT_EQ(lock_of(vms.back()),
            nlohmann::json::parse(R"({"by": "admin", "reason": "maintenance \"window\""})"));
  EXPECT_EQ(lock_of(vms[vms.size() - 2]),
            nlohmann::json::parse(R"({"by": "owner", "reason": null})"));
}

// Catches: a NIC or volume missing from a vocabulary, Nova's addresses not keyed by network
// name, a volume shown on the wrong VM, OpenNebula's DISK_ID taking the VM's own disk 0,
// Azure's deleteOption not following delete_on_termination.
TEST(VmWriterTest, NicsAndVolumesInEveryVocabulary) {
  const store::Vm vm = samples().back();
  const nlohmann::json j = nlohmann::json::parse(render_vm(vm, sample_links()));
  EXPECT_EQ(j["nics"][0]["network"], "default");
  EXPECT_TRUE(j["nics"][1]["network"].is_null());
  ASSERT_EQ(j["volumes"].size(), 2u);
  EXPECT_EQ(j["volumes"][0]["name"], "data");
  EXPECT_EQ(j["volumes"][1]["status"], "detaching");
  EXPECT_EQ(j["volumes"][1]["guest_device"], "/dev/disk/by-id/virtio-vol12");

  const nlohmann::json& nova = j["views"]["nova"];
  EXPECT_EQ(nova["addresses"],
            nlohmann::json::parse(R"({"default": [{"version": 4, "addr": "10.77.0.2",
                "OS-EXT-IPS:type": "fixed", "OS-EXT-IPS-MAC:mac_addr": "02:00:0a:4d:00:02"}],
              "5": [{"version": 4, "addr": "10.78.0.9", "OS-EXT-IPS:type": "fixed",
                "OS-EXT-IPS-MAC:mac_addr": "02:00:0a:4e:00:09"}]})"));
  EXPECT_EQ(nova["os-extended-volumes:volumes_attached"],
            nlohmann::json::parse(R"([{"id": "9", "delete_on_termination": false},
                                      {"id": "12", "delete_on_termination": true}])"));

  const nlohmann::json& one = j["views"]["opennebula"];
  EXPECT_EQ(one["NIC"][0]["SECURITY_GROUPS"], "1,4");
  EXPECT_EQ(one["NIC"][1]["NIC_ID"], 1);
  EXPECT_EQ(one["DISK"][0]["DISK_ID"], 1);
  EXPECT_EQ(one["DISK"][1]["IMAGE_ID"], 12);

  const nlohmann::json& azure = j["views"]["azure"];
  EXPECT_EQ(azure["privateIps"], "10.77.0.2,10.78.0.9");
  EXPECT_EQ(azure["macAddresses"], "02-00-0A-4D-00-02,02-00-0A-4E-00-09");
  EXPECT_EQ(azure["networkProfile"]["networkInterfaces"][0]["properties"]["primary"], true);
  EXPECT_EQ(azure["networkProfile"]["networkInterfaces"][1]["properties"]["primary"], false);
  EXPECT_EQ(azure["storageProfile"]["dataDisks"][0]["diskSizeGB"], 2);
  EXPECT_EQ(azure["storageProfile"]["dataDisks"][0]["deleteOption"], "Detach");
  EXPECT_EQ(azure["storageProfile"]["dataDisks"][1]["deleteOption"], "Delete");
  EXPECT_EQ(azure["storageProfile"]["dataDisks"][1]["lun"], 1);
  EXPECT_EQ(j["views"]["stratuslab"]["ip"], "10.77.0.2");

  // Another VM sees none of them; a VM with no NIC shows empty lists, never a missing key.
  const nlohmann::json other = nlohmann::json::parse(render_vm(samples().front(), sample_links()));
  EXPECT_TRUE(other["volumes"].empty());
  EXPECT_TRUE(other["views"]["nova"]["addresses"].is_object());
  EXPECT_TRUE(other["views"]["nova"]["addresses"].empty());
  EXPECT_TRUE(other["views"]["azure"]["storageProfile"]["dataDisks"].empty());
  EXPECT_TRUE(other["views"]["stratuslab"]["ip"].is_null());
}

TEST(VmWriterTest, AcceptedEqualsAcceptedJson) {
  for (const store::Vm& vm : samples()) {
    std::optional<store::OperationRow> op;
    if (vm.record.op) op = store::OperationRow{vm.id, *vm.record.op, vm.op};
    const engine::Accepted accepted{vm, op};
    EXPECT_EQ(nlohmann::json::parse(render_accepted(vm, op, sample_links())),
              accepted_json(accepted, sample_links()));
  }
}

TEST(VmWriterTest, PageEqualsTheListShape) {
  const std::vector<store::Vm> vms = samples();
  nlohmann::json expected = {{"vms", nlohmann::json::array()}, {"next_marker", 17}};
  for (const store::Vm& vm : vms) expected["vms"].push_back(vm_json(vm, sample_links()));
  EXPECT_EQ(nlohmann::json::parse(render_vm_page(vms, 17, sample_links())), expected);
  EXPECT_TRUE(nlohmann::json::parse(render_vm_page({}, 0))["next_marker"].is_null());
}

// ?views=: only the asked views, each equal to the full rendering's.
TEST(VmWriter, RendersOnlyTheAskedViews) {
  const struct {
    ViewSet set;
    std::vector<std::string> keys;
  } cases[] = {
      {kAllViews, {"azure", "nova", "opennebula", "stratuslab"}},
      {kViewNova, {"nova"}},
      {kViewOpenNebula | kViewAzure, {"azure", "opennebula"}},
      {kViewStratusLab, {"stratuslab"}},
      {0, {}},
  };
  for (const store::Vm& vm : samples()) {
    const nlohmann::json full = nlohmann::json::parse(render_vm(vm, sample_links()));
    for (const auto& c : cases) {
      const nlohmann::json some = nlohmann::json::parse(render_vm(vm, sample_links(), c.set));
      std::vector<std::string> keys;
      for (const auto& [k, v] : some["views"].items()) {
        keys.push_back(k);
        EXPECT_EQ(v, full["views"][k]) << k;
      }
      EXPECT_EQ(keys, c.keys);
      nlohmann::json rest = some;
      rest.erase("views");
      nlohmann::json full_rest = full;
      full_rest.erase("views");
      EXPECT_EQ(rest, full_rest);
    }
  }
}

}  // namespace
}  // namespace corral::api

namespace corral::api {
namespace {

// Catches: the event stream's fast writer drifting from event_json (a key, its order, a null).
TEST(VmWriterTest, RenderEventEqualsEventJson) {
  namespace lc = corral::lifecycle;
  store::TransitionRow committed;
  committed.id = 41;
  committed.vm_id = 7;
  committed.op_id = 9;
  committed.from = lc::State::kRunning;
  committed.to = lc::State::kPoweroff;
  committed.action = lc::Action::kShutdown;
  committed.phase = lc::Phase::kShutdown;
  committed.status = lc::OpStatus::kSucceeded;
  committed.actor = "api";
  committed.request_id = "req-1\"quoted\"";
  committed.reason = "the guest said \\ bye";
  committed.at = 1'796'518'923'005;
  store::TransitionRow unknown = committed;
  unknown.id = 0;
  unknown.phase = lc::Phase::kNone;
  unknown.request_id.clear();
  unknown.reason.clear();
  for (const store::TransitionRow& t : {committed, unknown}) {
    engine::Event event{t, lc::State::kPoweroff, std::nullopt, 2};
    EXPECT_EQ(render_event(event), event_json(event).dump()) << t.id;
  }
}

}  // namespace
}  // namespace corral::api
