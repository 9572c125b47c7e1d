// The request fuzzer's corpus, replayed under ctest through the fuzzer's own checks
// (fuzz/request_checks.h): every file under fuzz/corpus/ must keep every promise, in the main
// build, without clang or libFuzzer. A seed that breaks one fails here, naming the file.
//
// fuzz/corpus/requests/ holds libFuzzer's seeds (`make fuzz`); fuzz/corpus/requests-large/
// the inputs around the 64 KiB body limit, replayed here only: as seeds they would raise
// libFuzzer's max_len to 64 KiB for the whole run and halve its executions a second.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "request_checks.h"

namespace corral::testing {
namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

TEST(FuzzCorpusTest, EveryCorpusFileKeepsEveryPromise) {
  const fs::path corpus = CORRAL_FUZZ_CORPUS_DIR;
  ASSERT_TRUE(fs::is_directory(corpus)) << corpus;
  std::vector<fs::path> files;
  for (const fs::directory_entry& entry : fs::recursive_directory_iterator(corpus)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  ASSERT_FALSE(files.empty()) << "no corpus files in " << corpus;

  const auto started = std::chrono::steady_clock::now();
  std::size_t bytes = 0;
  int broken = 0;
  for (const fs::path& file : files) {
    const std::string input = read_file(file);
    bytes += input.size();
    try {
      fuzz::check_request(input);
    } catch (const fuzz::BrokenPromise& promise) {
      ++broken;
      ADD_FAILURE() << fs::relative(file, corpus).string() << ": " << promise.what();
    } catch (const std::exception& e) {
      ++broken;
      ADD_FAILURE() << fs::relative(file, corpus).string() << ": exception: " << e.what();
    }
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - started)
                      .count();
  std::printf("fuzz corpus: %zu files (%zu bytes) replayed in %lld ms, %d broke a promise\n",
              files.size(), bytes, static_cast<long long>(ms), broken);
  EXPECT_EQ(broken, 0);
}

}  // namespace
}  // namespace corral::testing
