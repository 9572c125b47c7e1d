// Live migration with real QEMU (TCG, 128 MiB test guest): two QEMU processes of one VM on
// this machine, each in its own "host" directory (<tmp>/a/vms/1 and <tmp>/b/vms/1, as two
// hosts' data dirs would be), joined over the loopback. Drives migrate.h the way the driver's
// phases will: prepare on the target, migrate on the source, await/finish/health on the
// target, confirm or resume on the source.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <iostream>
#include <memory>
#include <thread>

#include "driver/qemu/migrate.h"
#include "driver/qemu/migrate_disk.h"
#include "driver/qemu/migrate_health.h"
#include "driver/qemu/posix.h"
#include "support/qemu_host.h"

namespace corral::driver::qemu {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;
using testing::HostQemu;
constexpr store::VmId kVm = 1;  // HostQemu's default

class QemuMigrateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "corral-mig-XXXXXX").string();
    root_ = ::mkdtemp(templ.data());
    a_ = root_ + "/a";
    b_ = root_ + "/b";
  }
  void TearDown() override {
    source_.reset();
    target_.reset();
    fs::remove_all(root_);
  }

  // The target's side of a migration, run beside migrate() as the target host's agent would:
  // waits for the stream, then resumes the guest.
  // `resume`: the source was running.
  std::future<Result<MigrationProgress>> await_target(bool resume = true) {
    return std::async(std::launch::async, [this, resume]() -> Result<MigrationProgress> {
      Result<MigrationProgress> p = await_incoming(target_->qmp(), 120s, resume);
      if (p && p->status == MigrationStatus::kCompleted) {
        if (Status done = finish_incoming(target_->qmp(), resume); !done) {
          return fail(std::move(done.error()));
        }
      }
      return p;
    });
  }

  static void print(const char* what, const MigrationProgress& p) {
    std::cout << "[ measured ] " << what << ": " << migration_status_name(p.status) << " total "
              << p.total_time_ms << " ms, downtime " << p.downtime_ms << " ms, setup "
              << p.setup_time_ms << " ms, transferred " << p.transferred / (1024 * 1024) << " MiB"
              << (p.postcopy ? ", post-copy" : "") << (p.error.empty() ? "" : ", error: " + p.error)
              << "\n";
  }

  std::string root_, a_, b_;
  std::unique_ptr<HostQemu> source_, target_;
};

