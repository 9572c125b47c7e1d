// What a transfer may move and where it lives, plus the SHA-256 every file is checked with.
//
// Contract:
// - The movable files of a VM are a fixed allow-list of names inside its directory
//   <data-dir>/vms/<vm>/ (the layout of driver/qemu/launch.h VmPaths, which this module does
//   not link): "disk.qcow2" and "memory.state". A name outside the list — "../x", "qemu.pid",
//   "" — is kInvalidArgument; paths are always built here from the agent's own data dir and
//   the VM id, never taken from a request.
// - Sha256 is OpenSSL's EVP SHA-256; hex() is lowercase.
// - sha256_file() hashes the first `limit` bytes of an open file (all of it by default).
#pragma once

#include <openssl/evp.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace corral::transfer {

inline constexpr std::array<std::string_view, 2> kMovableFiles = {"disk.qcow2", "memory.state"};

// kInvalidArgument naming the first name not on the allow-list (or a name given twice).
[[nodiscard]] Status check_file_names(const std::vector<std::string>& names);
bool movable_file(std::string_view name);

// <data-dir>/vms/<vm>
std::filesystem::path vm_dir(const std::filesystem::path& data_dir, std::int64_t vm);

// The name a file is written under on the target until it is complete and verified.
std::string part_name(std::string_view name);

class Sha256 {
 public:
  Sha256();
  void update(std::span<const char> bytes);
  void update_zeros(std::uint64_t count);
  std::string hex();  // ends the hash; call once

 private:
  struct Free {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
  };
  std::unique_ptr<EVP_MD_CTX, Free> ctx_;
};

struct FileHash {
  std::uint64_t size = 0;  // bytes hashed
  std::string sha256;
};

// Feeds `hash` the bytes of `fd` from offset 0 up to `limit` or its end; the count fed.
[[nodiscard]] Result<std::uint64_t> hash_fd(Sha256& hash, int fd, std::uint64_t limit);

// Hashes `fd` from offset 0 up to `limit` bytes or its end (pread: the offset is not moved).
[[nodiscard]] Result<FileHash> sha256_file(
    int fd, std::uint64_t limit = std::numeric_limits<std::uint64_t>::max());

// errno as an Error: "<what>: <strerror>" (kNotFound for ENOENT, else kInternal).
Error errno_error(std::string_view what, int err);

// Closes on destruction.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(other.release()) {}
  Fd& operator=(Fd&& other) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd();
  int get() const { return fd_; }
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_ = -1;
};

}  // namespace corral::transfer
