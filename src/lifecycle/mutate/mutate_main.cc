// corral-mutate: mutation testing of the lifecycle's tables against the golden checks.
//
// Every single-edit mutant of the transition table, the verb rules and the drift table
// (data_mutants.h, made in memory) and of the views' outputs (schemata.py, compiled once into
// this binary, picked by CORRAL_MUTANT) must be rejected by at least one golden check
// (lifecycle/golden/golden.h). Each mutant runs in a child process, so that a mutant that
// crashes or loops the model is seen as killed (as the tests would be), not as a crash of the
// tool. Prints the figures and every survivor; exits 1 if any survivor is not equivalent.
//
//   corral-mutate [--jobs N] [--only data|views] [--checks a,b] [--verbose]
//   corral-mutate --mutant FIRST  (internal: a view mutant's child; CORRAL_MUTANT says which)
#include <fmt/core.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "lifecycle/golden/golden.h"
#include "lifecycle/mutate/data_mutants.h"

namespace {

namespace golden = corral::lifecycle::golden;
using corral::mutate::Mutant;
using corral::mutate::Table;

// Child exit codes.
constexpr int kSurvived = 0;
constexpr int kEquivalent = 3;
constexpr int kKilledBase = 10;  // + the index of the check that rejected it
constexpr unsigned kChildSeconds = 60;

// The checks in use (--checks; default all), by name.
std::string g_checks;

bool in_use(std::string_view name) {
  if (g_checks.empty()) return true;
  const std::string list = "," + g_checks + ",";
  return list.find("," + std::string(name) + ",") != std::string::npos;
}

// Runs the checks, `first` first, and returns the exit code for the parent.
int run_checks(std::string_view first) {
  const auto& checks = golden::all_checks();
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < checks.size(); ++i) {
    if (!in_use(checks[i].name)) continue;
    if (checks[i].name == first) {
      order.insert(order.begin(), i);
    } else {
      order.push_back(i);
    }
  }
  for (std::size_t i : order) {
    if (!checks[i].run(1).empty()) return kKilledBase + static_cast<int>(i);
  }
  return kSurvived;
}

struct ViewMutant {
  int id = 0;
  std::string file;
  int line = 0;
  std::string original;
  std::string replacement;
  std::string note;
};

std::vector<ViewMutant> read_manifest(const std::string& path) {
  std::vector<ViewMutant> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    std::string field;
    while (std::getline(ss, field, '\t')) f.push_back(field);
    if (f.size() < 5) continue;
    out.push_back({std::atoi(f[0].c_str()), f[1], std::atoi(f[2].c_str()), f[3], f[4],
                   f.size() > 5 ? f[5] : ""});
  }
  return out;
}

std::string_view check_for_view(const std::string& file) {
  if (file == "view_opennebula.cc") return "opennebula";
  if (file == "view_nova.cc") return "nova";
  if (file == "view_azure.cc") return "azure";
  if (file == "view_stratuslab.cc") return "stratuslab";
  return "";
}

std::string_view check_for_table(Table table) {
  switch (table) {
    case Table::kTransitions:
      return "outcomes";
    case Table::kVerbRules:
      return "vocabulary";
    case Table::kDriftRules:
      return "drift";
  }
  return "";
}

// One finished mutant: how its child ended.
struct Verdict {
  bool killed = false;
  bool equivalent = false;
  std::string by;  // the check, or "crash"/"timeout"
};

Verdict verdict_of(int status) {
  Verdict v;
  if (WIFSIGNALED(status)) {
    v.killed = true;
    v.by = WTERMSIG(status) == SIGALRM ? "timeout" : "crash";
    return v;
  }
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (code == kEquivalent) {
    v.equivalent = true;
  } else if (code >= kKilledBase) {
    v.killed = true;
    const auto i = static_cast<std::size_t>(code - kKilledBase);
    const auto& checks = golden::all_checks();
    v.by = i < checks.size() ? std::string(checks[i].name) : "exit " + std::to_string(code);
  } else if (code != kSurvived) {
    v.killed = true;
    v.by = "exit " + std::to_string(code);
  }
  return v;
}

// Runs `count` children, at most `jobs` at once; start(i) runs in the child.
template <typename Start, typename Done>
void run_all(std::size_t count, int jobs, Start start, Done done) {
  std::map<pid_t, std::size_t> running;
  std::size_t next = 0;
  while (next < count || !running.empty()) {
    while (next < count && static_cast<int>(running.size()) < jobs) {
      const pid_t pid = fork();
      if (pid == 0) {
        alarm(kChildSeconds);
        _exit(start(next));
      }
      if (pid < 0) {
        std::perror("fork");
        std::exit(2);
      }
      running[pid] = next++;
    }
    int status = 0;
    const pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0) break;
    auto it = running.find(pid);
    if (it == running.end()) continue;
    done(it->second, status);
    running.erase(it);
  }
}

struct Tally {
  std::size_t mutants = 0, killed = 0, equivalent = 0;
  std::map<std::string, std::size_t> by;
  std::vector<std::string> survivors;
  std::vector<std::string> equivalents;
};

