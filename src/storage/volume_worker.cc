#include "storage/volume_worker.h"

namespace corral::storage {

VolumeWorker::~VolumeWorker() { stop(); }

void VolumeWorker::start(driver::VolumeSink* sink) {
  std::lock_guard lock(mu_);
  if (worker_.joinable()) return;
  sink_ = sink;
  stopping_ = false;
  worker_ = std::thread([this] { loop(); });
}

void VolumeWorker::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    waiting_.clear();
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void VolumeWorker::submit(driver::VolumeStorageJob job) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    waiting_.push_back(job);
  }
  cv_.notify_one();
}

void VolumeWorker::loop() {
  for (;;) {
    driver::VolumeStorageJob job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !waiting_.empty(); });
      if (stopping_) return;
      job = waiting_.front();
      waiting_.pop_front();
    }
    driver::VolumeJobDone done = run(backend_, job);
    std::lock_guard lock(mu_);
    if (stopping_) return;
    sink_->volume_done(std::move(done));
  }
}

driver::VolumeJobDone VolumeWorker::run(VolumeBackend& backend,
                                        const driver::VolumeStorageJob& job) {
  driver::VolumeJobDone done{job.volume, job.kind, job.snapshot, job.generation, std::nullopt, {}};
  const auto id = static_cast<std::uint64_t>(job.volume);
  const auto snapshot = static_cast<std::uint64_t>(job.snapshot);
  Status status;
  switch (job.kind) {
    case store::VolumeJob::kNone:
      return done;
    case store::VolumeJob::kCreate: {
      Result<std::string> path = backend.create(id, job.size_mib);
      if (path) {
        done.path = std::move(*path);
      } else {
        status = fail(std::move(path.error()));
      }
      break;
    }
    case store::VolumeJob::kExtend:
      status = backend.grow(id, job.size_mib);
      break;
    case store::VolumeJob::kSnapshot: {
      Result<std::string> path = backend.snapshot(id, snapshot, job.live);
      if (!path) status = fail(std::move(path.error()));
      break;
    }
    case store::VolumeJob::kDeleteSnapshot:
      status = backend.remove_snapshot(id, snapshot);
      break;
    case store::VolumeJob::kDelete: {
      // A volume's snapshots go with it (the engine deletes one with snapshots only when it
      // is terminated with delete_on_termination).
      status = backend.remove(id);
      break;
    }
  }
  if (!status) done.error = status.error().message;
  return done;
}

}  // namespace corral::storage
