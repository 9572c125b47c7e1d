#include "driver/qemu/migrate_disk.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "driver/qemu/images.h"
#include "driver/qemu/posix.h"

namespace corral::driver::qemu {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

Result<DiskFacts> disk_facts(const std::string& qemu_img, const std::string& path) {
  Result<CommandResult> info =
      run_command({qemu_img, "info", "-U", "--output=json", path}, milliseconds(30000));
  if (!info) return fail(std::move(info.error()));
  if (info->exit_code != 0) return fail(Error::internal("qemu-img info failed: " + info->output));
  const nlohmann::json j = nlohmann::json::parse(info->output, nullptr, false);
  if (!j.is_object() || !j.contains("virtual-size")) {
    return fail(Error::internal("qemu-img info said: " + info->output));
  }
  DiskFacts facts;
  facts.virtual_size = j["virtual-size"].get<std::uint64_t>();
  facts.backing = j.value("backing-filename", "");
  facts.backing_format = j.value("backing-filename-format", "");
  return facts;
}

Result<std::string> local_backing(const std::string& source_backing,
                                  const std::string& images_dir) {
  if (source_backing.empty()) return std::string();
  const fs::path backing(source_backing);
  const std::string file = backing.filename().string();
  const std::string name = backing.parent_path().filename().string();
  if ((file != "disk.qcow2" && file != "disk.raw") || !valid_image_name(name)) {
    return fail(
        Error::invalid_argument("the disk's backing file is no image's disk: " + source_backing));
  }
  const std::string local = (fs::path(images_dir) / name / file).string();
  std::error_code ec;
  if (!fs::is_regular_file(local, ec)) {
    return fail(Error::not_found("this host has no image " + name + " (" + local + ")"));
  }
  return local;
}

Status create_target_disk(const std::string& qemu_img, const std::string& path,
                          std::uint64_t virtual_size, const std::string& backing,
                          const std::string& backing_format) {
  const std::string tmp = path + ".tmp";
  std::vector<std::string> argv = {qemu_img, "create", "-q", "-f", "qcow2"};
  if (!backing.empty()) {
    argv.insert(argv.end(),
                {"-b", backing, "-F", backing_format.empty() ? "qcow2" : backing_format});
  }
  argv.insert(argv.end(), {tmp, std::to_string(virtual_size)});
  Result<CommandResult> made = run_command(argv, milliseconds(30000));
  if (!made) return fail(std::move(made.error()));
  if (made->exit_code != 0) return fail(Error::internal("qemu-img create failed: " + made->output));
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return fail(Error::internal("cannot rename " + tmp + ": " + ec.message()));
  return {};
}

}  // namespace corral::driver::qemu
