// Live migration between two real agents, each in its own network namespace (two hypervisor
// hosts on one machine), over the public API — what issue 12's README walkthrough shows:
//   1. shared storage (both agents' --shared-dir is one directory, and the controller's volume
//      directory --volume-dir-shared): a guest counting on its console, with a volume attached
//      and a marker written on it, moves h1 -> h2 and back; after each move exactly one QEMU
//      runs it, on the host the store names, the counter goes on from where it was (the guest
//      never rebooted), the guest reads the marker back from the volume on its new host, and
//      the migration record has the memory sent and the downtime;
//   2. the agents restarted with disks of their own: a move with copy_storage (the disk is
//      mirrored while the guest runs), the guest checked the same way;
//   3. a move cancelled while memory crosses is rolled back by the undo phases: the guest runs
//      on where it was, once, and the operation and its migration record say cancelled;
//   4. a move whose target cannot receive (the migration link cut) is rolled back the same
//      way: the guest still runs on its source, once, and the operation failed.
// The two agents reach each other over a third veth pair, the migration network; each
// listens for incoming migrations on its own end of it (--migration-address).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>

#include "support/cluster.h"
#include "support/guest_net.h"
#include "support/netns.h"
#include "support/qemu_support.h"
#include "support/two_hosts.h"

namespace corral::testing {
namespace {

using namespace std::chrono_literals;

// Types `command` on the guest's serial console, in a subshell (on_volume's `exit` must not end
// the console's shell), until the console shows `expect` (a text the typed line itself does
// not contain): a hotplugged disk appears in the guest a little after device_add returns.
bool on_console(Api& api, std::int64_t id, const std::string& command, const std::string& expect) {
  for (int attempt = 0; attempt < 10; ++attempt) {
    const ApiResult typed = api.post("/v1/vms/" + std::to_string(id) + "/console",
                                     {{"input", "( " + command + " )\n"}});
    if (typed.status != 202) return false;
    if (wait_console(api, id, expect, 6s)) return true;
  }
  return false;
}

TEST(QemuAgentsMigrateTest, ALiveGuestMovesBetweenHostsAndBackAndACancelledOrFailedMoveRollsBack) {
  TwoHosts hosts;
  ASSERT_TRUE(hosts.start(/*shared_storage=*/true, {}, {"--volume-dir-shared"}));
  Cluster& cluster = hosts.cluster();
  Api& api = hosts.api();

  // Moves the guest to `to` and checks it there; false (with failures) if it did not get there.
  auto move = [&](std::int64_t id, const std::string& to, const nlohmann::json& options) {
    const long before = hosts.ticks(id).second;
    nlohmann::json body = options;
    body["host"] = to;
    const auto started = std::chrono::steady_clock::now();
    EXPECT_EQ(act(api, id, "live_migrate", body), 202);
    const bool moved =
        eventually([&] { return cluster.host_of(id) == to && hosts.idle_in(id, "RUNNING"); }, 90s);
    EXPECT_TRUE(moved) << cluster.vm(id).dump();
    if (!moved) return false;
    std::printf("[ figure ] live_migrate to %s %s: %.2f s from the request to RUNNING there\n",
                to.c_str(), options.dump().c_str(),
                std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    // Exactly one QEMU runs it, on the host the store names.
    EXPECT_TRUE(
        eventually([&] { return hosts.vms_under(TwoHosts::other(to)).count(id) == 0; }, 20s))
        << "the source still runs the guest";
    EXPECT_EQ(hosts.vms_under(to).count(id), 1u);
    // The guest goes on counting where it was (a reboot would start again at 1).
    EXPECT_TRUE(eventually([&] { return hosts.ticks(id).second > before + 3; }, 20s))
        << "the guest's counter stopped at " << hosts.ticks(id).second;
    EXPECT_GE(hosts.ticks(id).first, before - 5) << "the counter restarted: the guest rebooted";
    // The migration record has the memory sent and the downtime (query-migrate's).
    const ApiResult records = api.get("/v1/vms/" + std::to_string(id) + "/migrations");
    const nlohmann::json last = records.body["migrations"].back();
    EXPECT_EQ(last.value("status", ""), "completed") << last.dump();
    EXPECT_GT(last.value("memory_processed_bytes", std::int64_t{0}), 0) << last.dump();
    std::printf("[ figure ]   memory sent %lld bytes, downtime %lld ms\n",
                static_cast<long long>(last.value("memory_processed_bytes", std::int64_t{0})),
                static_cast<long long>(last.value("downtime_ms", std::int64_t{0})));
    return true;
  };

  // 1. Shared storage, there and back, with a volume on the shared volume directory that the
  // guest wrote a marker on before the first move; after each move the guest reads it back
  // from the device, its page cache dropped (the memory that crossed would hold the block).
  const std::int64_t shared_vm = hosts.counting_guest("mover");
  const std::string first = cluster.host_of(shared_vm);
  ASSERT_EQ(api.post("/v1/volumes", {{"name", "carried"}, {"size_mib", 8}}).status, 201);
  ASSERT_TRUE(eventually([&] { return volume_status(api, "carried") == "available"; }, 20s));
  ASSERT_EQ(act(api, shared_vm, "disk_attach", {{"volume", "carried"}}), 202);
  ASSERT_TRUE(eventually([&] { return volume_status(api, "carried") == "in-use"; }, 60s))
      << api.get("/v1/volumes/carried").body.dump() << cluster.vm(shared_vm).dump();
  ASSERT_TRUE(hosts.idle_in(shared_vm, "RUNNING")) << cluster.vm(shared_vm).dump();
  const std::string serial =
      api.get("/v1/volumes/carried").body["volume"]["attachments"][0].value("serial", "");
  ASSERT_FALSE(serial.empty());
  // The typed lines hold "$M", never the marker's expansion the checks look for.
  ASSERT_TRUE(on_console(api, shared_vm,
                         "M=x7q; " + on_volume(serial,
                                               "echo carried-$M-end | dd of=$d bs=512 "
                                               "count=1 conv=sync 2>/dev/null && sync "
                                               "&& echo wrote-$M"),
                         "wrote-x7q"))
      << "the guest could not write its volume";
  // On the shared file itself, not only in the guest's cache.
  const std::string file =
      cluster.server().data_dir() + "/var/volumes/vol-" +
      std::to_string(api.get("/v1/volumes/carried").body["volume"].value("id", std::int64_t{0})) +
      ".raw";
  std::string head(512, '\0');
  std::ifstream(file, std::ios::binary).read(head.data(), 512);
  EXPECT_NE(head.find("carried-x7q-end"), std::string::npos) << file;
  int reads = 0;
  auto marker_read_back = [&] {
    const std::string tag = "read" + std::to_string(++reads);
    return on_console(api, shared_vm,
                      "sync; echo 3 > /proc/sys/vm/drop_caches; " +
                          on_volume(serial, "echo " + tag +
                                                "-$(dd if=$d bs=512 count=1 2>/dev/null | "
                                                "tr -d '\\000')"),
                      tag + "-carried-x7q-end");
  };
  ASSERT_TRUE(move(shared_vm, TwoHosts::other(first), nlohmann::json::object()));
  EXPECT_TRUE(marker_read_back()) << "the marker did not cross to " << TwoHosts::other(first);
  EXPECT_EQ(volume_status(api, "carried"), "in-use");
  ASSERT_TRUE(move(shared_vm, first, nlohmann::json::object()));
  EXPECT_TRUE(marker_read_back()) << "the marker did not come back to " << first;
  ASSERT_EQ(api.del("/v1/vms/" + std::to_string(shared_vm) + "?hard=true").status, 202);
  ASSERT_TRUE(cluster.wait_vm(shared_vm, "DONE", 30s));

  // 2. Each host with disks of its own: the agents again without --shared-dir.
  ASSERT_TRUE(hosts.restart_agents(/*shared_storage=*/false));
  const std::int64_t id = hosts.counting_guest("copier");
  const std::string from = cluster.host_of(id);
  const std::string to = TwoHosts::other(from);
  ASSERT_TRUE(move(id, to, {{"copy_storage", true}}));

  // 3. A move cancelled while memory crosses (1 MiB/s: it would take minutes): the undo
  // removes the target's copy and the guest runs on where it was.
  ASSERT_EQ(act(api, id, "live_migrate",
                {{"host", from}, {"copy_storage", true}, {"bandwidth_mib_s", 1}}),
            202);
  ASSERT_TRUE(eventually(
      [&] { return cluster.vm(id)["operation"].value("phase", nlohmann::json()) == "migrate"; },
      60s))
      << cluster.vm(id).dump();
  ASSERT_EQ(act(api, id, "cancel"), 202);
  EXPECT_TRUE(eventually(
      [&] {
        const auto vm = cluster.vm(id);
        return hosts.idle_in(id, "RUNNING") &&
               vm["operation"].value("action", std::string()) == "live_migrate" &&
               vm["operation"].value("status", std::string()) == "canceled";
      },
      60s))
      << cluster.vm(id).dump();
  EXPECT_EQ(cluster.host_of(id), to);
  EXPECT_EQ(hosts.vms_under(to).count(id), 1u);
  EXPECT_TRUE(eventually([&] { return hosts.vms_under(from).count(id) == 0; }, 20s))
      << "the target's copy stayed after the cancel";
  const long at_cancel = hosts.ticks(id).second;
  EXPECT_TRUE(eventually([&] { return hosts.ticks(id).second > at_cancel + 2; }, 20s))
      << "the guest stopped counting after the cancel";
  EXPECT_EQ(api.get("/v1/vms/" + std::to_string(id) + "/migrations")
                .body["migrations"]
                .back()
                .value("status", ""),
            "cancelled");

  // 4. The migration network cut: the target cannot receive; the undo puts the guest back.
  const VethLink& mig = hosts.migration_link();
  ASSERT_TRUE(set_link(mig.a_ns, mig.a_dev, false));
  EXPECT_EQ(act(api, id, "live_migrate", {{"host", from}, {"copy_storage", true}}), 202);
  EXPECT_TRUE(eventually(
      [&] {
        const auto vm = cluster.vm(id);
        return hosts.idle_in(id, "RUNNING") &&
               vm["operation"].value("action", std::string()) == "live_migrate" &&
               vm["operation"].value("status", std::string()) == "failed";
      },
      120s))
      << cluster.vm(id).dump();
  EXPECT_EQ(cluster.host_of(id), to);
  EXPECT_EQ(hosts.vms_under(to).count(id), 1u);
  EXPECT_EQ(hosts.vms_under(from).count(id), 0u);
  const long at_rollback = hosts.ticks(id).second;
  EXPECT_TRUE(eventually([&] { return hosts.ticks(id).second > at_rollback + 2; }, 20s))
      << "the guest stopped counting after the rollback";
  const ApiResult records = api.get("/v1/vms/" + std::to_string(id) + "/migrations");
  EXPECT_EQ(records.body["migrations"].back().value("status", ""), "failed") << records.body.dump();
  ASSERT_TRUE(set_link(mig.a_ns, mig.a_dev, true));
}

// Every party SIGKILLed while a live migration's memory crosses (16 MiB/s, pre-copy only, so
// the migrate phase lasts seconds): the source agent (QEMU goes on sending; the restarted
// agent follows the migration QEMU still runs), the target agent, and the controller (its
// phases re-dispatched after restart); and the migration link cut for 3 s. Whatever each ends in —
// moved, or rolled back — the guest runs exactly once, on the host the store names, and its counter
// goes on.
TEST(QemuAgentsMigrateTest, ACrashOfAnyPartyOrACutWhileMemoryCrossesLeavesOneGuestCounting) {
  TwoHosts hosts;
  ASSERT_TRUE(hosts.start(/*shared_storage=*/true));
  Cluster& cluster = hosts.cluster();
  const std::int64_t id = hosts.counting_guest("crossing");
  int completed = 0;
  int rolled_back = 0;
  int doubled = 0;
  int stopped = 0;
  for (const std::string party : {"source", "target", "controller", "link"}) {
    const std::string from = cluster.host_of(id);
    const std::string to = TwoHosts::other(from);
    ASSERT_EQ(act(hosts.api(), id, "live_migrate",
                  {{"host", to}, {"bandwidth_mib_s", 16}, {"postcopy_after_ms", 0}}),
              202);
    ASSERT_TRUE(eventually(
        [&] {
          const auto vm = cluster.vm(id);
          return vm["operation"].value("phase", nlohmann::json()) == "migrate" &&
                 hosts.vms_under(to).count(id) == 1;
        },
        60s))
        << party << ": " << cluster.vm(id).dump();
    std::this_thread::sleep_for(1s);  // memory is crossing
    ASSERT_TRUE(hosts.strike(party, from, to)) << party;
    const bool settled = eventually([&] { return hosts.idle_in(id, "RUNNING"); }, 120s);
    EXPECT_TRUE(settled) << party << ": " << cluster.vm(id).dump();
    if (!settled) break;
    const std::string now_on = cluster.host_of(id);
    (now_on == to ? completed : rolled_back) += 1;
    EXPECT_TRUE(
        eventually([&] { return hosts.vms_under(TwoHosts::other(now_on)).count(id) == 0; }, 30s))
        << party << ": a second QEMU stayed on " << TwoHosts::other(now_on);
    doubled += static_cast<int>(hosts.vms_under(TwoHosts::other(now_on)).count(id));
    EXPECT_EQ(hosts.vms_under(now_on).count(id), 1u) << party;
    const long at = hosts.ticks(id).second;
    const bool counting = eventually([&] { return hosts.ticks(id).second > at + 2; }, 30s);
    EXPECT_TRUE(counting) << party << ": the guest stopped counting on " << now_on;
    stopped += counting ? 0 : 1;
    const std::string what = party == "link"         ? "the migration link cut for 3 s"
                             : party == "controller" ? "the controller SIGKILLed"
                                                     : "the " + party + " agent SIGKILLed";
    std::printf("[ figure ] %s mid-migration: %s (op %s)\n", what.c_str(),
                now_on == to ? "moved" : "rolled back",
                cluster.vm(id)["operation"].value("status", std::string()).c_str());
  }
  std::printf(
      "[ figure ] live migrations with a party SIGKILLed or the link cut: %d moved, %d rolled "
      "back, "
      "%d double runs, %d guests stopped\n",
      completed, rolled_back, doubled, stopped);
  EXPECT_EQ(completed + rolled_back, 4);
  EXPECT_EQ(doubled, 0);
  EXPECT_EQ(stopped, 0);
}

}  // namespace
}  // namespace corral::testing
