// The engine's VolumeStorage (driver/volume_storage.h) over one VolumeBackend: a worker thread
// that runs the jobs in order and answers each. Backend calls block (files, fsync), so they
// never run on the engine's thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "driver/volume_storage.h"
#include "storage/volume_backend.h"

namespace corral::storage {

class VolumeWorker final : public driver::VolumeStorage {
 public:
  explicit VolumeWorker(VolumeBackend& backend) : backend_(backend) {}
  bool shared() const override { return backend_.shared(); }
  ~VolumeWorker() override;
  VolumeWorker(const VolumeWorker&) = delete;
  VolumeWorker& operator=(const VolumeWorker&) = delete;

  void start(driver::VolumeSink* sink) override;
  void stop() override;
  void submit(driver::VolumeStorageJob job) override;

  // Runs one job on `backend` (what the worker thread does for each): its answer.
  static driver::VolumeJobDone run(VolumeBackend& backend, const driver::VolumeStorageJob& job);

 private:
  void loop();

  VolumeBackend& backend_;
  driver::VolumeSink* sink_ = nullptr;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<driver::VolumeStorageJob> waiting_;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace corral::storage
