// The target's disk for a migration without shared storage: an overlay like the source's
// (same virtual size), on the target host's own copy of the same base image, which the source
// then mirrors its top overlay into (migrate.h).
//
// Contract: qemu-img runs from an argv (posix.h), never through a shell. The disk is made
// under a temporary name and renamed into place, so a crash never leaves a half-made disk
// where the VM's disk belongs.
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"

namespace corral::driver::qemu {

struct DiskFacts {
  std::uint64_t virtual_size = 0;
  std::string backing;  // the backing file as the image names it ("" for none)
  std::string backing_format;
};

// `qemu-img info` of a disk (-U: a running QEMU may hold it).
[[nodiscard]] Result<DiskFacts> disk_facts(const std::string& qemu_img, const std::string& path);

// The source disk's backing file as this host has it: an image's disk
// (<source images>/<name>/disk.qcow2 or disk.raw) rebased onto `images_dir`. An error when
// the backing is no image's disk or this host lacks that image ("" stays "": a blank disk).
[[nodiscard]] Result<std::string> local_backing(const std::string& source_backing,
                                                const std::string& images_dir);

// Creates `path` as a qcow2 of `virtual_size` bytes on `backing` (absolute, on this host; ""
// for a blank disk).
[[nodiscard]] Status create_target_disk(const std::string& qemu_img, const std::string& path,
                                        std::uint64_t virtual_size, const std::string& backing,
                                        const std::string& backing_format);

}  // namespace corral::driver::qemu
