// Volumes (issue 13): create, extend, snapshot and delete through the engine's queue, with
// the backend's work sent after each commit; attach and detach as the VM's disk_attach and
// disk_detach, the volume settling when the VM's operation ends; and what a terminated VM
// leaves (detached and available, or deleted with delete_on_termination).
//
// Every status change follows a row of lifecycle/volume_table.h. Backend work is persisted as
// the row's job before it is sent, so a restart sends it again (the backend is idempotent);
// attach and detach need no such record: they end with the VM's operation, which has its own
// deadline and crash handling, and both changes commit in one batch.
#include <algorithm>

#include "engine/engine_impl.h"
#include "engine/names.h"

namespace corral::engine {

namespace lc = corral::lifecycle;
using lc::VolumeAction;
using lc::VolumeStatus;
using store::VolumeJob;

namespace {

lc::VolumeRecord record_of(const store::VolumeRow& row) { return {row.status, row.vm != 0}; }

int snapshot_count(const store::VolumeRow& row) { return static_cast<int>(row.snapshots.size()); }

Error busy(const store::VolumeRow& row) {
  return Error{ErrorCode::kConflict,
               "volume " + row.name + " is busy (" +
                   std::string(lc::volume_status_name(row.status)) +
                   "): its storage work has not finished; try again",
               std::string(lc::volume_status_name(row.status)),
               {}};
}

}  // namespace

// ---- Public API ---------------------------------------------------------------------------

void Engine::set_volume_storage(driver::VolumeStorage* storage) { impl_->volume_storage = storage; }

Result<store::VolumeRow> Engine::create_volume(VolumeCreate spec) {
  return impl_->submit(internal::VolumeCommand{std::move(spec), {}, {}});
}

Result<store::VolumeRow> Engine::volume_action(VolumeRequest request) {
  return impl_->submit(internal::VolumeCommand{std::nullopt, std::move(request), {}});
}

std::vector<store::VolumeRow> Engine::volumes() const {
  std::shared_lock lock(impl_->published_mu);
  return impl_->published_volumes;
}

std::optional<store::VolumeRow> Engine::volume(std::string_view name_or_id) const {
  std::shared_lock lock(impl_->published_mu);
  for (const store::VolumeRow& v : impl_->published_volumes) {
    if (names_row(v, name_or_id)) return v;
  }
  return std::nullopt;
}

void Engine::volume_done(driver::VolumeJobDone done) { impl_->enqueue(std::move(done)); }

// ---- Engine thread ------------------------------------------------------------------------

store::VolumeRow* Engine::Impl::find_volume(std::string_view name_or_id) {
  for (auto& [id, v] : volumes) {
    if (names_row(v, name_or_id)) return &v;
  }
  return nullptr;
}

void Engine::Impl::touch_volume(store::VolumeRow& row) {
  row.updated_at = clock.now_ms();
  volume_rows.push_back(row);
  volumes_changed = true;
}

void Engine::Impl::start_volume_job(store::VolumeRow& row, VolumeJob job) {
  row.job = job;
  volume_jobs.insert(row.id);
}

void Engine::Impl::handle_volume(internal::VolumeCommand& command) {
  auto promise = std::make_shared<std::promise<Result<store::VolumeRow>>>(std::move(command.reply));
  auto answer = [&](Result<store::VolumeRow> result) {
    if (!result) {
      promise->set_value(std::move(result));
      return;
    }
    host_replies.push_back([promise, row = std::move(*result)](const Error* error) {
      promise->set_value(error != nullptr ? Result<store::VolumeRow>(fail(*error)) : row);
    });
  };
  if (command.create) {
    const VolumeCreate& spec = *command.create;
    if (!valid_resource_name(spec.name)) {
      answer(fail(Error::invalid_argument(
          "a volume name is 1-63 characters of a-z, 0-9, '.', '_' and '-', starting with a "
          "letter or digit, and not all digits")));
      return;
    }
    if (spec.size_mib == 0 || spec.size_mib > kMaxVolumeMib) {
      answer(fail(Error::invalid_argument("size_mib must be 1 to " + std::to_string(kMaxVolumeMib) +
                                          " (16 TiB)")));
      return;
    }
    if (find_volume(spec.name) != nullptr) {
      answer(fail(Error{ErrorCode::kConflict, "volume " + spec.name + " exists", {}, {}}));
      return;
    }
    if (spec.quota) {
      lc::QuotaUsage wanted{};
      wanted[lc::quota_index(lc::QuotaResource::kVolumes)] = 1;
      wanted[lc::quota_index(lc::QuotaResource::kVolumeMib)] =
          static_cast<std::int64_t>(spec.size_mib);
      if (std::optional<Error> over = over_quota(spec.project, *spec.quota, wanted)) {
        answer(fail(std::move(*over)));
        return;
      }
    }
    const Millis now = clock.now_ms();
    store::VolumeRow row;
    row.id = ++max_volume_id;
    row.name = spec.name;
    row.size_mib = spec.size_mib;
    row.delete_on_termination = spec.delete_on_termination;
    row.project = spec.project;
    row.created_at = now;
    Result<lc::VolumeStep> step = lc::begin_volume_action(static_cast<std::uint64_t>(row.id),
                                                          lc::kNewVolume, VolumeAction::kCreate, 0);
    if (!step) {
      --max_volume_id;
      answer(fail(std::move(step.error())));
      return;
    }
    row.status = step->record.status;
    row.job_size_mib = spec.size_mib;
    store::VolumeRow& kept = volumes[row.id] = std::move(row);
    start_volume_job(kept, VolumeJob::kCreate);
    touch_volume(kept);
    answer(kept);
    return;
  }

  const VolumeRequest& request = command.request;
  store::VolumeRow* found = find_volume(request.name_or_id);
  if (found == nullptr) {
    answer(fail(Error::not_found("no volume " + request.name_or_id)));
    return;
  }
  store::VolumeRow& row = *found;
  if (row.job != VolumeJob::kNone) {
    answer(fail(busy(row)));
    return;
  }
  // Extend grows the volume by the difference; a snapshot is a full copy (Cinder's).
  if (request.quota &&
      (request.verb == VolumeVerb::kExtend || request.verb == VolumeVerb::kSnapshot)) {
    lc::QuotaUsage wanted{};
    wanted[lc::quota_index(lc::QuotaResource::kVolumeMib)] =
        request.verb == VolumeVerb::kSnapshot
            ? static_cast<std::int64_t>(row.size_mib)
            : static_cast<std::int64_t>(request.size_mib) - static_cast<std::int64_t>(row.size_mib);
    if (std::optional<Error> over = over_quota(row.project, *request.quota, wanted)) {
      answer(fail(std::move(*over)));
      return;
    }
  }
  const auto id = static_cast<std::uint64_t>(row.id);
  switch (request.verb) {
    case VolumeVerb::kExtend: {
      Result<lc::VolumeStep> step =
          lc::begin_volume_action(id, record_of(row), VolumeAction::kExtend, snapshot_count(row));
      if (!step) {
        answer(fail(std::move(step.error())));
        return;
      }
      if (request.size_mib <= row.size_mib || request.size_mib > kMaxVolumeMib) {
        answer(fail(Error::invalid_argument(
            "size_mib must be larger than the volume's " + std::to_string(row.size_mib) +
            " MiB and at most " + std::to_string(kMaxVolumeMib) + " (a volume never shrinks)")));
        return;
      }
      row.status = step->record.status;
      row.job_size_mib = request.size_mib;
      start_volume_job(row, VolumeJob::kExtend);
      break;
    }
    case VolumeVerb::kSnapshot: {
      Result<lc::VolumeStep> step =
          lc::begin_volume_action(id, record_of(row), VolumeAction::kSnapshot, snapshot_count(row));
      if (!step) {
        answer(fail(std::move(step.error())));
        return;
      }
      row.snapshots.push_back(
          {++max_snapshot_id, lc::SnapshotStatus::kCreating, row.size_mib, clock.now_ms()});
      row.job_snapshot = max_snapshot_id;
      start_volume_job(row, VolumeJob::kSnapshot);
      break;
    }
    case VolumeVerb::kDeleteSnapshot: {
      auto it = std::ranges::find(row.snapshots, request.snapshot, &store::VolumeSnapshot::id);
      if (it == row.snapshots.end()) {
        answer(fail(Error::not_found("volume " + row.name + " has no snapshot " +
                                     std::to_string(request.snapshot))));
        return;
      }
      Result<lc::SnapshotStatus> deleting =
          lc::begin_snapshot_delete(static_cast<std::uint64_t>(it->id), it->status);
      if (!deleting) {
        answer(fail(std::move(deleting.error())));
        return;
      }
      it->status = *deleting;
      row.job_snapshot = it->id;
      start_volume_job(row, VolumeJob::kDeleteSnapshot);
      break;
    }
    case VolumeVerb::kDelete: {
      Result<lc::VolumeStep> step =
          lc::begin_volume_action(id, record_of(row), VolumeAction::kDelete, snapshot_count(row));
      if (!step) {
        answer(fail(std::move(step.error())));
        return;
      }
      row.status = step->record.status;
      start_volume_job(row, VolumeJob::kDelete);
      break;
    }
  }
  touch_volume(row);
  answer(row);
}

void Engine::Impl::handle_volume_done(const driver::VolumeJobDone& done) {
  const auto it = volumes.find(done.volume);
  if (it == volumes.end() || volume_generation[done.volume] != done.generation) return;
  store::VolumeRow& row = it->second;
  if (row.job != done.kind) return;  // an answer to work that is no longer asked for
  const bool ok = !done.error.has_value();
  row.job = VolumeJob::kNone;
  row.error = done.error.value_or("");
  const lc::VolumeRecord before = record_of(row);
  switch (done.kind) {
    case VolumeJob::kNone:
      return;
    case VolumeJob::kCreate: {
      const lc::VolumeStep step = lc::finish_volume_action(lc::volume_create_row(), before, ok);
      row.status = step.record.status;
      if (ok) row.path = done.path;
      break;
    }
    case VolumeJob::kExtend: {
      const lc::VolumeRow* r = lc::find_running_row(VolumeAction::kExtend, row.status);
      if (r == nullptr) break;
      row.status = lc::finish_volume_action(*r, before, ok).record.status;
      if (ok) row.size_mib = row.job_size_mib;
      break;
    }
    case VolumeJob::kSnapshot: {
      auto s = std::ranges::find(row.snapshots, done.snapshot, &store::VolumeSnapshot::id);
      if (s != row.snapshots.end()) s->status = lc::finish_snapshot_create(ok);
      break;
    }
    case VolumeJob::kDeleteSnapshot: {
      auto s = std::ranges::find(row.snapshots, done.snapshot, &store::VolumeSnapshot::id);
      if (s == row.snapshots.end()) break;
      const lc::SnapshotStep step = lc::finish_snapshot_delete(ok);
      if (step.removed) {
        row.snapshots.erase(s);
      } else {
        s->status = step.status;
      }
      break;
    }
    case VolumeJob::kDelete: {
      const lc::VolumeRow* r = lc::find_running_row(VolumeAction::kDelete, row.status);
      const lc::VolumeStep step =
          r != nullptr ? lc::finish_volume_action(*r, before, ok) : lc::VolumeStep{};
      if (ok) {
        deleted_volumes.push_back(row.id);
        std::erase_if(volume_rows, [&](const store::VolumeRow& v) { return v.id == row.id; });
        volumes.erase(it);
        volumes_changed = true;
        return;
      }
      row.status = r != nullptr ? step.record.status : VolumeStatus::kErrorDeleting;
      break;
    }
  }
  touch_volume(row);
}

std::optional<Error> Engine::Impl::prepare_volume(const store::Vm& vm, const ActionRequest& request,
                                                  store::OpParams& params) {
  const bool attach = request.action == lc::Action::kDiskAttach;
  if (request.volume.empty()) {
    return Error::invalid_argument(std::string(lc::action_name(request.action)) +
                                   " needs 'volume' (its name or id)");
  }
  store::VolumeRow* found = find_volume(request.volume);
  // Only a volume of the VM's own project attaches (another project's is not found, as in
  // Cinder).
  if (found == nullptr || found->project != vm.project) {
    return Error::not_found("no volume " + request.volume);
  }
  store::VolumeRow& row = *found;
  if (row.job != VolumeJob::kNone) return busy(row);
  if (!attach && row.vm != vm.id) {
    return Error::invalid_argument("volume " + row.name + " is not attached to VM " +
                                   std::to_string(vm.id));
  }
  Result<lc::VolumeStep> step = lc::begin_volume_action(
      static_cast<std::uint64_t>(row.id), record_of(row),
      attach ? VolumeAction::kAttach : VolumeAction::kDetach, snapshot_count(row));
  if (!step) return step.error();
  if (attach && !volumes_reach(vm.host)) {
    return Error{ErrorCode::kConflict,
                 "volume " + row.name + " is in a datastore only the controller's own host " +
                     "reaches (--volume-dir is not shared), and VM " + std::to_string(vm.id) +
                     " runs on host " + vm.host,
                 {},
                 {}};
  }
  if (attach) {
    // The lowest slot this VM's volumes leave free: its guest-visible address while attached.
    std::vector<bool> taken(store::kMaxVolumesPerVm, false);
    for (const auto& [id, v] : volumes) {
      if (v.vm == vm.id && v.slot >= 0 && v.slot < store::kMaxVolumesPerVm) taken[v.slot] = true;
    }
    const auto free = std::ranges::find(taken, false);
    if (free == taken.end()) {
      return Error{ErrorCode::kConflict,
                   "VM " + std::to_string(vm.id) + " has " +
                       std::to_string(store::kMaxVolumesPerVm) + " volumes, the most it can have",
                   {},
                   {}};
    }
    row.vm = vm.id;
    row.slot = static_cast<int>(free - taken.begin());
    if (request.delete_on_termination) row.delete_on_termination = *request.delete_on_termination;
  }
  row.status = step->record.status;
  row.error.clear();
  touch_volume(row);
  params.volume = row.id;
  return std::nullopt;
}

void Engine::Impl::volume_operation_finished(store::Vm& vm) {
  const lc::Operation& op = *vm.record.op;
  if (op.action != lc::Action::kDiskAttach && op.action != lc::Action::kDiskDetach) return;
  const auto it = volumes.find(vm.op.params.volume);
  if (it == volumes.end() || it->second.vm != vm.id) return;
  store::VolumeRow& row = it->second;
  const VolumeAction action =
      op.action == lc::Action::kDiskAttach ? VolumeAction::kAttach : VolumeAction::kDetach;
  const lc::VolumeRow* r = lc::find_running_row(action, row.status);
  if (r == nullptr) return;
  const bool ok = op.status == lc::OpStatus::kSucceeded;
  const lc::VolumeStep step = lc::finish_volume_action(*r, record_of(row), ok);
  row.status = step.record.status;
  if (!step.record.attached) {
    row.vm = 0;
    row.slot = 0;
  }
  if (!ok) row.error = vm.op.error;
  touch_volume(row);
}

void Engine::Impl::settle_volumes(store::Vm& vm) {
  if (vm.record.state != lc::State::kDone) return;
  for (auto& [id, row] : volumes) {
    if (row.vm != vm.id) continue;
    const lc::VolumeRecord now = record_of(row);
    if (row.status == VolumeStatus::kReserved || row.status == VolumeStatus::kAttaching ||
        row.status == VolumeStatus::kDetaching) {
      // An attach or detach its VM's end cut short: nothing is plugged any more.
      const lc::VolumeRow* r = lc::find_running_row(
          row.status == VolumeStatus::kDetaching ? VolumeAction::kDetach : VolumeAction::kAttach,
          row.status);
      if (r != nullptr) {
        const lc::VolumeStep step =
            lc::finish_volume_action(*r, now, row.status == VolumeStatus::kDetaching);
        row.status = step.record.status;
      }
      if (row.status == VolumeStatus::kInUse) row.status = VolumeStatus::kAvailable;
      row.vm = 0;
      row.slot = 0;
      touch_volume(row);
      continue;
    }
    VolumeAction action = lc::terminate_action(row.delete_on_termination);
    Result<lc::VolumeStep> step = lc::begin_volume_action(static_cast<std::uint64_t>(row.id), now,
                                                          action, snapshot_count(row));
    if (!step && action == VolumeAction::kTerminateDelete) {
      // Snapshots keep it: detached instead, so its data stays reachable.
      action = VolumeAction::kTerminateDetach;
      step = lc::begin_volume_action(static_cast<std::uint64_t>(row.id), now, action, 0);
    }
    if (!step) continue;
    if (action == VolumeAction::kTerminateDelete) {
      row.status = step->record.status;  // deleting, detached (the row drops the attachment)
      row.vm = 0;
      row.slot = 0;
      start_volume_job(row, VolumeJob::kDelete);
    } else {
      // The VM's process is gone: nothing to unplug, the detach ends at once.
      const lc::VolumeStep done = lc::finish_volume_action(*step->row, step->record, true);
      row.status = done.record.status;
      row.vm = 0;
      row.slot = 0;
    }
    touch_volume(row);
  }
}

bool Engine::Impl::volumes_reach(const std::string& host) const {
  if (volume_storage == nullptr || volume_storage->shared() || host.empty()) return true;
  const auto slot = std::ranges::find(hosts, host, [](const auto& h) { return h.row.name; });
  return slot != hosts.end() && slot->local;
}

bool Engine::Impl::pinned_by_volumes(const store::Vm& vm) const {
  if (volume_storage == nullptr || volume_storage->shared()) return false;
  return std::ranges::any_of(volumes, [&](const auto& v) { return v.second.vm == vm.id; });
}

std::vector<driver::VolumeSpec> Engine::Impl::phase_volumes(const store::Vm& vm) {
  const lc::Operation& op = *vm.record.op;
  const bool volume_op =
      op.action == lc::Action::kDiskAttach || op.action == lc::Action::kDiskDetach;
  std::vector<driver::VolumeSpec> out;
  for (auto& [id, row] : volumes) {
    if (row.vm != vm.id) continue;
    const bool this_op = volume_op && vm.op.params.volume == id;
    bool plugged = row.status == VolumeStatus::kInUse || row.status == VolumeStatus::kExtending ||
                   row.status == VolumeStatus::kErrorExtending;
    if (this_op) {
      // Undo phases put the VM back as it was: without a volume being attached, with one
      // being detached.
      plugged = (op.action == lc::Action::kDiskAttach) != op.undoing.has_value();
      if (op.action == lc::Action::kDiskAttach && row.status == VolumeStatus::kReserved) {
        if (const lc::VolumeRow* r = lc::find_running_row(VolumeAction::kAttach, row.status)) {
          row.status = lc::start_volume_driver(*r, record_of(row)).status;
          touch_volume(row);
        }
      }
    }
    if (plugged) out.push_back({row.id, row.path, "raw", row.slot});
  }
  return out;
}

void Engine::Impl::load_volumes(const store::Loaded& loaded) {
  for (const store::VolumeRow& v : loaded.volumes) {
    volumes[v.id] = v;
    max_volume_id = std::max(max_volume_id, v.id);
    for (const store::VolumeSnapshot& s : v.snapshots) {
      max_snapshot_id = std::max(max_snapshot_id, s.id);
    }
    // Work that was asked for and not answered is asked again (the backend is idempotent).
    if (v.job != VolumeJob::kNone) volume_jobs.insert(v.id);
  }
  publish_volumes();
}

void Engine::Impl::publish_volumes() {
  published_volumes.clear();
  for (const auto& [id, row] : volumes) published_volumes.push_back(row);
  volumes_changed = false;
}

void Engine::Impl::rollback_volumes() {
  volumes.clear();
  max_volume_id = 0;
  max_snapshot_id = 0;
  for (const store::VolumeRow& v : published_volumes) {
    volumes[v.id] = v;
    max_volume_id = std::max(max_volume_id, v.id);
    for (const store::VolumeSnapshot& s : v.snapshots) {
      max_snapshot_id = std::max(max_snapshot_id, s.id);
    }
  }
  volume_rows.clear();
  deleted_volumes.clear();
  volume_jobs.clear();
  volumes_changed = false;
}

void Engine::Impl::send_volume_jobs() {
  if (volume_jobs.empty()) return;
  std::vector<driver::VolumeStorageJob> jobs;
  for (store::VolumeId id : volume_jobs) {
    const auto it = volumes.find(id);
    if (it == volumes.end() || it->second.job == VolumeJob::kNone) continue;
    const store::VolumeRow& row = it->second;
    driver::VolumeStorageJob job;
    job.volume = id;
    job.kind = row.job;
    job.size_mib = row.job_size_mib;
    job.snapshot = row.job_snapshot;
    if (row.vm != 0 && static_cast<std::size_t>(row.vm) <= vms.size()) {
      job.live = lc::holds_host(vms[static_cast<std::size_t>(row.vm - 1)].record.state);
    }
    job.generation = ++volume_generation[id];
    jobs.push_back(job);
  }
  volume_jobs.clear();
  for (driver::VolumeStorageJob& job : jobs) {
    if (volume_storage != nullptr) {
      volume_storage->submit(job);
    } else {
      driver::VolumeJobDone done{job.volume,     job.kind,     job.snapshot,
                                 job.generation, std::nullopt, {}};
      if (job.kind == VolumeJob::kCreate) done.path = "sim:vol-" + std::to_string(job.volume);
      enqueue(std::move(done));
    }
  }
}

}  // namespace corral::engine
