// The checks the request fuzzer applies to one input, shared by the libFuzzer target
// (fuzz/requests_fuzz.cc) and the corpus replay under ctest (tests/fuzz_corpus_test.cc), so
// that both hold every input to the same promises.
//
// Contract: check_request() puts one input through what the API does to a request before the
// engine sees it: routing (api/router.h), path ids, query strings and request ids
// (api/queries.h), JSON bodies (api/requests.h) and the refusals they produce (api/errors.h).
// Beyond "no crash", each result is held to what its header promises; the first promise the
// input breaks throws BrokenPromise, whose what() names the promise and the line checking it.
// Any other exception escaping is a bug of the parsers as well.
#pragma once

#include <stdexcept>
#include <string_view>

namespace corral::fuzz {

// A promise of an api/ header that an input broke ("request_checks.cc:LINE: broken: WHAT").
class BrokenPromise : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

// Input: "METHOD PATH?QUERY\nREQUEST-ID\nBODY"; a missing part is empty. Every input goes
// through every parser, whatever it routes to: they are pure, and a mutation of the body
// should not be wasted because the path no longer names the route that reads bodies.
void check_request(std::string_view input);

}  // namespace corral::fuzz
