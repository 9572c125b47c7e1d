// The pure parts of migration (migrate.h, migrate_health.h): what QEMU's answers mean and
// what Corral asks of QEMU. The QMP conversations themselves run against real QEMU in
// tests/qemu_migrate_test.cc.
#include "driver/qemu/migrate.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "driver/qemu/migrate_disk.h"
#include "driver/qemu/migrate_health.h"

namespace corral::driver::qemu {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

TEST(MigrateStatus, EveryStatusQemuNamesRoundTripsAndOnlyThreeAreFinal) {
  struct Case {
    const char* qemu;
    MigrationStatus status;
    bool finished;
  };
  const Case cases[] = {
      {"none", MigrationStatus::kNone, false},
      {"setup", MigrationStatus::kSetup, false},
      {"active", MigrationStatus::kActive, false},
      {"postcopy-active", MigrationStatus::kPostcopyActive, false},
      {"pre-switchover", MigrationStatus::kPreSwitchover, false},
      {"device", MigrationStatus::kDevice, false},
      {"cancelling", MigrationStatus::kCancelling, false},
      {"completed", MigrationStatus::kCompleted, true},
      {"failed", MigrationStatus::kFailed, true},
      {"cancelled", MigrationStatus::kCancelled, true},
      {"postcopy-paused", MigrationStatus::kOther, false},
      {"colo", MigrationStatus::kOther, false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(parse_migration_status(c.qemu), c.status) << c.qemu;
    EXPECT_EQ(migration_finished(c.status), c.finished) << c.qemu;
    if (c.status != MigrationStatus::kOther) {
      EXPECT_EQ(migration_status_name(c.status), c.qemu);
    }
  }
}

TEST(MigrateStatus, QueryMigrateAnswersBecomeProgress) {
  // As QEMU 7.2 answered on this machine (trimmed).
  const json active = json::parse(R"({"status": "active", "setup-time": 2,
      "expected-downtime": 300, "total-time": 420,
      "ram": {"total": 134750208, "remaining": 40000000, "transferred": 60000000}})");
  MigrationProgress p = parse_query_migrate(active);
  EXPECT_EQ(p.status, MigrationStatus::kActive);
  EXPECT_EQ(p.total, 134750208U);
  EXPECT_EQ(p.remaining, 40000000U);
  EXPECT_EQ(p.transferred, 60000000U);
  EXPECT_EQ(p.expected_downtime_ms, 300);
  EXPECT_EQ(p.setup_time_ms, 2);
  EXPECT_EQ(p.total_time_ms, 420);
  EXPECT_EQ(p.downtime_ms, 0);
  EXPECT_FALSE(p.postcopy);

  p = parse_query_migrate(json::parse(R"({"status": "completed", "downtime": 42,
      "total-time": 644, "ram": {"remaining": 0}})"));
  EXPECT_EQ(p.status, MigrationStatus::kCompleted);
  EXPECT_EQ(p.downtime_ms, 42);

  p = parse_query_migrate(json::parse(
      R"({"status": "failed", "error-desc": "Unable to write to socket: Broken pipe"})"));
  EXPECT_EQ(p.status, MigrationStatus::kFailed);
  EXPECT_EQ(p.error, "Unable to write to socket: Broken pipe");

  EXPECT_TRUE(parse_query_migrate(json::parse(R"({"status": "postcopy-active"})")).postcopy);
  // Completed after a post-copy phase too short to be seen by a poll.
  EXPECT_TRUE(parse_query_migrate(
                  json::parse(R"({"status": "completed", "ram": {"postcopy-bytes": 4096}})"))
                  .postcopy);
  EXPECT_FALSE(
      parse_query_migrate(json::parse(R"({"status": "completed", "ram": {"postcopy-bytes": 0}})"))
          .postcopy);
  // A target that has not started answers {}.
  EXPECT_EQ(parse_query_migrate(json::object()).status, MigrationStatus::kNone);
  EXPECT_EQ(parse_query_migrate(json()).status, MigrationStatus::kNone);
}

bool capability(const json& caps, const std::string& name) {
  for (const json& c : caps) {
    if (c["capability"] == name) return c["state"].get<bool>();
  }
  ADD_FAILURE() << name << " not set in " << caps.dump();
  return false;
}

bool has_capability(const json& caps, const std::string& name) {
  for (const json& c : caps) {
    if (c["capability"] == name) return true;
  }
  return false;
}

TEST(MigrateOptionsTest, CapabilitiesFollowTheOptionsOnEachSide) {
  MigrateOptions o;
  o.shared_storage = true;
  json src = migration_capabilities(o, true);
  EXPECT_TRUE(capability(src, "events"));
  EXPECT_FALSE(capability(src, "postcopy-ram"));
  EXPECT_FALSE(capability(src, "auto-converge"));
  EXPECT_FALSE(capability(src, "pause-before-switchover"));

  o.shared_storage = false;
  o.auto_converge = true;
  o.postcopy_after = milliseconds(1000);
  src = migration_capabilities(o, true);
  EXPECT_TRUE(capability(src, "postcopy-ram"));
  EXPECT_TRUE(capability(src, "auto-converge"));
  // The mirror is completed in the pause before the switch.
  EXPECT_TRUE(capability(src, "pause-before-switchover"));
  // Post-copy needs the capability on the target too; the others are the source's alone.
  const json dst = migration_capabilities(o, false);
  EXPECT_TRUE(capability(dst, "postcopy-ram"));
  EXPECT_FALSE(has_capability(dst, "pause-before-switchover"));
  EXPECT_FALSE(has_capability(dst, "auto-converge"));
}

TEST(MigrateOptionsTest, ParametersCarryDowntimeAndBandwidthInQemuUnits) {
  MigrateOptions o;
  o.max_downtime = milliseconds(500);
  json p = migration_parameters(o);
  EXPECT_EQ(p["downtime-limit"], 500);
  // Always set: QEMU keeps a limit from one migration to the next.
  EXPECT_EQ(p["max-bandwidth"], 128 * 1024 * 1024);
  EXPECT_EQ(p["max-postcopy-bandwidth"], 0);  // unlimited
  o.bandwidth_mib_s = 8;
  p = migration_parameters(o);
  EXPECT_EQ(p["max-bandwidth"], 8 * 1024 * 1024);
  EXPECT_EQ(p["max-postcopy-bandwidth"], 8 * 1024 * 1024);
}

TEST(MigrateOptionsTest, BusyGuestDefaultsSwitchToPostcopy) {
  const MigrateOptions d = migrate_defaults();
  EXPECT_GT(d.postcopy_after.count(), 0);
  EXPECT_GT(d.stall_timeout.count(), 0);
}

// The options an operation asks for, over the defaults; 0 and -1 mean what op_params.h says.
// Catches: postcopy_after_ms 0 read as "the default" (a busy guest would then go post-copy
// against the operator's wish) or -1 as "never"; copy_storage not turned into shared_storage
// false (no mirror: the target would boot on an empty disk).
TEST(MigrateOptionsTest, AnOperationsParamsOverrideOnlyWhatTheySet) {
  const MigrateOptions defaults = migrate_defaults();
  const MigrateOptions plain = options_from(store::MigrationParams{});
  EXPECT_EQ(plain.postcopy_after, defaults.postcopy_after);
  EXPECT_EQ(plain.max_downtime, defaults.max_downtime);
  EXPECT_EQ(plain.bandwidth_mib_s, defaults.bandwidth_mib_s);
  EXPECT_EQ(plain.stall_timeout, defaults.stall_timeout);
  EXPECT_TRUE(plain.shared_storage);
  EXPECT_FALSE(plain.auto_converge);

  store::MigrationParams asked;
  asked.copy_storage = true;
  asked.auto_converge = true;
  asked.postcopy_after_ms = 0;
  asked.max_downtime_ms = 50;
  asked.bandwidth_mib_s = 8;
  const MigrateOptions set = options_from(asked);
  EXPECT_FALSE(set.shared_storage);
  EXPECT_TRUE(set.auto_converge);
  EXPECT_EQ(set.postcopy_after, milliseconds(0));
  EXPECT_EQ(set.max_downtime, milliseconds(50));
  EXPECT_EQ(set.bandwidth_mib_s, 8);
  asked.postcopy_after_ms = 1500;
  EXPECT_EQ(options_from(asked).postcopy_after, milliseconds(1500));
}

TEST(MigrateOptionsTest, TheEndpointRoundTripsThroughTheEnginesForm) {
  const IncomingEndpoint ep{"tcp:10.0.0.2:4444", "10.0.0.2", 10809, "disk0"};
  const store::MigrationEndpoint stored = to_store(ep);
  EXPECT_EQ(stored.migration_uri, "tcp:10.0.0.2:4444");
  EXPECT_EQ(stored.nbd_host, "10.0.0.2");
  EXPECT_EQ(stored.nbd_port, 10809);
  EXPECT_EQ(stored.nbd_export, "disk0");
  const IncomingEndpoint back = from_store(stored);
  EXPECT_EQ(back.migration_uri, ep.migration_uri);
  EXPECT_EQ(back.nbd_host, ep.nbd_host);
  EXPECT_EQ(back.nbd_port, ep.nbd_port);
  EXPECT_EQ(back.nbd_export, ep.nbd_export);
}

TEST(MigrateConvergence, AStallOrTheDeadlineCancelsPrecopyButNeverPostcopy) {
  using std::chrono::steady_clock;
  const steady_clock::time_point t0{};
  const auto at = [&](int ms) { return t0 + milliseconds(ms); };
  const auto progress = [](MigrationStatus status, std::uint64_t remaining) {
    MigrationProgress p;
    p.status = status;
    p.remaining = remaining;
    p.postcopy = status == MigrationStatus::kPostcopyActive;
    return p;
  };
  struct Step {
    int at_ms;
    MigrationStatus status;
    std::uint64_t remaining;
    bool cancels;
  };
  struct Case {
    const char* name;
    int stall_ms;
    int deadline_ms;
    std::vector<Step> steps;
  };
  const auto A = MigrationStatus::kActive;
  const auto P = MigrationStatus::kPostcopyActive;
  const Case cases[] = {
      {"remaining keeps dropping",
       1000,
       0,
       {{0, A, 100, false}, {900, A, 90, false}, {1800, A, 80, false}, {2700, A, 70, false}}},
      {"stuck above its low",
       1000,
       0,
       {{0, A, 100, false},
        {500, A, 50, false},
        {1000, A, 60, false},
        {1400, A, 55, false},
        {1600, A, 52, true}}},
      {"a new low restarts the clock",
       1000,
       0,
       {{0, A, 100, false},
        {900, A, 99, false},
        {1800, A, 120, false},
        {1950, A, 98, false},
        {2900, A, 98, false},
        {3000, A, 99, true}}},
      {"setup does not count",
       1000,
       0,
       {{0, MigrationStatus::kSetup, 0, false}, {5000, MigrationStatus::kSetup, 0, false}}},
      {"deadline", 0, 2000, {{0, A, 100, false}, {1999, A, 1, false}, {2001, A, 1, true}}},
      {"post-copy is never cancelled",
       1000,
       2000,
       {{0, A, 100, false}, {500, P, 100, false}, {5000, P, 100, false}}},
      {"no limits", 0, 0, {{0, A, 100, false}, {100000, A, 100, false}}},
  };
  for (const Case& c : cases) {
    ConvergenceWatch watch(milliseconds(c.stall_ms), milliseconds(c.deadline_ms), t0);
    for (const Step& s : c.steps) {
      const std::string why = watch.observe(progress(s.status, s.remaining), at(s.at_ms));
      EXPECT_EQ(!why.empty(), s.cancels) << c.name << " at " << s.at_ms << " ms: " << why;
    }
  }
}

TEST(GuestHealth, KernelTroubleIsFoundOnItsLine) {
  struct Case {
    const char* console;
    const char* trouble;  // nullptr: none
  };
  const Case cases[] = {
      {"corral-guest: ready\r\n/ # echo hi\r\nhi\r\n", nullptr},
      {"", nullptr},
      {"/ # \r\n[   12.3] BUG: unable to handle page fault for address: 0000\r\n[   12.3] #PF",
       "[   12.3] BUG: unable to handle page fault for address: 0000"},
      {"x\n[ 5.1] Oops: 0000 [#1] PREEMPT SMP NOPTI\n", "[ 5.1] Oops: 0000 [#1] PREEMPT SMP NOPTI"},
      {"Kernel panic - not syncing: Attempted to kill init!",
       "Kernel panic - not syncing: "
       "Attempted to kill init!"},
      {"[ 1.0] general protection fault, probably for non-canonical address",
       "[ 1.0] general protection fault, probably for non-canonical address"},
      {"dd[77]: segfault at 0 ip 0 sp 0 error 4", "dd[77]: segfault at 0 ip 0 sp 0 error 4"},
  };
  for (const Case& c : cases) {
    const std::optional<std::string> found = kernel_trouble(c.console);
    if (c.trouble == nullptr) {
      EXPECT_FALSE(found) << c.console;
    } else {
      EXPECT_EQ(found.value_or("<none>"), c.trouble);
    }
  }
}

TEST(GuestHealth, TheProbeAnswerIsNotInItsEcho) {
  const GuestProbe probe = console_probe("7");
  EXPECT_EQ(probe.command, "echo corral-alive-7-$((6*7))\n");
  EXPECT_EQ(probe.answer, "corral-alive-7-42");
  // The terminal echoes what was typed: that alone must not count as an answer.
  EXPECT_EQ(probe.command.find(probe.answer), std::string::npos);
}

// check_guest_health against a console log this test writes as the guest would: `answer_on`
// is the typing (1-based) the guest answers, 0 never; `trouble` is written after the answer.
HealthReport health_of(int answer_on, const std::string& trouble, int* typed) {
  namespace fs = std::filesystem;
  const std::string log =
      (fs::temp_directory_path() / ("corral-health-" + std::to_string(::getpid()) + ".log"))
          .string();
  std::ofstream(log) << "boot noise: Oops on the source's console before the switch\n";
  const std::size_t from = fs::file_size(log);
  const GuestProbe probe = console_probe("t");
  *typed = 0;
  const HealthReport report = check_guest_health(
      log, from,
      [&](const std::string& text) {
        EXPECT_EQ(text, probe.command);
        std::ofstream out(log, std::ios::app);
        out << text;  // the terminal's echo
        if (++*typed == answer_on) out << probe.answer << "\r\n" << trouble;
      },
      probe, milliseconds(600), milliseconds(150), milliseconds(100));
  fs::remove(log);
  return report;
}

TEST(GuestHealth, AnsweredWithoutTroubleIsHealthyElseNot) {
  int typed = 0;
  HealthReport r = health_of(1, "", &typed);
  EXPECT_TRUE(r.healthy) << r.reason;
  EXPECT_EQ(typed, 1);
  // Input lost while the UART moved: typed again until answered.
  r = health_of(3, "", &typed);
  EXPECT_TRUE(r.healthy) << r.reason;
  EXPECT_EQ(typed, 3);
  r = health_of(0, "", &typed);
  EXPECT_FALSE(r.healthy);
  EXPECT_NE(r.reason.find("did not answer"), std::string::npos) << r.reason;
  EXPECT_GE(typed, 4);
  // The kernel Oopses right after answering (the TCG pre-copy failure looks like this).
  r = health_of(1, "[ 6.2] invalid opcode: 0000 [#1] PREEMPT SMP NOPTI\n", &typed);
  EXPECT_FALSE(r.healthy);
  EXPECT_NE(r.reason.find("invalid opcode"), std::string::npos) << r.reason;
}

TEST(MigrateDisk, TheBackingIsTheSameImageInThisHostsImageDir) {
  namespace fs = std::filesystem;
  std::string templ = (fs::temp_directory_path() / "corral-migdisk-XXXXXX").string();
  const std::string images = ::mkdtemp(templ.data());
  fs::create_directories(images + "/base");
  std::ofstream(images + "/base/disk.qcow2") << "";
  struct Case {
    const char* source_backing;
    const char* local;  // nullptr: refused
  };
  const std::string want = images + "/base/disk.qcow2";
  const Case cases[] = {
      {"/srv/a/images/base/disk.qcow2", want.c_str()},
      {"", ""},                                     // a blank disk
      {"/srv/a/images/other/disk.qcow2", nullptr},  // not on this host
      {"/srv/a/images/base/disk.raw", nullptr},     // not this format here
      {"/srv/a/vms/7/disk.qcow2", nullptr},         // "7" has no image of that name here
      {"/etc/passwd", nullptr},                     // no image's disk
      {"/srv/a/images/../disk.qcow2", nullptr},     // ".." is no image name
  };
  for (const Case& c : cases) {
    Result<std::string> got = local_backing(c.source_backing, images);
    if (c.local == nullptr) {
      EXPECT_FALSE(got) << c.source_backing << " -> " << got.value_or("");
    } else {
      ASSERT_TRUE(got) << c.source_backing << ": " << got.error().message;
      EXPECT_EQ(*got, c.local);
    }
  }
  fs::remove_all(images);
}

}  // namespace
}  // namespace corral::driver::qemu
