// Test cases for "every verb of every vocabulary": one per (vocabulary, verb, variant) from a
// state a recipe reaches where that system allows the verb, plus one while another operation
// runs for each verb that may pre-empt. Generated from the vocabulary rules themselves, so a
// new verb is covered without new test code.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "lifecycle/vocabulary.h"

namespace corral::testing {

struct VerbCase {
  lifecycle::Vocabulary vocabulary = lifecycle::Vocabulary::kCorral;
  std::string verb;
  std::string variant;
  lifecycle::State from = lifecycle::State::kRunning;
  std::optional<lifecycle::Action> during;  // run while this action is in flight (hung)
};

std::string case_name(const VerbCase& c);
std::vector<VerbCase> all_cases();

// The request body a case sends: the canonical action's default parameters, the variant's
// parameter, the verb and its vocabulary.
nlohmann::json case_body(const VerbCase& c, lifecycle::Action action, std::int64_t vm);

}  // namespace corral::testing
