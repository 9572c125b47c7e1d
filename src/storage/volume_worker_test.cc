// VolumeWorker over a real FileDatastore: every job kind answers once, in order, with the
// backend's result (a failure's words included), and a job run twice converges.
#include "storage/volume_worker.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <future>
#include <mutex>
#include <vector>

#include "storage/file_datastore.h"

namespace corral::storage {
namespace {

namespace fs = std::filesystem;
using store::VolumeJob;

class Collect final : public driver::VolumeSink {
 public:
  void volume_done(driver::VolumeJobDone done) override {
    std::lock_guard lock(mu);
    seen.push_back(done);
    if (seen.size() == wanted) all.set_value();
  }
  std::mutex mu;
  std::vector<driver::VolumeJobDone> seen;
  std::size_t wanted = 0;
  std::promise<void> all;
};

TEST(VolumeWorkerTest, RunsEveryKindInOrderAndAnswersEachOnce) {
  std::string tmpl = (fs::temp_directory_path() / "corral-vw-XXXXXX").string();
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
  {
    auto ds = FileDatastore::open(tmpl, false);
    ASSERT_TRUE(ds) << ds.error().message;
    VolumeWorker worker(**ds);
    Collect sink;
    const std::vector<driver::VolumeStorageJob> jobs = {
        {4, VolumeJob::kCreate, 8, 0, false, 1},
        {4, VolumeJob::kCreate, 8, 0, false, 2},  // again: the same file
        {4, VolumeJob::kExtend, 16, 0, false, 3},
        {4, VolumeJob::kExtend, 4, 0, false, 4},  // shrink: refused
        {4, VolumeJob::kSnapshot, 0, 11, false, 5},
        {4, VolumeJob::kDeleteSnapshot, 0, 11, false, 6},
        {4, VolumeJob::kDelete, 0, 0, false, 7},
        {4, VolumeJob::kDelete, 0, 0, false, 8},  // again: nothing to remove
    };
    sink.wanted = jobs.size();
    worker.start(&sink);
    for (const auto& job : jobs) worker.submit(job);
    ASSERT_EQ(sink.all.get_future().wait_for(std::chrono::seconds(30)), std::future_status::ready);
    worker.stop();
    ASSERT_EQ(sink.seen.size(), jobs.size());
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      EXPECT_EQ(sink.seen[i].generation, jobs[i].generation);
      EXPECT_EQ(sink.seen[i].kind, jobs[i].kind);
      EXPECT_EQ(sink.seen[i].error.has_value(), i == 3) << i;
    }
    EXPECT_EQ(sink.seen[0].path, tmpl + "/" + FileDatastore::volume_name(4));
    EXPECT_EQ(sink.seen[1].path, sink.seen[0].path);
    EXPECT_NE(sink.seen[3].error.value_or("").find("shrink"), std::string::npos)
        << sink.seen[3].error.value_or("");
    EXPECT_FALSE(fs::exists(sink.seen[0].path));
  }
  fs::remove_all(tmpl);
}

}  // namespace
}  // namespace corral::storage
