// Test helper: the seed documents (../shared/seeds), which the tests cite line by line.
#pragma once

#include <string>
#include <vector>

namespace corral::lifecycle::testing {

// The whole text of a seed file by its number prefix ("000" .. "004"); fails the test if
// the file cannot be read.
std::string seed_text(const std::string& prefix);

// Seed 001's "List of States": every entry with its number, name and short alias.
struct OneSeedEntry {
  bool lcm = false;  // an LCM_STATE (under ACTIVE) rather than a STATE
  int number = 0;
  std::string name;
  std::string alias;  // "" for ACTIVE, whose LCM alias is shown
  int line = 0;       // 1-based line in the seed
};
std::vector<OneSeedEntry> opennebula_seed_states();

// Seed 003's digraph: every "a -> b" edge.
struct Edge {
  std::string from;
  std::string to;
};
std::vector<Edge> nova_seed_edges();

}  // namespace corral::lifecycle::testing
