// The volume table: its invariants, and its rows and views against the facts in
// ../shared/reference/network-volumes.md §3 (cited as "§3 line N").
#include "lifecycle/volume_table.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace corral::lifecycle {
namespace {

using S = VolumeStatus;
using A = VolumeAction;

std::string key(const VolumeRecord& v, VolumeAction a) {
  return std::string(volume_status_name(v.status)) + (v.attached ? "+attached" : "") + " / " +
         std::string(volume_action_name(a));
}

std::vector<VolumeRecord> consistent_records() {
  std::vector<VolumeRecord> out;
  for (VolumeStatus s : kAllVolumeStatuses) {
    for (bool attached : {false, true}) {
      if (is_consistent({s, attached})) out.push_back({s, attached});
    }
  }
  return out;
}

TEST(VolumeTableTest, EveryStatusAndActionHasExactlyOneRowOrOneRefusal) {
  EXPECT_EQ(consistent_records().size(), 13u);  // 11 statuses, two of them either way
  for (const VolumeRecord& v : consistent_records()) {
    for (VolumeAction a : kAllVolumeActions) {
      int rows = 0;
      int refusals = 0;
      for (const VolumeRow& r : volume_rows()) {
        const bool when = r.when == Attached::kEither || (r.when == Attached::kYes) == v.attached;
        if (r.action == a && r.from.contains(v.status) && when) ++rows;
      }
      for (const VolumeRefusal& r : volume_refusals()) {
        const bool when = r.when == Attached::kEither || (r.when == Attached::kYes) == v.attached;
        if (r.action == a && r.from.contains(v.status) && when) ++refusals;
      }
      EXPECT_EQ(rows + refusals, 1) << key(v, a);
      EXPECT_EQ(find_volume_row(v, a) != nullptr, rows == 1) << key(v, a);
    }
  }
}

TEST(VolumeTableTest, RowsAreWellFormed) {
  std::vector<VolumeRow> all(volume_rows().begin(), volume_rows().end());
  all.push_back(volume_create_row());
  for (const VolumeRow& r : all) {
    SCOPED_TRACE(std::string(volume_action_name(r.action)) + ": " + std::string(r.note));
    EXPECT_FALSE(r.from.empty());
    EXPECT_FALSE(r.note.empty());
    EXPECT_EQ(r.removes, r.action == A::kDelete || r.action == A::kTerminateDelete);
    EXPECT_EQ(r.requires_no_snapshots, r.removes);
    EXPECT_EQ(r.claim.has_value(), r.action == A::kAttach) << "only attach claims";
    for (const VolumeOutcome* o : {&r.success, &r.failure}) {
      if (o->then == Then::kStatus && !(r.removes && o == &r.success)) {
        EXPECT_FALSE(is_transient(o->status)) << "an outcome is never transient";
      }
    }
    if (r.transient.then == Then::kStatus) {
      EXPECT_TRUE(is_transient(r.transient.status));
    }
    // Every record a row leaves is consistent.
    for (VolumeStatus s : kAllVolumeStatuses) {
      for (bool attached : {false, true}) {
        const VolumeRecord v{s, attached};
        if (!is_consistent(v) || !r.from.contains(s)) continue;
        if (r.when != Attached::kEither && (r.when == Attached::kYes) != attached) continue;
        if (r.action == A::kCreate) continue;
        const Result<VolumeStep> begun = begin_volume_action(7, v, r.action, 0);
        ASSERT_TRUE(begun.has_value()) << key(v, r.action);
        EXPECT_TRUE(is_consistent(begun->record)) << key(v, r.action);
        const VolumeRecord running = start_volume_driver(r, begun->record);
        EXPECT_TRUE(is_consistent(running)) << key(v, r.action);
        EXPECT_EQ(find_running_row(r.action, running.status), &*begun->row) << key(v, r.action);
        for (bool ok : {true, false}) {
          const VolumeStep done = finish_volume_action(r, running, ok);
          if (!done.removed) {
            EXPECT_TRUE(is_consistent(done.record)) << key(v, r.action) << ok;
            EXPECT_FALSE(is_transient(done.record.status)) << key(v, r.action) << ok;
          }
        }
      }
    }
  }
}

// §3 line 51: Cinder's strings; Corral's stable numbers.
TEST(VolumeTableTest, NumbersAndCinderNames) {
  const struct {
    VolumeStatus status;
    int number;
    const char* name;
  } cases[] = {{S::kCreating, 0, "creating"},
               {S::kAvailable, 1, "available"},
               {S::kReserved, 2, "reserved"},
               {S::kAttaching, 3, "attaching"},
               {S::kInUse, 4, "in-use"},
               {S::kDetaching, 5, "detaching"},
               {S::kExtending, 6, "extending"},
               {S::kDeleting, 7, "deleting"},
               {S::kError, 8, "error"},
               {S::kErrorDeleting, 9, "error_deleting"},
               {S::kErrorExtending, 10, "error_extending"}};
  static_assert(std::size(kAllVolumeStatuses) == 11);
  for (const auto& c : cases) {
    EXPECT_EQ(static_cast<int>(c.status), c.number);
    EXPECT_EQ(volume_status_name(c.status), c.name);
    EXPECT_EQ(parse_volume_status(c.name), c.status);
  }
  // §3 line 52: error_attaching / error_detaching are attach statuses, not volume statuses.
  EXPECT_FALSE(parse_volume_status("error_attaching").has_value());
  EXPECT_FALSE(parse_volume_status("error_detaching").has_value());
  for (VolumeAction a : kAllVolumeActions) EXPECT_EQ(parse_volume_action(volume_action_name(a)), a);
  EXPECT_EQ(parse_volume_action("resize"), A::kExtend);
  EXPECT_EQ(static_cast<int>(A::kCreate), 1);
  EXPECT_EQ(static_cast<int>(A::kTerminateDelete), 8);
  EXPECT_EQ(snapshot_status_name(SnapshotStatus::kErrorDeleting), "error_deleting");
}

struct Flow {
  const char* cite;
  VolumeRecord from;
  VolumeAction action;
  VolumeStatus claim;      // shown when accepted
  VolumeStatus transient;  // while the driver works
  VolumeRecord success;
  bool removed;
  VolumeRecord failure;
};

TEST(VolumeTableTest, FlowsFollowCinderAndNova) {
  const Flow flows[] = {
      // §3 line 54: reserved -> attaching -> in-use; §3 line 57: failure -> available.
      {"§3 line 54/57 attach",
       {S::kAvailable, false},
       A::kAttach,
       S::kReserved,
       S::kAttaching,
       {S::kInUse, true},
       false,
       {S::kAvailable, false}},
      // §3 line 55 begin_detaching; §3 line 57: failure -> roll_detaching (in-use).
      {"§3 line 55/57 detach",
       {S::kInUse, true},
       A::kDetach,
       S::kDetaching,
       S::kDetaching,
       {S::kAvailable, false},
       false,
       {S::kInUse, true}},
      {"extend available",
       {S::kAvailable, false},
       A::kExtend,
       S::kExtending,
       S::kExtending,
       {S::kAvailable, false},
       false,
       {S::kErrorExtending, false}},
      {"extend retried",
       {S::kErrorExtending, false},
       A::kExtend,
       S::kExtending,
       S::kExtending,
       {S::kAvailable, false},
       false,
       {S::kErrorExtending, false}},
      // §3 line 53: deleting, error_deleting on failure.
      {"§3 line 53 delete",
       {S::kAvailable, false},
       A::kDelete,
       S::kDeleting,
       S::kDeleting,
       {S::kDeleting, false},
       true,
       {S::kErrorDeleting, false}},
      {"§3 line 53 delete error",
       {S::kError, false},
       A::kDelete,
       S::kDeleting,
       S::kDeleting,
       {S::kDeleting, false},
       true,
       {S::kErrorDeleting, false}},
      {"§3 line 53 delete error_extending",
       {S::kErrorExtending, false},
       A::kDelete,
       S::kDeleting,
       S::kDeleting,
       {S::kDeleting, false},
       true,
       {S::kErrorDeleting, false}},
      {"§3 line 74 no leak: delete again",
       {S::kErrorDeleting, false},
       A::kDelete,
       S::kDeleting,
       S::kDeleting,
       {S::kDeleting, false},
       true,
       {S::kErrorDeleting, false}},
      // Snapshot: the volume keeps its status.
      {"snapshot in-use",
       {S::kInUse, true},
       A::kSnapshot,
       S::kInUse,
       S::kInUse,
       {S::kInUse, true},
       false,
       {S::kInUse, true}},
      // §3 line 58/66: terminate detaches (default) or deletes (delete_on_termination).
      {"§3 line 58 terminate",
       {S::kInUse, true},
       A::kTerminateDetach,
       S::kDetaching,
       S::kDetaching,
       {S::kAvailable, false},
       false,
       {S::kInUse, true}},
      {"§3 line 58 delete_on_termination",
       {S::kInUse, true},
       A::kTerminateDelete,
       S::kDeleting,
       S::kDeleting,
       {S::kDeleting, false},
       true,
       {S::kErrorDeleting, false}},
      {"terminate error_extending",
       {S::kErrorExtending, true},
       A::kTerminateDetach,
       S::kErrorExtending,
       S::kErrorExtending,
       {S::kErrorExtending, false},
       false,
       {S::kErrorExtending, true}},
  };
  for (const Flow& f : flows) {
    SCOPED_TRACE(std::string(f.cite) + " " + key(f.from, f.action));
    const Result<VolumeStep> begun = begin_volume_action(7, f.from, f.action, 0);
    ASSERT_TRUE(begun.has_value()) << begun.error().message;
    EXPECT_EQ(begun->record.status, f.claim);
    const VolumeRecord running = start_volume_driver(*begun->row, begun->record);
    EXPECT_EQ(running.status, f.transient);
    const VolumeStep ok = finish_volume_action(*begun->row, running, true);
    EXPECT_EQ(ok.removed, f.removed);
    if (!f.removed) {
      EXPECT_EQ(ok.record.status, f.success.status);
      EXPECT_EQ(ok.record.attached, f.success.attached);
    }
    const VolumeStep bad = finish_volume_action(*begun->row, running, false);
    EXPECT_FALSE(bad.removed);
    EXPECT_EQ(bad.record.status, f.failure.status);
    EXPECT_EQ(bad.record.attached, f.failure.attached);
  }
  // Create: creating -> available | error.
  const Result<VolumeStep> created = begin_volume_action(7, kNewVolume, A::kCreate, 0);
  ASSERT_TRUE(created.has_value());
  EXPECT_EQ(created->record.status, S::kCreating);
  EXPECT_EQ(finish_volume_action(*created->row, created->record, true).record.status,
            S::kAvailable);
  EXPECT_EQ(finish_volume_action(*created->row, created->record, false).record.status, S::kError);
  EXPECT_EQ(terminate_action(false), A::kTerminateDetach);  // §3 line 58: default false
  EXPECT_EQ(terminate_action(true), A::kTerminateDelete);
}

TEST(VolumeTableTest, RefusalsNameTheStatusAndTheAllowedActions) {
  const Result<VolumeStep> r = begin_volume_action(7, {S::kInUse, true}, A::kAttach, 0);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidState);
  EXPECT_EQ(r.error().state, "in-use");
  EXPECT_EQ(r.error().message,
            "volume 7 is in-use; allowed: detach, snapshot (cannot attach: it is attached to a VM; "
            "a volume attaches to one VM at a time)");
  EXPECT_EQ(r.error().allowed_actions, (std::vector<std::string>{"detach", "snapshot"}));
  // Cinder 3.42 extends in-use volumes; Corral does not yet (no block_resize on the VM's
  // host), and says so rather than listing an action it would refuse.
  const Result<VolumeStep> grow = begin_volume_action(7, {S::kInUse, true}, A::kExtend, 0);
  ASSERT_FALSE(grow.has_value());
  EXPECT_EQ(grow.error().code, ErrorCode::kInvalidState);
  EXPECT_NE(grow.error().message.find("detach it first"), std::string::npos)
      << grow.error().message;

