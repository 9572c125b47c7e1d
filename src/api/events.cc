#include "api/events.h"

#include <algorithm>

#include "api/host_json.h"
#include "api/vm_json.h"
#include "api/vm_writer.h"

namespace corral::api {

bool EventFilter::wants(const engine::Event& e) const {
  if (e.host_change) return vm == 0 && hosts;  // live only: no id to resume from
  if (vm != 0 && (e.changed_vm != 0 ? e.changed_vm : e.transition.vm_id) != vm) return false;
  return !project || e.project == *project;
}

void EventClient::push(const EventBatch& batch) {
  std::size_t mine = 0;
  for (const engine::Event& e : *batch) mine += filter_.wants(e) ? 1 : 0;
  if (mine == 0) return;
  {
    std::lock_guard lock(mu_);
    if (dropped_ || closed_) return;
    if (queued_events_ + mine > limit_) {
      dropped_ = true;
      queue_.clear();
      queued_events_ = 0;
    } else {
      queue_.push_back(batch);
      queued_events_ += mine;
    }
  }
  cv_.notify_one();
}

void EventClient::end(bool dropped) {
  {
    std::lock_guard lock(mu_);
    if (dropped) {
      dropped_ = true;
    } else {
      closed_ = true;
    }
  }
  cv_.notify_one();
}

bool EventClient::finished() const {
  std::lock_guard lock(mu_);
  return finished_;
}

std::string EventClient::next(std::chrono::milliseconds wait) {
  std::deque<EventBatch> batches;
  {
    std::unique_lock lock(mu_);
    if (finished_) return {};
    cv_.wait_for(lock, wait, [this] { return !queue_.empty() || dropped_ || closed_; });
    if (closed_) {
      finished_ = true;
      return {};
    }
    if (dropped_) {
      finished_ = true;
      return "event: dropped\ndata: {\"reason\":\"the client fell behind; reconnect and read "
             "GET /v1/vms to catch up\"}\n\n";
    }
    batches.swap(queue_);
    queued_events_ = 0;
  }
  if (batches.empty()) return ": heartbeat\n\n";
  std::string out;
  for (const EventBatch& batch : batches) {
    for (const engine::Event& e : *batch) {
      if (!filter_.wants(e)) continue;
      if (e.host_change) {
        out += "event: host\ndata: ";
        out += host_change_json(*e.host_change)
                   .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        out += "\n\n";
        continue;
      }
      if (e.changed_vm != 0) {  // live only, as a host's change
        out += "event: vm\ndata: {\"vm_id\":" + std::to_string(e.changed_vm) +
               ",\"change\":\"lock\"}\n\n";
        continue;
      }
      if (e.transition.id != 0) out += "id: " + std::to_string(e.transition.id) + "\n";
      out += "event: transition\ndata: ";
      out += render_event(e);
      out += "\n\n";
    }
  }
  return out;
}

std::shared_ptr<EventClient> EventHub::open(EventFilter filter) {
  auto client = std::make_shared<EventClient>(filter, limit_);
  std::lock_guard lock(mu_);
  if (closed_) return nullptr;
  clients_.push_back(client);
  return client;
}

void EventHub::remove(const std::shared_ptr<EventClient>& client) {
  std::lock_guard lock(mu_);
  std::erase(clients_, client);
}

void EventHub::publish(const std::vector<engine::Event>& events) {
  if (events.empty()) return;
  std::lock_guard lock(mu_);
  if (clients_.empty()) return;
  const auto batch = std::make_shared<const std::vector<engine::Event>>(events);
  for (const std::shared_ptr<EventClient>& c : clients_) c->push(batch);
}

void EventHub::close() {
  std::vector<std::shared_ptr<EventClient>> clients;
  {
    std::lock_guard lock(mu_);
    closed_ = true;
    clients.swap(clients_);
  }
  for (const std::shared_ptr<EventClient>& c : clients) c->end(/*dropped=*/false);
}

std::size_t EventHub::clients() const {
  std::lock_guard lock(mu_);
  return clients_.size();
}

}  // namespace corral::api
