// Scheduler benchmark: place 10,000 pending VMs on 1,000 hosts, one after another, each
// placement seeing the claims before it — with each rank policy, with a requirements
// expression, and through ClaimBook (refresh the view, place, compare-and-set claim).
// Target: <= 1 s for the 10,000 (>= 10,000 VMs/s). Peers (hosts-migration.md:98-99): Nova
// Essex 26 s per 100 VMs (3.8 VMs/s); Nomad C1M 3,750 containers/s.
// Method: Google Benchmark, one thread; each iteration builds the 1,000 hosts (timing paused)
// and places all 10,000 VMs; items_per_second is VMs/s, "s_per_10k" the total time.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>
#include <vector>

#include "sched/claim_book.h"
#include "sched/requirements.h"
#include "sched/scheduler.h"

namespace sc = corral::sched;

namespace {

constexpr int kHosts = 1000;
constexpr int kVms = 10000;

std::vector<sc::HostSnapshot> cluster() {
  std::vector<sc::HostSnapshot> hosts;
  hosts.reserve(kHosts);
  const char* zones[] = {"eu-west-1", "eu-north-1", "us-east-1", "ap-south-1"};
  for (int i = 0; i < kHosts; ++i) {
    sc::HostSnapshot h;
    char name[32];
    std::snprintf(name, sizeof name, "host-%04d", (i * 7919) % kHosts);  // not in name order
    h.name = name;
    h.record = {corral::lifecycle::HostState::kMonitored, false};
    h.total = {32, 131072};
    h.reserved = {0, 4096};
    h.free_cpu = static_cast<double>((i * 37) % 3200);
    h.labels = {{"HYPERVISOR", "kvm"}, {"zone", zones[i % 4]}};
    if (i % 50 == 0) h.record.state = corral::lifecycle::HostState::kDisabled;
    hosts.push_back(std::move(h));
  }
  return hosts;
}

sc::Resources vm_size(int v) {
  // A mix of flavours: 1, 2 and 4 vCPUs with 2, 4 and 8 GiB.
  const int k = v % 3;
  return {1L << k, 2048L << k};
}

// The scheduler's own view, updated with each placement (as a batch scheduler keeps it).
void place_all(benchmark::State& state, sc::RankPolicy policy, const char* requirements,
               bool use_memo = true) {
  auto req = sc::Requirements::parse(requirements);
  if (!req) {
    state.SkipWithError(req.error().message.c_str());
    return;
  }
  int unplaced = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<sc::HostSnapshot> hosts = cluster();
    state.ResumeTiming();
    sc::RequirementsMemo memo;
    sc::PlacementRequest r;
    r.requirements = &*req;
    r.memo = use_memo ? &memo : nullptr;
    for (int v = 0; v < kVms; ++v) {
      r.resources = vm_size(v);
      auto placed = sc::place(hosts, r, policy);
      if (!placed) {
        ++unplaced;
        continue;
      }
      sc::HostSnapshot& h = hosts[placed->host];
      h.used.vcpus += r.resources.vcpus;
      h.used.memory_mib += r.resources.memory_mib;
      ++h.running_vms;
      h.free_cpu -= 100.0 * static_cast<double>(r.resources.vcpus);
      ++h.generation;
    }
  }
  state.SetItemsProcessed(state.iterations() * kVms);
  state.counters["s_per_10k"] =
      benchmark::Counter(static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["unplaced"] =
      static_cast<double>(unplaced) / static_cast<double>(state.iterations());
}

void BM_Place10kPacking(benchmark::State& s) { place_all(s, sc::RankPolicy::kPacking, ""); }
void BM_Place10kStriping(benchmark::State& s) { place_all(s, sc::RankPolicy::kStriping, ""); }
void BM_Place10kLoadAware(benchmark::State& s) { place_all(s, sc::RankPolicy::kLoadAware, ""); }
void BM_Place10kStripingRequirements(benchmark::State& s) {
  place_all(s, sc::RankPolicy::kStriping, "HYPERVISOR = kvm & zone = \"eu-*\"");
}
void BM_Place10kStripingRequirementsNoMemo(benchmark::State& s) {
  place_all(s, sc::RankPolicy::kStriping, "HYPERVISOR = kvm & zone = \"eu-*\"", false);
}
BENCHMARK(BM_Place10kPacking)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Place10kStriping)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Place10kLoadAware)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Place10kStripingRequirements)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Place10kStripingRequirementsNoMemo)->Unit(benchmark::kMillisecond);

// Through ClaimBook: refresh the view, place, claim with compare-and-set (one thread, so no
// conflicts: the cost of the write path).
void BM_Schedule10kThroughClaimBook(benchmark::State& state) {
  int unplaced = 0;
  for (auto _ : state) {
    state.PauseTiming();
    sc::ClaimBook book(cluster());
    std::vector<sc::HostSnapshot> view = book.snapshot();
    state.ResumeTiming();
    sc::PlacementRequest r;
    for (int v = 0; v < kVms; ++v) {
      r.resources = vm_size(v);
      if (!sc::schedule(book, view, r, sc::RankPolicy::kStriping)) ++unplaced;
    }
  }
  state.SetItemsProcessed(state.iterations() * kVms);
  state.counters["s_per_10k"] =
      benchmark::Counter(static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["unplaced"] =
      static_cast<double>(unplaced) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_Schedule10kThroughClaimBook)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
