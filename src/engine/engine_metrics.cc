#include "engine/engine_metrics.h"

namespace corral::engine {

namespace lc = corral::lifecycle;

namespace {
// Phases last from milliseconds (the sim) to many minutes (a copy of a large disk).
const std::vector<double>& phase_buckets() {
  static const std::vector<double> kBuckets = {0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1,   2.5,
                                               5,     10,    30,   60,   120, 300, 900, 3600};
  return kBuckets;
}
double seconds(Millis ms) { return static_cast<double>(ms) / 1000.0; }
}  // namespace

EngineMetrics::EngineMetrics(MetricsRegistry& registry)
    : operations_(registry.counter("corral_operations_total",
                                   "Operations that ended, by action and outcome.",
                                   {"action", "outcome"})),
      operation_seconds_(registry.histogram("corral_operation_duration_seconds",
                                            "From an operation's request to its end.",
                                            phase_buckets(), {"action"})),
      phase_seconds_(registry.histogram("corral_phase_duration_seconds",
                                        "How long each phase of each operation lasted.",
                                        phase_buckets(), {"action", "phase"})),
      commit_seconds_(registry
                          .histogram("corral_store_commit_duration_seconds",
                                     "One group commit of the engine's batch to the store.",
                                     default_latency_buckets())
                          .with(std::span<const std::string>{})),
      transitions_(
          registry.counter("corral_transitions_total", "Entries committed to the VMs' history.")
              .with(std::span<const std::string>{})) {}

void EngineMetrics::committed(std::span<const store::TransitionRow> transitions,
                              double commit_seconds) {
  commit_seconds_.observe(commit_seconds);
  transitions_.inc(transitions.size());
  for (const store::TransitionRow& t : transitions) {
    if (t.op_id == 0) continue;
    const lc::Action action = t.after && t.after->record.op ? t.after->record.op->action : t.action;
    const std::string_view action_text = lc::action_name(action);
    auto [it, fresh] = open_.try_emplace(t.vm_id);
    Open& open = it->second;
    if (fresh || open.op != t.op_id) open = Open{t.op_id, lc::Phase::kNone, t.at, t.at, false};
    if (open.ended) continue;
    if (open.phase != lc::Phase::kNone && open.phase != t.phase) {
      phase_seconds_.with({action_text, lc::phase_name(open.phase)})
          .observe(seconds(t.at - open.since));
    }
    if (open.phase != t.phase) {
      open.phase = t.phase;
      open.since = t.at;
    }
    if (t.status != lc::OpStatus::kRunning) {
      if (open.phase != lc::Phase::kNone && open.since != t.at) {
        phase_seconds_.with({action_text, lc::phase_name(open.phase)})
            .observe(seconds(t.at - open.since));
      }
      operations_.with({action_text, lc::op_status_name(t.status)}).inc();
      operation_seconds_.with({action_text}).observe(seconds(t.at - open.started));
      open.ended = true;  // later entries of this operation (follow-ups) count nothing
    }
  }
}

}  // namespace corral::engine
