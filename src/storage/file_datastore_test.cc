// FileDatastore on real files in a temporary directory: sparse creation, growth without
// shrinking, snapshots that are whole independent copies (reflink or the copy fallback), idempotent
// retries, and recovery of a crash's temporaries.
#include "storage/file_datastore.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace corral::storage {
namespace {

namespace fs = std::filesystem;
constexpr off_t kMiB = 1024 * 1024;

class FileDatastoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "corral-ds-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto ds = FileDatastore::open(dir_ + "/", /*shared=*/false);
    ASSERT_TRUE(ds.has_value()) << ds.error().message;
    ds_ = std::move(*ds);
  }
  void TearDown() override {
    ds_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  static struct stat stat_of(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    return st;
  }
  static void write_at(const std::string& path, off_t offset, const std::string& data) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::pwrite(fd, data.data(), data.size(), offset), static_cast<ssize_t>(data.size()));
    ::close(fd);
  }
  static std::string read_at(const std::string& path, off_t offset, size_t n) {
    std::string out(n, '\0');
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    EXPECT_GE(fd, 0);
    EXPECT_EQ(::pread(fd, out.data(), n, offset), static_cast<ssize_t>(n));
    ::close(fd);
    return out;
  }
  int entries() const {
    int n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_)) ++n;
    return n;
  }

  std::string dir_;
  std::unique_ptr<FileDatastore> ds_;
};

