// What the engine tells Prometheus (common/metrics.h), read from the batches it commits:
//
//   corral_operations_total{action, outcome}            operations ended, by how
//   corral_operation_duration_seconds{action}           request to end, per operation
//   corral_phase_duration_seconds{action, phase}        each phase of each operation
//   corral_store_commit_duration_seconds                one group commit (fsync included)
//   corral_transitions_total                            entries committed to the history
//
// Contract: fed on the engine thread only, after a commit succeeded (a rolled-back batch
// counts nothing), from the history's entries as written — the same facts the API's history
// shows. Times are the entries' (the engine's clock: a fake clock in tests).
#pragma once

#include <span>
#include <unordered_map>

#include "common/metrics.h"
#include "store/types.h"

namespace corral::engine {

class EngineMetrics {
 public:
  explicit EngineMetrics(MetricsRegistry& registry);
  void committed(std::span<const store::TransitionRow> transitions, double commit_seconds);

 private:
  struct Open {
    store::OpId op = 0;
    lifecycle::Phase phase = lifecycle::Phase::kNone;
    Millis since = 0;    // the phase's start
    Millis started = 0;  // the operation's
    bool ended = false;  // counted once
  };
  Family<Counter>& operations_;
  Family<Histogram>& operation_seconds_;
  Family<Histogram>& phase_seconds_;
  Histogram& commit_seconds_;
  Counter& transitions_;
  std::unordered_map<store::VmId, Open> open_;  // the last operation seen per VM
};

}  // namespace corral::engine
