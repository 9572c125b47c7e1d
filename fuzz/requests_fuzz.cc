// libFuzzer target for what the API does to a request before the engine sees it; the checks
// are fuzz/request_checks.h's, which ctest also replays over the corpus
// (tests/fuzz_corpus_test.cc).
//
// Input: "METHOD PATH?QUERY\nREQUEST-ID\nBODY"; a missing part is empty. A broken promise
// aborts, which libFuzzer reports like a crash and saves the input for.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "request_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    corral::fuzz::check_request(std::string_view(reinterpret_cast<const char*>(data), size));
  } catch (const corral::fuzz::BrokenPromise& broken) {
    std::fprintf(stderr, "%s\n", broken.what());
    std::abort();
  }
  return 0;
}
