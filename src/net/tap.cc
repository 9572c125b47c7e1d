#include "net/tap.h"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace corral::net {

Result<int> open_tap(const std::string& name) {
  if (name.empty() || name.size() >= IFNAMSIZ) {
    return fail(Error::invalid_argument("tap name '" + name + "' is empty or too long"));
  }
  const int fd = ::open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    return fail(Error{ErrorCode::kUnavailable,
                      std::string("open /dev/net/tun: ") + std::strerror(errno),
                      {},
                      {}});
  }
  ifreq req{};
  std::memcpy(req.ifr_name, name.c_str(), name.size());
  // IFF_TUN_EXCL: a tap of this name that exists is someone else's (a VM still running).
  req.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_TUN_EXCL;
  if (::ioctl(fd, TUNSETIFF, &req) != 0) {
    const int saved = errno;
    ::close(fd);
    return fail(
        Error{saved == EBUSY || saved == EEXIST ? ErrorCode::kConflict : ErrorCode::kUnavailable,
              "tap " + name + ": " + std::strerror(saved),
              {},
              {}});
  }
  return fd;
}

}  // namespace corral::net