void print_tally(std::string_view name, const Tally& t, bool verbose) {
  std::string by;
  for (const auto& [check, n] : t.by)
    by += fmt::format("{}{} {}", by.empty() ? "" : ", ", check, n);
  fmt::print(
      "{:<18} {:>6} mutants  {:>6} killed  {:>4} equivalent  {:>4} survived   (killed by: {})\n",
      name, t.mutants, t.killed, t.equivalent, t.survivors.size(), by);
  for (const std::string& s : t.survivors) fmt::print("  SURVIVED  {}\n", s);
  if (verbose) {
    for (const std::string& s : t.equivalents) fmt::print("  equivalent  {}\n", s);
  }
}

}  // namespace

int main(int argc, char** argv) {
  int jobs = 2;
  std::string only;
  bool verbose = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--mutant" && i + 1 < argc) {
      // The child of a view mutant: CORRAL_MUTANT is set in its environment.
      return run_checks(argv[++i]);
    } else if (arg == "--jobs" && i + 1 < argc) {
      jobs = std::max(1, std::atoi(argv[++i]));
    } else if (arg == "--only" && i + 1 < argc) {
      only = argv[++i];
    } else if (arg == "--checks" && i + 1 < argc) {
      g_checks = argv[++i];  // before --mutant: the children get it too
    } else if (arg == "--verbose") {
      verbose = true;
    } else {
      fmt::print(
          stderr,
          "usage: corral-mutate [--jobs N] [--only data|views] [--checks a,b] [--verbose]\n");
      return 2;
    }
  }
  if (std::getenv("CORRAL_MUTANT") != nullptr) {
    fmt::print(stderr, "corral-mutate: unset CORRAL_MUTANT to run the whole set\n");
    return 2;
  }
  const auto started = std::chrono::steady_clock::now();

  // The golden checks must pass on the model as it is, or no verdict means anything.
  for (const auto& check : golden::all_checks()) {
    if (!in_use(check.name)) continue;
    const golden::Mismatches found = check.run(5);
    if (!found.empty()) {
      fmt::print(stderr, "corral-mutate: the {} golden check fails without any mutant:\n",
                 check.name);
      for (const std::string& line : found.lines()) fmt::print(stderr, "  {}\n", line);
      return 2;
    }
  }

  std::map<Table, Tally> data;
  if (only.empty() || only == "data") {
    const std::vector<Mutant> mutants = corral::mutate::data_mutants();
    if (!mutants.empty()) (void)mutants.front().equivalent();  // the original's lookups, once
    run_all(
        mutants.size(), jobs,
        [&](std::size_t i) {
          const Mutant& m = mutants[i];
          if (m.equivalent()) return kEquivalent;
          const std::shared_ptr<void> live = m.install();
          return run_checks(check_for_table(m.table));
        },
        [&](std::size_t i, int status) {
          Tally& t = data[mutants[i].table];
          ++t.mutants;
          const Verdict v = verdict_of(status);
          if (v.equivalent) {
            ++t.equivalent;
            t.equivalents.push_back(mutants[i].what + "  (no lookup of the model changes)");
          } else if (v.killed) {
            ++t.killed;
            ++t.by[v.by];
          } else {
            t.survivors.push_back(mutants[i].what);
          }
        });
  }

  Tally views;
  if (only.empty() || only == "views") {
    const std::vector<ViewMutant> mutants = read_manifest(CORRAL_MUTANTS_MANIFEST);
    if (mutants.empty()) {
      fmt::print(stderr, "corral-mutate: no view mutants in {}\n", CORRAL_MUTANTS_MANIFEST);
      return 2;
    }
    run_all(
        mutants.size(), jobs,
        [&](std::size_t i) {
          const std::string id = std::to_string(mutants[i].id);
          const std::string first(check_for_view(mutants[i].file));
          setenv("CORRAL_MUTANT", id.c_str(), 1);
          execl("/proc/self/exe", argv[0], "--checks", g_checks.c_str(), "--mutant", first.c_str(),
                nullptr);
          return 2;
        },
        [&](std::size_t i, int status) {
          const ViewMutant& m = mutants[i];
          ++views.mutants;
          const Verdict v = verdict_of(status);
          const std::string what =
              fmt::format("{}:{} {} -> {}", m.file, m.line, m.original, m.replacement);
          if (v.killed) {
            ++views.killed;
            ++views.by[v.by];
          } else if (m.note == "after-switch") {
            ++views.equivalent;
            views.equivalents.push_back(
                what + "  (the return after an exhaustive switch: no input reaches it)");
          } else {
            views.survivors.push_back(what);
          }
        });
  }

  std::size_t total = 0, killed = 0, equivalent = 0, survived = 0;
  fmt::print("\nMutation testing of the lifecycle tables against the golden checks\n");
  fmt::print("(each mutant is one edit; killed = some golden check rejects it)\n\n");
  for (const auto& [table, t] : data) {
    print_tally(corral::mutate::table_name(table), t, verbose);
    total += t.mutants, killed += t.killed, equivalent += t.equivalent;
    survived += t.survivors.size();
  }
  if (views.mutants > 0) {
    print_tally("view outputs", views, verbose);
    total += views.mutants, killed += views.killed, equivalent += views.equivalent;
    survived += views.survivors.size();
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  fmt::print("\n{} mutants: {} killed, {} equivalent, {} survived, in {:.1f} s ({} jobs)\n", total,
             killed, equivalent, survived, seconds, jobs);
  return survived == 0 ? 0 : 1;
}
