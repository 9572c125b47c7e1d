// Cold migration between two real agents (issue 12, Deliver 2), each host with disks of its
// own, over the public API: the VM's files really move, agent to agent (src/transfer: mutual
// TLS, a ticket the controller grants the source, SHA-256 checked before a file takes its
// name), from every origin state of seed 001:
//   RUNNING    SAVE_MIGRATE -> PROLOG_MIGRATE -> BOOT_MIGRATE (001: 7, 8, 35): the guest is
//              saved, its memory and disk cross, it resumes there — its console counter goes on;
//   POWEROFF   PROLOG_MIGRATE_POWEROFF (43): the disk crosses, its content the same (qemu-img
//              compare against a copy taken before);
//   SUSPENDED  PROLOG_MIGRATE_SUSPEND (45): disk and saved memory cross; resume goes on counting;
//   UNKNOWN    PROLOG_MIGRATE_UNKNOWN (60) with the source host dead: the files cannot come, the
//              VM stops in FAILED (PROLOG_MIGRATE_UNKNOWN_FAILURE, 61) with its disk intact on
//              the source; the source back, `recover --retry` moves it and boots it there;
//   and Nova's resize to another host (the disk crosses; RESIZED; confirm, and revert).
// After every move: exactly one QEMU runs the VM, on the host the store names (or none), and
// the source's copy is gone once the move completed.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>

#include "support/cluster.h"
#include "support/netns.h"
#include "support/qemu_support.h"
#include "support/two_hosts.h"

namespace corral::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

std::string vm_path(std::int64_t id) { return "/v1/vms/" + std::to_string(id); }

