// VolumeStorage: where volumes' bytes are made, grown, copied and removed (issue 13), as the
// engine sees it. The engine owns the volumes and their statuses; after each commit that gives
// a volume backend work (store::VolumeJob) it hands that work here, and the answer comes back
// through the sink.
//
// Contract:
// - submit() returns at once; exactly one VolumeJobDone comes back per call, from any thread.
// - Every job is idempotent (storage/volume_backend.h), so a job sent again after a restart
//   converges; the answer echoes the job's generation and the engine ignores older ones.
// - stop(): no callbacks after it returns; a job in hand finishes, waiting ones are dropped
//   (the engine sends them again when it starts).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "store/types.h"

namespace corral::driver {

struct VolumeStorageJob {
  store::VolumeId volume = 0;
  store::VolumeJob kind = store::VolumeJob::kNone;
  std::uint64_t size_mib = 0;  // create: its size; extend: the new size
  std::int64_t snapshot = 0;   // snapshot, delete_snapshot
  bool live = false;           // snapshot: a running VM writes the volume
  std::uint64_t generation = 0;
};

struct VolumeJobDone {
  store::VolumeId volume = 0;
  store::VolumeJob kind = store::VolumeJob::kNone;
  std::int64_t snapshot = 0;
  std::uint64_t generation = 0;
  std::optional<std::string> error;  // nullopt: done
  std::string path;                  // create: where the volume is
};

class VolumeSink {
 public:
  virtual ~VolumeSink() = default;
  virtual void volume_done(VolumeJobDone done) = 0;
};

class VolumeStorage {
 public:
  virtual ~VolumeStorage() = default;
  virtual void start(VolumeSink* sink) = 0;
  virtual void stop() = 0;
  virtual void submit(VolumeStorageJob job) = 0;
  // True when every host reaches the volumes under the same paths (a shared datastore): a VM
  // with volumes may then run and move anywhere. False: only the controller's own hosts
  // reach them, so such a VM stays there (the engine pins it and refuses what would break).
  virtual bool shared() const = 0;
};

}  // namespace corral::driver
