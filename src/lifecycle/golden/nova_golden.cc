// Golden table: Nova. What Nova shows (vm_state, task_state, power_state, status) at every
// moment the model offers, written from shared/reference/nova.md (the compute API's task
// states and failure handling, nova.md:24-55; the status map, nova.md:160-170; power states,
// nova.md:12-13) and seeds 003/004; then seed 003's "verb -> error" edges and seed 004's
// lists of names, each compared with the code both ways.
//
// The rows (data) are in nova_rows.h; this file holds them against the model. Checks, in
// order: Nova's names (nova.md:6, 9, 12-13), the status map over every (vm_state,
// task_state), every moment, seed 003's error edges, seed 004's lists.
#include <algorithm>
#include <cctype>
#include <regex>
#include <set>
#include <span>
#include <sstream>
#include <string>

#include "lifecycle/golden/golden.h"
#include "lifecycle/golden/nova_rows.h"
#include "lifecycle/seed_text.h"
#include "lifecycle/views.h"
#include "lifecycle/vocabulary.h"

namespace corral::lifecycle::golden {
namespace {

using namespace nova;  // the rows

// ---- Helpers ----------------------------------------------------------------------------

// Whether a space-separated list holds `word` (no allocation: the checks run thousands of times).
bool has_word(std::string_view list, std::string_view word) {
  for (std::size_t at = list.find(word); at != std::string_view::npos;
       at = list.find(word, at + 1)) {
    const std::size_t end = at + word.size();
    if ((at == 0 || list[at - 1] == ' ') && (end == list.size() || list[end] == ' ')) return true;
  }
  return false;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string shown(std::string_view task) { return task.empty() ? "None" : std::string(task); }

struct Expected {
  std::string vm;
  std::string task;
  int power = 0;
};

std::string describe(const Expected& e, std::string_view status) {
  return e.vm + "/" + shown(e.task) + "/" + std::to_string(e.power) + "/" + std::string(status);
}

bool matches(const Row& row, const Moment& m) {
  if ((row.outcomes & bit(m.outcome)) == 0) return false;
  if (!row.actions.empty() && !row.actions.contains(m.action)) return false;
  if (!row.origins.empty() && !row.origins.contains(m.origin)) return false;
  return row.phases.matches(m.phase);
}

// The golden rest row of a state (rest rows are written out, never kSame).
const Row* rest_row(State s) {
  for (const Row& row : kRows) {
    if ((row.outcomes & kRest) != 0 && row.origins.contains(s)) return &row;
  }
  return nullptr;
}

std::optional<Expected> expected_of(const Row& row, State origin) {
  const Row* rest = rest_row(origin);
  Expected e;
  if (row.task == kSame) {
    if (rest == nullptr) return std::nullopt;
    e.task = rest->task;
  } else {
    e.task = row.task;
  }
  if (row.vm == kSame) {
    if (rest == nullptr) return std::nullopt;
    e.vm = rest->vm;
  } else {
    e.vm = row.vm;
  }
  if (row.power == kSamePower) {
    if (rest == nullptr) return std::nullopt;
    e.power = rest->power;
  } else {
    e.power = row.power;
  }
  return e;
}

// The golden status of (vm_state, task_state); marks the row used.
std::optional<std::string_view> golden_status(std::string_view vm, std::string_view task,
                                              std::vector<bool>* used) {
  for (std::size_t i = 0; i < std::size(kStatusRows); ++i) {
    const StatusRow& row = kStatusRows[i];
    if (row.vm != vm) continue;
    if (row.tasks != "*" && !has_word(row.tasks, task)) continue;
    if (used != nullptr) (*used)[i] = true;
    return row.status;
  }
  return std::nullopt;
}

// ---- Names: nova.md:6, 9, 12-13 ------------------------------------------------------------

template <typename Values, typename Name>
void check_names_both_ways(Mismatches& out, std::string_view what, const Values& values, Name name,
                           std::string_view golden, std::string_view source) {
  std::multiset<std::string> code;
  for (const auto& v : values) code.insert(std::string(name(v)));
  const std::vector<std::string_view> want = words(golden);
  for (std::string_view w : want) {
    if (out.full()) return;
    if (code.count(std::string(w)) != 1) {
      out.add(std::string(what) + " '" + std::string(w) + "' (" + std::string(source) +
              ") is named " + std::to_string(code.count(std::string(w))) + " times by the code");
    }
  }
  for (const std::string& c : code) {
    if (out.full()) return;
    if (std::find(want.begin(), want.end(), c) == want.end()) {
      out.add(std::string(what) + " '" + c + "' named by the code is not Nova's (" +
              std::string(source) + ")");
    }
  }
}

void check_names(Mismatches& out) {
  check_names_both_ways(out, "vm_state", kAllNovaVmStates, nova_vm_state_name, kVmStateNames,
                        "reference nova.md:6");
  std::vector<NovaTaskState> tasks(kAllNovaTaskStates.begin(), kAllNovaTaskStates.end());
  std::erase(tasks, NovaTaskState::kNone);
  check_names_both_ways(out, "task_state", tasks, nova_task_state_name, kTaskStateNames,
                        "reference nova.md:9");
  if (!out.full() && !nova_task_state_name(NovaTaskState::kNone).empty()) {
    out.add("task_state None is named '" + std::string(nova_task_state_name(NovaTaskState::kNone)) +
            "', golden '' (reference nova.md:9: NULL means idle)");
  }
  if (!out.full() &&
      std::count(kAllNovaTaskStates.begin(), kAllNovaTaskStates.end(), NovaTaskState::kNone) != 1) {
    out.add("kAllNovaTaskStates must hold None once (reference nova.md:9: NULL means idle)");
  }
  for (const PowerName& p : kPowerNames) {
    if (out.full()) return;
    if (nova_power_state_name(p.number) != p.name) {
      out.add("power_state " + std::to_string(p.number) + ": golden '" + std::string(p.name) +
              "' (" + std::string(p.source) + "), code '" +
              std::string(nova_power_state_name(p.number)) + "'");
    }
  }
}

// ---- The status map: nova.md:160-170, every (vm_state, task_state) -------------------------

void check_status_map(Mismatches& out) {
  std::vector<bool> used(std::size(kStatusRows), false);
  for (NovaVmState vm : kAllNovaVmStates) {
    for (NovaTaskState task : kAllNovaTaskStates) {
      if (out.full()) return;
      const std::string_view vm_name = nova_vm_state_name(vm);
      const std::string_view task_name = nova_task_state_name(task);
      const auto want = golden_status(vm_name, task_name, &used);
      const std::string_view got = nova_status(vm, task);
      if (!want) {
        out.add("status of " + std::string(vm_name) + "/" + shown(task_name) +
                ": no golden row (nova.md:160-170)");
      } else if (got != *want) {
        out.add("status of " + std::string(vm_name) + "/" + shown(task_name) + ": golden " +
                std::string(*want) + ", code " + std::string(got));
      }
    }
  }
  for (std::size_t i = 0; i < used.size() && !out.full(); ++i) {
    if (!used[i]) {
      out.add("status row " + std::string(kStatusRows[i].vm) + " [" +
              std::string(kStatusRows[i].tasks) + "] -> " + std::string(kStatusRows[i].status) +
              " (" + std::string(kStatusRows[i].source) + ") matches no vm_state/task_state");
    }
  }
}

// ---- Every moment ------------------------------------------------------------------------

void check_moments(Mismatches& out) {
  std::vector<bool> used(std::size(kRows), false);
  for (const Moment& m : moments()) {
    if (out.full()) return;
    const Row* row = nullptr;
    for (std::size_t i = 0; i < std::size(kRows); ++i) {
      if (matches(kRows[i], m)) {
        row = &kRows[i];
        used[i] = true;
        break;
      }
    }
    const NovaView v = nova_view(m.record);
    const Expected got{std::string(nova_vm_state_name(v.vm_state)),
                       std::string(nova_task_state_name(v.task_state)), v.power_state};
    const std::string model = describe(got, v.status);
    if (row == nullptr) {
      out.add(m.describe() + ": no golden row; the model shows " + model);
      continue;
    }
    const std::optional<Expected> want = expected_of(*row, m.origin);
    if (!want) {
      out.add(m.describe() + ": the golden row (" + std::string(row->source) +
              ") refers to the origin's rest row, which is missing");
      continue;
    }
    const auto status = golden_status(want->vm, want->task, nullptr);
    const std::string_view want_status = status ? *status : "(no status row)";
    if (got.vm != want->vm || got.task != want->task || got.power != want->power ||
        v.status != want_status) {
      out.add(m.describe() + ": golden " + describe(*want, want_status) + " (" +
              std::string(row->source) + "), model " + model);
    }
  }
  for (std::size_t i = 0; i < used.size() && !out.full(); ++i) {
    if (!used[i]) {
      out.add("golden row " + std::to_string(i) + " (" + std::string(kRows[i].source) +
              ") is the match of no moment: dead or shadowed");
    }
  }
}

// ---- Seed 003: "verb -> error" edges --------------------------------------------------------

struct Seed003 {
  std::vector<testing::Edge> edges;
  std::set<std::string> apis;  // nodes drawn as rectangles: the verbs
};

const Seed003& seed_003() {
  static const Seed003 kSeed = [] {
    Seed003 s;
    s.edges = testing::nova_seed_edges();
    const std::string text = testing::seed_text("003");
    const std::regex api(R"((\w+)\s*\[shape="rectangle"\])");
    for (auto it = std::sregex_iterator(text.begin(), text.end(), api);
         it != std::sregex_iterator(); ++it) {
      s.apis.insert((*it)[1].str());
    }
    return s;
  }();
  return kSeed;
}

// The verbs some failure of whose actions (where the verb asks for them) ends in Nova error.
// Seed 003 also draws error -> stop, rescue and reboot, so a failure from error that stays
// in error is a drawn path too.
std::set<std::string> verbs_failing_into_error() {
  std::set<std::string> out;
  const auto rules = verb_rules(Vocabulary::kNova);
  for (const Moment& m : moments()) {
    if (m.outcome != Outcome::kFailed && m.outcome != Outcome::kUndoFailed) continue;
    if (nova_vm_state_name(nova_view(m.record).vm_state) != "error") continue;
    for (const VerbRule& r : rules) {
      if (r.action != m.action) continue;
      if (m.during ? !r.during.empty() : r.from.contains(m.origin)) out.insert(std::string(r.verb));
    }
  }
  return out;
}

void check_error_edges(Mismatches& out) {
  const Seed003& seed = seed_003();
  if (seed.edges.empty() || seed.apis.empty()) {
    out.add("seed 003: no edges or verbs parsed");
    return;
  }
  const std::set<std::string> reaching = verbs_failing_into_error();
  std::set<std::string> drawn;  // verbs with a drawn "verb -> error" edge
  for (const testing::Edge& e : seed.edges) {
    if (e.to == "error" && seed.apis.contains(e.from)) drawn.insert(e.from);
  }
  auto find = [](const auto& list, std::string_view verb) {
    for (const EdgeException& x : list) {
      if (x.verb == verb) return &x;
    }
    return static_cast<const EdgeException*>(nullptr);
  };
  for (const std::string& verb : drawn) {
    if (out.full()) return;
    const EdgeException* x = find(kErrorEdgeExceptions, verb);
    const bool reached = reaching.contains(verb);
    if (!reached && x == nullptr) {
      out.add("seed 003 draws " + verb + " -> error, but no failure of " + verb +
              " ends in error and no source says why");
    } else if (reached && x != nullptr) {
      out.add("seed 003's " + verb + " -> error is now reached; the exception (" +
              std::string(x->source) + ") no longer holds");
    }
  }
  for (const EdgeException& x : kErrorEdgeExceptions) {
    if (out.full()) return;
    if (!drawn.contains(std::string(x.verb))) {
      out.add("exception for " + std::string(x.verb) + " -> error (" + std::string(x.source) +
              ") matches no edge of seed 003");
    }
  }
  // The other way: a verb of the seed failing into error where the seed draws no such edge.
  for (const std::string& verb : reaching) {
    if (out.full()) return;
    if (!seed.apis.contains(verb) || drawn.contains(verb)) continue;
    if (find(kUndrawnErrorEdges, verb) == nullptr) {
      out.add("a failure of " + verb + " ends in error, but seed 003 draws no " + verb +
              " -> error and no source says it may");
    }
  }
  for (const EdgeException& x : kUndrawnErrorEdges) {
    if (out.full()) return;
    const std::string verb(x.verb);
    if (!seed.apis.contains(verb) || drawn.contains(verb) || !reaching.contains(verb)) {
      out.add("undrawn " + verb + " -> error (" + std::string(x.source) +
              "): not a seed 003 verb, drawn after all, or no longer reached");
    }
  }
}

// ---- Seed 004: power statuses and vm_status --------------------------------------------------

struct SeedName {
  std::string name;
  std::string previous;  // "(previous X)" / "(was X)", or ""
  int line = 0;
};
struct Seed004 {
  std::vector<SeedName> power;
  std::vector<SeedName> vm_status;
};

const Seed004& seed_004() {
  static const Seed004 kSeed = [] {
    Seed004 s;
    std::istringstream in(testing::seed_text("004"));
    const std::regex power(R"(([A-Z_]+)\s*\(previous\s+([A-Z_]+)\))");
    const std::regex was(R"(\(was ([A-Z_]+)\))");
    std::string line;
    bool in_status = false;
    for (int n = 1; std::getline(in, line); ++n) {
      // The seed's spaces are partly non-breaking (UTF-8 C2 A0).
      for (std::size_t at; (at = line.find("\xC2\xA0")) != std::string::npos;) {
        line.replace(at, 2, " ");
      }
      if (line.find("There are 3 statuses") != std::string::npos) {
        for (auto it = std::sregex_iterator(line.begin(), line.end(), power);
             it != std::sregex_iterator(); ++it) {
          s.power.push_back({(*it)[1].str(), (*it)[2].str(), n});
        }
      }
      if (line.rfind("Status (vm_status)", 0) == 0) in_status = true;
      if (line.rfind("Task Status", 0) == 0) in_status = false;
      if (!in_status) continue;
      // "·         ACTIVE: VM is running ...": skip the bullet, take an upper-case word
      // followed by ':'.
      std::size_t i = 0;
      while (i < line.size() && !std::isalpha(static_cast<unsigned char>(line[i]))) ++i;
      std::size_t j = i;
      while (j < line.size() &&
             (std::isupper(static_cast<unsigned char>(line[j])) || line[j] == '_'))
        ++j;
      if (j - i < 2 || j >= line.size() || line[j] != ':') continue;
      SeedName e{line.substr(i, j - i), "", n};
      std::smatch m;
      if (std::regex_search(line, m, was)) e.previous = m[1].str();
      s.vm_status.push_back(e);
    }
    return s;
  }();
  return kSeed;
}

void compare_with_seed(Mismatches& out, std::string_view what, const std::vector<SeedName>& seed,
                       const std::vector<std::string>& code,
                       std::span<const NameException> exceptions) {
  if (seed.empty()) {
    out.add("seed 004: no " + std::string(what) + " parsed");
    return;
  }
  auto in_code = [&](std::string_view name) {
    return std::find(code.begin(), code.end(), name) != code.end();
  };
  auto exact = [&](const std::string& seed_name) {
    for (const std::string& c : code) {
      if (upper(c) == seed_name) return true;
    }
    return false;
  };
  for (const SeedName& e : seed) {
    if (out.full()) return;
    if (exact(e.name)) continue;
    bool excused = false;
    for (const NameException& x : exceptions) excused |= x.seed == e.name && in_code(x.code);
    if (!excused) {
      out.add("seed 004:" + std::to_string(e.line) + " " + std::string(what) + " " + e.name +
              " has no name in the code and no cited exception");
    }
  }
  // A previous name was renamed away: the code must not use it (unless an exception says so).
  for (const SeedName& e : seed) {
    if (out.full()) return;
    if (!e.previous.empty() && exact(e.previous) && !exact(e.name)) {
      bool excused = false;
      for (const NameException& x : exceptions)
        excused |= x.seed == e.name && upper(x.code) == e.previous;
      if (!excused) {
        out.add("seed 004:" + std::to_string(e.line) + " says " + e.previous + " is now " + e.name +
                ", but the code still names " + e.previous);
      }
    }
  }
  for (const std::string& c : code) {
    if (out.full()) return;
    bool found = false;
    for (const SeedName& e : seed) found |= upper(c) == e.name;
    for (const NameException& x : exceptions) found |= x.code == c;
    if (!found) {
      out.add(std::string(what) + " '" + c +
              "' of the code is not in seed 004 and no exception cites why");
    }
  }
  for (const NameException& x : exceptions) {
    if (out.full()) return;
    bool seed_has = x.seed.empty();
    for (const SeedName& e : seed) seed_has |= e.name == x.seed;
    bool redundant = false;
    for (const SeedName& e : seed) redundant |= upper(x.code) == e.name;
    if (!seed_has || !in_code(x.code) || redundant) {
      out.add("exception " + std::string(x.seed) + " ~ " + std::string(x.code) + " (" +
              std::string(x.source) +
              ") matches nothing in seed 004 and the code, or is not needed");
    }
  }
}

void check_seed_004(Mismatches& out) {
  const Seed004& seed = seed_004();
  std::vector<std::string> power;
  for (int p : kNovaPowerNumbers) power.emplace_back(nova_power_state_name(p));
  compare_with_seed(out, "power status", seed.power, power, kPowerStatusExceptions);
  std::vector<std::string> vm;
  for (NovaVmState s : kAllNovaVmStates) vm.emplace_back(nova_vm_state_name(s));
  compare_with_seed(out, "vm_status", seed.vm_status, vm, kVmStatusExceptions);
}

}  // namespace

Mismatches check_nova(std::size_t limit) {
  Mismatches out(limit);
  check_names(out);
  if (!out.full()) check_status_map(out);
  if (!out.full()) check_moments(out);
  if (!out.full()) check_error_edges(out);
  if (!out.full()) check_seed_004(out);
  return out;
}

}  // namespace corral::lifecycle::golden