// Shared storage (both QEMUs open the source's disk file), idle guest. A cancelled migration
// leaves the source running and the target ends; the next one completes and the guest answers
// on the target; confirm ends the source. Migrated back, the new target dies during
// post-copy: reported failed, not resumable.
// Catches: migrate_cancel not sent on the cancel flag (the migration would complete);
// migrate-incoming's port misreported; resume_source allowed after post-copy; confirm_source not
// ending the source; postcopy-paused not ending migrate() (it would wait for ever).
TEST_F(QemuMigrateTest, SharedStorageCancelledThenCompleted) {
  source_ = HostQemu::launch(a_, false);
  ASSERT_NO_FATAL_FAILURE(source_->boot());

  MigrateOptions slow;
  slow.shared_storage = true;
  slow.bandwidth_mib_s = 4;  // ~25 s for 100 MiB: cancelled long before it could complete
  target_ = HostQemu::launch(b_, true, source_->paths().disk);
  Result<IncomingEndpoint> ep = prepare_incoming(target_->qmp(), slow, "127.0.0.1");
  ASSERT_TRUE(ep) << ep.error().message;
  EXPECT_TRUE(ep->migration_uri.starts_with("tcp:127.0.0.1:")) << ep->migration_uri;
  EXPECT_NE(ep->migration_uri, "tcp:127.0.0.1:0");
  EXPECT_EQ(ep->nbd_port, 0);  // shared storage: no disk export

  std::atomic<bool> cancel = false;
  bool saw_active = false;
  Result<MigrationProgress> cancelled =
      migrate(source_->qmp(), *ep, slow, &cancel, [&](const MigrationProgress& p) {
        if (p.status == MigrationStatus::kActive) saw_active = true;
        if (p.transferred > (4U << 20)) cancel = true;
      });
  ASSERT_TRUE(cancelled) << cancelled.error().message;
  print("shared, cancelled", *cancelled);
  EXPECT_TRUE(saw_active);
  EXPECT_EQ(cancelled->status, MigrationStatus::kCancelled);
  EXPECT_EQ(source_->run_status(), "running");
  const HealthReport source_ok = source_->health(source_->console().size(), "after-cancel");
  EXPECT_TRUE(source_ok.healthy) << source_ok.reason;
  // The target's incoming stream broke: QEMU ends the process.
  EXPECT_TRUE(target_->wait_gone(10s)) << target_->run_status();

  // With the defaults and without shared storage: post-copy and the mirror together.
  MigrateOptions options = migrate_defaults();
  options.shared_storage = false;
  target_ = HostQemu::launch(b_, true);
  ep = prepare_incoming(target_->qmp(), options, "127.0.0.1");
  ASSERT_TRUE(ep) << ep.error().message;
  auto incoming = await_target();
  std::vector<MigrationStatus> seen;
  Result<MigrationProgress> done =
      migrate(source_->qmp(), *ep, options, nullptr,
              [&](const MigrationProgress& p) { seen.push_back(p.status); });
  ASSERT_TRUE(done) << done.error().message;
  print("shared, idle, defaults", *done);
  EXPECT_TRUE(done->postcopy);
  EXPECT_EQ(done->status, MigrationStatus::kCompleted) << done->error;
  EXPECT_GT(done->total_time_ms, 0);
  EXPECT_GT(done->transferred, 0U);
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back(), MigrationStatus::kCompleted);
  Result<MigrationProgress> arrived = incoming.get();
  ASSERT_TRUE(arrived) << arrived.error().message;
  EXPECT_EQ(arrived->status, MigrationStatus::kCompleted);
  EXPECT_EQ(source_->run_status(), "postmigrate");
  EXPECT_EQ(target_->run_status(), "running");
  const HealthReport target_ok = target_->health(0, "shared");
  EXPECT_TRUE(target_ok.healthy) << target_ok.reason << "\n" << target_->console();

  // After post-copy the source has no whole guest left to resume.
  EXPECT_FALSE(resume_source(source_->qmp()));
  EXPECT_EQ(source_->run_status(), "postmigrate");

  ASSERT_TRUE(confirm_source(source_->qmp()));
  EXPECT_TRUE(source_->wait_gone(10s));

  // Back to host a, and host a dies during post-copy: reported failed (not waited on for
  // ever: QEMU's postcopy-paused waits for a recovery), never resumable.
  source_ = std::move(target_);
  target_ = HostQemu::launch(a_, true, source_->paths().disk);
  MigrateOptions slow_postcopy = migrate_defaults();
  slow_postcopy.bandwidth_mib_s = 4;
  ep = prepare_incoming(target_->qmp(), slow_postcopy, "127.0.0.1");
  ASSERT_TRUE(ep) << ep.error().message;
  bool killed = false;
  auto broken = std::async(std::launch::async, [&] {
    return migrate(source_->qmp(), *ep, slow_postcopy, nullptr, [&](const MigrationProgress& p) {
      if (p.postcopy && !killed) {
        target_->kill();
        killed = true;
      }
    });
  });
  if (broken.wait_for(60s) != std::future_status::ready) {
    ADD_FAILURE() << "migrate() still waits after its target died in post-copy";
    source_->kill();  // ends the wait
  }
  Result<MigrationProgress> lost = broken.get();
  ASSERT_TRUE(lost) << lost.error().message;
  print("shared, post-copy, target killed", *lost);
  EXPECT_TRUE(killed);
  EXPECT_EQ(lost->status, MigrationStatus::kFailed);
  EXPECT_TRUE(lost->postcopy);
  if (lost->error.find("postcopy-paused") != std::string::npos) {
    // The target ran the guest: its memory is split, the source must not run again.
    EXPECT_FALSE(resume_source(source_->qmp()));
  } else {
    // Killed during the switch itself (seen once in a loaded run): QEMU failed the
    // migration before the target started (status failed, not postcopy-paused); the
    // source's copy is whole and may run again.
    EXPECT_FALSE(lost->error.empty());
  }
}

