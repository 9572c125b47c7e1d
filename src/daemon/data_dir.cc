#include "daemon/data_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <system_error>

namespace corral::daemon {
namespace {

std::string errno_text(int err) { return std::error_code(err, std::generic_category()).message(); }

Error unavailable(std::string message) {
  return Error{ErrorCode::kUnavailable, std::move(message), {}, {}};
}

}  // namespace

Status prepare_data_dir(const std::string& dir) {
  std::error_code ec;
  const std::filesystem::path path(dir);
  if (!std::filesystem::exists(path, ec)) {
    if (path.has_parent_path() && !path.parent_path().empty()) {
      std::filesystem::create_directories(path.parent_path(), ec);
      if (ec) return fail(unavailable("cannot create data dir " + dir + ": " + ec.message()));
    }
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
      return fail(unavailable("cannot create data dir " + dir + ": " + errno_text(errno)));
    }
  }
  if (!std::filesystem::is_directory(path, ec)) {
    return fail(unavailable("data dir " + dir + " is not a directory"));
  }
  if (::access(dir.c_str(), R_OK | W_OK | X_OK) != 0) {
    return fail(unavailable("cannot use data dir " + dir + ": " + errno_text(errno)));
  }
  return {};
}

Result<DataDirLock> DataDirLock::acquire(const std::string& dir, const std::string& holder) {
  const std::string path = (std::filesystem::path(dir) / "corral.lock").string();
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return fail(unavailable("cannot use data dir " + dir + ": " + errno_text(errno)));
  // flock locks belong to the open file description, so a second open of the same file in
  // this process conflicts too (as a second process would).
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    char pid[32] = {};
    const ssize_t n = ::pread(fd, pid, sizeof(pid) - 1, 0);
    std::string owner = n > 0 ? std::string(pid, static_cast<std::size_t>(n)) : "";
    while (!owner.empty() && (owner.back() == '\n' || owner.back() == ' ')) owner.pop_back();
    ::close(fd);
    return fail(unavailable("data dir " + dir + " is in use by another " + holder +
                            (owner.empty() ? std::string() : " (pid " + owner + ")")));
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) == 0) {
    [[maybe_unused]] const ssize_t written = ::pwrite(fd, pid.data(), pid.size(), 0);
  }
  return DataDirLock(fd);
}

DataDirLock::DataDirLock(DataDirLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }

DataDirLock& DataDirLock::operator=(DataDirLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

DataDirLock::~DataDirLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last fd of the description drops the flock
}

}  // namespace corral::daemon
