#include "transfer/files.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

namespace corral::transfer {

bool movable_file(std::string_view name) {
  return std::ranges::find(kMovableFiles, name) != kMovableFiles.end();
}

Status check_file_names(const std::vector<std::string>& names) {
  std::set<std::string> seen;
  for (const std::string& name : names) {
    if (!movable_file(name)) {
      return fail(Error::invalid_argument("\"" + name +
                                          "\" is not a file a migration moves (only disk.qcow2 "
                                          "and memory.state)"));
    }
    if (!seen.insert(name).second) {
      return fail(Error::invalid_argument("\"" + name + "\" is listed twice"));
    }
  }
  return {};
}

std::filesystem::path vm_dir(const std::filesystem::path& data_dir, std::int64_t vm) {
  return data_dir / "vms" / std::to_string(vm);
}

std::string part_name(std::string_view name) { return "." + std::string(name) + ".part"; }

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  // Only fails on allocation failure, which the rest of the program does not survive either.
  EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr);
}

void Sha256::update(std::span<const char> bytes) {
  EVP_DigestUpdate(ctx_.get(), bytes.data(), bytes.size());
}

void Sha256::update_zeros(std::uint64_t count) {
  static const std::vector<char> zeros(1 << 16, 0);
  while (count > 0) {
    const std::size_t n = std::min<std::uint64_t>(count, zeros.size());
    update(std::span(zeros.data(), n));
    count -= n;
  }
}

std::string Sha256::hex() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(ctx_.get(), digest, &length);
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out += kDigits[digest[i] >> 4];
    out += kDigits[digest[i] & 0xf];
  }
  return out;
}

Result<std::uint64_t> hash_fd(Sha256& hash, int fd, std::uint64_t limit) {
  std::vector<char> buffer(1 << 20);
  std::uint64_t done = 0;
  while (done < limit) {
    const std::size_t want = std::min<std::uint64_t>(buffer.size(), limit - done);
    const ssize_t n = ::pread(fd, buffer.data(), want, static_cast<off_t>(done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(errno_error("cannot read", errno));
    }
    if (n == 0) break;
    hash.update(std::span(buffer.data(), static_cast<std::size_t>(n)));
    done += static_cast<std::uint64_t>(n);
  }
  return done;
}

Result<FileHash> sha256_file(int fd, std::uint64_t limit) {
  Sha256 hash;
  Result<std::uint64_t> size = hash_fd(hash, fd, limit);
  if (!size) return fail(size.error());
  return FileHash{*size, hash.hex()};
}

Error errno_error(std::string_view what, int err) {
  return Error{err == ENOENT ? ErrorCode::kNotFound : ErrorCode::kInternal,
               std::string(what) + ": " + std::strerror(err),
               {},
               {}};
}

Fd& Fd::operator=(Fd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.release();
  }
  return *this;
}

Fd::~Fd() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace corral::transfer