  // §3 line 53 / line 68: not deletable while in use.
  const Result<VolumeStep> d = begin_volume_action(7, {S::kInUse, true}, A::kDelete, 0);
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error().code, ErrorCode::kInvalidState);
  // §3 line 53: no snapshots unless cascade (Corral has no cascade).
  const Result<VolumeStep> s = begin_volume_action(7, {S::kAvailable, false}, A::kDelete, 2);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, ErrorCode::kConflict);
  EXPECT_EQ(s.error().message, "cannot delete volume 7: it has 2 snapshot(s); delete them first");

  EXPECT_FALSE(begin_volume_action(7, {S::kAvailable, false}, A::kCreate, 0).has_value());
  EXPECT_EQ(allowed_volume_actions({S::kAvailable, false}),
            (std::vector<A>{A::kAttach, A::kExtend, A::kSnapshot, A::kDelete}));
  EXPECT_TRUE(allowed_volume_actions({S::kAttaching, true}).empty());

  // Every allowed action applies; every other operator action is refused.
  for (const VolumeRecord& v : consistent_records()) {
    const std::vector<A> allowed = allowed_volume_actions(v);
    for (VolumeAction a : kAllVolumeActions) {
      if (!is_operator_action(a) || a == A::kCreate) continue;
      const bool listed = std::find(allowed.begin(), allowed.end(), a) != allowed.end();
      EXPECT_EQ(begin_volume_action(7, v, a, 0).has_value(), listed) << key(v, a);
    }
  }
}

