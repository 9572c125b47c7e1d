// The accelerator probe: KVM only when a guest really gets to its readiness line under it.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "driver/qemu/qemu_driver.h"

namespace corral::driver::qemu {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

class ProbeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "corral-probe-XXXXXX").string();
    dir_ = ::mkdtemp(templ.data());
    std::ofstream(dir_ + "/kvm") << "";  // stands for a usable /dev/kvm
    image_.kernel = dir_ + "/vmlinuz";
    image_.initrd = dir_ + "/initrd.img";
    image_.cmdline = "console=ttyS0";
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A stand-in for qemu-system-x86_64: a shell script.
  std::string fake_qemu(const std::string& name, const std::string& body) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << "#!/bin/sh\n" << body << "\n";
    ::chmod(path.c_str(), 0755);
    return path;
  }

  std::string probe(const std::string& qemu, milliseconds timeout = milliseconds(3000)) {
    QemuConfig config;
    config.qemu_binary = qemu;
    return probe_accelerator(config, image_, dir_ + "/accel.json", timeout, dir_ + "/kvm");
  }

  std::string dir_;
  Image image_;
};

// Writes the readiness line to the file of "-serial file:PATH", as the guest would.
constexpr const char* kReadyGuest = R"(for a in "$@"; do
  case "$a" in file:*) echo "corral-guest: ready" > "${a#file:}" ;; esac
done)";

TEST_F(ProbeTest, NoKvmDeviceMeansTcgWithoutRunningAnything) {
  QemuConfig config;
  config.qemu_binary = fake_qemu("never", "touch " + dir_ + "/ran; exit 1");
  EXPECT_EQ(probe_accelerator(config, image_, dir_ + "/accel.json", milliseconds(1000),
                              dir_ + "/no-such-kvm"),
            "tcg");
  EXPECT_FALSE(fs::exists(dir_ + "/ran"));
}

TEST_F(ProbeTest, AGuestThatHangsUnderKvmMeansTcg) {
  EXPECT_EQ(probe(fake_qemu("hang", "exec sleep 60"), milliseconds(500)), "tcg");
}

TEST_F(ProbeTest, AGuestThatFailsUnderKvmMeansTcg) {
  EXPECT_EQ(probe(fake_qemu("fail", "echo 'Could not access KVM kernel module' >&2; exit 1")),
            "tcg");
}

TEST_F(ProbeTest, AGuestThatGetsReadyMeansKvmAndTheAnswerIsCached) {
  EXPECT_EQ(probe(fake_qemu("ready", kReadyGuest)), "kvm");
  // Same binary, image and kernel: the cache answers, nothing runs.
  const std::string ready = dir_ + "/ready";
  fs::remove(ready);
  fake_qemu("ready", "touch " + dir_ + "/ran; exit 1");
  EXPECT_EQ(probe(ready), "kvm");
  EXPECT_FALSE(fs::exists(dir_ + "/ran"));
}

}  // namespace
}  // namespace corral::driver::qemu
