// The event stream (GET /v1/events): committed transitions fanned out to SSE clients.
//
// Contract: publish() is the engine's subscriber callback. It runs on the engine thread and
// only appends a shared batch to each client's bounded queue under short locks: no JSON, no
// I/O, no waiting. A client whose queue is full is dropped (its stream ends with an
// "event: dropped" telling it to reconnect); the engine is never slowed by a client.
// Each client's HTTP thread waits in next(), formats and writes. close() ends every stream
// (used before the HTTP server stops, so no connection thread is left waiting).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engine/engine.h"

namespace corral::api {

using EventBatch = std::shared_ptr<const std::vector<engine::Event>>;

// Which events a client gets: one VM's or every VM's, of one project or of all, and host
// changes (the cloud's admin's) or not.
struct EventFilter {
  store::VmId vm = 0;                         // 0: every VM
  std::optional<store::ProjectId> project{};  // empty: every project's
  bool hosts = true;                          // host changes too (only when vm is 0)
  bool wants(const engine::Event& e) const;
};

class EventClient {
 public:
  EventClient(EventFilter filter, std::size_t limit) : filter_(filter), limit_(limit) {}

  // Waits up to `wait` for events; returns the SSE text to write: the events as
  // "id: N\nevent: transition\ndata: {json}\n\n" (no "id:" line when the history id is not
  // known), or ": heartbeat\n\n" when none came, or a final "event: dropped" / "" (closed) —
  // after which finished() is true.
  std::string next(std::chrono::milliseconds wait);
  bool finished() const;

 private:
  friend class EventHub;
  void push(const EventBatch& batch);  // engine thread
  void end(bool dropped);

  const EventFilter filter_;
  const std::size_t limit_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<EventBatch> queue_;
  std::size_t queued_events_ = 0;
  bool dropped_ = false;
  bool closed_ = false;
  bool finished_ = false;
};

class EventHub {
 public:
  // `limit`: events a client may have waiting before it is dropped.
  explicit EventHub(std::size_t limit = 4096) : limit_(limit) {}

  // A new client following `vm` (0: every VM). Returns nullptr once closed.
  std::shared_ptr<EventClient> open(store::VmId vm) { return open(EventFilter{vm}); }
  std::shared_ptr<EventClient> open(EventFilter filter);
  void remove(const std::shared_ptr<EventClient>& client);

  // The engine's callback.
  void publish(const std::vector<engine::Event>& events);

  // Ends every stream and refuses new ones.
  void close();

  std::size_t clients() const;

 private:
  const std::size_t limit_;
  mutable std::mutex mu_;
  std::vector<std::shared_ptr<EventClient>> clients_;
  bool closed_ = false;
};

}  // namespace corral::api
