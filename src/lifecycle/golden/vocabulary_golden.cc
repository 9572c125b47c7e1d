// Golden table: each vocabulary's verbs — in which canonical states at rest each verb (and
// variant) is accepted, the canonical action it resolves to there, and during which running
// operations it is accepted.
//
// The rows are in vocabulary_rows.h. Sources: Nova — seed 003's digraph ("state -> verb" edges,
// read with nova_seed_edges()), mapped to canonical states through Nova's vm_state names
// (kNovaStates), plus the reference's guards where the seed is silent or newer Nova says otherwise
// (kNovaExceptions), and what each verb does (kNovaActions). OpenNebula — reference opennebula.md's
// onevm verbs. Azure — seed 000 and the az CLI's calls. StratusLab — seed 002.
//
// check_vocabulary() holds the model to it both ways, at three levels:
// - the rules (verb_rules()): every state in a rule's `from` is a golden entry with the same
//   action, and every golden entry is in some rule's `from` with its action; a rule's `during`
//   names exactly the running actions of its golden during-rows — so a rule that claims what
//   the table would refuse anyway is still caught;
// - at rest: for every state, allowed_verbs() and resolve() of every verb and variant (and
//   of the default variant) agree with the golden entries;
// - during every running operation the model offers (moments()): the same, against kDuring.
// A golden row that decides nothing is a mismatch too.
#include <algorithm>
#include <array>
#include <regex>
#include <sstream>
#include <string>

#include "lifecycle/golden/golden.h"
#include "lifecycle/golden/vocabulary_rows.h"
#include "lifecycle/seed_text.h"
#include "lifecycle/vocabulary.h"

