// Golden table: the StratusLab view (seed 002) at every moment the model offers, and the
// names of its seven states, pinned both ways against seed 002's text.
//
// - The states: each SlState with its name and every seed 002 line that shows it (the "Common
//   VM States" table and stratus-describe-instance's outputs), checked against the view's
//   names and kAllSlStates, and against the seed as parsed from its text, line for line.
// - The moment rules: (outcome, action, origin, phase, state) -> StratusLab state. The first
//   rule that matches a moment is its golden row; every moment must have one and agree with it,
//   and every rule must be the first match of some moment (no dead or shadowed rows).
// - The labels vocabulary_state_label (view_stratuslab.cc) writes at each moment, for
//   StratusLab and for the vocabularies no other golden table reads it in (Corral, OpenNebula,
//   Nova; the Azure label is azure_golden.cc's).
#include <algorithm>
#include <array>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "lifecycle/golden/golden.h"
#include "lifecycle/golden/view_rules.h"
#include "lifecycle/seed_text.h"
#include "lifecycle/views.h"

namespace corral::lifecycle::golden {
namespace {

using A = Action;
using P = Phase;
using S = State;
using SL = SlState;

// ---- The states ----------------------------------------------------------------------------

struct StateRow {
  SlState state;
  std::string_view name;
  std::array<int, 3> lines;  // the seed 002 lines that show it (0: none)
};

constexpr StateRow kStateRows[] = {
    {SL::kPending, "Pending", {73}},           // describe: a machine just run
    {SL::kProlog, "Prolog", {79, 88}},         // describe; table "cloud initialization of VM"
    {SL::kBoot, "Boot", {89}},                 // table: "starting virtual machine from the image"
    {SL::kRunning, "Running", {72, 90, 100}},  // table: "machine is active"; describe
    {SL::kFailed, "Failed", {91}},             // table: "problem with starting/running"
    {SL::kUnknown, "Unknown", {92, 148}},      // table: "stopped, but still has resources"
    {SL::kDone, "Done", {160}},                // describe after stratus-kill-instance
};

const StateRow* state_row(SlState s) {
  for (const StateRow& r : kStateRows) {
    if (r.state == s) return &r;
  }
  return nullptr;
}

// ---- The moment rules ----------------------------------------------------------------------

using namespace view_rules;  // NOLINT: the rules' vocabulary

// Where a VM is on its host and its vCPUs may run.
constexpr StateSet kActive = {S::kRunning, S::kPaused, S::kRescued, S::kResized};
// Stopped, with resources (disks, saved memory, images) still held for it.
constexpr StateSet kStoppedHeld = {S::kSuspended, S::kPoweroff, S::kShelved, S::kSoftDeleted,
                                   S::kUnknown};

// clang-format off
constexpr Rule<SlState> kRules[] = {
  // An operation running: the phase shows where it has one of StratusLab's own.
  {{kRest, kAnyAction, kAnyState, kAnyPhase, {S::kInit}}, SL::kPending,
   "seed 002:51-73: a machine just run is Pending (create runs in INIT)"},
  {{kRun, kAnyAction, kAnyState, {P::kInit, P::kClone, P::kSchedule}}, SL::kPending,
   "seed 002:51-73: Pending until placed, then Prolog (seed 002:79)"},
  {{kRun, kAnyAction, kAnyState, {P::kProlog}}, SL::kProlog,
   "seed 002:88: 'cloud initialization of VM (e.g. copy and cache image)'"},
  {{kRun, kAnyAction, kAnyState, {P::kBoot}}, SL::kBoot,
   "seed 002:89: 'starting virtual machine from the image'"},
  {{kRun, {A::kMigrate}, kAnyState, {P::kRestore}}, SL::kRunning,
   "Corral's choice: a running VM's memory comes back on its new host, no boot (seed 002:90)"},
  {{kRun, kAnyAction, kAnyState, {P::kRestore}}, SL::kBoot,
   "Corral's choice: restoring saved memory starts the VM (seed 002:89)"},
  {{kRun, {A::kDeploy}, kAnyState, {P::kOsProvisioning, P::kOsProvisioned}}, SL::kRunning,
   "seed 002:90: 'machine is active, booting the operating system'"},
  // Any other phase: the state the operation started from.
  {{kRun, kAnyAction, {S::kInit, S::kPending, S::kHold}}, SL::kPending,
   "Corral's choice: not placed yet, as at rest (seed 002:73)"},
  {{kRun, kAnyAction, kActive}, SL::kRunning,
   "seed 002:90: the machine stays active while the operation runs"},
  {{kRun, kAnyAction, kStoppedHeld.with(S::kHibernated).with(S::kDeallocated)}, SL::kUnknown,
   "seed 002:92: stopped, resources still allocated, while the operation runs"},
  {{kRun, kAnyAction, {S::kFailed}}, SL::kFailed,
   "seed 002:91: still a problem until the operation ends"},
  // Nothing running: the state the moment left the VM in.
  {{kEnd, kAnyAction, kAnyState, kAnyPhase, {S::kPending, S::kHold}}, SL::kPending,
   "seed 002:73; HOLD: Corral's choice, waiting as PENDING does"},
  {{kEnd, kAnyAction, kAnyState, kAnyPhase, kActive}, SL::kRunning,
   "seed 002:90,100; PAUSED, RESCUED, RESIZED: Corral's choice, on the host and active"},
  {{kEnd, kAnyAction, kAnyState, kAnyPhase, kStoppedHeld}, SL::kUnknown,
   "seed 002:92 'machine is stopped, but still has resources allocated!', 144-148 (a guest "
   "shutdown ends in Unknown)"},
  {{kEnd, kAnyAction, kAnyState, kAnyPhase, {S::kHibernated, S::kDeallocated}}, SL::kUnknown,
   "Corral's choice: off the host, but disks and images stay allocated until killed "
   "(seed 002:92,162-164)"},
  {{kEnd, kAnyAction, kAnyState, kAnyPhase, {S::kFailed}}, SL::kFailed,
   "seed 002:91: 'problem with starting/running the machine'"},
  {{kEnd, kAnyAction, kAnyState, kAnyPhase, {S::kDone}}, SL::kDone,
   "seed 002:156-160: Done after stratus-kill-instance"},
};
// clang-format on

// ---- Seed 002, parsed ----------------------------------------------------------------------

struct SeedState {
  std::string name;
  int line = 0;
};

// Every state word seed 002 shows with its line: the "Common VM States" table's rows and the
// state column of stratus-describe-instance's outputs.
std::vector<SeedState> parse_seed(const std::string& text) {
  std::vector<SeedState> out;
  const std::regex table_row(R"(^(\w+) +\w.*$)");
  const std::regex describe(R"(^\s+\d+ +(\w+) +\d)");
  bool in_table = false;
  std::size_t start = 0;
  for (int line = 1; start <= text.size(); ++line) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string l = text.substr(start, end - start);
    start = end + 1;
    std::smatch m;
    if (l.starts_with("State    Description")) {
      in_table = true;
    } else if (l.starts_with("Table: Common VM States") || (in_table && l.empty())) {
      in_table = false;
    } else if (in_table && std::regex_match(l, m, table_row)) {
      out.push_back({m[1].str(), line});
    } else if (std::regex_search(l, m, describe)) {
      out.push_back({m[1].str(), line});
    }
  }
  return out;
}

// The seed's text is no part of the model: parsed once.
const std::vector<SeedState>& seed002() {
  static const std::vector<SeedState> kSeed = parse_seed(testing::seed_text("002"));
  return kSeed;
}

// The states against the view's names and kAllSlStates, and against seed 002, both ways.
void check_states(Mismatches& out) {
  for (unsigned n = 0; n <= 0xFF && !out.full(); ++n) {
    const auto s = static_cast<SlState>(n);
    const StateRow* g = state_row(s);
    const std::string_view name = sl_state_name(s);
    if (g == nullptr ? name != "?" : name != g->name) {
      out.add("stratuslab: state number " + std::to_string(n) + ": golden '" +
              std::string(g == nullptr ? "?" : g->name) + "' (seed 002" +
              (g == nullptr ? std::string(": no such state") : ":" + std::to_string(g->lines[0])) +
              "), model '" + std::string(name) + "'");
    }
  }
  for (const StateRow& g : kStateRows) {
    const auto n = std::count(kAllSlStates.begin(), kAllSlStates.end(), g.state);
    if (n != 1 && !out.full()) {
      out.add("stratuslab: kAllSlStates holds " + std::string(g.name) + " " + std::to_string(n) +
              " times; golden once (seed 002:" + std::to_string(g.lines[0]) + ")");
    }
  }
  if (kAllSlStates.size() != std::size(kStateRows) && !out.full()) {
    out.add("stratuslab: kAllSlStates has " + std::to_string(kAllSlStates.size()) +
            " states; the golden table (seed 002) " + std::to_string(std::size(kStateRows)));
  }
  const std::vector<SeedState>& seed = seed002();
  if (seed.empty() && !out.full()) out.add("stratuslab: seed 002 could not be read (CORRAL_SEEDS)");
  for (const SeedState& s : seed) {
    if (out.full()) return;
    const StateRow* g = nullptr;
    for (const StateRow& r : kStateRows) {
      if (r.name == s.name) g = &r;
    }
    if (g == nullptr || std::find(g->lines.begin(), g->lines.end(), s.line) == g->lines.end()) {
      out.add("stratuslab: seed 002:" + std::to_string(s.line) + " shows state '" + s.name +
              "': " + (g == nullptr ? "no golden row" : "not a line its golden row cites"));
    }
  }
  for (const StateRow& g : kStateRows) {
    for (int line : g.lines) {
      if (line == 0 || out.full()) continue;
      const bool found = std::any_of(seed.begin(), seed.end(), [&](const SeedState& s) {
        return s.line == line && s.name == g.name;
      });
      if (!found) {
        out.add("stratuslab: golden " + std::string(g.name) +
                " cites seed 002:" + std::to_string(line) + ", which does not show it");
      }
    }
  }
  // A state number this build does not know (a record written by a newer build).
  VmRecord unknown;
  unknown.state = static_cast<State>(0xFE);
  if (stratuslab_view(unknown).state != SL::kUnknown && !out.full()) {
    out.add(
        "stratuslab: a state number this build does not know: golden Unknown (Corral's choice: "
        "a newer build's record), model " +
        std::string(sl_state_name(stratuslab_view(unknown).state)));
  }
}

// vocabulary_state_label (view_stratuslab.cc), the state a person reads in errors
// (vocabulary.cc) and tables, in the vocabularies no other golden check reads it in. Corral's
// choice, as each system writes its state: Corral's state with the running operation and phase;
// OpenNebula's STATE, or ACTIVE/LCM_STATE (an LCM state means something only under ACTIVE,
// seed 001), with the short alias onevm shows; Nova's vm_state with its task_state, if any.
void check_labels(Mismatches& out, const Moment& m, const std::string& at) {
  const VmRecord& r = m.record;
  std::string corral(state_name(r.state));
  if (r.busy()) {
    corral += " (" + std::string(action_name(r.op->action)) + ": " +
              std::string(phase_name(current_phase(*r.op))) + ")";
  }
  const OpenNebulaView one = opennebula_view(r);
  const std::string opennebula =
      (one.state == OneState::kActive ? "ACTIVE/" + std::string(lcm_state_name(one.lcm_state))
                                      : std::string(one_state_name(one.state))) +
      " (" + std::string(one.short_alias) + ")";
  const NovaView nova = nova_view(r);
  const std::string task(nova_task_state_name(nova.task_state));
  const std::string nova_label =
      std::string(nova_vm_state_name(nova.vm_state)) + (task.empty() ? "" : " (task " + task + ")");
  const std::pair<Vocabulary, std::string> want[] = {
      {Vocabulary::kCorral, corral},
      {Vocabulary::kOpenNebula, opennebula},
      {Vocabulary::kNova, nova_label},
  };
  for (const auto& [vocabulary, label] : want) {
    const std::string model = vocabulary_state_label(r, vocabulary);
    if (model != label) {
      out.add(at + std::string(vocabulary_name(vocabulary)) + " label golden '" + label +
              "' (Corral's choice: as the system writes it), model '" + model + "'");
    }
  }
}

}  // namespace

