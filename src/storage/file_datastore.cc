#include "storage/file_datastore.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <utility>

namespace corral::storage {
namespace {

constexpr std::uint64_t kMiB = 1024 * 1024;
// 16 TiB: far above any volume here, far below where size_mib * kMiB overflows an off_t.
constexpr std::uint64_t kMaxSizeMib = std::uint64_t{16} * 1024 * 1024;
constexpr std::string_view kTmpPrefix = ".tmp-";

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  bool ok() const { return fd_ >= 0; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

Error sys_error(std::string_view what, int err) {
  Error e = Error::internal(fmt::format("{}: {}", what, std::strerror(err)));
  if (err == ENOENT) e.code = ErrorCode::kNotFound;
  if (err == ENOSPC || err == EDQUOT) e.code = ErrorCode::kUnavailable;
  return e;
}

std::string temp_name(const std::string& name) {
  static std::atomic<std::uint64_t> counter{0};
  return fmt::format("{}{}.{}.{}", kTmpPrefix, name, ::getpid(), counter.fetch_add(1));
}

// Reflink is missing (not an I/O failure): the copy fallback applies.
bool no_reflink(int err) {
  return err == EOPNOTSUPP || err == ENOTTY || err == EXDEV || err == EINVAL || err == ENOSYS ||
         err == EBADF;
}

// Copies [from, to) of `src` into `dst` at the same offsets.
Status copy_range(int src, int dst, off_t from, off_t to) {
  off_t in = from;
  off_t out = from;
  while (in < to) {
    const ssize_t n = ::copy_file_range(src, &in, dst, &out, static_cast<size_t>(to - in), 0);
    if (n > 0) continue;
    if (n == 0) return fail(Error::internal("copy_file_range: source ended early"));
    if (errno == EINTR) continue;
    if (errno != EXDEV && errno != ENOSYS && errno != EOPNOTSUPP && errno != EINVAL) {
      return fail(sys_error("copy_file_range", errno));
    }
    // No in-kernel copy between these files: read and write.
    char buf[1 << 16];
    while (in < to) {
      const size_t want = static_cast<size_t>(std::min<off_t>(to - in, sizeof buf));
      const ssize_t r = ::pread(src, buf, want, in);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return fail(sys_error("pread", r < 0 ? errno : EIO));
      ssize_t done = 0;
      while (done < r) {
        const ssize_t w = ::pwrite(dst, buf + done, static_cast<size_t>(r - done), out + done);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return fail(sys_error("pwrite", errno));
        done += w;
      }
      in += r;
      out += r;
    }
  }
  return {};
}

// Copies the data extents of `src` into `dst` (already truncated to the source's size), leaving
// holes as holes.
Status copy_sparse(int src, int dst, off_t size) {
  off_t offset = 0;
  while (offset < size) {
    const off_t data = ::lseek(src, offset, SEEK_DATA);
    if (data < 0) {
      if (errno == ENXIO) return {};              // only a hole remains
      return copy_range(src, dst, offset, size);  // no SEEK_DATA here: copy everything
    }
    off_t hole = ::lseek(src, data, SEEK_HOLE);
    if (hole < 0 || hole > size) hole = size;
    if (Status s = copy_range(src, dst, data, hole); !s) return s;
    offset = hole;
  }
  return {};
}

// The size of regular file `name` in `dir_fd` (kNotFound when absent). Anything else under a
// volume's name (a symlink someone planted, a directory) is refused, so QEMU is never handed a
// path that leads out of the datastore.
Result<off_t> regular_size(int dir_fd, const std::string& name, std::string_view what) {
  struct stat st {};
  if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return fail(sys_error(what, errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return fail(Error::internal(fmt::format("{}: {} is not a regular file", what, name)));
  }
  return st.st_size;
}

}  // namespace

Result<std::unique_ptr<FileDatastore>> FileDatastore::open(std::string dir, bool shared) {
  if (dir.empty() || dir.front() != '/') {
    return fail(
        Error::invalid_argument(fmt::format("datastore '{}' is not an absolute path", dir)));
  }
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return fail(sys_error(fmt::format("datastore {}", dir), errno));
  return std::unique_ptr<FileDatastore>(new FileDatastore(std::move(dir), fd, shared));
}

FileDatastore::~FileDatastore() {
  if (dir_fd_ >= 0) ::close(dir_fd_);
}

std::string FileDatastore::volume_name(std::uint64_t id) { return fmt::format("vol-{}.raw", id); }

std::string FileDatastore::snapshot_name(std::uint64_t id, std::uint64_t snapshot_id) {
  return fmt::format("vol-{}.snap-{}.raw", id, snapshot_id);
}

Status FileDatastore::publish(int fd, const std::string& tmp, const std::string& name) {
  if (::fsync(fd) != 0) {
    const int err = errno;
    ::unlinkat(dir_fd_, tmp.c_str(), 0);
    return fail(sys_error("fsync " + tmp, err));
  }
  if (::renameat2(dir_fd_, tmp.c_str(), dir_fd_, name.c_str(), RENAME_NOREPLACE) != 0) {
    const int err = errno;
    ::unlinkat(dir_fd_, tmp.c_str(), 0);
    if (err == EEXIST) {
      return fail(Error{ErrorCode::kConflict, name + " appeared meanwhile", {}, {}});
    }
    return fail(sys_error("rename " + tmp, err));
  }
  if (::fsync(dir_fd_) != 0) return fail(sys_error("fsync " + dir_, errno));
  return {};
}

Status FileDatastore::unlink_name(const std::string& name, std::string_view what) {
  if (::unlinkat(dir_fd_, name.c_str(), 0) != 0) {
    if (errno == ENOENT) return {};  // already gone: removal is idempotent
    return fail(sys_error(fmt::format("remove {}", what), errno));
  }
  if (::fsync(dir_fd_) != 0) return fail(sys_error("fsync " + dir_, errno));
  return {};
}

Result<std::string> FileDatastore::create(std::uint64_t id, std::uint64_t size_mib) {
  if (size_mib == 0 || size_mib > kMaxSizeMib) {
    return fail(Error::invalid_argument(
        fmt::format("volume size {} MiB is out of range (1..{})", size_mib, kMaxSizeMib)));
  }
  const std::string name = volume_name(id);
  const off_t bytes = static_cast<off_t>(size_mib * kMiB);
  auto existing = [&]() -> Result<std::string> {
    const Result<off_t> size = regular_size(dir_fd_, name, fmt::format("volume {}", id));
    if (!size) return fail(size.error());
    if (*size != bytes) {
      return fail(Error{ErrorCode::kConflict,
                        fmt::format("volume {} exists with {} MiB, not {} MiB", id,
                                    *size / static_cast<off_t>(kMiB), size_mib),
                        {},
                        {}});
    }
    return full(name);  // an interrupted create, run again
  };
  if (Result<std::string> found = existing(); found || found.error().code != ErrorCode::kNotFound) {
    return found;
  }
  const std::string tmp = temp_name(name);
  Fd fd(::openat(dir_fd_, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd.ok()) return fail(sys_error("create " + tmp, errno));
  if (::ftruncate(fd.get(), bytes) != 0) {
    const int err = errno;
    ::unlinkat(dir_fd_, tmp.c_str(), 0);
    return fail(sys_error(fmt::format("size volume {}", id), err));
  }
  if (Status s = publish(fd.get(), tmp, name); !s) {
    if (s.error().code == ErrorCode::kConflict) return existing();
    return fail(s.error());
  }
  return full(name);
}

Status FileDatastore::grow(std::uint64_t id, std::uint64_t new_size_mib) {
  if (new_size_mib > kMaxSizeMib) {
    return fail(Error::invalid_argument(
        fmt::format("volume size {} MiB is out of range (1..{})", new_size_mib, kMaxSizeMib)));
  }
  const std::string name = volume_name(id);
  Fd fd(::openat(dir_fd_, name.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.ok()) return fail(sys_error("volume " + std::to_string(id), errno));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return fail(sys_error("stat " + name, errno));
  const off_t bytes = static_cast<off_t>(new_size_mib * kMiB);
  if (bytes < st.st_size) {
    return fail(Error::invalid_argument(
        fmt::format("cannot shrink volume {} from {} MiB to {} MiB: volumes only grow", id,
                    st.st_size / static_cast<off_t>(kMiB), new_size_mib)));
  }
  if (bytes == st.st_size) return {};  // already grown (a retried extend)
  if (::ftruncate(fd.get(), bytes) != 0) return fail(sys_error("grow " + name, errno));
  if (::fsync(fd.get()) != 0) return fail(sys_error("fsync " + name, errno));
  return {};
}

Result<std::string> FileDatastore::snapshot(std::uint64_t id, std::uint64_t snapshot_id,
                                            bool live) {
  const std::string name = volume_name(id);
  const std::string snap = snapshot_name(id, snapshot_id);
  if (Result<off_t> done = regular_size(dir_fd_, snap, "snapshot"); done) {
    return full(snap);  // made by rename: whole; an interrupted snapshot, run again
  } else if (done.error().code != ErrorCode::kNotFound) {
    return fail(done.error());
  }
  struct stat st {};
  Fd src(::openat(dir_fd_, name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!src.ok()) return fail(sys_error("volume " + std::to_string(id), errno));
  if (::fstat(src.get(), &st) != 0) return fail(sys_error("stat " + name, errno));
  const std::string tmp = temp_name(snap);
  Fd dst(
      ::openat(dir_fd_, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!dst.ok()) return fail(sys_error("create " + tmp, errno));
  auto abandon = [&](Error e) -> Result<std::string> {
    ::unlinkat(dir_fd_, tmp.c_str(), 0);
    return fail(std::move(e));
  };
  bool cloned = false;
  if (reflink_) {
    if (::ioctl(dst.get(), FICLONE, src.get()) == 0) {
      cloned = true;
    } else if (!no_reflink(errno)) {
      return abandon(sys_error("clone " + name, errno));
    }
  }
  if (!cloned) {
    if (live) {
      return abandon(Error{ErrorCode::kUnavailable,
                           fmt::format("volume {} is in use and the datastore {} cannot clone a "
                                       "file at one point in time (no reflink); detach it or "
                                       "power its VM off first",
                                       id, dir_),
                           {},
                           {}});
    }
    if (::ftruncate(dst.get(), st.st_size) != 0) return abandon(sys_error("size " + tmp, errno));
    if (Status s = copy_sparse(src.get(), dst.get(), st.st_size); !s) return abandon(s.error());
  }
  if (Status s = publish(dst.get(), tmp, snap); !s) {
    if (s.error().code == ErrorCode::kConflict) return full(snap);
    return fail(s.error());
  }
  return full(snap);
}

Status FileDatastore::remove(std::uint64_t id) {
  return unlink_name(volume_name(id), fmt::format("volume {}", id));
}

Status FileDatastore::remove_snapshot(std::uint64_t id, std::uint64_t snapshot_id) {
  return unlink_name(snapshot_name(id, snapshot_id),
                     fmt::format("snapshot {} of volume {}", snapshot_id, id));
}

Result<std::string> FileDatastore::path(std::uint64_t id) const {
  const std::string name = volume_name(id);
  if (Result<off_t> size = regular_size(dir_fd_, name, fmt::format("volume {}", id)); !size) {
    return fail(size.error());
  }
  return full(name);
}

Result<std::uint64_t> FileDatastore::size_mib(std::uint64_t id) const {
  const Result<off_t> size = regular_size(dir_fd_, volume_name(id), fmt::format("volume {}", id));
  if (!size) return fail(size.error());
  return static_cast<std::uint64_t>(*size) / kMiB;
}

Result<std::string> FileDatastore::snapshot_path(std::uint64_t id,
                                                 std::uint64_t snapshot_id) const {
  const std::string name = snapshot_name(id, snapshot_id);
  const Result<off_t> size =
      regular_size(dir_fd_, name, fmt::format("snapshot {} of volume {}", snapshot_id, id));
  if (!size) return fail(size.error());
  return full(name);
}

Result<int> FileDatastore::recover() {
  const int fd = ::openat(dir_fd_, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return fail(sys_error("open " + dir_, errno));
  DIR* d = ::fdopendir(fd);
  if (d == nullptr) {
    const int err = errno;
    ::close(fd);
    return fail(sys_error("list " + dir_, err));
  }
  int removed = 0;
  Status status;
  while (const dirent* entry = ::readdir(d)) {
    const std::string_view name(entry->d_name);
    if (!name.starts_with(kTmpPrefix)) continue;
    if (::unlinkat(dir_fd_, entry->d_name, 0) == 0) {
      ++removed;
    } else if (errno != ENOENT && status) {
      status = fail(sys_error(fmt::format("remove {}", name), errno));
    }
  }
  ::closedir(d);
  if (!status) return fail(status.error());
  if (removed > 0 && ::fsync(dir_fd_) != 0) return fail(sys_error("fsync " + dir_, errno));
  return removed;
}

}  // namespace corral::storage