// Issue 13 item 6 and §3 line 71 (volumes stuck in reserved/attaching/detaching): a restart
// ends every transient status by the truth, and never in a transient status.
TEST(VolumeTableTest, RecoveryEndsEveryTransientStatus) {
  for (const VolumeRecord& v : consistent_records()) {
    for (bool device : {false, true}) {
      for (bool file : {false, true}) {
        for (bool size : {false, true}) {
          const VolumeStep step = recover_volume(v, {device, file, size});
          if (step.removed) continue;
          EXPECT_FALSE(is_transient(step.record.status)) << key(v, A::kCreate);
          EXPECT_TRUE(is_consistent(step.record)) << key(v, A::kCreate);
        }
      }
    }
  }
  const struct {
    VolumeRecord from;
    VolumeTruth truth;
    VolumeRecord to;
    bool removed;
  } cases[] = {
      {{S::kAttaching, true}, {true, true, true}, {S::kInUse, true}, false},
      {{S::kAttaching, true}, {false, true, true}, {S::kAvailable, false}, false},
      {{S::kReserved, true}, {false, true, true}, {S::kAvailable, false}, false},
      {{S::kDetaching, true}, {true, true, true}, {S::kInUse, true}, false},  // roll_detaching
      {{S::kDetaching, true}, {false, true, true}, {S::kAvailable, false}, false},
      {{S::kExtending, true}, {true, true, true}, {S::kInUse, true}, false},
      {{S::kExtending, false}, {false, true, false}, {S::kErrorExtending, false}, false},
      {{S::kCreating, false}, {false, true, true}, {S::kAvailable, false}, false},
      {{S::kCreating, false}, {false, false, true}, {S::kError, false}, false},
      {{S::kDeleting, false}, {false, false, true}, {S::kDeleting, false}, true},
      {{S::kDeleting, false}, {false, true, true}, {S::kErrorDeleting, false}, false},
      {{S::kInUse, true}, {false, true, true}, {S::kInUse, true}, false},  // replugged by sync
  };
  for (const auto& c : cases) {
    const VolumeStep step = recover_volume(c.from, c.truth);
    EXPECT_EQ(step.removed, c.removed) << key(c.from, A::kCreate);
    if (!c.removed) {
      EXPECT_EQ(step.record.status, c.to.status) << key(c.from, A::kCreate);
      EXPECT_EQ(step.record.attached, c.to.attached) << key(c.from, A::kCreate);
    }
  }
}

