#include "cluster/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <system_error>

namespace corral::cluster {

namespace fs = std::filesystem;

namespace {

Error io_error(const std::string& what, const fs::path& path) {
  return Error::internal(what + " " + path.string() + ": " +
                         std::generic_category().message(errno));
}

// Closes the descriptor on every path out.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

Status write_file_atomic(const fs::path& path, std::string_view bytes, mode_t mode) {
  const fs::path tmp = path.string() + ".tmp";
  {
    // O_TRUNC: a temporary left by a crash is overwritten; fchmod: an old one may have had a
    // wider mode, and O_CREAT's mode applies only to a new file.
    Fd out{::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode)};
    if (out.fd < 0) return fail(io_error("cannot create", tmp));
    if (::fchmod(out.fd, mode) != 0) return fail(io_error("cannot chmod", tmp));
    std::size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::write(out.fd, bytes.data() + done, bytes.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return fail(io_error("cannot write", tmp));
      done += static_cast<std::size_t>(n);
    }
    if (::fsync(out.fd) != 0) return fail(io_error("cannot fsync", tmp));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) return fail(io_error("cannot rename to", path));
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  Fd d{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (d.fd < 0 || ::fsync(d.fd) != 0) return fail(io_error("cannot fsync directory", dir));
  return {};
}

Result<std::string> read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return fail(Error::not_found(path.string() + " does not exist"));
    return fail(io_error("cannot read", path));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

Status ensure_private_dir(const fs::path& dir) {
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return {};
  fs::create_directories(dir, ec);
  if (ec) return fail(Error::internal("cannot create " + dir.string() + ": " + ec.message()));
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  if (ec) return fail(Error::internal("cannot chmod " + dir.string() + ": " + ec.message()));
  return {};
}

}  // namespace corral::cluster
