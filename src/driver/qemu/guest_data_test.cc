#include "driver/qemu/guest_data.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

namespace corral::driver::qemu {
namespace {

struct Entry {
  unsigned mode = 0;  // type and permission bits
  std::string content;
};

// Reads a newc archive back with libarchive.
std::map<std::string, Entry> read_back(const std::string& bytes) {
  std::map<std::string, Entry> out;
  archive* a = archive_read_new();
  archive_read_support_format_cpio(a);
  EXPECT_EQ(archive_read_open_memory(a, bytes.data(), bytes.size()), ARCHIVE_OK);
  archive_entry* e = nullptr;
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
    Entry entry;
    entry.mode = archive_entry_mode(e);
    char buf[4096];
    la_ssize_t n;
    while ((n = archive_read_data(a, buf, sizeof buf)) > 0) entry.content.append(buf, n);
    EXPECT_EQ(archive_entry_uid(e), 0);
    out[archive_entry_pathname(e)] = entry;
  }
  archive_read_free(a);
  return out;
}

TEST(GuestData, ArchiveHoldsHostnameKeysAndOptionalNetwork) {
  struct Case {
    GuestData data;
    std::string keys;
    bool has_network;
  };
  const Case cases[] = {
      {{"vm-7", {"ssh-ed25519 AAAA one"}, ""}, "ssh-ed25519 AAAA one\n", false},
      {{"vm-8", {"ssh-ed25519 AAAA one", "ssh-rsa BBBB two"}, "ip=10.77.0.10/24\n"},
       "ssh-ed25519 AAAA one\nssh-rsa BBBB two\n",
       true},
      {{"vm-9", {}, ""}, "", false},
  };
  for (const auto& c : cases) {
    auto bytes = guest_archive(c.data);
    ASSERT_TRUE(bytes) << bytes.error().message;
    EXPECT_EQ(bytes->substr(0, 6), "070701");
    EXPECT_EQ(bytes->size() % 4, 0U);
    auto entries = read_back(*bytes);
    EXPECT_EQ(entries["etc/corral/hostname"].content, c.data.hostname + "\n");
    EXPECT_EQ(entries["root/.ssh/authorized_keys"].content, c.keys);
    EXPECT_EQ(entries["root/.ssh/authorized_keys"].mode, 0100600U);
    EXPECT_EQ(entries["root/.ssh"].mode, 040700U);
    EXPECT_EQ(entries["root"].mode, 040700U);
    EXPECT_EQ(entries.contains("etc/corral/network"), c.has_network);
    if (c.has_network) {
      EXPECT_EQ(entries["etc/corral/network"].content, c.data.network);
    }
  }
}

TEST(GuestData, RefusesTextThatIsNotOneLine) {
  const GuestData cases[] = {
      {"", {"ssh-ed25519 A"}, ""},
      {"a\nb", {"ssh-ed25519 A"}, ""},
      {"vm", {"ssh-ed25519 A\ncommand"}, ""},
      {"vm", {""}, ""},
  };
  for (const auto& c : cases) {
    auto bytes = guest_archive(c);
    ASSERT_FALSE(bytes);
    EXPECT_EQ(bytes.error().code, ErrorCode::kInvalidArgument);
  }
}

TEST(GuestData, VmInitrdPadsTheBaseToFourBytes) {
  GuestData data{"vm", {"ssh-ed25519 A"}, ""};
  for (std::string base : {"", "a", "ab", "abc", "abcd", "abcde"}) {
    auto out = vm_initrd(base, data);
    ASSERT_TRUE(out);
    size_t start = (base.size() + 3) / 4 * 4;
    EXPECT_EQ(out->substr(0, base.size()), base);
    EXPECT_EQ(out->substr(base.size(), start - base.size()),
              std::string(start - base.size(), '\0'));
    EXPECT_EQ(out->substr(start, 6), "070701");
  }
}

TEST(GuestData, WithGuestDataWritesTheVmInitrdForKernelImagesOnly) {
  namespace fs = std::filesystem;
  std::string templ = (fs::temp_directory_path() / "corral-gd-XXXXXX").string();
  const std::string dir = ::mkdtemp(templ.data());
  {
    std::ofstream(dir + "/base.img", std::ios::binary) << "basebytes";  // 9 bytes
  }
  const GuestData data{"vm-3", {"ssh-ed25519 A"}, ""};
  Image kernel;
  kernel.name = "tiny";
  kernel.kernel = dir + "/vmlinuz";
  kernel.initrd = dir + "/base.img";
  auto booted = with_guest_data(kernel, data, dir);
  ASSERT_TRUE(booted) << booted.error().message;
  EXPECT_EQ(booted->initrd, dir + "/initrd.img");
  EXPECT_EQ(booted->kernel, kernel.kernel);
  std::ifstream in(booted->initrd, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  EXPECT_EQ(bytes.str(), *vm_initrd("basebytes", data));
  EXPECT_EQ(fs::status(booted->initrd).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write)
      << "the keys' file is the owner's only";
  // Written again over an older one (every launch writes it): the same bytes, not appended.
  ASSERT_TRUE(with_guest_data(kernel, data, dir));
  std::ifstream again(booted->initrd, std::ios::binary);
  std::stringstream bytes_again;
  bytes_again << again.rdbuf();
  EXPECT_EQ(bytes_again.str(), bytes.str());

  Image disk;
  disk.name = "deb";
  disk.kind = Image::Kind::kDisk;
  disk.disk = dir + "/disk.qcow2";
  auto same = with_guest_data(disk, data, dir);
  ASSERT_TRUE(same);
  EXPECT_EQ(same->disk, disk.disk);
  EXPECT_TRUE(same->initrd.empty());

  Image missing = kernel;
  missing.initrd = dir + "/nope.img";
  EXPECT_FALSE(with_guest_data(missing, data, dir));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace corral::driver::qemu