TEST(QemuAgentsColdMigrateTest, EveryOriginStateMovesItsFilesAndAFailedPrologIsRecovered) {
  TwoHosts hosts;
  ASSERT_TRUE(hosts.start(/*shared_storage=*/false));
  Cluster& cluster = hosts.cluster();
  Api& api = hosts.api();

  const std::int64_t id = hosts.counting_guest("cold");
  std::string at = cluster.host_of(id);

  // Moves the VM to the other host from `state`; true when it got there, idle in `state`,
  // with one QEMU at most (on the new host), and the old host's copy gone.
  auto move = [&](const std::string& state) {
    const std::string to = TwoHosts::other(at);
    const auto started = std::chrono::steady_clock::now();
    EXPECT_EQ(act(api, id, "migrate", {{"host", to}}), 202);
    const bool moved = eventually(
        [&] {
          const auto vm = cluster.vm(id);
          return cluster.host_of(id) == to && hosts.idle_in(id, state) &&
                 vm["operation"].value("status", std::string()) == "succeeded";
        },
        120s);
    EXPECT_TRUE(moved) << cluster.vm(id).dump() << "\n" << hosts.agent(to).log();
    if (!moved) return false;
    std::printf("[ figure ] cold migrate from %s to %s: %.2f s from the request to %s there\n",
                state.c_str(), to.c_str(),
                std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
                state.c_str());
    EXPECT_EQ(hosts.vms_under(at).count(id), 0u) << "the source still runs the guest";
    EXPECT_EQ(hosts.vms_under(to).count(id), state == "RUNNING" ? 1u : 0u);
    EXPECT_TRUE(eventually([&] { return !fs::exists(hosts.vm_dir(at, id)); }, 20s))
        << "the source's copy stayed: " << hosts.vm_dir(at, id);
    at = to;
    return true;
  };

  // RUNNING: saved, moved, restored — the counter goes on.
  long before = hosts.ticks(id).second;
  ASSERT_TRUE(move("RUNNING"));
  EXPECT_TRUE(eventually([&] { return hosts.ticks(id).second > before + 3; }, 30s))
      << "the guest's counter stopped at " << hosts.ticks(id).second;
  EXPECT_GE(hosts.ticks(id).first, before - 10) << "the counter restarted: the guest rebooted";

  // POWEROFF: the disk crosses with the same content.
  ASSERT_EQ(act(api, id, "shutdown_hard"), 202);
  ASSERT_TRUE(cluster.wait_vm(id, "POWEROFF", 60s)) << cluster.vm(id).dump();
  const fs::path reference = fs::path(hosts.agent(at).data_dir()) / "reference.qcow2";
  fs::copy_file(hosts.disk_of(at, id), reference, fs::copy_options::overwrite_existing);
  std::printf("[ figure ] disk %s sha256 %s (%lld bytes)\n", hosts.disk_of(at, id).c_str(),
              sha256_of(reference).c_str(), static_cast<long long>(fs::file_size(reference)));
  ASSERT_TRUE(move("POWEROFF"));
  EXPECT_EQ(run_command({"qemu-img", "compare", "-q", "-U", reference.string(),
                         hosts.disk_of(at, id).string()}),
            0)
      << "the disk's content changed on the way";
  ASSERT_EQ(act(api, id, "start"), 202);
  ASSERT_TRUE(cluster.wait_vm(id, "RUNNING", 90s)) << cluster.vm(id).dump();
  EXPECT_EQ(hosts.vms_under(at).count(id), 1u);

  // SUSPENDED: disk and saved memory cross; resumed, it counts on. (RUNNING after a start
  // means booted, not that its shell reads the console yet: wait for the guest to say so.)
  ASSERT_TRUE(wait_console(api, id, "corral-guest: ready", 90s));
  bool tocking = false;
  for (int attempt = 0; attempt < 3 && !tocking; ++attempt) {  // typed before the shell read
    ASSERT_EQ(
        api.post(vm_path(id) + "/console",
                 {{"input", "i=0; while true; do i=$((i+1)); echo tock $i; sleep 0.2; done &\n"}})
            .status,
        202);
    tocking = wait_console(api, id, "tock 3", 20s);
  }
  ASSERT_TRUE(tocking) << "the guest's shell never ran the counter";
  ASSERT_EQ(act(api, id, "suspend"), 202);
  ASSERT_TRUE(cluster.wait_vm(id, "SUSPENDED", 60s)) << cluster.vm(id).dump();
  ASSERT_TRUE(move("SUSPENDED"));
  ASSERT_EQ(act(api, id, "resume"), 202);
  ASSERT_TRUE(cluster.wait_vm(id, "RUNNING", 90s)) << cluster.vm(id).dump();
  EXPECT_TRUE(wait_console(api, id, "tock 6", 30s)) << "the guest did not go on after resume";

  // UNKNOWN with the source dead: FAILED, disk intact; the source back, recover retry.
  const std::string dead = at;
  kill_qemu_processes(hosts.agent(dead).data_dir());
  hosts.kill_agent(dead);
  ASSERT_TRUE(eventually([&] { return cluster.vm(id).value("state", "") == "UNKNOWN"; }, 30s))
      << cluster.vm(id).dump();
  const std::string disk_sha = sha256_of(hosts.disk_of(dead, id));
  ASSERT_FALSE(disk_sha.empty());
  EXPECT_EQ(act(api, id, "migrate", {{"host", TwoHosts::other(dead)}}), 202);
  ASSERT_TRUE(cluster.wait_vm(id, "FAILED", 60s)) << cluster.vm(id).dump();
  const auto failed = cluster.vm(id);
  EXPECT_EQ(failed["views"]["opennebula"].value("lcm_state", ""), "PROLOG_MIGRATE_UNKNOWN_FAILURE")
      << failed.dump();
  EXPECT_EQ(sha256_of(hosts.disk_of(dead, id)), disk_sha) << "the only copy changed";
  ASSERT_TRUE(hosts.start_agent(dead));
  EXPECT_EQ(sha256_of(hosts.disk_of(dead, id)), disk_sha)
      << "the source's agent came back and lost the only copy";
  ASSERT_EQ(act(api, id, "recover_retry"), 202);
  ASSERT_TRUE(eventually(
      [&] { return cluster.host_of(id) == TwoHosts::other(dead) && hosts.idle_in(id, "RUNNING"); },
      120s))
      << cluster.vm(id).dump();
  at = TwoHosts::other(dead);
  EXPECT_EQ(hosts.vms_under(at).count(id), 1u);
  EXPECT_EQ(hosts.vms_under(dead).count(id), 0u);

  // Nova's resize to another host: the disk crosses, the VM boots there with the new size and
  // waits in RESIZED; confirm removes the source's copy. Again, the source's agent restarted
  // (its copy kept), and revert goes back: the target's copy goes, the source boots the old size.
  auto resized_to = [&](int memory_mib) {
    const std::string to = TwoHosts::other(at);
    EXPECT_EQ(act(api, id, "resize_migrate", {{"memory_mib", memory_mib}}), 202);
    const bool resized =
        eventually([&] { return cluster.host_of(id) == to && hosts.idle_in(id, "RESIZED"); }, 120s);
    EXPECT_TRUE(resized) << cluster.vm(id).dump() << "\n" << hosts.agent(to).log();
    EXPECT_EQ(hosts.vms_under(to).count(id), 1u);
    EXPECT_EQ(hosts.vms_under(at).count(id), 0u);
    EXPECT_TRUE(fs::exists(hosts.disk_of(at, id))) << "the source's copy went before confirm";
    EXPECT_EQ(cluster.vm(id).value("memory_mib", 0), memory_mib);
    return resized;
  };
  ASSERT_TRUE(resized_to(192));
  ASSERT_EQ(act(api, id, "confirm_resize"), 202);
  ASSERT_TRUE(cluster.wait_vm(id, "RUNNING", 60s)) << cluster.vm(id).dump();
  EXPECT_TRUE(eventually([&] { return !fs::exists(hosts.vm_dir(at, id)); }, 20s))
      << "confirm left the source's copy";
  at = TwoHosts::other(at);
  const std::string before_resize = at;
  ASSERT_TRUE(resized_to(160));
  // The source's agent SIGKILLed and started again while RESIZED: its copy is still the VM's
  // (the controller's Welcome lists it), not an unknown VM to discard.
  hosts.kill_agent(before_resize);
  ASSERT_TRUE(hosts.start_agent(before_resize));
  EXPECT_TRUE(fs::exists(hosts.disk_of(before_resize, id)))
      << "the source's reconnect discarded the copy revert goes back to";
  ASSERT_EQ(act(api, id, "revert_resize"), 202);
  ASSERT_TRUE(eventually(
      [&] { return cluster.host_of(id) == before_resize && hosts.idle_in(id, "RUNNING"); }, 120s))
      << cluster.vm(id).dump();
  EXPECT_EQ(cluster.vm(id).value("memory_mib", 0), 192);
  EXPECT_EQ(hosts.vms_under(before_resize).count(id), 1u);
  EXPECT_TRUE(eventually(
      [&] { return !fs::exists(hosts.vm_dir(TwoHosts::other(before_resize), id)); }, 20s))
      << "revert left the target's copy";
}