// Runs qemu-io on a disk file no QEMU holds; its output.
std::string qemu_io(const std::string& disk, const std::string& command) {
  Result<CommandResult> r = run_command({"qemu-io", "-c", command, disk}, 30s);
  EXPECT_TRUE(r && r->exit_code == 0) << (r ? r->output : r.error().message);
  return r ? r->output : "";
}

// The disk's map as qemu-img sees it: offset -> depth (0: in the file itself, 1: its backing).
json disk_map(const std::string& disk) {
  Result<CommandResult> r = run_command({"qemu-img", "map", "-U", "--output=json", disk}, 30s);
  EXPECT_TRUE(r && r->exit_code == 0) << (r ? r->output : r.error().message);
  return r ? json::parse(r->output, nullptr, false) : json();
}

// Where the byte at `offset` comes from: the depth of the map entry holding it (-1: none).
int depth_at(const json& map, std::uint64_t offset) {
  for (const json& e : map) {
    const auto start = e["start"].get<std::uint64_t>();
    if (offset >= start && offset < start + e["length"].get<std::uint64_t>() && e["data"]) {
      return e["depth"].get<int>();
    }
  }
  return -1;
}

// No shared storage: each host has its own copy of the base image and the VM's overlay on
// it; only the overlay moves (mirror into the target's NBD export). The target is killed in
// the middle of one migration (the source keeps running, its mirror gone); the next one, of
// the guest paused, completes with the overlay's data on the target and the base's data still
// from the base, and the guest stays paused there until finish_incoming is asked to run it.
// The target is then found unwanted: it ends and the source resumes.
// Catches: a mirror with sync "full" (the base's data would be copied into the overlay); no
// mirror (the overlay's data would be missing); the mirror job or its NBD node left behind
// after a failure or a completion; a paused guest resumed on the target unasked, or left
// paused by finish_incoming when asked; resume_source not running the guest again.
TEST_F(QemuMigrateTest, OwnStorageMirrorsOnlyTheOverlay) {
  // The image "base" on both hosts (as each host's image dir has it).
  const std::string a_base = a_ + "/images/base/disk.qcow2";
  const std::string b_base = b_ + "/images/base/disk.qcow2";
  fs::create_directories(a_ + "/images/base");
  fs::create_directories(b_ + "/images/base");
  ASSERT_TRUE(create_target_disk("qemu-img", a_base, 64ULL << 20, "", ""));
  qemu_io(a_base, "write -P 0x11 1M 64k");
  fs::copy_file(a_base, b_base);
  const VmPaths a_vm = VmPaths::of(a_, kVm);
  fs::create_directories(a_vm.dir);
  ASSERT_TRUE(create_target_disk("qemu-img", a_vm.disk, 64ULL << 20, a_base, "qcow2"));
  qemu_io(a_vm.disk, "write -P 0x5a 0 64k");  // the VM's own data, in its overlay only

  source_ = HostQemu::launch(a_, false);
  ASSERT_NO_FATAL_FAILURE(source_->boot());
  const VmPaths b_vm = VmPaths::of(b_, kVm);
  // The target host's disk: same size, on its own base.
  const auto make_target_disk = [&] {
    Result<DiskFacts> facts = disk_facts("qemu-img", a_vm.disk);
    ASSERT_TRUE(facts) << facts.error().message;
    EXPECT_EQ(facts->virtual_size, 64ULL << 20);
    EXPECT_EQ(facts->backing, a_base);
    Result<std::string> backing = local_backing(facts->backing, b_ + "/images");
    ASSERT_TRUE(backing) << backing.error().message;
    EXPECT_EQ(*backing, b_base);
    fs::create_directories(b_vm.dir);
    fs::remove(b_vm.disk);
    ASSERT_TRUE(create_target_disk("qemu-img", b_vm.disk, facts->virtual_size, *backing,
                                   facts->backing_format));
  };

  // 1. The target dies mid-migration.
  ASSERT_NO_FATAL_FAILURE(make_target_disk());
  MigrateOptions slow;
  slow.shared_storage = false;
  slow.bandwidth_mib_s = 4;
  target_ = HostQemu::launch(b_, true);
  Result<IncomingEndpoint> ep = prepare_incoming(target_->qmp(), slow, "127.0.0.1");
  ASSERT_TRUE(ep) << ep.error().message;
  EXPECT_GT(ep->nbd_port, 0);
  bool killed = false;
  Result<MigrationProgress> failed =
      migrate(source_->qmp(), *ep, slow, nullptr, [&](const MigrationProgress& p) {
        if (!killed && p.transferred > (4U << 20)) {
          target_->kill();
          killed = true;
        }
      });
  ASSERT_TRUE(failed) << failed.error().message;
  print("own storage, target killed", *failed);
  EXPECT_TRUE(killed);
  EXPECT_EQ(failed->status, MigrationStatus::kFailed);
  EXPECT_FALSE(failed->error.empty());
  EXPECT_EQ(source_->run_status(), "running");
  Result<json> jobs = source_->qmp().execute("query-block-jobs");
  ASSERT_TRUE(jobs);
  EXPECT_TRUE(jobs->empty()) << jobs->dump();
  Result<json> nodes = source_->qmp().execute("query-named-block-nodes");
  ASSERT_TRUE(nodes);
  EXPECT_EQ(nodes->dump().find("corral-migrate-target"), std::string::npos);
  const HealthReport source_ok = source_->health(source_->console().size(), "after-kill");
  EXPECT_TRUE(source_ok.healthy) << source_ok.reason;

  // 2. A complete migration of a paused guest: it arrives paused and runs when asked.
  ASSERT_TRUE(source_->qmp().execute("stop"));
  ASSERT_NO_FATAL_FAILURE(make_target_disk());
  MigrateOptions precopy;  // pre-copy: the source can still take the guest back (step 3)
  precopy.shared_storage = false;
  target_ = HostQemu::launch(b_, true);
  ep = prepare_incoming(target_->qmp(), precopy, "127.0.0.1");
  ASSERT_TRUE(ep) << ep.error().message;
  auto incoming = await_target(false);
  Result<MigrationProgress> done = migrate(source_->qmp(), *ep, precopy);
  ASSERT_TRUE(done) << done.error().message;
  print("own storage, paused guest, pre-copy", *done);
  EXPECT_EQ(done->status, MigrationStatus::kCompleted) << done->error;
  EXPECT_FALSE(done->postcopy);
  // The mirror was completed at the switch and its NBD client removed.
  jobs = source_->qmp().execute("query-block-jobs");
  ASSERT_TRUE(jobs);
  EXPECT_TRUE(jobs->empty()) << jobs->dump();
  nodes = source_->qmp().execute("query-named-block-nodes");
  ASSERT_TRUE(nodes);
  EXPECT_EQ(nodes->dump().find("corral-migrate-target"), std::string::npos);
  Result<MigrationProgress> arrived = incoming.get();
  ASSERT_TRUE(arrived) << arrived.error().message;
  EXPECT_EQ(arrived->status, MigrationStatus::kCompleted);
  EXPECT_EQ(target_->run_status(), "paused");
  ASSERT_TRUE(finish_incoming(target_->qmp(), true));
  EXPECT_EQ(target_->run_status(), "running");
  const HealthReport target_ok = target_->health(0, "own");
  EXPECT_TRUE(target_ok.healthy) << target_ok.reason << "\n" << target_->console();
  // The VM's data reached the target's overlay; the base's stayed in the target's base
  // (read once the target QEMU ended cleanly, its caches written out).
  ASSERT_TRUE(confirm_source(target_->qmp()));  // quit
  EXPECT_TRUE(target_->wait_gone(10s));
  const json map = disk_map(b_vm.disk);
  EXPECT_EQ(depth_at(map, 0), 0) << map.dump();
  EXPECT_EQ(depth_at(map, 1 << 20), 1) << map.dump();
  EXPECT_NE(qemu_io(b_vm.disk, "read -P 0x5a 0 64k").find("read 65536/65536"), std::string::npos);
  EXPECT_NE(qemu_io(b_vm.disk, "read -P 0x11 1M 64k").find("read 65536/65536"), std::string::npos);

  // 3. The target is not kept (it ended above): the source runs the guest again.
  EXPECT_EQ(source_->run_status(), "postmigrate");
  ASSERT_TRUE(resume_source(source_->qmp()));
  EXPECT_EQ(source_->run_status(), "running");
  const HealthReport resumed = source_->health(source_->console().size(), "resumed");
  EXPECT_TRUE(resumed.healthy) << resumed.reason;
}

