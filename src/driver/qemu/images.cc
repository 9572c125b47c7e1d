#include "driver/qemu/images.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace corral::driver::qemu {

namespace fs = std::filesystem;

std::string_view image_kind_name(Image::Kind kind) {
  switch (kind) {
    case Image::Kind::kKernel:
      return "kernel";
    case Image::Kind::kDisk:
      return "disk";
  }
  return "?";
}

bool valid_image_name(std::string_view name) {
  if (name.empty() || name.size() > 64 || name.front() == '.') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
  });
}

Result<Image> ImageStore::find(std::string_view name) const {
  if (!valid_image_name(name)) {
    return fail(Error::invalid_argument(
        "image names are 1 to 64 characters of a-z, 0-9, '.', '_' and '-', not starting with "
        "'.'"));
  }
  const fs::path dir = fs::path(dir_) / std::string(name);
  std::error_code ec;
  Image image;
  image.name = std::string(name);
  if (fs::is_regular_file(dir / "vmlinuz", ec) && fs::is_regular_file(dir / "initrd.img", ec)) {
    image.kind = Image::Kind::kKernel;
    image.kernel = (dir / "vmlinuz").string();
    image.initrd = (dir / "initrd.img").string();
    std::ifstream in(dir / "cmdline");
    std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    while (!cmdline.empty() && (cmdline.back() == '\n' || cmdline.back() == ' ')) {
      cmdline.pop_back();
    }
    image.cmdline = cmdline.empty() ? std::string(kDefaultKernelCmdline) : cmdline;
    return image;
  }
  for (const char* format : {"qcow2", "raw"}) {
    const fs::path disk = dir / (std::string("disk.") + format);
    if (fs::is_regular_file(disk, ec)) {
      image.kind = Image::Kind::kDisk;
      image.disk = disk.string();
      image.disk_format = format;
      return image;
    }
  }
  return fail(Error::not_found("no image named '" + std::string(name) + "' in " + dir_ +
                               " (an image is a directory with vmlinuz + initrd.img, or "
                               "disk.qcow2 or disk.raw)"));
}

std::vector<Image> ImageStore::list() const {
  std::vector<Image> out;
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir_, ec)) {
    const std::string name = entry.path().filename().string();
    if (!valid_image_name(name)) continue;
    if (Result<Image> image = find(name)) out.push_back(std::move(*image));
  }
  std::sort(out.begin(), out.end(), [](const Image& a, const Image& b) { return a.name < b.name; });
  return out;
}

}  // namespace corral::driver::qemu
