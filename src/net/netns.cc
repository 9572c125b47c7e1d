#include "net/netns.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <algorithm>
#include <filesystem>

namespace corral::net {
namespace {

Error sys_error(const std::string& what) {
  return Error{ErrorCode::kUnavailable, what + ": " + std::strerror(errno), {}, {}};
}

// As iproute2's netns_add: /run/netns is a shared mount point, so a namespace mounted there
// is seen by every mount namespace that shares it (and `ip netns` sees ours).
Status prepare_dir() {
  if (::mkdir(kNetnsDir, 0755) != 0 && errno != EEXIST) return fail(sys_error("mkdir /run/netns"));
  if (::mount("", kNetnsDir, "none", MS_SHARED | MS_REC, nullptr) == 0) return {};
  if (errno != EINVAL) return fail(sys_error("mount --make-shared /run/netns"));
  if (::mount(kNetnsDir, kNetnsDir, "none", MS_BIND | MS_REC, nullptr) != 0) {
    return fail(sys_error("mount --bind /run/netns"));
  }
  if (::mount("", kNetnsDir, "none", MS_SHARED | MS_REC, nullptr) != 0) {
    return fail(sys_error("mount --make-shared /run/netns"));
  }
  return {};
}

}  // namespace

bool valid_netns_name(std::string_view name) {
  return !name.empty() && name.size() <= 40 && std::ranges::all_of(name, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

std::string netns_path(std::string_view name) {
  return std::string(kNetnsDir) + "/" + std::string(name);
}

bool netns_exists(std::string_view name) {
  if (!valid_netns_name(name)) return false;
  // A mount point has another device than its directory: a file left by a crash between
  // create and mount is not a namespace.
  struct stat file {};
  struct stat dir {};
  return ::stat(netns_path(name).c_str(), &file) == 0 && ::stat(kNetnsDir, &dir) == 0 &&
         file.st_dev != dir.st_dev;
}

Status create_netns(const std::string& name) {
  if (!valid_netns_name(name)) {
    return fail(Error::invalid_argument("bad network namespace name '" + name + "'"));
  }
  if (netns_exists(name)) return {};
  if (Status dir = prepare_dir(); !dir) return dir;
  const std::string path = netns_path(name);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0);
  if (fd < 0) return fail(sys_error("create " + path));
  ::close(fd);
  // unshare() moves the calling thread: a thread of its own, which ends right after.
  Status made;
  std::thread worker([&] {
    if (::unshare(CLONE_NEWNET) != 0) {
      made = fail(sys_error("unshare(CLONE_NEWNET)"));
      return;
    }
    const std::string self = "/proc/self/task/" + std::to_string(::syscall(SYS_gettid)) + "/ns/net";
    if (::mount(self.c_str(), path.c_str(), "none", MS_BIND, nullptr) != 0) {
      made = fail(sys_error("mount --bind " + self + " " + path));
    }
  });
  worker.join();
  if (!made) ::unlink(path.c_str());
  return made;
}

Status delete_netns(const std::string& name) {
  if (!valid_netns_name(name)) {
    return fail(Error::invalid_argument("bad network namespace name '" + name + "'"));
  }
  const std::string path = netns_path(name);
  if (::umount2(path.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT) {
    return fail(sys_error("umount " + path));
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return fail(sys_error("unlink " + path));
  return {};
}

}  // namespace corral::net