Mismatches check_stratuslab(std::size_t limit) {
  Mismatches out(limit);
  check_states(out);
  if (out.full()) return out;

  std::array<bool, std::size(kRules)> used{};
  for (const Moment& m : moments()) {
    if (out.full()) return out;
    const Rule<SlState>* rule = nullptr;
    for (std::size_t i = 0; i < std::size(kRules) && rule == nullptr; ++i) {
      if (kRules[i].when.matches(m)) {
        rule = &kRules[i];
        used[i] = true;
      }
    }
    const std::string at = "stratuslab: " + m.describe() + ": ";
    if (rule == nullptr) {
      out.add(at + "no golden rule matches");
      continue;
    }
    const SlState model = stratuslab_view(m.record).state;
    const std::string_view golden = state_row(rule->then)->name;
    if (model != rule->then) {
      out.add(at + "golden " + std::string(golden) + " (" + std::string(rule->source) +
              "), model " + std::string(sl_state_name(model)));
    }
    const std::string label = vocabulary_state_label(m.record, Vocabulary::kStratusLab);
    if (label != golden) {
      out.add(at + "label golden '" + std::string(golden) + "' (" + std::string(rule->source) +
              "), model '" + label + "'");
    }
    check_labels(out, m, at);
  }
  for (std::size_t i = 0; i < std::size(kRules) && !out.full(); ++i) {
    if (!used[i]) {
      out.add("stratuslab: golden rule " + std::to_string(i) + " -> " +
              std::string(state_row(kRules[i].then)->name) + " (" + std::string(kRules[i].source) +
              ") is the first match of no moment (dead or shadowed)");
    }
  }
  return out;
}

}  // namespace corral::lifecycle::golden
