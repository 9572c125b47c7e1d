// Per-VM data for the busybox test guest, without cloud-init: a newc cpio archive appended to
// the image's initrd. Linux unpacks every archive in the initrd in turn (a gzip'd base, then
// this uncompressed one), later files replacing earlier ones; the guest's init
// (scripts/guest/rcS) reads what it finds.
//
// Contract: the archive holds etc/corral/hostname, root/.ssh/authorized_keys (mode 0600, its
// directory and root/ 0700, owner root) and, if given, etc/corral/network, verbatim. Text
// is data, never a shell command. vm_initrd() pads the base to a multiple of 4 bytes: the
// kernel only looks for an uncompressed archive at a 4-byte aligned offset.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "driver/qemu/images.h"

namespace corral::driver::qemu {

struct GuestData {
  std::string hostname;               // one line, no newline
  std::vector<std::string> ssh_keys;  // OpenSSH public key lines ("ssh-ed25519 AAAA… c")
  std::string network;                // optional; empty: no etc/corral/network
};

// The archive's bytes (newc, uncompressed, ends with the trailer).
[[nodiscard]] Result<std::string> guest_archive(const GuestData& data);

// base initrd bytes, zero padding to 4 bytes, then guest_archive(data).
[[nodiscard]] Result<std::string> vm_initrd(const std::string& base, const GuestData& data);

// Reads `base_path`, writes vm_initrd() to `out_path` (via a temporary file renamed into
// place, so QEMU never reads a partial initrd).
[[nodiscard]] Status write_vm_initrd(const std::string& base_path, const GuestData& data,
                                     const std::string& out_path);

// The image a VM boots with its data: for a kernel image, writes <vm_dir>/initrd.img (the
// image's initrd + the archive) and returns the image with `initrd` pointing there; a disk
// image boots its own OS and is returned unchanged. The driver calls it before qemu_argv()
// (VmWorker::launch); a migration target rebuilds the same bytes from the same data.
[[nodiscard]] Result<Image> with_guest_data(const Image& image, const GuestData& data,
                                            const std::string& vm_dir);

}  // namespace corral::driver::qemu
