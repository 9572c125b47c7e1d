// Images: what a VM boots, kept as directories under <data-dir>/images/<name>/.
//
// Contract:
// - An image directory holds either a kernel and an initramfs (`vmlinuz`, `initrd.img`, and
//   optionally `cmdline`, the kernel command line) or one disk (`disk.qcow2` or `disk.raw`).
//   Registering an image is putting those files there (`corral image` and the API list them).
// - Names are 1..64 characters of [a-z0-9._-], not starting with '.': a name from a request
//   can never name a path outside the images directory.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace corral::driver::qemu {

struct Image {
  enum class Kind : std::uint8_t { kKernel, kDisk };
  std::string name;
  Kind kind = Kind::kKernel;
  std::string kernel;  // kKernel: absolute paths
  std::string initrd;
  std::string cmdline;      // kKernel: the kernel command line
  std::string disk;         // kDisk: absolute path
  std::string disk_format;  // "qcow2" or "raw"
};

std::string_view image_kind_name(Image::Kind kind);  // "kernel", "disk"

bool valid_image_name(std::string_view name);

// The command line a kernel image gets when its directory has no `cmdline` file: the serial
// console on ttyS0, and a panic powers off instead of hanging.
inline constexpr std::string_view kDefaultKernelCmdline = "console=ttyS0 quiet panic=-1";

class ImageStore {
 public:
  explicit ImageStore(std::string images_dir) : dir_(std::move(images_dir)) {}

  const std::string& dir() const { return dir_; }
  [[nodiscard]] Result<Image> find(std::string_view name) const;
  // Every valid image, by name.
  std::vector<Image> list() const;

 private:
  std::string dir_;
};

}  // namespace corral::driver::qemu
