// Where volumes keep their bytes: the interface every storage backend implements.
//
// Contract:
// - A volume and its snapshots are named by ids only (the engine's numbers); a backend derives
//   every name from them, so no request can name a path, and no path can escape the backend.
// - Every call is idempotent, so a restarted controller can run an interrupted action again:
//   create of a volume that exists with the requested size returns its path; grow to the current
//   size succeeds; snapshot of an existing snapshot returns its path; remove of something absent
//   succeeds. A result is whole or absent (a crash never leaves a half-written volume under its
//   name), which is what lifecycle/volume_table.h's recover_volume relies on.
// - Sizes are MiB; grow never shrinks (kInvalidArgument), as Cinder's extend.
// - shared(): every host reaches the same files under the same paths, so a volume follows its
//   VM when the VM migrates (nothing is copied); a backend that is not shared keeps a volume on
//   one host, and the engine must not migrate a VM that uses it without moving the volume.
// - Blocking I/O: call it from a worker, never from the engine's event loop. Thread-safe for
//   different ids; calls on one id are serialised by the engine (one action per volume).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace corral::storage {

class VolumeBackend {
 public:
  virtual ~VolumeBackend() = default;

  // Makes volume `id`, `size_mib` of zeros; returns the path QEMU opens. kConflict when the
  // volume exists with another size.
  [[nodiscard]] virtual Result<std::string> create(std::uint64_t id, std::uint64_t size_mib) = 0;

  // Grows volume `id` to `new_size_mib`. Smaller than now: kInvalidArgument, nothing changes.
  // A running VM sees the new size only after the driver's block_resize.
  [[nodiscard]] virtual Status grow(std::uint64_t id, std::uint64_t new_size_mib) = 0;

  // A full, independent copy of volume `id` as snapshot `snapshot_id`; returns its path.
  // `live`: a running VM writes the volume; the copy must then be one point in time (crash
  // consistent, after the driver flushed QEMU), and a backend that cannot promise it refuses
  // with kUnavailable rather than return a torn copy.
  [[nodiscard]] virtual Result<std::string> snapshot(std::uint64_t id, std::uint64_t snapshot_id,
                                                     bool live) = 0;

  [[nodiscard]] virtual Status remove(std::uint64_t id) = 0;
  [[nodiscard]] virtual Status remove_snapshot(std::uint64_t id, std::uint64_t snapshot_id) = 0;

  // The path of volume `id` (kNotFound when absent) and its size (kNotFound when absent): the
  // truth recover_volume needs after a restart (file_present, size_reached).
  [[nodiscard]] virtual Result<std::string> path(std::uint64_t id) const = 0;
  [[nodiscard]] virtual Result<std::uint64_t> size_mib(std::uint64_t id) const = 0;
  [[nodiscard]] virtual Result<std::string> snapshot_path(std::uint64_t id,
                                                          std::uint64_t snapshot_id) const = 0;

  // QEMU's format driver for blockdev-add ("raw", "qcow2").
  virtual std::string_view format() const = 0;
  virtual bool shared() const = 0;
};

}  // namespace corral::storage
