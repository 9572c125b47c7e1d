#include "support/guest_net.h"

#include <thread>

namespace corral::testing {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

driver::qemu::CommandResult guest_ssh(const std::string& netns, const std::string& key,
                                      const std::string& ip, const std::string& command) {
  Result<driver::qemu::CommandResult> r = driver::qemu::run_command(
      {"ip", "netns", "exec", netns, "ssh", "-i", key, "-o", "StrictHostKeyChecking=no", "-o",
       "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "BatchMode=yes", "-o",
       "ConnectTimeout=5", "root@" + ip, command},
      20s);
  return r ? *r : driver::qemu::CommandResult{-1, r.error().message};
}

bool wait_ssh(const std::string& netns, const std::string& key, const std::string& ip,
              std::chrono::milliseconds timeout, std::chrono::milliseconds poll) {
  for (const auto until = Clock::now() + timeout; Clock::now() < until;) {
    if (guest_ssh(netns, key, ip, "true").exit_code == 0) return true;
    std::this_thread::sleep_for(poll);
  }
  return false;
}

bool wait_ping(const std::string& netns, const std::string& ip, std::chrono::milliseconds timeout) {
  for (const auto until = Clock::now() + timeout; Clock::now() < until;) {
    // iputils' ping, as the README types it (scripts/install-deps installs it).
    Result<driver::qemu::CommandResult> r = driver::qemu::run_command(
        {"ip", "netns", "exec", netns, "ping", "-c", "1", "-W", "1", ip}, 5s);
    if (r && r->exit_code == 0) return true;
  }
  return false;
}

std::string on_volume(const std::string& serial, const std::string& action) {
  return "for b in /sys/block/vd*; do [ \"$(cat $b/serial 2>/dev/null)\" = " + serial +
         " ] && d=/dev/${b##*/}; done; [ -n \"$d\" ] || { echo no-device $(ls /sys/block) "
         "$(cat /sys/block/*/serial 2>&1); exit 1; }; " +
         action;
}

}  // namespace corral::testing
