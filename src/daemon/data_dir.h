// The data dir of a Corral process: where its store and its lock live.
//
// Contract: one process per data dir. DataDirLock::acquire takes an exclusive flock on
// <dir>/corral.lock and writes the holder's pid into it; the lock is held until the
// DataDirLock is destroyed or the process ends, however it ends (the kernel drops it). A
// second acquire on the same dir, from this process or another, fails at once with an
// error that names the dir and the holder's pid.
#pragma once

#include <string>

#include "common/result.h"

namespace corral::daemon {

// Creates `dir` (mode 0700, parents as needed) if missing; checks it is a directory this
// process can read, write and enter. Errors are kUnavailable with the reason.
[[nodiscard]] Status prepare_data_dir(const std::string& dir);

class DataDirLock {
 public:
  // `holder` names the kind of process in the error the next one sees ("corral server").
  [[nodiscard]] static Result<DataDirLock> acquire(const std::string& dir,
                                                   const std::string& holder);

  DataDirLock(DataDirLock&& other) noexcept;
  DataDirLock& operator=(DataDirLock&& other) noexcept;
  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;
  ~DataDirLock();

 private:
  explicit DataDirLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace corral::daemon
