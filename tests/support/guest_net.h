// Reaching a test guest over its network, from the namespace that holds its bridge (Corral's,
// or a test's or benchmark's own): ssh as root with a key, ping, and a shell snippet that
// finds a volume's block device by its virtio serial. Shared by the QEMU tests and
// corral-bench-network.
#pragma once

#include <chrono>
#include <string>

#include "driver/qemu/posix.h"

namespace corral::testing {

// `ip netns exec NS ssh root@IP COMMAND`, as the README gives it, with the key `key`
// (ConnectTimeout 5 s, no host key check, batch mode); output and exit code.
driver::qemu::CommandResult guest_ssh(const std::string& netns, const std::string& key,
                                      const std::string& ip, const std::string& command);

// Retries guest_ssh(..., "true") every `poll` until it succeeds (the ssh server starts a
// little after the address) or `timeout` passes.
bool wait_ssh(const std::string& netns, const std::string& key, const std::string& ip,
              std::chrono::milliseconds timeout = std::chrono::seconds(40),
              std::chrono::milliseconds poll = std::chrono::milliseconds(500));

// Retries one busybox ping (1 s timeout each) until the address answers or `timeout` passes.
bool wait_ping(const std::string& netns, const std::string& ip,
               std::chrono::milliseconds timeout = std::chrono::seconds(40));

// A guest shell snippet: sets $d to the block device whose virtio serial is `serial`
// ("vol1"), found through sysfs (the test guest has no udev for /dev/disk/by-id), then runs
// `action`; without such a device it prints "no-device ..." and exits 1.
std::string on_volume(const std::string& serial, const std::string& action);

}  // namespace corral::testing
