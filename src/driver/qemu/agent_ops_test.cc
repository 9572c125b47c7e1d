// QemuDriver's agent operations (found, fence, discard) on real processes that look like QEMU
// to it: a copy of /bin/sh named like the QEMU binary, with the VM's pidfile on its command
// line (what processes() matches), blocked reading a pipe. No QEMU needed.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "driver/qemu/launch.h"
#include "driver/qemu/qemu_driver.h"
#include "lifecycle/table.h"

namespace corral::driver::qemu {
namespace {

namespace fs = std::filesystem;

class QemuAgentOps : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "corral-qemu-ops-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    binary_ = dir_ + "/fakeqemu-ops";
    fs::copy_file("/bin/sh", binary_);
    fs::permissions(binary_, fs::perms::owner_all);
    config_.data_dir = dir_ + "/var";
    config_.qemu_binary = binary_;
  }
  void TearDown() override {
    for (const pid_t pid : children_) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // A "QEMU" for `vm`: its directory exists, its command line names its pidfile.
  pid_t spawn(store::VmId vm) {
    const VmPaths paths = VmPaths::of(config_.data_dir, vm);
    fs::create_directories(paths.dir);
    int fds[2];
    if (::pipe(fds) != 0) return -1;
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::dup2(fds[0], STDIN_FILENO);
      ::close(fds[1]);
      ::execl(binary_.c_str(), binary_.c_str(), "-c", "read x", "-pidfile", paths.pidfile.c_str(),
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(fds[0]);  // the write end stays open in this process: `read` blocks
    children_.push_back(pid);
    return pid;
  }

  bool exited(pid_t pid) {
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid) return false;
    std::erase(children_, pid);
    return true;
  }

  std::string dir_;
  std::string binary_;
  QemuConfig config_;
  std::vector<pid_t> children_;
};

TEST_F(QemuAgentOps, FoundListsTheLiveProcessesFenceKillsKeepingFilesDiscardDeletes) {
  QemuDriver driver(config_);
  const pid_t five = spawn(5);
  const pid_t six = spawn(6);
  ASSERT_GT(five, 0);
  ASSERT_GT(six, 0);
  // found() lists a VM with only files too: wait until both children have exec'd (each
  // found with its process), else a discard could come before the "QEMU" it should kill.
  std::vector<FoundVm> found;
  auto both_running = [&] { return found.size() == 2 && found[0].pid > 0 && found[1].pid > 0; };
  for (int i = 0; i < 1000 && !both_running(); ++i) {  // exec takes a moment under load
    found = driver.found();
    if (!both_running()) ::usleep(10'000);
  }
  ASSERT_EQ(found.size(), 2U);
  EXPECT_EQ(found[0].vm, 5);
  EXPECT_EQ(found[0].pid, five);
  EXPECT_EQ(found[0].power, lifecycle::Power::kRunning);
  EXPECT_EQ(found[1].vm, 6);

  driver.fence(5);
  EXPECT_TRUE(exited(five));
  EXPECT_TRUE(fs::exists(VmPaths::of(config_.data_dir, 5).dir)) << "fencing keeps the disks";
  found = driver.found();
  ASSERT_EQ(found.size(), 2U);
  EXPECT_EQ(found[0].vm, 5);
  EXPECT_EQ(found[0].pid, 0) << "fenced: files, no process";
  EXPECT_EQ(found[0].power, lifecycle::Power::kShutdown);

  driver.discard(6);
  EXPECT_TRUE(exited(six));
  EXPECT_FALSE(fs::exists(VmPaths::of(config_.data_dir, 6).dir)) << "discard deletes its files";
  ASSERT_EQ(driver.found().size(), 1U) << "5's files remain";

  // Suspended to a file: found shut off, the power the table gives a suspended VM (the
  // suspend row's power_after); discarding it removes the file.
  const VmPaths seven = VmPaths::of(config_.data_dir, 7);
  fs::create_directories(seven.dir);
  std::ofstream(seven.memory_state) << "state";
  found = driver.found();
  ASSERT_EQ(found.size(), 2U);
  EXPECT_EQ(found[1].vm, 7);
  const lifecycle::Transition* suspend =
      lifecycle::find_idle(lifecycle::Action::kSuspend, lifecycle::State::kRunning);
  ASSERT_NE(suspend, nullptr);
  EXPECT_EQ(found[1].power, suspend->power_after.value_or(lifecycle::Power::kNoState));
  EXPECT_EQ(found[1].power, lifecycle::Power::kShutdown);
  driver.discard(7);
  EXPECT_FALSE(fs::exists(seven.dir));

  driver.fence(42);  // nothing of it here: nothing happens
  driver.discard(42);
}

}  // namespace
}  // namespace corral::driver::qemu