TEST_F(FileDatastoreTest, OpenWantsAnAbsoluteExistingDirectory) {
  EXPECT_EQ(FileDatastore::open("relative/dir", false).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(FileDatastore::open(dir_ + "/missing", false).error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(ds_->shared());
  EXPECT_TRUE(FileDatastore::open(dir_, true).value()->shared());
  EXPECT_EQ(ds_->format(), "raw");
}

TEST_F(FileDatastoreTest, NamesComeFromIdsOnly) {
  EXPECT_EQ(FileDatastore::volume_name(7), "vol-7.raw");
  EXPECT_EQ(FileDatastore::snapshot_name(7, 2), "vol-7.snap-2.raw");
  EXPECT_EQ(FileDatastore::volume_name(UINT64_MAX), "vol-18446744073709551615.raw");
}

TEST_F(FileDatastoreTest, CreateIsSparseAtomicAndIdempotent) {
  const Result<std::string> path = ds_->create(7, 64);
  ASSERT_TRUE(path.has_value()) << path.error().message;
  EXPECT_EQ(*path, dir_ + "/vol-7.raw");  // the trailing '/' of the datastore is dropped
  const struct stat st = stat_of(*path);
  EXPECT_EQ(st.st_size, 64 * kMiB);
  EXPECT_LT(st.st_blocks * 512, kMiB) << "a new volume takes no blocks";
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(ds_->size_mib(7).value(), 64u);
  EXPECT_EQ(ds_->path(7).value(), *path);
  EXPECT_EQ(read_at(*path, 10 * kMiB, 4), std::string(4, '\0'));

  // A retried create (the controller crashed after the rename) returns the same volume.
  write_at(*path, 0, "data");
  EXPECT_EQ(ds_->create(7, 64).value(), *path);
  EXPECT_EQ(read_at(*path, 0, 4), "data");
  // The same id with another size is a conflict, not a silent resize.
  EXPECT_EQ(ds_->create(7, 32).error().code, ErrorCode::kConflict);
  EXPECT_EQ(ds_->size_mib(7).value(), 64u);

  EXPECT_EQ(ds_->create(8, 0).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(ds_->create(8, std::uint64_t{1} << 40).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(entries(), 1) << "no temporaries left behind";
}

TEST_F(FileDatastoreTest, GrowNeverShrinks) {
  ASSERT_TRUE(ds_->create(7, 16).has_value());
  write_at(ds_->path(7).value(), kMiB, "keep");
  EXPECT_TRUE(ds_->grow(7, 48).has_value());
  EXPECT_EQ(ds_->size_mib(7).value(), 48u);
  EXPECT_TRUE(ds_->grow(7, 48).has_value()) << "a retried extend succeeds";
  const Status shrink = ds_->grow(7, 8);
  ASSERT_FALSE(shrink.has_value());
  EXPECT_EQ(shrink.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(shrink.error().message,
            "cannot shrink volume 7 from 48 MiB to 8 MiB: volumes only grow");
  EXPECT_EQ(ds_->size_mib(7).value(), 48u);
  EXPECT_EQ(read_at(ds_->path(7).value(), kMiB, 4), "keep");
  EXPECT_EQ(ds_->grow(9, 48).error().code, ErrorCode::kNotFound);
}

void check_snapshot(FileDatastore& ds, const std::string& dir) {
  ASSERT_TRUE(ds.create(7, 32).has_value());
  const std::string vol = ds.path(7).value();
  {
    const int fd = ::open(vol.c_str(), O_WRONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::pwrite(fd, "head", 4, 0), 4);
    ASSERT_EQ(::pwrite(fd, "tail", 4, 20 * kMiB), 4);
    ::close(fd);
  }
  const Result<std::string> snap = ds.snapshot(7, 2, /*live=*/false);
  ASSERT_TRUE(snap.has_value()) << snap.error().message;
  EXPECT_EQ(*snap, dir + "/vol-7.snap-2.raw");
  EXPECT_EQ(ds.snapshot_path(7, 2).value(), *snap);
  struct stat st {};
  ASSERT_EQ(::stat(snap->c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 32 * kMiB);
  EXPECT_LT(st.st_blocks * 512, 4 * kMiB) << "holes stay holes";
  auto read = [](const std::string& p, off_t off) {
    std::string out(4, '\0');
    const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
    EXPECT_EQ(::pread(fd, out.data(), 4, off), 4);
    ::close(fd);
    return out;
  };
  EXPECT_EQ(read(*snap, 0), "head");
  EXPECT_EQ(read(*snap, 20 * kMiB), "tail");
  EXPECT_EQ(read(*snap, 10 * kMiB), std::string(4, '\0'));
  // Independent: writing the volume afterwards leaves the snapshot as it was.
  {
    const int fd = ::open(vol.c_str(), O_WRONLY | O_CLOEXEC);
    ASSERT_EQ(::pwrite(fd, "new!", 4, 0), 4);
    ::close(fd);
  }
  EXPECT_EQ(read(*snap, 0), "head");
  // A retried snapshot returns the existing one, not a second copy of the changed volume.
  EXPECT_EQ(ds.snapshot(7, 2, false).value(), *snap);
  EXPECT_EQ(read(*snap, 0), "head");
  // The snapshot outlives its volume's removal (a full copy), and removal is idempotent.
  EXPECT_TRUE(ds.remove(7).has_value());
  EXPECT_TRUE(ds.remove(7).has_value());
  EXPECT_EQ(ds.path(7).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(ds.size_mib(7).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(read(*snap, 20 * kMiB), "tail");
  EXPECT_TRUE(ds.remove_snapshot(7, 2).has_value());
  EXPECT_TRUE(ds.remove_snapshot(7, 2).has_value());
  EXPECT_EQ(ds.snapshot_path(7, 2).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(ds.snapshot(7, 3, false).error().code, ErrorCode::kNotFound);
}

TEST_F(FileDatastoreTest, SnapshotIsAWholeIndependentSparseCopy) {
  check_snapshot(*ds_, dir_);
  EXPECT_EQ(entries(), 0);
}

TEST_F(FileDatastoreTest, SnapshotByCopyWhenThereIsNoReflink) {
  ds_->disable_reflink_for_test();
  check_snapshot(*ds_, dir_);
  EXPECT_EQ(entries(), 0);
}

TEST_F(FileDatastoreTest, LiveSnapshotWithoutReflinkIsRefused) {
  ds_->disable_reflink_for_test();
  ASSERT_TRUE(ds_->create(7, 8).has_value());
  const Result<std::string> snap = ds_->snapshot(7, 1, /*live=*/true);
  ASSERT_FALSE(snap.has_value());
  EXPECT_EQ(snap.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(snap.error().message.find("no reflink"), std::string::npos) << snap.error().message;
  EXPECT_EQ(entries(), 1) << "the refused copy leaves no file";
}

TEST_F(FileDatastoreTest, LiveSnapshotWithReflinkWhereTheFilesystemHasIt) {
  ASSERT_TRUE(ds_->create(7, 8).has_value());
  const Result<std::string> snap = ds_->snapshot(7, 1, /*live=*/true);
  if (!snap.has_value() && snap.error().code == ErrorCode::kUnavailable) {
    GTEST_SKIP() << dir_ << " has no reflink: " << snap.error().message;
  }
  ASSERT_TRUE(snap.has_value()) << snap.error().message;
  EXPECT_EQ(ds_->snapshot_path(7, 1).value(), *snap);
}

TEST_F(FileDatastoreTest, APlantedSymlinkIsNeverFollowed) {
  const std::string outside = dir_ + "-outside";
  {
    const int fd = ::open(outside.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0);
    ::close(fd);
  }
  ASSERT_EQ(::symlink(outside.c_str(), (dir_ + "/vol-5.raw").c_str()), 0);
  EXPECT_EQ(ds_->path(5).error().code, ErrorCode::kInternal);
  EXPECT_EQ(ds_->size_mib(5).error().code, ErrorCode::kInternal);
  EXPECT_FALSE(ds_->create(5, 8).has_value());
  EXPECT_FALSE(ds_->grow(5, 8).has_value());
  EXPECT_FALSE(ds_->snapshot(5, 1, false).has_value());
  EXPECT_EQ(stat_of(outside).st_size, 0) << "the file outside was not touched";
  ::unlink(outside.c_str());
}

TEST_F(FileDatastoreTest, RecoverRemovesOnlyTemporaries) {
  ASSERT_TRUE(ds_->create(7, 8).has_value());
  for (const char* name : {".tmp-vol-8.raw.1.0", ".tmp-vol-7.snap-1.raw.1.1"}) {
    const int fd = ::open((dir_ + "/" + name).c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0);
    ::close(fd);
  }
  EXPECT_EQ(entries(), 3);
  EXPECT_EQ(ds_->recover().value(), 2);
  EXPECT_EQ(entries(), 1);
  EXPECT_TRUE(ds_->path(7).has_value());
  EXPECT_EQ(ds_->recover().value(), 0);
}

}  // namespace
}  // namespace corral::storage
