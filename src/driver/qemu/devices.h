// A VM's hot-pluggable devices over QMP: its NICs (taps handed over as descriptors) and its
// attached volumes, made to match what a phase asks for (PhaseRequest::nics, ::volumes).
//
// Contract:
// - Corral names the devices it manages nic<index> and vol<volume>; every other device (the
//   VM's own disk vda) is never touched.
// - plan_devices() (pure) compares what the phase wants with what QEMU has: plug what is
//   missing, unplug what is extra. A device that is there with the same id counts as there —
//   a re-dispatched phase after a crash plugs nothing twice.
// - Each device gets a fixed PCI slot — NIC i at 0x08+i, volume slot s at 0x10+s — so both
//   sides of a live migration build the same machine whatever order they plug in.
// - plug_*() first clears a half-plugged leftover of the same id (a backend added before a
//   crash, its device never), then adds backend and device. On a guest that is not started
//   yet (-S) the device is simply there at boot.
// - unplug() asks with device_del — which only asks the guest — and waits for QEMU's
//   DEVICE_DELETED for that id, then drops the backend. A guest that never lets go is an
//   error after `wait` naming the device; the device is then still there (the caller's
//   phase fails with the VM intact). Events that are not this DEVICE_DELETED go to `others`,
//   in order, for the worker's own watch.
#pragma once

#include <chrono>
#include <deque>
#include <string>
#include <vector>

#include "common/result.h"
#include "driver/driver.h"
#include "driver/qemu/qmp_client.h"

namespace corral::driver::qemu {

std::string nic_device_id(int index);
std::string volume_device_id(std::int64_t volume);
inline constexpr int kMaxNics = 8;
inline constexpr int kMaxVolumes = 16;

enum class DeviceKind : std::uint8_t { kNic = 1, kVolume = 2 };

// What a device id names, if Corral manages it (nullopt: not ours, never touched).
std::optional<DeviceKind> managed_kind(std::string_view device_id);

struct DevicePlan {
  std::vector<NicSpec> plug_nics;
  std::vector<VolumeSpec> plug_volumes;
  std::vector<std::string> unplug;  // device ids
  bool empty() const { return plug_nics.empty() && plug_volumes.empty() && unplug.empty(); }
};

DevicePlan plan_devices(const std::vector<NicSpec>& nics, const std::vector<VolumeSpec>& volumes,
                        const std::vector<std::string>& present);

// The ids of the devices QEMU has (qom-list /machine/peripheral: the devices added with an id).
[[nodiscard]] Result<std::vector<std::string>> present_devices(QmpClient& qmp);

// `tap_fd`: an open tap (see net/); QEMU gets its own copy, the caller keeps and closes its.
[[nodiscard]] Status plug_nic(QmpClient& qmp, const NicSpec& nic, int tap_fd);
[[nodiscard]] Status plug_volume(QmpClient& qmp, const VolumeSpec& volume);
[[nodiscard]] Status unplug(QmpClient& qmp, const std::string& device_id,
                            std::chrono::milliseconds wait, std::deque<QmpEvent>& others);

}  // namespace corral::driver::qemu
