#include "lifecycle/reachable.h"

#include <deque>
#include <unordered_set>

namespace corral::lifecycle::testing {
namespace {

std::string key(const VmRecord& r) {
  std::string k;
  k += static_cast<char>(r.state);
  k += static_cast<char>(r.power);
  k += static_cast<char>(r.resched);
  if (r.op) {
    k += static_cast<char>(r.op->action);
    k += static_cast<char>(r.op->origin);
    k += static_cast<char>(r.op->step);
    k += static_cast<char>(r.op->status);
    k += static_cast<char>(r.op->during);
    k += static_cast<char>(r.op->undoing ? static_cast<int>(*r.op->undoing) : 0);
  }
  return k;
}

std::vector<Reached> explore() {
  std::vector<Reached> out;
  std::unordered_set<std::string> seen;
  std::deque<Reached> queue;
  auto visit = [&](const VmRecord& r, std::string path) {
    if (path.size() > 400) path = "..." + path.substr(path.size() - 400);
    if (seen.insert(key(r)).second) queue.push_back({r, std::move(path)});
  };
  visit(new_record(), "new");
  while (!queue.empty()) {
    Reached current = std::move(queue.front());
    queue.pop_front();
    out.push_back(current);
    const VmRecord& r = current.record;
    if (r.busy()) {
      visit(phase_succeeded(r).record, current.path + " >ok");
      visit(phase_failed(r).record, current.path + " >fail");
      visit(phase_failed(r, OpStatus::kFailed, Integrity::kIntact).record,
            current.path + " >fail-intact");
      visit(phase_failed(r, OpStatus::kCanceled).record, current.path + " >cancel");
    }
    if (auto late = late_success(r)) visit(late->record, current.path + " >late-ok");
    for (Action a : kAllActions) {
      if (a == Action::kResetState) {
        for (State to : kAllStates) {
          if (auto step = begin(r, {a, to})) {
            visit(step->record, current.path + " reset_state(" + std::string(state_name(to)) + ")");
          }
        }
        continue;
      }
      if (auto step = begin(r, {a})) {
        visit(step->record, current.path + " " + std::string(action_name(a)));
      }
    }
  }
  return out;
}

}  // namespace

const std::vector<Reached>& reachable_records() {
  static const std::vector<Reached> kAll = explore();
  return kAll;
}

std::string describe(const VmRecord& r) {
  std::string s = std::string(state_name(r.state)) + " power=" + std::string(power_name(r.power));
  if (r.op) {
    s += " op=" + std::string(action_name(r.op->action)) + " from " +
         std::string(state_name(r.op->origin)) + " step " + std::to_string(r.op->step) + " (" +
         std::string(phase_name(current_phase(*r.op))) + ") " +
         std::string(op_status_name(r.op->status)) + (r.op->during ? " during" : "");
  }
  return s;
}

}  // namespace corral::lifecycle::testing
