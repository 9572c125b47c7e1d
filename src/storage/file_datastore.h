// The first VolumeBackend: raw files in one datastore directory.
//
// Contract (beyond volume_backend.h):
// - The caller gives the directory (absolute, existing) and says whether it is shared (NFS, a
//   cluster filesystem: every host mounts it at the same path). Nothing checks that claim: a
//   filesystem type does not say whether every host mounts it.
// - Names: "vol-<id>.raw" and "vol-<id>.snap-<snapshot id>.raw", made from the numbers only and
//   opened relative to the directory's descriptor (openat), so nothing can escape it.
// - Volumes are sparse (ftruncate): a new 10 GiB volume takes no blocks until the guest writes.
// - Create and snapshot write a temporary ".tmp-…" file, fsync it, and rename it into place with
//   RENAME_NOREPLACE, then fsync the directory: a name holds a whole file or nothing.
//   recover() removes temporaries a crash left behind.
// - Snapshots clone with FICLONE (reflink: instant, shares blocks, one point in time) and fall
//   back to copy_file_range over the data extents only (SEEK_DATA/SEEK_HOLE, so holes stay
//   holes). The fallback is not atomic while a VM writes: a live snapshot without reflink is
//   refused (kUnavailable).
//
// Next backend: Ceph RBD through QEMU's own rbd block driver (blockdev-add "driver": "rbd"), with
// librbd for create/resize/snapshot/remove. It is shared by construction, so a volume follows its
// VM on migration without NFS; snapshots are native and atomic while the VM writes; and the
// datastore is no longer one machine's disk. qcow2 backing files would give cheap snapshots on
// any filesystem, but a snapshot then becomes a backing file its volume depends on (deleting it
// needs block-stream/commit, and the volume table would gain states for that); LVM thin volumes
// are fast but local to one host (shared only with lvmlockd), which is what this backend already
// is when its directory is not shared.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "storage/volume_backend.h"

namespace corral::storage {

class FileDatastore final : public VolumeBackend {
 public:
  // Opens the datastore directory `dir` (absolute, an existing directory).
  [[nodiscard]] static Result<std::unique_ptr<FileDatastore>> open(std::string dir, bool shared);
  ~FileDatastore() override;
  FileDatastore(const FileDatastore&) = delete;
  FileDatastore& operator=(const FileDatastore&) = delete;

  [[nodiscard]] Result<std::string> create(std::uint64_t id, std::uint64_t size_mib) override;
  [[nodiscard]] Status grow(std::uint64_t id, std::uint64_t new_size_mib) override;
  [[nodiscard]] Result<std::string> snapshot(std::uint64_t id, std::uint64_t snapshot_id,
                                             bool live) override;
  [[nodiscard]] Status remove(std::uint64_t id) override;
  [[nodiscard]] Status remove_snapshot(std::uint64_t id, std::uint64_t snapshot_id) override;
  [[nodiscard]] Result<std::string> path(std::uint64_t id) const override;
  [[nodiscard]] Result<std::uint64_t> size_mib(std::uint64_t id) const override;
  [[nodiscard]] Result<std::string> snapshot_path(std::uint64_t id,
                                                  std::uint64_t snapshot_id) const override;
  std::string_view format() const override { return "raw"; }
  bool shared() const override { return shared_; }

  // Removes the temporary files a crash left in the directory; returns how many. Call it at
  // startup, before any create or snapshot runs: it would remove one in flight.
  [[nodiscard]] Result<int> recover();

  // Names inside the directory (for tests and the docs).
  static std::string volume_name(std::uint64_t id);
  static std::string snapshot_name(std::uint64_t id, std::uint64_t snapshot_id);

  // Test hook: pretend the filesystem has no reflink (exercise the copy fallback).
  void disable_reflink_for_test() { reflink_ = false; }

 private:
  FileDatastore(std::string dir, int dir_fd, bool shared)
      : dir_(std::move(dir)), dir_fd_(dir_fd), shared_(shared) {}

  std::string full(const std::string& name) const { return dir_ + "/" + name; }
  [[nodiscard]] Status publish(int fd, const std::string& tmp, const std::string& name);
  [[nodiscard]] Status unlink_name(const std::string& name, std::string_view what);

  std::string dir_;
  int dir_fd_ = -1;
  bool shared_ = false;
  bool reflink_ = true;
};

}  // namespace corral::storage
