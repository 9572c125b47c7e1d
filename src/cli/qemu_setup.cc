#include "cli/qemu_setup.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "driver/qemu/posix.h"

namespace corral::cli {

namespace fs = std::filesystem;
namespace qemu = corral::driver::qemu;
using std::chrono::milliseconds;

namespace {

constexpr std::string_view kTinyImage = "tiny";
constexpr milliseconds kProbeTimeout{15000};

// The guest-image script: $CORRAL_GUEST_SCRIPT, else the one in the source tree this binary
// was built from.
std::string guest_script() {
  if (const char* env = std::getenv("CORRAL_GUEST_SCRIPT"); env != nullptr && *env != '\0') {
    return env;
  }
  return std::string(CORRAL_SOURCE_DIR) + "/scripts/build-guest-image";
}

// Whether an image the guest script built has an input that changed since (its stamp lists
// "<path> <size> <mtime>" a line): a newer Corral's guest scripts, a kernel update. Running
// the script would tell too, but takes ~0.5 s at every start. An image without the stamp is
// not the script's, and is left alone.
bool stale(const std::string& image_dir) {
  std::ifstream in(image_dir + "/.build-guest-image.inputs");
  std::string line;
  while (std::getline(in, line)) {
    // Split from the right: a path may hold spaces.
    const std::size_t mtime_at = line.rfind(' ');
    const std::size_t size_at = mtime_at == std::string::npos || mtime_at == 0
                                    ? std::string::npos
                                    : line.rfind(' ', mtime_at - 1);
    if (size_at == std::string::npos) return true;
    struct stat st {};
    if (::stat(line.substr(0, size_at).c_str(), &st) != 0) return true;
    if (line.substr(size_at + 1, mtime_at - size_at - 1) != std::to_string(st.st_size) ||
        line.substr(mtime_at + 1) != std::to_string(st.st_mtime)) {
      return true;
    }
  }
  return false;
}

Status ensure_tiny(const qemu::ImageStore& images, const QemuSetup& setup) {
  const std::string dir = images.dir() + "/" + std::string(kTinyImage);
  if (images.find(kTinyImage) && !stale(dir)) return {};
  if (setup.info) setup.info("building the guest image 'tiny' into " + dir);
  Result<qemu::CommandResult> built =
      qemu::run_command({guest_script(), "--out", dir}, milliseconds(300000));
  if (!built) return fail(std::move(built.error()));
  if (built->exit_code != 0 || !images.find(kTinyImage)) {
    return fail(Error::internal("cannot build the guest image 'tiny' with " + guest_script() +
                                ": " + built->output));
  }
  return {};
}

}  // namespace

bool qemu_installed() {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (!dir.empty() && ::access((dir + "/qemu-system-x86_64").c_str(), X_OK) == 0) return true;
  }
  return false;
}

Result<std::unique_ptr<qemu::QemuDriver>> make_qemu_driver(const QemuSetup& setup) {
  if (setup.accel != "auto" && setup.accel != "kvm" && setup.accel != "tcg") {
    return fail(Error::invalid_argument("--accel must be auto, kvm or tcg"));
  }
  if (setup.shutdown_fallback != "poweroff" && setup.shutdown_fallback != "fail") {
    return fail(Error::invalid_argument("--shutdown-fallback must be poweroff or fail"));
  }
  if (!(setup.shutdown_timeout_s > 0)) {
    return fail(Error::invalid_argument("--shutdown-timeout must be a positive number"));
  }
  if (!(setup.unplug_timeout_s > 0)) {
    return fail(Error::invalid_argument("--unplug-timeout must be a positive number"));
  }
  std::error_code ec;
  qemu::QemuConfig config;
  config.data_dir = fs::absolute(setup.data_dir, ec).lexically_normal().string();
  while (config.data_dir.size() > 1 && config.data_dir.back() == '/') config.data_dir.pop_back();
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) == 0 && host[0] != '\0') config.host_name = host;
  config.shutdown_timeout = milliseconds(static_cast<long long>(setup.shutdown_timeout_s * 1000));
  config.unplug_timeout = milliseconds(static_cast<long long>(setup.unplug_timeout_s * 1000));
  config.shutdown_fallback = setup.shutdown_fallback == "fail" ? qemu::ShutdownFallback::kFail
                                                               : qemu::ShutdownFallback::kPowerOff;
  config.monitor_interval = milliseconds(static_cast<long long>(setup.monitor_interval_s * 1000));
  // A monitor check never takes longer than the interval it runs in.
  config.monitor_timeout = std::min(config.monitor_timeout, config.monitor_interval);
  config.warn = setup.warn;
  if (!setup.migration_address.empty()) config.migration_address = setup.migration_address;
  config.fetch_files = setup.fetch_files;
  config.open_tap = setup.open_tap;
  if (!setup.shared_dir.empty()) {
    config.shared_dir = fs::absolute(setup.shared_dir, ec).lexically_normal().string();
    while (config.shared_dir.size() > 1 && config.shared_dir.back() == '/') {
      config.shared_dir.pop_back();
    }
    fs::create_directories(qemu::vms_dir(config.shared_dir), ec);
    if (ec) {
      return fail(Error::invalid_argument("cannot use --shared-dir " + config.shared_dir + ": " +
                                          ec.message()));
    }
  }
  if (qemu::VmPaths::of(config.data_dir, 999999999).qmp.size() > qemu::kMaxSocketPath) {
    return fail(Error::invalid_argument("the data dir path " + config.data_dir +
                                        " is too long for the VMs' unix sockets"));
  }
  const qemu::ImageStore images(config.data_dir + "/images");
  fs::create_directories(images.dir(), ec);
  if (Status tiny = ensure_tiny(images, setup); !tiny) return fail(std::move(tiny.error()));
  if (setup.accel == "auto") {
    Result<qemu::Image> probe = images.find(kTinyImage);
    if (!probe) return fail(std::move(probe.error()));
    config.accel =
        qemu::probe_accelerator(config, *probe, config.data_dir + "/accel.json", kProbeTimeout);
  } else {
    config.accel = setup.accel;
  }
  return std::make_unique<qemu::QemuDriver>(std::move(config));
}

}  // namespace corral::cli