// Issue 13 item 6, generated from the rows: a crash anywhere in an action, whatever the driver
// and the backend report afterwards, ends in that action's success or its failure.
TEST(VolumeTableTest, CrashAnywhereEndsInTheRowsSuccessOrFailure) {
  const std::vector<VolumeCrashPoint> points = volume_crash_points();
  int checked = 0;
  for (const VolumeCrashPoint& p : points) {
    const VolumeStep ok = finish_volume_action(*p.row, p.at_crash, true);
    const VolumeStep bad = finish_volume_action(*p.row, p.at_crash, false);
    for (bool device : {false, true}) {
      for (bool file : {false, true}) {
        for (bool size : {false, true}) {
          const VolumeStep got = recover_volume(p.at_crash, {device, file, size});
          auto same = [&got](const VolumeStep& want) {
            return got.removed == want.removed &&
                   (got.removed || (got.record.status == want.record.status &&
                                    got.record.attached == want.record.attached));
          };
          EXPECT_TRUE(same(ok) || same(bad))
              << key(p.before, p.row->action) << " crashed in "
              << volume_status_name(p.at_crash.status) << " device=" << device << " file=" << file
              << " size=" << size << " -> " << volume_status_name(got.record.status)
              << (got.removed ? " (removed)" : "");
          ++checked;
        }
      }
    }
  }
  // 1 create + 1 attach (reserved, attaching) + 1 detach + 2 extend (available,
  // error_extending, detached) + 2 snapshot + 4 delete + 2 terminate_detach + 2 terminate_delete.
  EXPECT_EQ(points.size(), 16u);
  EXPECT_EQ(checked, 16 * 8);
}

