#include "driver/qemu/images.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

namespace corral::driver::qemu {
namespace {

namespace fs = std::filesystem;

TEST(ImagesTest, NamesCannotLeaveTheImagesDirectory) {
  const struct {
    const char* name;
    bool valid;
  } cases[] = {
      {"tiny", true},     {"debian-12.qcow", true},
      {"a_b", true},      {"", false},
      {".", false},       {"..", false},
      {"../etc", false},  {"a/b", false},
      {".hidden", false}, {"UPPER", false},
      {"sp ace", false},  {"x\n", false},
      {"%2e%2e", false},
  };
  for (const auto& c : cases) EXPECT_EQ(valid_image_name(c.name), c.valid) << c.name;
  EXPECT_FALSE(valid_image_name(std::string("nul\0x", 5)));
  EXPECT_FALSE(valid_image_name(std::string(65, 'a')));
  EXPECT_TRUE(valid_image_name(std::string(64, 'a')));
}

class ImageStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "corral-images-XXXXXX").string();
    dir_ = ::mkdtemp(templ.data());
  }
  void TearDown() override { fs::remove_all(dir_); }
  void touch(const std::string& rel, const std::string& text = "x") {
    fs::create_directories(fs::path(dir_ + "/" + rel).parent_path());
    std::ofstream(dir_ + "/" + rel) << text;
  }
  std::string dir_;
};

TEST_F(ImageStoreTest, FindsKernelAndDiskImages) {
  touch("tiny/vmlinuz");
  touch("tiny/initrd.img");
  touch("custom/vmlinuz");
  touch("custom/initrd.img");
  touch("custom/cmdline", "console=ttyS0 acpi=off\n");
  touch("deb/disk.qcow2");
  touch("raw/disk.raw");
  touch("half/vmlinuz");  // no initrd: not an image
  const ImageStore store(dir_);

  Result<Image> tiny = store.find("tiny");
  ASSERT_TRUE(tiny.has_value());
  EXPECT_EQ(tiny->kind, Image::Kind::kKernel);
  EXPECT_EQ(tiny->cmdline, kDefaultKernelCmdline);
  EXPECT_EQ(store.find("custom")->cmdline, "console=ttyS0 acpi=off");
  EXPECT_EQ(store.find("deb")->disk_format, "qcow2");
  EXPECT_EQ(store.find("raw")->disk_format, "raw");
  EXPECT_EQ(store.find("half").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store.find("missing").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store.find("../tiny").error().code, ErrorCode::kInvalidArgument);

  std::vector<std::string> names;
  for (const Image& image : store.list()) names.push_back(image.name);
  EXPECT_EQ(names, (std::vector<std::string>{"custom", "deb", "raw", "tiny"}));
}

}  // namespace
}  // namespace corral::driver::qemu
