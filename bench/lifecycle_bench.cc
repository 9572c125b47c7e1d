// Lifecycle micro-benchmarks: validating an action, and rendering all four views.
// Targets (one core of these machines): >= 10 M validations/s, >= 1 M four-view renders/s.
// Method: Google Benchmark, items_per_second over a rotating set of records so branch
// predictors cannot learn a single path.
#include <benchmark/benchmark.h>

#include <vector>

#include "lifecycle/model.h"
#include "lifecycle/views.h"
#include "lifecycle/vocabulary.h"

namespace lc = corral::lifecycle;

namespace {

std::vector<lc::VmRecord> sample_records() {
  std::vector<lc::VmRecord> out;
  for (lc::State s : lc::kAllStates) out.push_back(lc::record_at_rest(s));
  // Some in flight.
  out.push_back(lc::begin(lc::record_at_rest(lc::State::kPending), {lc::Action::kDeploy})->record);
  out.push_back(
      lc::begin(lc::record_at_rest(lc::State::kRunning), {lc::Action::kShutdown})->record);
  out.push_back(lc::begin(lc::record_at_rest(lc::State::kRunning), {lc::Action::kMigrate})->record);
  out.push_back(lc::new_record());
  return out;
}

void BM_ValidateCanonical(benchmark::State& state) {
  const std::vector<lc::VmRecord> records = sample_records();
  std::size_t i = 0;
  int a = 1;
  for (auto _ : state) {
    const bool ok = lc::allowed(records[i], static_cast<lc::Action>(a));
    benchmark::DoNotOptimize(ok);
    if (++i == records.size()) i = 0;
    if (++a == lc::kActionCount) a = 1;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ValidateCanonical);

void BM_ValidateVocabularyVerb(benchmark::State& state) {
  // (record, vocabulary, verb) as a request carries them, string lookup included; only
  // accepted requests (a refusal builds a message for a person: the slow path by design).
  struct Case {
    lc::VmRecord record;
    lc::Vocabulary v;
    const char* verb;
  };
  std::vector<Case> cases;
  const struct {
    lc::Vocabulary v;
    const char* verb;
  } verbs[] = {{lc::Vocabulary::kNova, "stop"},
               {lc::Vocabulary::kNova, "delete"},
               {lc::Vocabulary::kOpenNebula, "resume"},
               {lc::Vocabulary::kAzure, "start"},
               {lc::Vocabulary::kCorral, "shutdown"},
               {lc::Vocabulary::kStratusLab, "kill"},
               {lc::Vocabulary::kOpenNebula, "terminate-hard"}};
  for (const lc::VmRecord& r : sample_records()) {
    for (const auto& [v, verb] : verbs) {
      if (lc::resolve(r, v, verb).has_value()) cases.push_back({r, v, verb});
    }
  }
  std::size_t i = 0;
  for (auto _ : state) {
    auto result = lc::resolve(cases[i].record, cases[i].v, cases[i].verb);
    benchmark::DoNotOptimize(result);
    if (++i == cases.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["cases"] = static_cast<double>(cases.size());
}
BENCHMARK(BM_ValidateVocabularyVerb);

void BM_BeginAndAdvance(benchmark::State& state) {
  const lc::VmRecord running = lc::record_at_rest(lc::State::kRunning);
  for (auto _ : state) {
    auto step = lc::begin(running, {lc::Action::kShutdown});
    lc::Step done = lc::phase_succeeded(step->record);
    benchmark::DoNotOptimize(done);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BeginAndAdvance);

void BM_RenderFourViews(benchmark::State& state) {
  const std::vector<lc::VmRecord> records = sample_records();
  std::size_t i = 0;
  for (auto _ : state) {
    lc::Views v = lc::render_views(records[i]);
    benchmark::DoNotOptimize(v);
    if (++i == records.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RenderFourViews);

}  // namespace

BENCHMARK_MAIN();
