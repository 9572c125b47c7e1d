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
  out.push_back(full);
  return out;
}

TEST(VmWriterTest, RenderVmEqualsVmJson) {
  for (const store::Vm& vm : samples()) {
    const nlohmann::json fast = nlohmann::json::parse(render_vm(vm), nullptr, false);
    ASSERT_FALSE(fast.is_discarded()) << render_vm(vm);
    EXPECT_EQ(fast, vm_json(vm)) << lc::state_name(vm.record.state);
  }
}

TEST(VmWriterTest, AcceptedEqualsAcceptedJson) {
  for (const store::Vm& vm : samples()) {
    std::optional<store::OperationRow> op;
    if (vm.record.op) op = store::OperationRow{vm.id, *vm.record.op, vm.op};
    const engine::Accepted accepted{vm, op};
    EXPECT_EQ(nlohmann::json::parse(render_accepted(vm, op)), accepted_json(accepted));
  }
}

TEST(VmWriterTest, PageEqualsTheListShape) {
  const std::vector<store::Vm> vms = samples();
  nlohmann::json expected = {{"vms", nlohmann::json::array()}, {"next_marker", 17}};
  for (const store::Vm& vm : vms) expected["vms"].push_back(vm_json(vm));
  EXPECT_EQ(nlohmann::json::parse(render_vm_page(vms, 17)), expected);
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
    const nlohmann::json full = nlohmann::json::parse(render_vm(vm));
    for (const auto& c : cases) {
      const nlohmann::json some = nlohmann::json::parse(render_vm(vm, c.set));
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
