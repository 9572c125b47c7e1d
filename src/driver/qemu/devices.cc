#include "driver/qemu/devices.h"

#include <fmt/format.h>

#include <algorithm>

namespace corral::driver::qemu {

namespace {

using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr std::string_view kNicPrefix = "nic";
constexpr std::string_view kVolumePrefix = "vol";

// The backend's id beside its device's: net-nic0 (netdev), node-vol7 (block node).
std::string backend_of(const std::string& device_id) {
  return (managed_kind(device_id) == DeviceKind::kNic ? "net-" : "node-") + device_id;
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::ranges::all_of(s, [](char c) { return c >= '0' && c <= '9'; });
}

// QMP errors that say the thing is not there (so removing it again is done, not a failure).
bool not_there(const Error& e) {
  return e.message.find("not found") != std::string::npos ||
         e.message.find("No such") != std::string::npos ||
         e.message.find("does not exist") != std::string::npos ||
         e.message.find("Failed to find") != std::string::npos;
}

}  // namespace

std::string nic_device_id(int index) { return std::string(kNicPrefix) + std::to_string(index); }

std::string volume_device_id(std::int64_t volume) {
  return std::string(kVolumePrefix) + std::to_string(volume);
}

std::optional<DeviceKind> managed_kind(std::string_view device_id) {
  if (device_id.starts_with(kNicPrefix) && all_digits(device_id.substr(kNicPrefix.size()))) {
    return DeviceKind::kNic;
  }
  if (device_id.starts_with(kVolumePrefix) && all_digits(device_id.substr(kVolumePrefix.size()))) {
    return DeviceKind::kVolume;
  }
  return std::nullopt;
}

DevicePlan plan_devices(const std::vector<NicSpec>& nics, const std::vector<VolumeSpec>& volumes,
                        const std::vector<std::string>& present) {
  DevicePlan plan;
  auto has = [&](const std::string& id) { return std::ranges::find(present, id) != present.end(); };
  std::vector<std::string> wanted;
  for (const NicSpec& nic : nics) {
    wanted.push_back(nic_device_id(nic.index));
    if (!has(wanted.back())) plan.plug_nics.push_back(nic);
  }
  for (const VolumeSpec& volume : volumes) {
    wanted.push_back(volume_device_id(volume.volume));
    if (!has(wanted.back())) plan.plug_volumes.push_back(volume);
  }
  for (const std::string& id : present) {
    if (managed_kind(id) && std::ranges::find(wanted, id) == wanted.end())
      plan.unplug.push_back(id);
  }
  return plan;
}

Result<std::vector<std::string>> present_devices(QmpClient& qmp) {
  Result<nlohmann::json> listed = qmp.execute("qom-list", {{"path", "/machine/peripheral"}});
  if (!listed) return fail(std::move(listed.error()));
  std::vector<std::string> ids;
  if (!listed->is_array()) return ids;
  for (const nlohmann::json& entry : *listed) {
    // Devices are the children: {"name": "nic0", "type": "child<virtio-net-pci>"}.
    if (!entry.is_object() || !entry.contains("name") || !entry["name"].is_string()) continue;
    const std::string type = entry.value("type", std::string());
    if (!type.starts_with("child<")) continue;
    ids.push_back(entry["name"].get<std::string>());
  }
  return ids;
}

Status plug_nic(QmpClient& qmp, const NicSpec& nic, int tap_fd) {
  if (nic.index < 0 || nic.index >= kMaxNics) {
    return fail(
        Error::invalid_argument(fmt::format("NIC {} is out of 0-{}", nic.index, kMaxNics - 1)));
  }
  const std::string id = nic_device_id(nic.index);
  const std::string netdev = backend_of(id);
  const std::string fd_name = "fd-" + id;
  (void)qmp.execute("netdev_del", {{"id", netdev}});  // a leftover of a half-done plug
  if (Result<nlohmann::json> r = qmp.execute_with_fd("getfd", {{"fdname", fd_name}}, tap_fd); !r) {
    return fail(std::move(r.error()));
  }
  // netdev_add takes the named descriptor out of the monitor's list: nothing to close after.
  if (Result<nlohmann::json> r =
          qmp.execute("netdev_add", {{"type", "tap"}, {"id", netdev}, {"fd", fd_name}});
      !r) {
    (void)qmp.execute("closefd", {{"fdname", fd_name}});
    return fail(std::move(r.error()));
  }
  if (Result<nlohmann::json> r =
          qmp.execute("device_add", {{"driver", "virtio-net-pci"},
                                     {"id", id},
                                     {"netdev", netdev},
                                     {"mac", nic.mac},
                                     {"addr", fmt::format("{:#x}", 0x08 + nic.index)}});
      !r) {
    (void)qmp.execute("netdev_del", {{"id", netdev}});
    return fail(std::move(r.error()));
  }
  return {};
}

Status plug_volume(QmpClient& qmp, const VolumeSpec& volume) {
  if (volume.slot < 0 || volume.slot >= kMaxVolumes) {
    return fail(Error::invalid_argument(
        fmt::format("volume slot {} is out of 0-{}", volume.slot, kMaxVolumes - 1)));
  }
  const std::string id = volume_device_id(volume.volume);
  const std::string node = backend_of(id);
  (void)qmp.execute("blockdev-del", {{"node-name", node}});  // a leftover of a half-done plug
  const nlohmann::json add = {{"driver", volume.format},
                              {"node-name", node},
                              {"file", {{"driver", "file"}, {"filename", volume.path}}}};
  if (Result<nlohmann::json> r = qmp.execute("blockdev-add", add); !r) {
    return fail(std::move(r.error()));
  }
  // The serial is what the guest sees in /sys/block/vdX/serial: the volume's name for it.
  if (Result<nlohmann::json> r =
          qmp.execute("device_add", {{"driver", "virtio-blk-pci"},
                                     {"id", id},
                                     {"drive", node},
                                     {"serial", id},
                                     {"addr", fmt::format("{:#x}", 0x10 + volume.slot)}});
      !r) {
    (void)qmp.execute("blockdev-del", {{"node-name", node}});
    return fail(std::move(r.error()));
  }
  return {};
}

Status unplug(QmpClient& qmp, const std::string& device_id, milliseconds wait,
              std::deque<QmpEvent>& others) {
  const std::optional<DeviceKind> kind = managed_kind(device_id);
  if (!kind) return fail(Error::invalid_argument(device_id + " is not a device Corral manages"));
  bool deleted = false;
  if (Result<nlohmann::json> r = qmp.execute("device_del", {{"id", device_id}}); !r) {
    if (!not_there(r.error())) return fail(std::move(r.error()));
    deleted = true;  // gone already (a crash after the guest let go): drop the backend
  }
  // QEMU sends DEVICE_DELETED twice for a device (its backend path first, without "device");
  // only the one naming the device says the guest let go.
  auto take = [&] {
    for (QmpEvent& event : qmp.take_events()) {
      if (event.name == "DEVICE_DELETED" &&
          event.data.value("device", std::string()) == device_id) {
        deleted = true;
      } else {
        others.push_back(std::move(event));
      }
    }
  };
  const auto until = SteadyClock::now() + wait;
  take();
  while (!deleted) {
    const auto left = std::chrono::duration_cast<milliseconds>(until - SteadyClock::now());
    if (left.count() <= 0) {
      return fail(Error{ErrorCode::kUnavailable,
                        fmt::format("the guest did not release {} within {:.1f} s (device_del only "
                                    "asks the guest; the device stays attached)",
                                    device_id, static_cast<double>(wait.count()) / 1000.0),
                        {},
                        {}});
    }
    if (wait_readable(qmp.fd(), std::min(left, milliseconds(100)))) {
      if (!qmp.poll_events()) {
        take();
        return fail(Error{ErrorCode::kUnavailable,
                          "QMP closed while waiting for the guest to release " + device_id,
                          {},
                          {}});
      }
    }
    take();
  }
  const std::string backend = backend_of(device_id);
  Result<nlohmann::json> dropped = *kind == DeviceKind::kNic
                                       ? qmp.execute("netdev_del", {{"id", backend}})
                                       : qmp.execute("blockdev-del", {{"node-name", backend}});
  if (!dropped && !not_there(dropped.error())) return fail(std::move(dropped.error()));
  return {};
}

}  // namespace corral::driver::qemu