namespace corral::lifecycle::golden {
namespace {

using S = State;
using A = Action;
using V = Vocabulary;
using vocabulary_rows::DuringRow;
using vocabulary_rows::kDuring;
using vocabulary_rows::kNovaActions;
using vocabulary_rows::kNovaExceptions;
using vocabulary_rows::kNovaStates;
using vocabulary_rows::kRows;
using vocabulary_rows::kVariants;
using vocabulary_rows::NovaAction;
using vocabulary_rows::NovaException;
using vocabulary_rows::NovaStateRow;
using vocabulary_rows::VariantRow;
using vocabulary_rows::VerbRow;

// ---- The golden entries, expanded --------------------------------------------------------

struct Entry {
  V vocabulary;
  std::string verb;
  std::string variant;
  State state;
  A action;
  std::string cite;
};

struct Golden {
  std::vector<Entry> at_rest;
  std::vector<std::string> problems;  // the golden data contradicting itself
};

std::span<const std::string_view> variants_of(V v, std::string_view verb) {
  static constexpr std::string_view kNone[] = {""};
  for (const VariantRow& row : kVariants) {
    if (row.vocabulary != v || row.verb != verb) continue;
    std::size_t n = 0;
    while (n < row.variants.size() && !row.variants[n].empty()) ++n;
    return {row.variants.data(), n};
  }
  return kNone;
}

// Seed 003's line of each "from -> to" edge (for the citation).
int seed_line(const std::vector<std::string>& lines, const std::string& from,
              const std::string& to) {
  const std::regex edge("\\b" + from + R"(\s*->\s*)" + to + "\\b");
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (std::regex_search(lines[i], edge)) return static_cast<int>(i) + 1;
  }
  return 0;
}

void add_nova(Golden& g) {
  std::vector<std::string> lines;
  {
    std::istringstream in(lifecycle::testing::seed_text("003"));
    for (std::string line; std::getline(in, line);) lines.push_back(line);
  }
  auto states_of = [](const std::string& name) -> const NovaStateRow* {
    for (const NovaStateRow& row : kNovaStates) {
      if (row.name == name) return &row;
    }
    return nullptr;
  };
  // (verb, variant, state) -> the citation it is accepted by.
  struct Accept {
    std::string verb;
    std::string variant;
    State state;
    std::string cite;
  };
  std::vector<Accept> accepted;
  for (const lifecycle::testing::Edge& e : lifecycle::testing::nova_seed_edges()) {
    const NovaStateRow* from = states_of(e.from);
    if (from == nullptr) continue;  // "verb -> state": an outcome, not a precondition
    if (states_of(e.to) != nullptr) {
      g.problems.push_back("seed 003 edge " + e.from + " -> " + e.to + " joins two states");
      continue;
    }
    const std::string cite = "seed 003:" + std::to_string(seed_line(lines, e.from, e.to)) + " (" +
                             e.from + " -> " + e.to + "), " + std::string(from->cite);
    for (std::string_view variant : variants_of(V::kNova, e.to)) {
      for (State s : kAllStates) {
        if (from->states.contains(s)) accepted.push_back({e.to, std::string(variant), s, cite});
      }
    }
  }
  if (accepted.empty()) g.problems.push_back("seed 003 gave no state -> verb edge");
  for (const NovaException& x : kNovaExceptions) {
    bool used = false;
    for (std::string_view variant : variants_of(V::kNova, x.verb)) {
      if (!x.variant.empty() && x.variant != variant) continue;
      for (State s : kAllStates) {
        if (!x.states.contains(s)) continue;
        auto same = [&](const Accept& a) {
          return a.verb == x.verb && a.variant == variant && a.state == s;
        };
        const bool had = std::any_of(accepted.begin(), accepted.end(), same);
        if (x.add && !had) {
          accepted.push_back({std::string(x.verb), std::string(variant), s, std::string(x.cite)});
          used = true;
        } else if (!x.add && had) {
          std::erase_if(accepted, same);
          used = true;
        }
      }
    }
    if (!used) {
      g.problems.push_back("Nova exception for " + std::string(x.verb) +
                           " changes nothing the seed draws (" + std::string(x.cite) + ")");
    }
  }
  for (const Accept& a : accepted) {
    const NovaAction* act = nullptr;
    for (const NovaAction& row : kNovaActions) {
      if (row.verb == a.verb && row.variant == a.variant && row.states.contains(a.state)) {
        act = &row;
        break;
      }
    }
    if (act == nullptr) {
      if (a.state == S::kInit) continue;  // see below: INIT only for the verb that creates
      g.problems.push_back("no golden action for Nova " + a.verb + " (" + a.variant + ") in " +
                           std::string(state_name(a.state)));
      continue;
    }
    // A VM is in INIT only while create runs (model.h): what a verb does there is in
    // kDuring; at rest INIT holds only the verb that creates the VM.
    if (a.state == S::kInit && act->action != A::kCreate) continue;
    g.at_rest.push_back({V::kNova, a.verb, a.variant, a.state, act->action,
                         a.cite + "; does " + std::string(act->cite)});
  }
}

const Golden& golden() {
  static const Golden kGolden = [] {
    Golden g;
    add_nova(g);
    for (const VerbRow& row : kRows) {
      for (State s : kAllStates) {
        if (!row.at_rest.contains(s)) continue;
        g.at_rest.push_back({row.vocabulary, std::string(row.verb), std::string(row.variant), s,
                             row.action, std::string(row.cite)});
      }
    }
    // One action per (vocabulary, verb, variant, state).
    for (std::size_t i = 0; i < g.at_rest.size(); ++i) {
      for (std::size_t j = i + 1; j < g.at_rest.size(); ++j) {
        const Entry& a = g.at_rest[i];
        const Entry& b = g.at_rest[j];
        if (a.vocabulary == b.vocabulary && a.verb == b.verb && a.variant == b.variant &&
            a.state == b.state) {
          g.problems.push_back("two golden entries for " +
                               std::string(vocabulary_name(a.vocabulary)) + " " + a.verb + " (" +
                               a.variant + ") in " + std::string(state_name(a.state)));
        }
      }
    }
    return g;
  }();
  return kGolden;
}

// ---- Comparing ---------------------------------------------------------------------------

std::string name_of(V v, std::string_view verb, std::string_view variant) {
  std::string s = std::string(vocabulary_name(v)) + " '" + std::string(verb) + "'";
  if (!variant.empty()) s += " (" + std::string(variant) + ")";
  return s;
}

const Entry* golden_at_rest(V v, std::string_view verb, std::string_view variant, State s) {
  for (const Entry& e : golden().at_rest) {
    if (e.vocabulary == v && e.state == s && e.verb == verb && e.variant == variant) return &e;
  }
  return nullptr;
}

const DuringRow* golden_during(V v, std::string_view verb, std::string_view variant,
                               const Operation& op) {
  for (const DuringRow& row : kDuring) {
    if (row.vocabulary == v && row.verb == verb && row.variant == variant &&
        row.running.contains(op.action) && row.origins.contains(op.origin)) {
      return &row;
    }
  }
  return nullptr;
}

// What the golden table says of a verb on a record: the action and its citation, or nothing.
struct Expected {
  std::optional<A> action;
  std::string_view cite;
};
Expected expected(V v, std::string_view verb, std::string_view variant, const VmRecord& r) {
  if (r.busy()) {
    const DuringRow* row = golden_during(v, verb, variant, *r.op);
    if (row == nullptr) return {};
    return {row->action, row->cite};
  }
  const Entry* e = golden_at_rest(v, verb, variant, r.state);
  if (e == nullptr) return {};
  return {e->action, e->cite};
}

// Every verb of `v` the golden table or the model knows, in a stable order.
std::vector<std::string> all_verbs(V v) {
  std::vector<std::string> out;
  auto add = [&](std::string_view verb) {
    if (std::find(out.begin(), out.end(), verb) == out.end()) out.emplace_back(verb);
  };
  for (const Entry& e : golden().at_rest) {
    if (e.vocabulary == v) add(e.verb);
  }
  for (const DuringRow& row : kDuring) {
    if (row.vocabulary == v) add(row.verb);
  }
  for (std::string_view verb : verbs(v)) add(verb);
  return out;
}

std::string said(const Result<A>& got) {
  if (got) return std::string(action_name(*got));
  return "rejected (" + got.error().message + ")";
}

// One record (at rest or during an operation) in one vocabulary: allowed_verbs() and resolve()
// against the golden table.
void compare_record(V v, const VmRecord& r, const std::string& where,
                    const std::vector<std::string>& verb_list, Mismatches& out) {
  const std::vector<std::string> allowed = allowed_verbs(r, v);
  for (const std::string& verb : verb_list) {
    if (out.full()) return;
    const auto variants = variants_of(v, verb);
    bool golden_allows = false;  // some variant, other than one that creates the VM
    bool golden_any = false;
    for (std::string_view variant : variants) {
      const Expected want = expected(v, verb, variant, r);
      if (want.action) golden_any = true;
      if (want.action && *want.action != A::kCreate) golden_allows = true;
    }
    const bool model_allows = std::find(allowed.begin(), allowed.end(), verb) != allowed.end();
    if (golden_allows != model_allows) {
      out.add(where + ": " + name_of(v, verb, "") + " is " +
              (golden_allows ? "allowed" : "not allowed") + " by the golden table, but " +
              (model_allows ? "listed" : "not listed") + " by allowed_verbs()");
      continue;
    }
    if (!golden_any && !model_allows) continue;  // refused either way; resolve() says the same
    for (std::size_t i = 0; i <= variants.size(); ++i) {
      if (out.full()) return;
      // The last round asks with no variant: the first one is the default.
      const std::string_view asked = i < variants.size() ? variants[i] : std::string_view{};
      if (i == variants.size() && variants.size() == 1) break;  // "" was asked already
      const std::string_view meant = i < variants.size() ? variants[i] : variants[0];
      const Expected want = expected(v, verb, meant, r);
      const Result<A> got = resolve(r, v, verb, asked);
      const bool agree = want.action ? (got && *got == *want.action)
                                     : (!got && got.error().code == ErrorCode::kInvalidState);
      if (!agree) {
        std::string line = where + ": " + name_of(v, verb, asked.empty() ? "no variant" : asked) +
                           ": golden says ";
        line += want.action
                    ? std::string(action_name(*want.action)) + " (" + std::string(want.cite) + ")"
                    : std::string("rejected (no golden entry)");
        out.add(line + ", the model says " + said(got));
      }
    }
  }
}

// The rules themselves against the golden entries, both ways.
void compare_rules(Mismatches& out) {
  const Golden& g = golden();
  for (V v : kAllVocabularies) {
    if (v == V::kCorral) continue;
    const std::span<const VerbRule> rules = verb_rules(v);
    for (std::size_t i = 0; i < rules.size() && !out.full(); ++i) {
      const VerbRule& rule = rules[i];
      for (State s : kAllStates) {
        if (!rule.from.contains(s) || out.full()) continue;
        const std::string cell = name_of(v, rule.verb, rule.variant) + " in " +
                                 std::string(state_name(s)) + " -> " +
                                 std::string(action_name(rule.action));
        const Entry* e = golden_at_rest(v, rule.verb, rule.variant, s);
        if (e == nullptr) {
          out.add("rule " + cell + ": the golden table does not accept it there");
        } else if (e->action != rule.action) {
          out.add("rule " + cell + ": the golden table says " +
                  std::string(action_name(e->action)) + " (" + e->cite + ")");
        }
        for (std::size_t j = 0; j < i && !out.full(); ++j) {
          const VerbRule& earlier = rules[j];
          if (earlier.verb == rule.verb && earlier.variant == rule.variant &&
              earlier.from.contains(s)) {
            out.add("rule " + cell + ": an earlier rule of the verb claims the state too");
          }
        }
      }
    }
  }
  // The running operations each rule names, against the golden during-rows of its verb,
  // variant and action: every action, the ones no operation ever runs as included.
  for (V v : kAllVocabularies) {
    if (v == V::kCorral) continue;
    for (const VerbRule& rule : verb_rules(v)) {
      if (out.full()) return;
      for (Action a : kAllActions) {
        bool model = false;
        for (const VerbRule& r : verb_rules(v)) {
          if (r.verb == rule.verb && r.variant == rule.variant && r.action == rule.action &&
              r.during.contains(a)) {
            model = true;
          }
        }
        const DuringRow* row = nullptr;
        for (const DuringRow& d : kDuring) {
          if (d.vocabulary == v && d.verb == rule.verb && d.variant == rule.variant &&
              d.action == rule.action && d.running.contains(a)) {
            row = &d;
          }
        }
        if (model != (row != nullptr)) {
          out.add("rule " + name_of(v, rule.verb, rule.variant) + " -> " +
                  std::string(action_name(rule.action)) + (model ? " names " : " does not name ") +
                  std::string(action_name(a)) +
                  " among the operations it may run during; the golden table " +
                  (row != nullptr ? "does (" + std::string(row->cite) + ")" : "does not"));
          break;
        }
      }
    }
  }
  for (const Entry& e : g.at_rest) {
    if (out.full()) return;
    bool found = false;
    for (const VerbRule& rule : verb_rules(e.vocabulary)) {
      if (rule.verb == e.verb && rule.variant == e.variant && rule.from.contains(e.state) &&
          rule.action == e.action) {
        found = true;
        break;
      }
    }
    if (!found) {
      out.add("golden " + name_of(e.vocabulary, e.verb, e.variant) + " in " +
              std::string(state_name(e.state)) + " -> " + std::string(action_name(e.action)) +
              " (" + e.cite + "): no rule has it");
    }
  }
}

}  // namespace