// The guest's memory dirtier: dd rewriting a 32 MiB file in its RAM-backed root, for ever.
constexpr const char* kDirtyLoop =
    "(while :; do dd if=/dev/zero of=/dirty bs=1M count=32 2>/dev/null; done) &\n";

// A guest dirtying memory fast, migrated with migrate_defaults() (own storage), must come
// out healthy on the target: under TCG, pre-copy of such a guest reports completed while the
// target's kernel Oopses (hosts-migration.md §3).
// Before that, a pre-copy past its deadline is cancelled and the source runs on.
// Catches: defaults without post-copy or with it too late (measured: the target Oopses in 5
// of 8 runs, see migrate.h); a health check that misses an Oops; the deadline not enforced.
TEST_F(QemuMigrateTest, BusyGuestComesOutHealthyWithTheDefaults) {
  source_ = HostQemu::launch(a_, false);
  ASSERT_NO_FATAL_FAILURE(source_->boot());
  source_->type(kDirtyLoop);
  std::this_thread::sleep_for(2s);

  // A pre-copy that cannot finish in time is cancelled; the busy guest runs on.
  MigrateOptions hopeless;
  hopeless.bandwidth_mib_s = 4;
  hopeless.deadline = 1500ms;
  target_ = HostQemu::launch(b_, true, source_->paths().disk);
  Result<IncomingEndpoint> ep = prepare_incoming(target_->qmp(), hopeless, "127.0.0.1");
  ASSERT_TRUE(ep) << ep.error().message;
  Result<MigrationProgress> gave_up = migrate(source_->qmp(), *ep, hopeless);
  ASSERT_TRUE(gave_up) << gave_up.error().message;
  print("shared, busy, deadline", *gave_up);
  EXPECT_EQ(gave_up->status, MigrationStatus::kCancelled);
  EXPECT_NE(gave_up->error.find("not done within 1500 ms"), std::string::npos) << gave_up->error;
  EXPECT_EQ(source_->run_status(), "running");
  EXPECT_TRUE(target_->wait_gone(10s));

  // With the defaults and without shared storage: post-copy and the mirror together.
  MigrateOptions options = migrate_defaults();
  options.shared_storage = false;
  target_ = HostQemu::launch(b_, true);
  ep = prepare_incoming(target_->qmp(), options, "127.0.0.1");
  ASSERT_TRUE(ep) << ep.error().message;
  auto incoming = await_target();
  Result<MigrationProgress> done = migrate(source_->qmp(), *ep, options);
  ASSERT_TRUE(done) << done.error().message;
  print("own storage, busy, defaults", *done);
  EXPECT_TRUE(done->postcopy);
  EXPECT_EQ(done->status, MigrationStatus::kCompleted) << done->error;
  Result<MigrationProgress> arrived = incoming.get();
  ASSERT_TRUE(arrived) << arrived.error().message;
  EXPECT_EQ(arrived->status, MigrationStatus::kCompleted);
  const HealthReport healthy = target_->health(0, "busy");
  EXPECT_TRUE(healthy.healthy) << healthy.reason << "\n" << target_->console();
  ASSERT_TRUE(confirm_source(source_->qmp()));
}

}  // namespace
}  // namespace corral::driver::qemu
