// A VM's own disk (VmWorker::ensure_disk): a copy of a template that `qemu-img create` makes
// once per image and size, never a template of a replaced image. qemu-img is a stand-in
// script here that records its calls and writes its arguments into the file it creates.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "driver/qemu/vm_worker_testing.h"

namespace corral::driver::qemu {
namespace {

namespace fs = std::filesystem;
using lifecycle::Action;
using lifecycle::Phase;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class DiskTemplateTest : public VmWorkerTest {
 protected:
  DiskTemplateTest() {
    const std::string images = config_.data_dir + "/images";
    fs::create_directories(images + "/tiny");
    std::ofstream(images + "/tiny/vmlinuz") << "kernel";
    std::ofstream(images + "/tiny/initrd.img") << "initrd";
    fs::create_directories(images + "/deb");
    std::ofstream(images + "/deb/disk.qcow2") << "base v1";
    calls_ = config_.data_dir + "/qemu-img.calls";
    const std::string fake = config_.data_dir + "/qemu-img";
    std::ofstream(fake) << "#!/bin/sh\necho \"$*\" >>'" << calls_ << "'\n"
                        << "for a; do case \"$a\" in *.tmp) echo \"$*\" >\"$a\" ;; esac; done\n";
    fs::permissions(fake, fs::perms::owner_all);
    config_.qemu_img = fake;
    store_ = std::make_unique<ImageStore>(images);
  }

  // The clone phase of VM `vm` with image `image`; its disk's content ("" if it failed).
  std::string make_disk(store::VmId vm, const std::string& image) {
    VmWorker worker(vm, config_, *store_, &sink_);
    PhaseRequest r = request(++op_, Action::kCreate, Phase::kClone, lifecycle::State::kPending);
    r.vm = vm;
    r.model.image = image;
    worker.submit(r);
    const std::optional<PhaseResult> got = sink_.result_of(op_);
    EXPECT_TRUE(got.has_value() && got->ok) << (got ? got->error : "no answer");
    return slurp(VmPaths::of(config_.data_dir, vm).disk);
  }
  int calls() const {
    const std::string text = slurp(calls_);
    return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
  }

  std::string calls_;
  std::unique_ptr<ImageStore> store_;
  store::OpId op_ = 0;
};

TEST_F(DiskTemplateTest, DisksOfOneImageAreCopiesOfOneTemplateMadeOnce) {
  const std::string first = make_disk(11, "tiny");
  EXPECT_NE(first.find("create -q -f qcow2 "), std::string::npos) << first;
  EXPECT_NE(first.find(" 64M"), std::string::npos) << "a kernel image's VM gets a blank disk";
  EXPECT_EQ(make_disk(12, "tiny"), first);
  EXPECT_EQ(calls(), 1) << slurp(calls_);

  const std::string overlay = make_disk(13, "deb");
  EXPECT_NE(overlay.find("-F qcow2 -b " + store_->dir() + "/deb/disk.qcow2"), std::string::npos)
      << overlay;
  EXPECT_EQ(make_disk(14, "deb"), overlay);
  EXPECT_EQ(calls(), 2) << "one template per image";

  // A disk that exists is kept: a second clone phase (a retry) does not replace it.
  std::ofstream(VmPaths::of(config_.data_dir, 11).disk) << "written by the guest";
  EXPECT_EQ(make_disk(11, "tiny"), "written by the guest");
  EXPECT_EQ(calls(), 2);
}

TEST_F(DiskTemplateTest, AReplacedImageGetsANewTemplate) {
  (void)make_disk(21, "deb");
  ASSERT_EQ(calls(), 1);
  // The image replaced in place (another size, so the overlay's recorded size would be wrong).
  std::ofstream(store_->dir() + "/deb/disk.qcow2") << "base v2, a larger image";
  (void)make_disk(22, "deb");
  EXPECT_EQ(calls(), 2) << "the template of the old image must not be reused";
}

TEST_F(DiskTemplateTest, AFailedCreateLeavesNoTemplateAndFailsThePhase) {
  std::ofstream(config_.qemu_img) << "#!/bin/sh\necho 'no space left' >&2\nexit 1\n";
  VmWorker worker(31, config_, *store_, &sink_);
  PhaseRequest r = request(++op_, Action::kCreate, Phase::kClone, lifecycle::State::kPending);
  r.vm = 31;
  r.model.image = "tiny";
  worker.submit(r);
  const std::optional<PhaseResult> got = sink_.result_of(op_);
  ASSERT_TRUE(got.has_value());
  EXPECT_FALSE(got->ok);
  EXPECT_NE(got->error.find("no space left"), std::string::npos) << got->error;
  EXPECT_FALSE(fs::exists(VmPaths::of(config_.data_dir, 31).disk));
  std::error_code ec;
  const fs::path templates = vms_dir(config_.data_dir) + "/.disk-templates";
  EXPECT_TRUE(!fs::exists(templates) || fs::is_empty(templates, ec)) << "no partial template";
}

}  // namespace
}  // namespace corral::driver::qemu
