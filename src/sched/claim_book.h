// Claims: the write side of placement. A plan made on a snapshot is applied with
// compare-and-set on the host's generation (placement's resource-provider generation,
// hosts-migration.md:94): claim(host, generation, resources) fails with kConflict if the
// generation moved since the snapshot, and the caller re-plans. Every claim and release moves
// the generation. A claim never takes a host beyond its capacity, whatever the caller passes.
//
// Thread-safe: one mutex per host, so claims on different hosts do not contend. The host list
// (names, totals, labels) is fixed at construction; only use, running VMs, state and
// generation change.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "sched/host_snapshot.h"
#include "sched/scheduler.h"

namespace corral::sched {

class ClaimBook {
 public:
  explicit ClaimBook(std::vector<HostSnapshot> hosts);

  std::size_t size() const { return slots_.size(); }
  std::optional<std::size_t> index_of(std::string_view name) const;

  // A full copy (names, labels and all).
  std::vector<HostSnapshot> snapshot() const;
  // Refreshes what changes (use, running VMs, state, generation) in a copy made by snapshot():
  // no allocation, for re-planning in a loop.
  void refresh(std::vector<HostSnapshot>& hosts) const;
  HostSnapshot host(std::size_t index) const;

  // Returns the new generation. kConflict if `generation` is not the host's current one, or
  // if the resources no longer fit.
  [[nodiscard]] Result<std::uint64_t> claim(std::size_t host, std::uint64_t generation,
                                            const Resources& resources);
  // Gives back a claim (a failed deploy, a terminated VM). kInvalidArgument if more than is
  // in use would be released.
  [[nodiscard]] Status release(std::size_t host, const Resources& resources);
  // A monitor or operator change of the host's state (moves the generation).
  void set_record(std::size_t host, const lifecycle::HostRecord& record);

 private:
  struct Slot {
    mutable std::mutex mu;
    HostSnapshot host;
  };
  std::vector<std::unique_ptr<Slot>> slots_;
  std::unordered_map<std::string_view, std::size_t> by_name_;
};

struct Scheduled {
  std::size_t host = 0;
  int attempts = 0;  // 1 + the re-plans after generation conflicts
};

// Plan on `view` (a snapshot of `book`, refreshed before each attempt) and claim, re-planning
// after a conflict, up to `max_attempts`. "No valid host" is kUnavailable with the reason;
// running out of attempts is kConflict.
[[nodiscard]] Result<Scheduled> schedule(ClaimBook& book, std::vector<HostSnapshot>& view,
                                         const PlacementRequest& request, RankPolicy policy,
                                         int max_attempts = 100);

}  // namespace corral::sched
