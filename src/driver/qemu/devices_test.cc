#include "driver/qemu/devices.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <mutex>
#include <set>

#include "driver/qemu/qmp_fake_testing.h"

namespace corral::driver::qemu {
namespace {

using std::chrono::milliseconds;

TEST(DevicesTest, OnlyCorralsOwnIdsAreManaged) {
  struct Case {
    std::string id;
    std::optional<DeviceKind> kind;
  };
  const std::vector<Case> cases = {
      {"nic0", DeviceKind::kNic}, {"nic12", DeviceKind::kNic}, {"vol7", DeviceKind::kVolume},
      {"vda", std::nullopt},      {"nic", std::nullopt},       {"nicx", std::nullopt},
      {"vol-7", std::nullopt},    {"volume1", std::nullopt},   {"", std::nullopt},
  };
  for (const Case& c : cases) EXPECT_EQ(managed_kind(c.id), c.kind) << c.id;
}

TEST(DevicesTest, ThePlanPlugsWhatIsMissingAndUnplugsOnlyCorralsExtras) {
  const std::vector<NicSpec> nics = {{0, 1, "02:00:0a:00:00:02", "10.0.0.2"},
                                     {1, 2, "02:00:0a:01:00:02", "10.1.0.2"}};
  const std::vector<VolumeSpec> volumes = {{7, "/d/vol7.raw", "raw"}};
  struct Case {
    std::vector<std::string> present;
    std::vector<int> plug_nics;
    std::vector<std::int64_t> plug_volumes;
    std::vector<std::string> unplug;
  };
  const std::vector<Case> cases = {
      {{}, {0, 1}, {7}, {}},
      {{"vda"}, {0, 1}, {7}, {}},
      {{"vda", "nic0", "nic1", "vol7"}, {}, {}, {}},  // a re-dispatch: nothing twice
      {{"nic0", "nic3", "vol7", "vol9", "vda"}, {1}, {}, {"nic3", "vol9"}},
  };
  for (const Case& c : cases) {
    const DevicePlan plan = plan_devices(nics, volumes, c.present);
    std::vector<int> plugged;
    for (const NicSpec& n : plan.plug_nics) plugged.push_back(n.index);
    std::vector<std::int64_t> attached;
    for (const VolumeSpec& v : plan.plug_volumes) attached.push_back(v.volume);
    EXPECT_EQ(plugged, c.plug_nics);
    EXPECT_EQ(attached, c.plug_volumes);
    EXPECT_EQ(plan.unplug, c.unplug);
  }
  EXPECT_TRUE(plan_devices({}, {}, {"vda"}).empty()) << "the VM's own disk is never unplugged";
}

// A QEMU that keeps a device list: device_add adds, device_del emits DEVICE_DELETED as QEMU
// does (twice, the backend's path first) unless the guest is stubborn.
class FakeMachine {
 public:
  explicit FakeMachine(bool stubborn = false) : stubborn_(stubborn) {}
  std::string handle(const std::string& line) {
    const nlohmann::json request = nlohmann::json::parse(line);
    const std::string command = FakeQmp::command(line);
    const nlohmann::json args = request.value("arguments", nlohmann::json::object());
    std::lock_guard lock(mu_);
    commands_.push_back(command);
    if (command == "qom-list") {
      nlohmann::json list = nlohmann::json::array({{{"name", "type"}, {"type", "string"}}});
      for (const std::string& id : devices_) {
        list.push_back({{"name", id}, {"type", "child<virtio-net-pci>"}});
      }
      return FakeQmp::answer(line, list);
    }
    if (command == "device_add") {
      devices_.insert(args["id"].get<std::string>());
      return FakeQmp::answer(line);
    }
    if (command == "device_del") {
      const std::string id = args["id"].get<std::string>();
      if (devices_.count(id) == 0) {
        return nlohmann::json{
                   {"error",
                    {{"class", "DeviceNotFound"}, {"desc", "Device '" + id + "' not found"}}},
                   {"id", request["id"]}}
                   .dump() +
               "\r\n";
      }
      std::string out = FakeQmp::answer(line);
      if (!stubborn_) {
        devices_.erase(id);
        out += FakeQmp::event("DEVICE_DELETED", {{"path", "/machine/peripheral/" + id + "/x"}});
        out += FakeQmp::event("DEVICE_DELETED", {{"device", id}, {"path", "/p/" + id}});
      }
      return out;
    }
    return FakeQmp::answer(line);
  }
  std::vector<std::string> commands() {
    std::lock_guard lock(mu_);
    return commands_;
  }