TEST(VolumeTableTest, Snapshots) {
  EXPECT_EQ(finish_snapshot_create(true), SnapshotStatus::kAvailable);
  EXPECT_EQ(finish_snapshot_create(false), SnapshotStatus::kError);
  EXPECT_EQ(begin_snapshot_delete(2, SnapshotStatus::kAvailable), SnapshotStatus::kDeleting);
  EXPECT_EQ(begin_snapshot_delete(2, SnapshotStatus::kErrorDeleting), SnapshotStatus::kDeleting);
  const Result<SnapshotStatus> busy = begin_snapshot_delete(2, SnapshotStatus::kCreating);
  ASSERT_FALSE(busy.has_value());
  EXPECT_EQ(busy.error().code, ErrorCode::kInvalidState);
  EXPECT_TRUE(finish_snapshot_delete(true).removed);
  EXPECT_EQ(finish_snapshot_delete(false).status, SnapshotStatus::kErrorDeleting);
  for (SnapshotStatus s : kAllSnapshotStatuses) {
    for (bool file : {false, true}) {
      const SnapshotStep step = recover_snapshot(s, file);
      if (!step.removed) {
        EXPECT_NE(step.status, SnapshotStatus::kCreating);
        EXPECT_NE(step.status, SnapshotStatus::kDeleting);
      }
    }
  }
  EXPECT_EQ(recover_snapshot(SnapshotStatus::kCreating, true).status, SnapshotStatus::kAvailable);
  EXPECT_TRUE(recover_snapshot(SnapshotStatus::kDeleting, false).removed);
}

// §3 line 52 (attach statuses), lines 60-61 (ImageState, USED_PERS shown "USED"), line 65
// (diskState), line 68 (StratusLab: one VM at a time).
TEST(VolumeTableTest, Views) {
  const struct {
    VolumeRecord v;
    const char* attach;
    int one;
    const char* one_shown;
    const char* stratus;
  } cases[] = {
      {{S::kCreating, false}, "detached", 4, "LOCKED", "busy"},
      {{S::kAvailable, false}, "detached", 1, "READY", "available"},
      {{S::kReserved, true}, "reserved", 8, "USED", "busy"},
      {{S::kAttaching, true}, "attaching", 8, "USED", "busy"},
      {{S::kInUse, true}, "attached", 8, "USED", "in use"},
      {{S::kDetaching, true}, "attached", 8, "USED", "busy"},
      {{S::kExtending, true}, "attached", 10, "LOCKED_USED", "busy"},
      {{S::kExtending, false}, "detached", 4, "LOCKED", "busy"},
      {{S::kDeleting, false}, "detached", 7, "DELETE", "busy"},
      {{S::kError, false}, "detached", 5, "ERROR", "error"},
      {{S::kErrorDeleting, false}, "detached", 5, "ERROR", "error"},
      {{S::kErrorExtending, true}, "attached", 5, "ERROR", "error"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(key(c.v, A::kCreate));
    EXPECT_EQ(cinder_attach_status(c.v), c.attach);
    const OpenNebulaImageView one = opennebula_image_view(c.v);
    EXPECT_EQ(one.state, c.one);
    EXPECT_EQ(one.shown, c.one_shown);
    const StratusLabVolumeView sl = stratuslab_volume_view(c.v, 5);
    EXPECT_EQ(sl.state, c.stratus);
    EXPECT_EQ(sl.vm, c.v.attached ? 5u : 0u);
  }
  EXPECT_EQ(opennebula_image_view({S::kInUse, true}).name, "USED_PERS");
  EXPECT_EQ(kOpenNebulaDatablock, 2);  // §3 line 60 DATABLOCK 2

  const VolumeRecord in_use{S::kInUse, true};
  EXPECT_EQ(azure_disk_state(in_use, AzurePower::kRunning), "Attached");
  EXPECT_EQ(azure_disk_state(in_use, AzurePower::kStopped), "Attached");
  EXPECT_EQ(azure_disk_state(in_use, AzurePower::kDeallocated), "Reserved");
  EXPECT_EQ(azure_disk_state({S::kAvailable, false}, AzurePower::kRunning), "Unattached");
}

}  // namespace
}  // namespace corral::lifecycle
