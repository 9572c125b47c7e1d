#include "lifecycle/seed_text.h"

#include <gtest/gtest.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

namespace corral::lifecycle::testing {
namespace {

std::filesystem::path seeds_dir() {
  if (const char* env = std::getenv("CORRAL_SEEDS"); env != nullptr && *env != '\0') return env;
  return CORRAL_SEEDS_DIR;
}

bool all_digits(const std::string& s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return {};
  const auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

}  // namespace

std::string seed_text(const std::string& prefix) {
  const std::filesystem::path dir = seeds_dir();
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(prefix + "_", 0) == 0) {
      std::ifstream in(entry.path());
      std::stringstream buffer;
      buffer << in.rdbuf();
      return buffer.str();
    }
  }
  ADD_FAILURE() << "seed " << prefix << " not found in " << dir;
  return {};
}

std::vector<OneSeedEntry> opennebula_seed_states() {
  // Non-empty lines with their line numbers.
  std::vector<std::pair<std::string, int>> lines;
  {
    std::istringstream in(seed_text("001"));
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
      ++n;
      line = trim(line);
      if (!line.empty()) lines.emplace_back(line, n);
    }
  }
  std::size_t i = 0;
  while (i < lines.size() && lines[i].first != "Meaning") ++i;
  ++i;
  std::vector<OneSeedEntry> out;
  bool in_lcm = false;
  int last_lcm = -1;
  while (i + 1 < lines.size() && lines[i].first != "Diagram") {
    if (!all_digits(lines[i].first)) {
      ++i;
      continue;
    }
    OneSeedEntry e;
    e.number = std::stoi(lines[i].first);
    e.name = lines[i + 1].first;
    e.line = lines[i].second;
    if (i + 2 < lines.size() && all_digits(lines[i + 2].first)) {
      // ACTIVE: no alias; its LCM states follow.
      out.push_back(e);
      in_lcm = true;
      last_lcm = -1;
      i += 2;
      continue;
    }
    e.alias = i + 2 < lines.size() ? lines[i + 2].first : "";
    if (in_lcm && e.number <= last_lcm) in_lcm = false;  // numbering restarts: STATE again
    e.lcm = in_lcm;
    if (in_lcm) last_lcm = e.number;
    out.push_back(e);
    i += 4;  // number, name, alias, meaning
  }
  return out;
}

std::vector<Edge> nova_seed_edges() {
  const std::string text = seed_text("003");
  std::vector<Edge> out;
  const std::regex edge(R"((\w+)\s*->\s*(\w+))");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), edge); it != std::sregex_iterator();
       ++it) {
    out.push_back({(*it)[1].str(), (*it)[2].str()});
  }
  return out;
}

}  // namespace corral::lifecycle::testing