Mismatches check_vocabulary(std::size_t limit) {
  Mismatches out(limit);
  const Golden& g = golden();
  for (const std::string& problem : g.problems) out.add("golden table: " + problem);
  if (out.full()) return out;

  compare_rules(out);
  if (out.full()) return out;

  // The verbs each vocabulary has, both ways.
  std::vector<std::vector<std::string>> verb_lists(kVocabularyCount);
  for (V v : kAllVocabularies) {
    if (v == V::kCorral) continue;
    verb_lists[static_cast<std::size_t>(v)] = all_verbs(v);
    const std::vector<std::string_view> model = verbs(v);
    for (const std::string& verb : verb_lists[static_cast<std::size_t>(v)]) {
      if (std::find(model.begin(), model.end(), verb) == model.end()) {
        out.add(name_of(v, verb, "") + ": in the golden table, not a verb of the model");
      }
    }
  }

  // Every state at rest and every running operation, in every vocabulary; and each golden
  // during-row must decide something.
  std::vector<bool> during_used(std::size(kDuring), false);
  for (const Moment& m : moments()) {
    if (out.full()) return out;
    const bool busy = m.record.busy();
    if (!busy && m.outcome != Outcome::kAtRest) continue;  // at rest: its state decides
    for (V v : kAllVocabularies) {
      if (v == V::kCorral) continue;
      const std::string where = m.describe() + " (" + std::string(vocabulary_name(v)) + ")";
      compare_record(v, m.record, where, verb_lists[static_cast<std::size_t>(v)], out);
      if (!busy) continue;
      for (std::size_t i = 0; i < std::size(kDuring); ++i) {
        const DuringRow& row = kDuring[i];
        if (row.vocabulary == v && golden_during(v, row.verb, row.variant, *m.record.op) == &row) {
          during_used[i] = true;
        }
      }
    }
  }
  for (std::size_t i = 0; i < std::size(kDuring) && !out.full(); ++i) {
    if (!during_used[i]) {
      const DuringRow& row = kDuring[i];
      out.add("golden during-row " + name_of(row.vocabulary, row.verb, row.variant) + " -> " +
              std::string(action_name(row.action)) + " (" + std::string(row.cite) +
              ") matches no running operation of the model");
    }
  }
  return out;
}

}  // namespace corral::lifecycle::golden
