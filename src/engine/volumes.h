// Persistent volumes as the engine's API takes them (issue 13): Cinder's volume, OpenNebula's
// persistent DATABLOCK image. The engine's methods are in engine.h; the row in store/types.h;
// the statuses and what each action may do in lifecycle/volume_table.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "lifecycle/quota_table.h"
#include "store/types.h"

namespace corral::engine {

struct VolumeCreate {
  std::string name;  // as a network's name (engine/names.h)
  std::uint64_t size_mib = 0;
  bool delete_on_termination = false;  // Nova's and Azure's default: the volume outlives its VM
  store::ProjectId project = store::kAdminProjectId;  // the owner
  // The owner's limits (lifecycle/quota_table.h); nullopt: none (the admin project's).
  std::optional<lifecycle::QuotaLimits> quota{};
};

enum class VolumeVerb : std::uint8_t {
  kExtend = 1,          // size_mib: the new size, larger than now (Cinder's os-extend)
  kSnapshot = 2,        // a full copy; the volume keeps its status
  kDeleteSnapshot = 3,  // snapshot: which
  kDelete = 4,
};

struct VolumeRequest {
  VolumeVerb verb = VolumeVerb::kDelete;
  std::string name_or_id;
  std::uint64_t size_mib = 0;
  std::int64_t snapshot = 0;
  // The volume's project's limits, for extend and snapshot (which grow volume_mib); nullopt:
  // not checked.
  std::optional<lifecycle::QuotaLimits> quota{};
};

// Sizes a volume may have: 1 MiB to 16 TiB.
inline constexpr std::uint64_t kMaxVolumeMib = 16ull * 1024 * 1024;

}  // namespace corral::engine
