// Disks and snapshots: the VM's own qcow2 disk (ensure_disk, resize), images made from it
// (snapshot, backup) and internal snapshots and checkpoints inside it. Volumes will join here.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>

#include "driver/qemu/vm_worker.h"

namespace corral::driver::qemu {

namespace fs = std::filesystem;
using lifecycle::Action;
using std::chrono::milliseconds;

namespace {

// Where the template that `create_argv` (qemu-img create's command line, without the file
// name) makes is kept: <data-dir>/vms/.disk-templates/<hash>.qcow2. The key includes the
// backing file's size and modification time, so a replaced image gets a new template (an
// overlay records its backing file's virtual size).
std::string template_path(const std::string& data_dir, const std::vector<std::string>& create_argv,
                          const std::string& backing_path) {
  std::string key;
  for (const std::string& a : create_argv) key += a + '\0';
  if (!backing_path.empty()) {
    std::error_code ec;
    key += std::to_string(fs::file_size(backing_path, ec)) + '\0';
    key += std::to_string(fs::last_write_time(backing_path, ec).time_since_epoch().count());
  }
  char name[32];
  std::snprintf(name, sizeof name, "%016zx.qcow2", std::hash<std::string>{}(key));
  return vms_dir(data_dir) + "/.disk-templates/" + name;
}

}  // namespace

// A VM's new disk is a copy of a template made once by `qemu-img create` with the same
// arguments: a blank qcow2 (or an overlay on the image) is a few hundred KiB, so copying it
// takes a millisecond where `qemu-img create` takes ~40 ms of every first boot.
Status VmWorker::ensure_disk(const PhaseRequest& request) {
  std::error_code ec;
  fs::create_directories(paths_.dir, ec);
  if (ec) return fail(Error::internal("cannot create " + paths_.dir + ": " + ec.message()));
  fs::create_directories(paths_.disk_dir, ec);
  if (ec) return fail(Error::internal("cannot create " + paths_.disk_dir + ": " + ec.message()));
  if (fs::exists(paths_.disk, ec)) return {};
  Result<Image> image = images_.find(request.model.image);
  if (!image) return fail(std::move(image.error()));
  const std::optional<BackingFile> base = backing_of(*image);
  // qemu-img create's command line for `file`; the template is keyed by it (with no file).
  const auto create = [&](const std::string& file) {
    std::vector<std::string> argv = {config_.qemu_img, "create", "-q", "-f", "qcow2"};
    if (base) {
      argv.insert(argv.end(), {"-F", base->format, "-b", base->path, file});
    } else {
      argv.insert(argv.end(), {file, std::to_string(config_.blank_disk_mib) + "M"});
    }
    return argv;
  };
  const std::string templ =
      template_path(config_.data_dir, create(""), base ? base->path : std::string());
  if (!fs::exists(templ, ec)) {
    fs::create_directories(fs::path(templ).parent_path(), ec);
    // Made under a name of this VM's, renamed into place: workers of other VMs making the
    // same template at once each rename a whole file.
    const std::string made_tmp = templ + "." + std::to_string(vm_) + ".tmp";
    Result<CommandResult> made = run_command(create(made_tmp), milliseconds(30000));
    if (!made) return fail(std::move(made.error()));
    if (made->exit_code != 0) {
      fs::remove(made_tmp, ec);
      return fail(Error::internal("qemu-img create failed: " + made->output));
    }
    fs::rename(made_tmp, templ, ec);
    if (ec) return fail(Error::internal("cannot rename " + made_tmp + ": " + ec.message()));
  }
  const std::string tmp = paths_.disk + ".tmp";
  fs::copy_file(templ, tmp, fs::copy_options::overwrite_existing, ec);
  if (ec) return fail(Error::internal("cannot copy " + templ + " to " + tmp + ": " + ec.message()));
  fs::rename(tmp, paths_.disk, ec);
  if (ec) return fail(Error::internal("cannot rename " + tmp + ": " + ec.message()));
  return {};
}

void VmWorker::remove_files(bool shared_disk) {
  std::error_code ec;
  fs::remove_all(paths_.dir, ec);
  if (shared_disk && paths_.shared_disk()) fs::remove_all(paths_.disk_dir, ec);
}

VmWorker::Outcome VmWorker::snapshot(const PhaseRequest& r) {
  std::string name = r.name.value_or(std::string());
  if (name.empty()) {
    name = "vm" + std::to_string(vm_) + (r.action == Action::kBackup ? "-backup-" : "-snapshot-") +
           std::to_string(r.op);
  }
  if (!valid_image_name(name)) {
    return Outcome::failed("an image name is 1 to 64 characters of a-z, 0-9, '.', '_', '-'");
  }
  const fs::path target = fs::path(images_.dir()) / name;
  const fs::path tmp = fs::path(images_.dir()) / (".tmp-" + name);
  std::error_code ec;
  if (fs::exists(target, ec)) return Outcome::failed("an image named " + name + " exists");
  fs::remove_all(tmp, ec);
  fs::create_directories(tmp, ec);
  Result<Image> source = images_.find(r.model.image);
  if (source && source->kind == Image::Kind::kKernel) {
    // A kernel VM's image is its kernel and initramfs with its disk beside them.
    fs::copy_file(source->kernel, tmp / "vmlinuz", ec);
    fs::copy_file(source->initrd, tmp / "initrd.img", ec);
    std::ofstream(tmp / "cmdline") << source->cmdline << "\n";
  }
  const std::string disk = (tmp / "disk.qcow2").string();
  std::string error;
  if (alive()) {
    Result<nlohmann::json> started = qmp().execute("drive-backup", {{"job-id", "snapshot"},
                                                                    {"device", "disk0"},
                                                                    {"sync", "full"},
                                                                    {"target", disk},
                                                                    {"format", "qcow2"},
                                                                    {"auto-dismiss", true}});
    if (!started) {
      error = started.error().message;
    } else {
      wait_for(
          [&] {
            Result<nlohmann::json> jobs = qmp().execute("query-jobs");
            if (!jobs) return true;
            for (const nlohmann::json& job : *jobs) {
              if (job.value("id", std::string()) == "snapshot") return false;
            }
            return true;
          },
          kSaveTimeout, false);
    }
  } else {
    Result<CommandResult> copied =
        run_command({config_.qemu_img, "convert", "-O", "qcow2", paths_.disk, disk}, kSaveTimeout);
    if (!copied) {
      error = copied.error().message;
    } else if (copied->exit_code != 0) {
      error = "qemu-img convert failed: " + copied->output;
    }
  }
  if (error.empty() && !fs::exists(disk, ec)) error = "the disk copy was not written";
  if (!error.empty()) {
    fs::remove_all(tmp, ec);
    return Outcome::failed(error);
  }
  fs::rename(tmp, target, ec);
  if (ec) return Outcome::failed("cannot register image " + name + ": " + ec.message());
  return Outcome::ok();
}

namespace {

// The snapshot name a request gives, or `fallback`; "" if invalid.
std::string snapshot_name(const PhaseRequest& r, const std::string& fallback) {
  const std::string name = r.name.value_or(fallback);
  return valid_image_name(name) ? name : std::string();
}

}  // namespace

// Internal qcow2 snapshots of the VM's disk: qemu-img while no process has the disk open,
// QMP while it runs; checkpoints (disk and memory) with snapshot-save/load/delete jobs.
VmWorker::Outcome VmWorker::internal_snapshot(const PhaseRequest& r) {
  const bool creates = r.action == Action::kDiskSnapshot || r.action == Action::kCheckpoint;
  const std::string name = snapshot_name(r, creates ? "snap-" + std::to_string(r.op) : "");
  if (name.empty()) {
    return Outcome::failed(std::string(lifecycle::action_name(r.action)) +
                           " needs 'name': 1 to 64 characters of a-z, 0-9, '.', '_', '-'");
  }
  const bool checkpoint = r.action == Action::kCheckpoint ||
                          r.action == Action::kCheckpointRevert ||
                          r.action == Action::kCheckpointDelete;
  if (checkpoint || alive()) {
    if (!alive()) return Outcome::failed("the VM is not running");
    nlohmann::json args;
    std::string command;
    if (checkpoint) {
      command = r.action == Action::kCheckpoint         ? "snapshot-save"
                : r.action == Action::kCheckpointRevert ? "snapshot-load"
                                                        : "snapshot-delete";
      args = {{"job-id", "checkpoint"}, {"tag", name}, {"devices", {"disk0"}}};
      if (r.action != Action::kCheckpointDelete) args["vmstate"] = "disk0";
    } else if (r.action == Action::kDiskSnapshot) {
      command = "blockdev-snapshot-internal-sync";
      args = {{"device", "disk0"}, {"name", name}};
    } else if (r.action == Action::kDiskSnapshotDelete) {
      command = "blockdev-snapshot-delete-internal-sync";
      args = {{"device", "disk0"}, {"name", name}};
    } else {
      return Outcome::failed("a disk snapshot is reverted while the VM is off");
    }
    if (Result<nlohmann::json> done = qmp().execute(command, args, kSaveTimeout); !done) {
      return Outcome::failed(done.error().message);
    }
    if (!checkpoint) return Outcome::ok();
    // A job: wait until it concludes, keep its error, dismiss it.
    std::string error;
    wait_for(
        [&] {
          Result<nlohmann::json> jobs = qmp().execute("query-jobs");
          if (!jobs) {
            error = jobs.error().message;
            return true;
          }
          for (const nlohmann::json& job : *jobs) {
            if (job.value("id", std::string()) != "checkpoint") continue;
            if (job.value("status", std::string()) != "concluded") return false;
            error = job.value("error", std::string());
          }
          return true;
        },
        kSaveTimeout, false);
    (void)qmp().execute("job-dismiss", {{"id", "checkpoint"}});
    if (!error.empty()) return Outcome::failed(error);
    return Outcome::ok();
  }
  const char* flag = r.action == Action::kDiskSnapshot         ? "-c"
                     : r.action == Action::kDiskSnapshotRevert ? "-a"
                                                               : "-d";
  Result<CommandResult> ran =
      run_command({config_.qemu_img, "snapshot", flag, name, paths_.disk}, kSaveTimeout);
  if (!ran) return Outcome::failed(ran.error().message);
  if (ran->exit_code != 0) return Outcome::failed("qemu-img snapshot: " + ran->output);
  return Outcome::ok();
}

VmWorker::Outcome VmWorker::disk_resize(const PhaseRequest& r) {
  const std::int64_t mib = r.size_mib;
  if (mib <= 0) return Outcome::failed("disk_resize needs 'size_mib'");
  if (alive()) {
    Result<nlohmann::json> grown = qmp().execute(
        "block_resize", {{"node-name", "disk0"}, {"size", mib * 1024 * 1024}}, kQmpTimeout);
    if (!grown) return Outcome::failed(grown.error().message);
    return Outcome::ok();
  }
  Result<CommandResult> ran = run_command(
      {config_.qemu_img, "resize", "-q", paths_.disk, std::to_string(mib) + "M"}, kSaveTimeout);
  if (!ran) return Outcome::failed(ran.error().message);
  if (ran->exit_code != 0) return Outcome::failed("qemu-img resize: " + ran->output);
  return Outcome::ok();
}

}  // namespace corral::driver::qemu