// Every party SIGKILLed while the files cross (the pull held to 2 MiB/s so the prolog lasts
// seconds): the source agent (the target asks again, resuming, until the restarted source is
// granted again), the target agent (re-dispatched on its return, resuming its part file) and
// the controller (re-dispatched after restart; the target's pull of the old dispatch gives way
// to the new one); and the link between the hosts cut for 3 s. Each time the move completes, the
// disk's content is what it was, no QEMU runs (the VM is POWEROFF) and only the target keeps a
// copy.
TEST(QemuAgentsColdMigrateTest, ACrashOfAnyPartyOrACutWhileTheFilesCrossLosesNothing) {
  TwoHosts hosts;
  ASSERT_TRUE(hosts.start(/*shared_storage=*/false, {"--transfer-bandwidth", "2"}));
  Cluster& cluster = hosts.cluster();
  Api& api = hosts.api();

  const std::int64_t id = cluster.create("crossing");
  ASSERT_TRUE(cluster.wait_vm(id, "RUNNING", 90s)) << cluster.vm(id).dump();
  ASSERT_EQ(act(api, id, "shutdown_hard"), 202);
  ASSERT_TRUE(cluster.wait_vm(id, "POWEROFF", 60s)) << cluster.vm(id).dump();
  // 12 MiB of data on the disk at rest (the test guest has no block driver): 6 s at 2 MiB/s.
  ASSERT_EQ(run_command({"qemu-io", "-f", "qcow2", "-c", "write -P 0x5a 0 12M",
                         hosts.disk_of(cluster.host_of(id), id).string()}),
            0);
  std::string at = cluster.host_of(id);
  const fs::path reference = fs::path(hosts.agent(at).data_dir()) / "reference.qcow2";
  fs::copy_file(hosts.disk_of(at, id), reference, fs::copy_options::overwrite_existing);
  std::printf("[ figure ] the disk that crosses: %lld bytes\n",
              static_cast<long long>(fs::file_size(reference)));

  int moves = 0;
  int lost = 0;
  int doubled = 0;
  for (const std::string party : {"source", "target", "controller", "link"}) {
    const std::string to = TwoHosts::other(at);
    const fs::path part = hosts.vm_dir(to, id) / ".disk.qcow2.part";
    ASSERT_EQ(act(hosts.api(), id, "migrate", {{"host", to}}), 202);
    // Killed once the target holds part of the disk.
    ASSERT_TRUE(eventually(
        [&] {
          std::error_code ec;
          return fs::file_size(part, ec) > 0 && !ec;
        },
        30s))
        << party << ": no part file at " << part << "\n"
        << cluster.vm(id).dump();
    std::error_code size_error;
    EXPECT_LT(fs::file_size(part, size_error), fs::file_size(reference))
        << party << ": the disk had crossed already";
    ASSERT_TRUE(hosts.strike(party, at, to)) << party;
    const bool moved = eventually(
        [&] {
          return cluster.host_of(id) == to && hosts.idle_in(id, "POWEROFF") &&
                 cluster.vm(id)["operation"].value("status", std::string()) == "succeeded";
        },
        120s);
    EXPECT_TRUE(moved) << party << ": " << cluster.vm(id).dump() << "\n" << hosts.agent(to).log();
    if (!moved) break;
    ++moves;
    EXPECT_TRUE(eventually([&] { return !fs::exists(hosts.vm_dir(at, id)); }, 20s))
        << party << ": the source's copy stayed";
    const bool same = run_command({"qemu-img", "compare", "-q", "-U", reference.string(),
                                   hosts.disk_of(to, id).string()}) == 0;
    EXPECT_TRUE(same) << party << ": the disk's content changed";
    lost += same ? 0 : 1;
    doubled += static_cast<int>(hosts.vms_under("h1").count(id) + hosts.vms_under("h2").count(id));
    at = to;
  }
  std::printf(
      "[ figure ] cold migrations with a party SIGKILLed or the link cut mid-transfer: %d of 4 "
      "completed, "
      "%d disks changed or lost, %d QEMU processes of a POWEROFF VM\n",
      moves, lost, doubled);
  EXPECT_EQ(moves, 4);
  EXPECT_EQ(lost, 0);
  EXPECT_EQ(doubled, 0);
}

}  // namespace
}  // namespace corral::testing
