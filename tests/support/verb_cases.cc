#include "support/verb_cases.h"

#include <algorithm>

#include "lifecycle/model.h"
#include "support/recipes.h"

namespace corral::testing {

namespace lc = corral::lifecycle;
using lc::Action;
using lc::State;

// States a recipe can reach, in the order a verb's from-state is chosen.
const State kReachable[] = {
    State::kRunning,   State::kPoweroff,    State::kPending,     State::kHold,    State::kPaused,
    State::kSuspended, State::kHibernated,  State::kDeallocated, State::kShelved, State::kRescued,
    State::kResized,   State::kSoftDeleted, State::kUnknown,     State::kFailed};

std::string case_name(const VerbCase& c) {
  std::string n = std::string(lc::vocabulary_name(c.vocabulary)) + " " + c.verb;
  if (!c.variant.empty()) n += "(" + c.variant + ")";
  n += " from " + std::string(lc::state_name(c.from));
  if (c.during) n += " during " + std::string(lc::action_name(*c.during));
  return n;
}

// One idle case per (vocabulary, verb, variant), plus one pre-empting case per verb that may
// run during another operation.
std::vector<VerbCase> all_cases() {
  std::vector<VerbCase> cases;
  for (lc::Vocabulary v : lc::kAllVocabularies) {
    std::vector<std::pair<std::string, std::string>> verbs;  // verb, variant
    if (v == lc::Vocabulary::kCorral) {
      for (std::string_view verb : lc::verbs(v)) verbs.emplace_back(verb, "");
    } else {
      for (const lc::VerbRule& r : lc::verb_rules(v)) {
        if (std::find(verbs.begin(), verbs.end(),
                      std::pair(std::string(r.verb), std::string(r.variant))) == verbs.end()) {
          verbs.emplace_back(r.verb, r.variant);
        }
      }
    }
    for (const auto& [verb, variant] : verbs) {
      bool idle_found = false;
      for (State s : kReachable) {
        if (lc::resolve(lc::record_at_rest(s), v, verb, variant)) {
          cases.push_back({v, verb, variant, s, std::nullopt});
          idle_found = true;
          break;
        }
      }
      // While an operation runs: shutdown, deallocate or terminate of a RUNNING VM.
      for (Action running : {Action::kShutdown, Action::kDeallocate, Action::kTerminate}) {
        const lc::VmRecord busy = lc::begin(lc::record_at_rest(State::kRunning), {running})->record;
        if (lc::resolve(busy, v, verb, variant)) {
          cases.push_back({v, verb, variant, State::kRunning, running});
          break;
        }
      }
      (void)idle_found;  // verbs only valid on a new VM (create, run) are tested by POST /v1/vms
    }
  }
  return cases;
}

nlohmann::json case_body(const VerbCase& c, Action action, std::int64_t vm) {
  nlohmann::json body = default_params(action, vm);
  if (action == Action::kResetState && c.vocabulary == lc::Vocabulary::kNova) {
    body["state"] = "active";
  }
  body["action"] = c.verb;
  body["vocabulary"] = lc::vocabulary_name(c.vocabulary);
  const std::string_view parameter = lc::variant_parameter(c.vocabulary, c.verb);
  if (!c.variant.empty() && !parameter.empty()) {
    if (c.variant == "true" || c.variant == "false") {
      body[std::string(parameter)] = c.variant == "true";
    } else {
      body[std::string(parameter)] = c.variant;
    }
  }
  return body;
}

}  // namespace corral::testing
