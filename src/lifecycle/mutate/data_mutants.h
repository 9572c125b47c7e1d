// Data mutants: single edits of the rule tables, made in memory (no rebuild).
//
// Contract: data_mutants() lists every single-edit mutant of the transition table, the verb
// rules and the drift table as they are built in; Mutant::install() makes the model read the
// mutated copy until the returned guard is destroyed (through the testing:: hooks of
// table.h, vocabulary.h and drift.h). The edits, per the list:
//   transition table: flip a phase's failure rule; replace a phase; drop a phase; drop or add
//     an origin; retarget a row (another state, or another kind of target); flip when_idle;
//     drop or add an action of a pre-empting row's `during`; move a phase to another side
//     (runs_on); set, change or drop the row's named power (power_after); add or drop an
//     effect;
//   verb rules: drop or add a state; point the verb at another action; drop or add a
//     running action in `during`;
//   drift rules: drop or add a state; another reaction; another observation; another policy.
// equivalent() says whether a table mutant changes no lookup at all (it edits a row that is
// shadowed where it was edited): such a mutant cannot be told apart, by any test.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace corral::mutate {

enum class Table : std::uint8_t { kTransitions = 1, kVerbRules = 2, kDriftRules = 3 };

struct Mutant {
  Table table = Table::kTransitions;
  std::string what;  // "transitions row 12 (suspend): save fails rollback -> fail_stop"
  // Installs the mutated table; the model reads it until the guard is destroyed.
  std::function<std::shared_ptr<void>()> install;
  // Whether the model's lookups come out the same as without the mutant (table mutants;
  // false where it cannot tell).
  std::function<bool()> equivalent;
};

std::string_view table_name(Table table);

std::vector<Mutant> data_mutants();

}  // namespace corral::mutate
