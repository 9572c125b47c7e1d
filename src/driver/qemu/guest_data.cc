#include "driver/qemu/guest_data.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <system_error>

namespace corral::driver::qemu {

namespace fs = std::filesystem;

namespace {

struct ArchiveDeleter {
  void operator()(archive* a) const { archive_write_free(a); }
};
struct EntryDeleter {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};

Status add(archive* a, const std::string& path, mode_t type, mode_t perm,
           const std::string& content = {}) {
  std::unique_ptr<archive_entry, EntryDeleter> e(archive_entry_new());
  archive_entry_set_pathname(e.get(), path.c_str());
  archive_entry_set_filetype(e.get(), type);
  archive_entry_set_perm(e.get(), perm);
  archive_entry_set_uid(e.get(), 0);
  archive_entry_set_gid(e.get(), 0);
  archive_entry_set_nlink(e.get(), type == AE_IFDIR ? 2 : 1);
  archive_entry_set_size(e.get(), type == AE_IFREG ? static_cast<la_int64_t>(content.size()) : 0);
  if (archive_write_header(a, e.get()) != ARCHIVE_OK) {
    return fail(Error::internal("guest archive: " + path + ": " + archive_error_string(a)));
  }
  if (!content.empty() && archive_write_data(a, content.data(), content.size()) !=
                              static_cast<la_ssize_t>(content.size())) {
    return fail(Error::internal("guest archive: " + path + ": " + archive_error_string(a)));
  }
  return {};
}

bool one_line(const std::string& s) { return s.find_first_of("\n\r") == std::string::npos; }

}  // namespace

Result<std::string> guest_archive(const GuestData& data) {
  if (data.hostname.empty() || !one_line(data.hostname)) {
    return fail(Error::invalid_argument("guest hostname must be one non-empty line"));
  }
  std::string keys;
  for (const auto& k : data.ssh_keys) {
    if (k.empty() || !one_line(k)) {
      return fail(Error::invalid_argument("an ssh key must be one non-empty line"));
    }
    keys += k + "\n";
  }

  std::string out;
  std::unique_ptr<archive, ArchiveDeleter> a(archive_write_new());
  // No block padding: the archive ends right after its trailer (newc pads it to 4 bytes).
  if (archive_write_set_format_cpio_newc(a.get()) != ARCHIVE_OK ||
      archive_write_set_bytes_per_block(a.get(), 0) != ARCHIVE_OK ||
      archive_write_open(
          a.get(), &out, nullptr,
          [](archive*, void* client, const void* buf, size_t n) -> la_ssize_t {
            static_cast<std::string*>(client)->append(static_cast<const char*>(buf), n);
            return static_cast<la_ssize_t>(n);
          },
          nullptr) != ARCHIVE_OK) {
    return fail(Error::internal(std::string("guest archive: ") + archive_error_string(a.get())));
  }
  // Directories first: the kernel creates files with O_CREAT only, parents must exist. root/
  // exists in the base image already; listing it again sets its mode (dropbear refuses keys
  // under a directory others can write).
  for (const Status& s : {
           add(a.get(), "etc", AE_IFDIR, 0755),
           add(a.get(), "etc/corral", AE_IFDIR, 0755),
           add(a.get(), "etc/corral/hostname", AE_IFREG, 0644, data.hostname + "\n"),
           add(a.get(), "root", AE_IFDIR, 0700),
           add(a.get(), "root/.ssh", AE_IFDIR, 0700),
           add(a.get(), "root/.ssh/authorized_keys", AE_IFREG, 0600, keys),
       }) {
    if (!s) return fail(s.error());
  }
  if (!data.network.empty()) {
    if (Status s = add(a.get(), "etc/corral/network", AE_IFREG, 0644, data.network); !s) {
      return fail(s.error());
    }
  }
  if (archive_write_close(a.get()) != ARCHIVE_OK) {
    return fail(Error::internal(std::string("guest archive: ") + archive_error_string(a.get())));
  }
  return out;
}

Result<std::string> vm_initrd(const std::string& base, const GuestData& data) {
  auto archive = guest_archive(data);
  if (!archive) return fail(archive.error());
  std::string out = base;
  out.append((4 - out.size() % 4) % 4, '\0');
  out += *archive;
  return out;
}

// The base is copied by the kernel (std::filesystem::copy_file: sendfile or
// copy_file_range), never through this process's memory: on a virtualized host each fresh
// page costs a fault, and the copies of ~3 MiB through strings were 35-65 ms of every boot.
// No fsync either: the file is derived, and every launch writes it again before QEMU reads
// it (QEMU keeps the initrd in memory from then on, across guest reboots), so a host crash
// can lose it but never leave a VM booting from a torn one.
Status write_vm_initrd(const std::string& base_path, const GuestData& data,
                       const std::string& out_path) {
  auto archive = guest_archive(data);
  if (!archive) return fail(archive.error());
  const std::string tmp = out_path + ".tmp";
  std::error_code ec;
  fs::copy_file(base_path, tmp, fs::copy_options::overwrite_existing, ec);
  if (ec) return fail(Error::internal("cannot read initrd " + base_path + ": " + ec.message()));
  fs::permissions(tmp, fs::perms::owner_read | fs::perms::owner_write, ec);
  const std::uintmax_t base_size = fs::file_size(tmp, ec);
  int fd = ec ? -1 : ::open(tmp.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) {
    const std::string why = ec ? ec.message() : std::system_category().message(errno);
    fs::remove(tmp, ec);
    return fail(Error::internal("cannot write " + tmp + ": " + why));
  }
  std::string tail((4 - base_size % 4) % 4, '\0');
  tail += *archive;
  const char* p = tail.data();
  size_t left = tail.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return fail(
          Error::internal("cannot write " + tmp + ": " + std::system_category().message(err)));
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (::close(fd) != 0 || ::rename(tmp.c_str(), out_path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return fail(
        Error::internal("cannot write " + out_path + ": " + std::system_category().message(err)));
  }
  return {};
}

Result<Image> with_guest_data(const Image& image, const GuestData& data,
                              const std::string& vm_dir) {
  switch (image.kind) {
    case Image::Kind::kDisk:
      return image;
    case Image::Kind::kKernel:
      break;
  }
  Image out = image;
  out.initrd = vm_dir + "/initrd.img";
  if (Status written = write_vm_initrd(image.initrd, data, out.initrd); !written) {
    return fail(written.error());
  }
  return out;
}

}  // namespace corral::driver::qemu
