#include "engine/usage.h"

#include <algorithm>

#include "engine/engine_impl.h"

namespace corral::engine {

namespace lc = corral::lifecycle;

std::vector<lc::UsagePoint> usage_points(const store::Vm& vm,
                                         std::span<const store::TransitionRow> history) {
  std::vector<lc::UsagePoint> points;
  points.reserve(history.size());
  for (const store::TransitionRow& t : history) {
    lc::UsagePoint p;
    p.at = t.at;
    if (t.after) {
      p.record = t.after->record;
      p.vcpus = t.after->vcpus;
      p.memory_mib = t.after->memory_mib;
    } else {
      p.record = lc::record_at_rest(t.to);
      p.vcpus = vm.model.vcpus;
      p.memory_mib = vm.model.memory_mib;
    }
    points.push_back(std::move(p));
  }
  // The store returns entries by id, which is commit order; times follow it except across a
  // clock step backwards, which must not make a segment negative.
  for (std::size_t i = 1; i < points.size(); ++i) {
    points[i].at = std::max(points[i].at, points[i - 1].at);
  }
  return points;
}

Result<std::vector<VmUsageReport>> Engine::usage(const UsageQuery& query) const {
  const Millis now = impl_->clock.now_ms();
  const Millis to = std::min(query.to, now);
  std::vector<store::Vm> vms;
  {
    std::shared_lock lock(impl_->published_mu);
    for (const store::Vm& vm : impl_->vms) {
      if (query.project && vm.project != *query.project) continue;
      if (vm.created_at >= to) continue;  // born after the window
      // Ended before the window: its last entry is older than `from`.
      if (vm.record.state == lc::State::kDone && vm.updated_at < query.from) continue;
      vms.push_back(vm);
    }
  }
  std::vector<VmUsageReport> out;
  out.reserve(vms.size());
  constexpr int kPage = 1000;
  for (store::Vm& vm : vms) {
    std::vector<store::TransitionRow> history;
    for (std::int64_t after = 0;;) {
      Result<std::vector<store::TransitionRow>> page = impl_->store.history(vm.id, after, kPage);
      if (!page) return fail(page.error());
      if (page->empty()) break;
      after = page->back().id;
      const bool last = static_cast<int>(page->size()) < kPage;
      history.insert(history.end(), std::make_move_iterator(page->begin()),
                     std::make_move_iterator(page->end()));
      if (last) break;
    }
    const std::vector<lc::UsagePoint> points = usage_points(vm, history);
    lc::VmUsage usage = lc::compute_usage(query.table, points, query.from, to, now);
    out.push_back({std::move(vm), std::move(usage)});
  }
  return out;
}

}  // namespace corral::engine
