#include "driver/qemu/launch.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "driver/qemu/posix.h"

namespace corral::driver::qemu {
namespace {

bool has(const std::vector<std::string>& argv, const std::string& arg) {
  return std::find(argv.begin(), argv.end(), arg) != argv.end();
}

// The value after `flag` (the first occurrence), or "".
std::string after(const std::vector<std::string>& argv, const std::string& flag) {
  auto it = std::find(argv.begin(), argv.end(), flag);
  return it == argv.end() || it + 1 == argv.end() ? std::string() : *(it + 1);
}

LaunchSpec kernel_spec() {
  LaunchSpec spec;
  spec.vm = 7;
  spec.paths = VmPaths::of("/data", 7);
  spec.vcpus = 2;
  spec.memory_mib = 256;
  spec.image.kind = Image::Kind::kKernel;
  spec.image.kernel = "/data/images/tiny/vmlinuz";
  spec.image.initrd = "/data/images/tiny/initrd.img";
  spec.image.cmdline = "console=ttyS0";
  return spec;
}

// Shared storage: only the disk moves to <shared>/vms/<id>; what is per host stays.
// Catches: the QMP socket or serial log in the shared dir (two hosts' QEMUs would bind the
// same socket); the disk left in the data dir (the target would open an empty one).
TEST(LaunchTest, WithASharedDirOnlyTheDiskLivesThere) {
  const VmPaths own = VmPaths::of("/var/lib/corral", 42);
  EXPECT_FALSE(own.shared_disk());
  EXPECT_EQ(own.disk_dir, own.dir);
  const VmPaths p = VmPaths::of("/var/lib/corral", 42, "/mnt/shared");
  EXPECT_TRUE(p.shared_disk());
  EXPECT_EQ(p.disk_dir, "/mnt/shared/vms/42");
  EXPECT_EQ(p.disk, "/mnt/shared/vms/42/disk.qcow2");
  for (const std::string& f :
       {p.pidfile, p.qmp, p.serial, p.serial_log, p.qemu_log, p.memory_state}) {
    EXPECT_EQ(f, own.dir + f.substr(p.dir.size())) << f;
    EXPECT_EQ(f.rfind("/var/lib/corral/vms/42/", 0), 0U) << f;
  }
  LaunchSpec spec = kernel_spec();
  spec.paths = p;
  bool found = false;
  for (const std::string& arg : qemu_argv(spec)) {
    found = found || arg.find("filename=/mnt/shared/vms/42/disk.qcow2") != std::string::npos;
  }
  EXPECT_TRUE(found);
}

TEST(LaunchTest, EveryVmFileIsInItsOwnDirectory) {
  const VmPaths p = VmPaths::of("/var/lib/corral", 42);
  EXPECT_EQ(p.dir, "/var/lib/corral/vms/42");
  for (const std::string& f :
       {p.pidfile, p.qmp, p.serial, p.serial_log, p.qemu_log, p.disk, p.memory_state}) {
    EXPECT_EQ(f.rfind(p.dir + "/", 0), 0U) << f;
  }
}

TEST(LaunchTest, StartsPausedDaemonizedAndKeepsThePowerOffForTheDriver) {
  const std::vector<std::string> argv = qemu_argv(kernel_spec());
  EXPECT_EQ(argv.front(), "qemu-system-x86_64");
  EXPECT_TRUE(has(argv, "-S")) << "started with cont, after QMP is connected";
  EXPECT_TRUE(has(argv, "-daemonize"));
  EXPECT_TRUE(has(argv, "-no-shutdown")) << "a guest power-off leaves the process to us";
  EXPECT_EQ(after(argv, "-pidfile"), "/data/vms/7/qemu.pid");
  EXPECT_EQ(after(argv, "-qmp"), "unix:/data/vms/7/qmp.sock,server=on,wait=off");
  EXPECT_EQ(after(argv, "-smp"), "2");
  EXPECT_EQ(after(argv, "-m"), "256");
  EXPECT_EQ(after(argv, "-kernel"), "/data/images/tiny/vmlinuz");
  EXPECT_EQ(after(argv, "-append"), "console=ttyS0");
  EXPECT_EQ(after(argv, "-machine"), "pc,accel=tcg");
  EXPECT_FALSE(has(argv, "-incoming"));
  EXPECT_NE(after(argv, "-chardev").find("logfile=/data/vms/7/serial.log"), std::string::npos);
}

TEST(LaunchTest, TableOfVariants) {
  struct Case {
    const char* name;
    void (*change)(LaunchSpec&);
    const char* flag;
    const char* value;  // nullptr: the flag must be absent
  };
  const Case cases[] = {
      {"restore waits for the stream", [](LaunchSpec& s) { s.incoming = true; }, "-incoming",
       "defer"},
      {"kvm", [](LaunchSpec& s) { s.accel = "kvm"; }, "-machine", "pc,accel=kvm"},
      {"a disk image boots without -kernel",
       [](LaunchSpec& s) {
         s.image.kind = Image::Kind::kDisk;
         s.image.disk = "/data/images/deb/disk.qcow2";
       },
       "-kernel", nullptr},
      {"no own disk", [](LaunchSpec& s) { s.attach_own_disk = false; }, "-blockdev", nullptr},
  };
  for (const Case& c : cases) {
    LaunchSpec spec = kernel_spec();
    c.change(spec);
    const std::vector<std::string> argv = qemu_argv(spec);
    if (c.value == nullptr) {
      EXPECT_FALSE(has(argv, c.flag)) << c.name;
    } else {
      EXPECT_EQ(after(argv, c.flag), c.value) << c.name;
    }
  }
}

TEST(LaunchTest, CommasInPathsAreDoubledForQemuOptions) {
  LaunchSpec spec = kernel_spec();
  spec.paths = VmPaths::of("/data,x", 7);
  const std::vector<std::string> argv = qemu_argv(spec);
  EXPECT_EQ(after(argv, "-qmp"), "unix:/data,,x/vms/7/qmp.sock,server=on,wait=off");
  EXPECT_EQ(after(argv, "-blockdev"),
            "driver=file,filename=/data,,x/vms/7/disk.qcow2,node-name=file0");
}

TEST(LaunchTest, ShellQuoteSurvivesTheShell) {
  for (const std::string text :
       {"plain", "with space", "it's", "$(rm -rf /)", "a'b'c", "`x`", "semi;colon", "\"double\""}) {
    Result<CommandResult> out =
        run_command({"sh", "-c", "printf %s " + shell_quote(text)}, std::chrono::seconds(5));
    ASSERT_TRUE(out.has_value());
    EXPECT_EQ(out->output, text);
  }
}

}  // namespace
}  // namespace corral::driver::qemu
