// Verbs of each vocabulary, mapped to canonical actions.
//
// Contract: a verb means what it means in its own system — Nova `stop` powers off, OpenNebula
// `stop` saves the VM and moves it off the host. A verb is accepted only where its system
// allows it (seed 003's preconditions for Nova, OpenNebula's rules for its verbs) AND the
// canonical table allows the action it maps to; otherwise the error names the current state
// in that vocabulary's words and the verbs it allows there. The rules are data (kRules in
// vocabulary.cc); the canonical vocabulary "corral" speaks the action names themselves.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "lifecycle/model.h"
#include "lifecycle/types.h"

namespace corral::lifecycle {

struct VerbRule {
  Vocabulary vocabulary = Vocabulary::kCorral;
  std::string_view verb;
  std::string_view variant;  // a parameter's value that selects this rule; "" = default
  StateSet from;             // where the verb applies when no operation runs
  Action action = Action::kCreate;
  ActionSet during;  // running operations during which the verb also applies
  std::string_view note;
};

// The rules of one vocabulary (empty for kCorral, which is generated from the table).
std::span<const VerbRule> verb_rules(Vocabulary vocabulary);
// Every vocabulary's rules, grouped by vocabulary (what the mutation tool edits).
std::span<const VerbRule> all_verb_rules();

// Every verb of a vocabulary, in table order, without duplicates.
std::vector<std::string_view> verbs(Vocabulary vocabulary);

// Which parameter selects a verb's variant, e.g. nova reboot -> "type"; "" if none.
std::string_view variant_parameter(Vocabulary vocabulary, std::string_view verb);

// Map (vocabulary, verb, variant) on this record to a canonical action.
// Errors: kUnknownAction (no such verb), kInvalidArgument (no such variant), kInvalidState
// (the verb is not allowed now: state and allowed verbs in the vocabulary's words).
[[nodiscard]] Result<Action> resolve(const VmRecord& record, Vocabulary vocabulary,
                                     std::string_view verb, std::string_view variant = {});

// The verbs of `vocabulary` allowed on this record now.
std::vector<std::string> allowed_verbs(const VmRecord& record, Vocabulary vocabulary);

namespace testing {

// The mutation tool's hook: until destroyed, every function above reads `rules` (grouped by
// vocabulary, as all_verb_rules() is) instead of the built-in ones. Not thread-safe; `rules`
// must outlive it.
class ScopedVerbRules {
 public:
  explicit ScopedVerbRules(std::span<const VerbRule> rules);
  ~ScopedVerbRules();
  ScopedVerbRules(const ScopedVerbRules&) = delete;
  ScopedVerbRules& operator=(const ScopedVerbRules&) = delete;

 private:
  const void* previous_;
  std::shared_ptr<const void> ranges_;  // the index over `rules` (type private to the .cc)
};

}  // namespace testing
}  // namespace corral::lifecycle