 private:
  bool stubborn_;
  std::mutex mu_;
  std::set<std::string> devices_;
  std::vector<std::string> commands_;
};

TEST(DevicesTest, ANicIsPluggedWithItsTapAndUnpluggedWhenTheGuestLetsGo) {
  FakeMachine machine;
  auto server =
      std::make_unique<FakeQmp>([&](const std::string& line) { return machine.handle(line); });
  Result<QmpClient> qmp = QmpClient::connect(server->path(), milliseconds(2000));
  ASSERT_TRUE(qmp.has_value()) << qmp.error().message;
  int fds[2] = {-1, -1};
  ASSERT_EQ(::pipe(fds), 0);
  UniqueFd tap(fds[0]);
  UniqueFd other(fds[1]);

  const NicSpec nic{0, 1, "02:00:0a:00:00:02", "10.0.0.2"};
  ASSERT_TRUE(plug_nic(*qmp, nic, tap.get()).has_value());
  ASSERT_TRUE(plug_volume(*qmp, {7, "/d/vol7.raw", "raw"}).has_value());
  Result<std::vector<std::string>> present = present_devices(*qmp);
  ASSERT_TRUE(present.has_value());
  EXPECT_EQ(*present, (std::vector<std::string>{"nic0", "vol7"}));
  EXPECT_EQ(server->fds_received().size(), 1U) << "the tap went with getfd";

  std::deque<QmpEvent> others;
  server->push(FakeQmp::event("RESUME"));
  ASSERT_TRUE(unplug(*qmp, "nic0", milliseconds(2000), others).has_value());
  ASSERT_TRUE(unplug(*qmp, "nic0", milliseconds(2000), others).has_value())
      << "a device already gone is unplugged";
  present = present_devices(*qmp);
  ASSERT_TRUE(present.has_value());
  EXPECT_EQ(*present, (std::vector<std::string>{"vol7"}));
  ASSERT_FALSE(others.empty()) << "events that are not the device's go back to the worker";
  EXPECT_EQ(others.front().name, "RESUME");
  const std::vector<std::string> commands = machine.commands();
  EXPECT_NE(std::ranges::find(commands, "netdev_del"), commands.end());
  EXPECT_NE(std::ranges::find(commands, "blockdev-add"), commands.end());
  EXPECT_FALSE(unplug(*qmp, "vda", milliseconds(100), others).has_value())
      << "never a device Corral does not manage";
}

TEST(DevicesTest, AGuestThatNeverLetsGoIsAClearErrorAndTheDeviceStays) {
  FakeMachine machine(/*stubborn=*/true);
  auto server =
      std::make_unique<FakeQmp>([&](const std::string& line) { return machine.handle(line); });
  Result<QmpClient> qmp = QmpClient::connect(server->path(), milliseconds(2000));
  ASSERT_TRUE(qmp.has_value()) << qmp.error().message;
  ASSERT_TRUE(plug_volume(*qmp, {3, "/d/vol3.raw", "raw"}).has_value());
  std::deque<QmpEvent> others;
  Status refused = unplug(*qmp, "vol3", milliseconds(300), others);
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().message.find("did not release vol3"), std::string::npos)
      << refused.error().message;
  Result<std::vector<std::string>> present = present_devices(*qmp);
  ASSERT_TRUE(present.has_value());
  EXPECT_EQ(*present, (std::vector<std::string>{"vol3"}));
  const std::vector<std::string> commands = machine.commands();
  EXPECT_EQ(std::ranges::count(commands, "blockdev-del"), 1)
      << "only the leftover clear before the plug: the backend stays while its device does";
}

}  // namespace
}  // namespace corral::driver::qemu
