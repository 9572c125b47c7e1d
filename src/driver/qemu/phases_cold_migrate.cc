// A move's target prolog (seed 001 PROLOG_MIGRATE*; Nova's resize to another host): the VM's
// files come from the source host into this host's VM directory, verified, before the target
// restores or boots.
//
// What moves: the disk, unless both hosts open the same one (shared storage), and the saved
// memory when the guest was saved (a RUNNING VM's save phase, or a SUSPENDED VM). The agent's
// fetcher (driver/file_fetch.h) moves them; each lands under its name only when complete and
// its SHA-256 equals the source's, so a retry (recover, a re-dispatch) resumes or finds them.
// The source keeps its copy until the migration's cleanup there: a failed prolog loses
// nothing (OpenNebula's #7662 deleted the only copy in a recovery).
#include <filesystem>
#include <nlohmann/json.hpp>

#include "driver/qemu/vm_worker.h"

namespace corral::driver::qemu {

namespace fs = std::filesystem;
using lifecycle::State;
using std::chrono::milliseconds;

std::optional<VmWorker::BackingFile> VmWorker::backing_of(const Image& image) {
  if (image.kind == Image::Kind::kDisk) return BackingFile{image.disk, image.disk_format};
  if (!image.disk.empty()) {
    return BackingFile{(fs::path(image.kernel).parent_path() / "disk.qcow2").string(), "qcow2"};
  }
  return std::nullopt;
}

Status VmWorker::adopt_backing(const PhaseRequest& r) {
  Result<CommandResult> info = run_command(
      {config_.qemu_img, "info", "-U", "--output=json", paths_.disk}, milliseconds(30000));
  if (!info) return fail(std::move(info.error()));
  if (info->exit_code != 0) return fail(Error::internal("qemu-img info failed: " + info->output));
  const nlohmann::json parsed = nlohmann::json::parse(info->output, nullptr, false);
  if (!parsed.is_object() || !parsed.contains("backing-filename")) return {};  // self-contained
  const std::string backing = parsed.value("backing-filename", std::string());
  // The disk names the source host's copy of its image: point it at this host's copy of the
  // same image (same name, same content: images do not change), header only (-u). Even when
  // the source's path can be read from here, this host must not depend on another's files.
  Result<Image> image = images_.find(r.model.image);
  if (!image) return fail(std::move(image.error()));
  const std::optional<BackingFile> base = backing_of(*image);
  if (!base)
    return fail(Error::internal("image " + r.model.image + " has no disk to back " + paths_.disk));
  if (backing == base->path) return {};
  Result<CommandResult> rebased = run_command(
      {config_.qemu_img, "rebase", "-u", "-F", base->format, "-b", base->path, paths_.disk},
      milliseconds(30000));
  if (!rebased) return fail(std::move(rebased.error()));
  if (rebased->exit_code != 0)
    return fail(Error::internal("qemu-img rebase failed: " + rebased->output));
  return {};
}

VmWorker::Outcome VmWorker::receive_files(const PhaseRequest& r) {
  // A move that stays on its host (a resize where the new size fits here): nothing crosses.
  if (r.peer_host.empty() || r.peer_host == r.host) {
    if (Status disk = ensure_disk(r); !disk) return Outcome::failed(disk.error().message);
    return Outcome::ok();
  }
  std::error_code ec;
  fs::create_directories(paths_.dir, ec);
  if (ec) return Outcome::failed("cannot create " + paths_.dir + ": " + ec.message());
  std::vector<std::string> files;
  if (paths_.shared_disk()) {
    if (!fs::exists(paths_.disk, ec)) {
      return Outcome::failed("shared storage: " + paths_.disk +
                             " is missing here (does the source host use the same shared dir?)");
    }
  } else {
    files.emplace_back("disk.qcow2");
  }
  // A cold migration's saved guest (RUNNING saved by its first phase, or SUSPENDED); a resize
  // moves a stopped guest: its disk only.
  if (r.action == lifecycle::Action::kMigrate &&
      (r.origin == State::kRunning || r.origin == State::kSuspended)) {
    files.emplace_back("memory.state");
  }
  if (!files.empty()) {
    if (!config_.fetch_files) {
      return Outcome::failed("this host cannot receive a cold migration (it runs no agent)");
    }
    if (!r.files_from) {
      return Outcome::failed("the source host " + r.peer_host +
                             " serves no files (is its agent connected?)");
    }
    FetchRequest fetch;
    fetch.vm = vm_;
    fetch.op = r.op;
    fetch.source_host = r.peer_host;
    fetch.source = *r.files_from;
    fetch.files = files;
    fetch.progress = [this, &r](std::uint64_t done, std::uint64_t total) {
      PhaseProgress out = progress_of(r);
      out.disk_total = total;
      out.disk_processed = done;
      out.disk_remaining = total > done ? total - done : 0;
      sink_->phase_progress(out);
      return !has_newer_request();  // a newer request (cancel, recover) ends this one
    };
    Result<std::vector<FetchedFile>> fetched = config_.fetch_files(fetch);
    if (!fetched)
      return Outcome::failed("moving the files from " + r.peer_host + ": " +
                             fetched.error().message);
  }
  if (Status backing = adopt_backing(r); !backing) return Outcome::failed(backing.error().message);
  return Outcome::ok();
}

}  // namespace corral::driver::qemu
