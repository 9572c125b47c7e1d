// An operation's parameters, typed: parsed and validated once at the API, carried by the
// engine and handed to drivers as fields (Firecracker's CreateSnapshotParams in spirit).
//
// Contract:
// - One struct, one group of fields per action family; a field an action does not take stays
//   at its default. The API fills what the request said (name, size_mib), the engine what it
//   decided (target_host, previous, hold).
// - validate_params() holds the rules the drivers rely on: an API that accepts what it
//   passes never hands a driver a parameter that fails in its phase.
// - Persisted as one JSON object (the operations.params column, GET /v1/operations' params):
//   to_json_text / params_from_json_text round-trip it, `shown` included, key for key.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/heap_optional.h"
#include "common/result.h"
#include "lifecycle/types.h"
#include "store/vm_model.h"

namespace corral::store {

inline constexpr std::size_t kMaxParamNameChars = 64;
inline constexpr std::int64_t kMaxDiskSizeMib = std::int64_t{1} << 24;

// live_migrate: how the memory (and, without shared storage, the disk) moves. The zero
// values mean "the driver's defaults" (driver/qemu/migrate.h migrate_defaults()).
struct MigrationParams {
  bool copy_storage = false;  // no shared storage: mirror the disk to the target (libvirt
                              // --copy-storage-inc); false: both hosts open the same disk
  bool auto_converge = false;
  // Switch to post-copy this long after the start; -1: the driver's default; 0: never.
  std::int32_t postcopy_after_ms = -1;
  std::int32_t max_downtime_ms = 0;  // 0: the driver's default
  std::int32_t bandwidth_mib_s = 0;  // 0: unlimited by Corral (QEMU's own default)

  bool defaults() const { return *this == MigrationParams{}; }
  friend bool operator==(const MigrationParams&, const MigrationParams&) = default;
};
inline constexpr std::int32_t kMaxMigrationMillis = 3'600'000;
inline constexpr std::int32_t kMaxBandwidthMibS = 1 << 20;

// Where a live migration's source sends to: what the target's prepare_migrate phase answered
// (a driver's own words, passed through untouched to the source's migrate phase).
struct MigrationEndpoint {
  std::string migration_uri;  // e.g. "tcp:10.0.0.2:40123"
  std::string nbd_host;       // the disk export, without shared storage ("" otherwise)
  std::int32_t nbd_port = 0;
  std::string nbd_export;
  friend bool operator==(const MigrationEndpoint&, const MigrationEndpoint&) = default;
};

struct OpParams {
  // snapshot, backup, disk_snapshot*, checkpoint*: the image or snapshot's name, when given
  // (absent: the driver names it after the operation). JSON "name".
  HeapOptional<std::string> name;
  // disk_resize: the disk's new size; 0 when not given. JSON "size_mib".
  std::int64_t size_mib = 0;
  // deploy, migrate, live_migrate: the host the engine placed the VM on. JSON "target_host".
  std::string target_host;
  // resize_migrate that moved, and the confirm_resize / revert_resize that end it: the host
  // the resize left, whose copy stays until then (the `source` side of those rows' phases).
  // Empty when the resize stayed on its host. JSON "source_host".
  std::string source_host;
  // resize, resize_migrate, rebuild: the model in effect before, for a revert. JSON "previous".
  HeapOptional<VmModel> previous;
  // create: stay in HOLD once created. JSON "hold" (written only when true).
  bool hold = false;
  // live_migrate: the options asked for. JSON "migration" (written only when not defaults).
  MigrationParams migration;
  // live_migrate: the target's endpoint, once its prepare phase answered (persisted with
  // that phase's success, so a restarted controller sends the source where it was sending).
  // JSON "endpoint".
  HeapOptional<MigrationEndpoint> endpoint;
  // nic_attach: the NIC being added, its lease taken when the request was accepted (as
  // Neutron creates the port before Nova plugs it); nic_detach: the NIC being removed (its
  // index is what the request named). JSON "nic".
  HeapOptional<Nic> nic;
  // disk_attach / disk_detach: the volume's id (0: none). JSON "volume_id".
  std::int64_t volume = 0;
  // The request's other fields as it sent them (passwords as "***"), a JSON object's text:
  // shown by GET /v1/operations, read by no rule.
  std::string shown = "{}";

  friend bool operator==(const OpParams&, const OpParams&) = default;
};

// Whether `name` may name an image or snapshot: 1-64 of [a-z0-9._-], not starting with '.'
// (it becomes a directory under the data dir and a qcow2 snapshot tag).
bool valid_param_name(std::string_view name);

// The rules drivers rely on for `action`'s parameters. Errors: kInvalidArgument naming the
// field.
[[nodiscard]] Status validate_params(lifecycle::Action action, const OpParams& params);

// The JSON object text persisted and shown: `shown`'s fields plus the typed ones.
std::string to_json_text(const OpParams& params);
// Back from that text. Text that is not a JSON object gives the defaults; a typed key whose
// value has the wrong type stays in `shown` (never read by a rule).
OpParams params_from_json_text(std::string_view text);

// A VM's NICs as a JSON array of {"index", "network", "ip", "mac", "security_groups"} (the
// vms.nics column; a NIC without "security_groups" is in the default group),
// and back: nullopt when the text is not such an array.
std::string nics_to_json_text(const std::vector<Nic>& nics);
std::optional<std::vector<Nic>> nics_from_json_text(std::string_view text);
// A list of strings as a JSON array (the vms.ssh_keys column), and back.
std::string strings_to_json_text(const std::vector<std::string>& items);
std::optional<std::vector<std::string>> strings_from_json_text(std::string_view text);

}  // namespace corral::store
