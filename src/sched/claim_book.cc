#include "sched/claim_book.h"

#include <fmt/format.h>

namespace corral::sched {

ClaimBook::ClaimBook(std::vector<HostSnapshot> hosts) {
  slots_.reserve(hosts.size());
  for (HostSnapshot& h : hosts) {
    auto slot = std::make_unique<Slot>();
    slot->host = std::move(h);
    slots_.push_back(std::move(slot));
  }
  // Keys view the slots' own names, which never move or change.
  for (std::size_t i = 0; i < slots_.size(); ++i) by_name_.emplace(slots_[i]->host.name, i);
}

std::optional<std::size_t> ClaimBook::index_of(std::string_view name) const {
  const auto it = by_name_.find(name);
  if (it == by_name_.end()) return std::nullopt;
  return it->second;
}

std::vector<HostSnapshot> ClaimBook::snapshot() const {
  std::vector<HostSnapshot> out;
  out.reserve(slots_.size());
  for (const auto& slot : slots_) {
    const std::lock_guard lock(slot->mu);
    out.push_back(slot->host);
  }
  return out;
}

void ClaimBook::refresh(std::vector<HostSnapshot>& hosts) const {
  if (hosts.size() != slots_.size()) {
    hosts = snapshot();
    return;
  }
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    const std::lock_guard lock(slots_[i]->mu);
    const HostSnapshot& src = slots_[i]->host;
    HostSnapshot& dst = hosts[i];
    dst.record = src.record;
    dst.used = src.used;
    dst.running_vms = src.running_vms;
    dst.free_cpu = src.free_cpu;
    dst.generation = src.generation;
  }
}

HostSnapshot ClaimBook::host(std::size_t index) const {
  const std::lock_guard lock(slots_.at(index)->mu);
  return slots_[index]->host;
}

Result<std::uint64_t> ClaimBook::claim(std::size_t index, std::uint64_t generation,
                                       const Resources& resources) {
  if (index >= slots_.size()) return fail(Error::not_found("no such host"));
  Slot& slot = *slots_[index];
  const std::lock_guard lock(slot.mu);
  HostSnapshot& h = slot.host;
  if (h.generation != generation) {
    return fail(Error{ErrorCode::kConflict,
                      fmt::format("host {} changed (generation {}, planned on {}): re-plan", h.name,
                                  h.generation, generation),
                      {},
                      {}});
  }
  if (resources.vcpus < 0 || resources.memory_mib < 0) {
    return fail(Error::invalid_argument("negative resources"));
  }
  if (!fits(h, resources)) {
    return fail(Error{ErrorCode::kConflict, fmt::format("host {} is full", h.name), {}, {}});
  }
  h.used.vcpus += resources.vcpus;
  h.used.memory_mib += resources.memory_mib;
  ++h.running_vms;
  return ++h.generation;
}

Status ClaimBook::release(std::size_t index, const Resources& resources) {
  if (index >= slots_.size()) return fail(Error::not_found("no such host"));
  Slot& slot = *slots_[index];
  const std::lock_guard lock(slot.mu);
  HostSnapshot& h = slot.host;
  if (resources.vcpus < 0 || resources.memory_mib < 0 || resources.vcpus > h.used.vcpus ||
      resources.memory_mib > h.used.memory_mib || h.running_vms == 0) {
    return fail(
        Error::invalid_argument(fmt::format("release exceeds what host {} has in use", h.name)));
  }
  h.used.vcpus -= resources.vcpus;
  h.used.memory_mib -= resources.memory_mib;
  --h.running_vms;
  ++h.generation;
  return {};
}

void ClaimBook::set_record(std::size_t index, const lifecycle::HostRecord& record) {
  Slot& slot = *slots_.at(index);
  const std::lock_guard lock(slot.mu);
  slot.host.record = record;
  ++slot.host.generation;
}

Result<Scheduled> schedule(ClaimBook& book, std::vector<HostSnapshot>& view,
                           const PlacementRequest& request, RankPolicy policy, int max_attempts) {
  for (int attempt = 1; attempt <= max_attempts; ++attempt) {
    book.refresh(view);
    auto plan = place(view, request, policy);
    if (!plan) return fail(Error{ErrorCode::kUnavailable, plan.error().reason, {}, {}});
    auto claimed = book.claim(plan->host, plan->generation, request.resources);
    if (claimed) return Scheduled{plan->host, attempt};
    if (claimed.error().code != ErrorCode::kConflict) return fail(claimed.error());
  }
  return fail(Error{ErrorCode::kConflict,
                    fmt::format("no claim succeeded in {} attempts", max_attempts),
                    {},
                    {}});
}

}  // namespace corral::sched
