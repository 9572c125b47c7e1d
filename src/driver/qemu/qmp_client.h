// QmpClient: one connection to a QEMU Machine Protocol socket (a unix socket).
//
// Contract:
// - connect() retries until the socket accepts or the timeout passes, reads the greeting and
//   negotiates capabilities; the client is then in command mode.
// - execute() sends one command and waits at most `timeout` for its answer (matched by id).
//   Events that arrive meanwhile are kept, in order, for take_events(). A QMP error answer
//   is an Error whose message is QEMU's "desc"; a timeout or a closed socket is kUnavailable.
// - poll_events() reads what is there without blocking (call it when fd() is readable).
// - Not thread-safe: one owner thread (the VM's worker).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/result.h"
#include "driver/qemu/posix.h"

namespace corral::driver::qemu {

struct QmpEvent {
  std::string name;     // "SHUTDOWN", "STOP", "RESUME", "RESET", "POWERDOWN" ...
  nlohmann::json data;  // the event's "data" (an object, maybe empty)
};

class QmpClient {
 public:
  QmpClient() = default;

  [[nodiscard]] static Result<QmpClient> connect(const std::string& socket_path,
                                                 std::chrono::milliseconds timeout);

  [[nodiscard]] Result<nlohmann::json> execute(
      std::string_view command, const nlohmann::json& arguments = nlohmann::json::object(),
      std::chrono::milliseconds timeout = std::chrono::seconds(5));

  // Reads whatever is available now; false once the connection is closed.
  bool poll_events();
  std::deque<QmpEvent> take_events();

  bool connected() const { return fd_.valid(); }
  int fd() const { return fd_.get(); }
  void close() { fd_.reset(); }

 private:
  explicit QmpClient(UniqueFd fd) : fd_(std::move(fd)) {}
  // Reads once (waiting up to `timeout`); false on EOF or error (the connection is closed).
  bool read_some(std::chrono::milliseconds timeout);
  // Takes complete lines from the buffer; returns the answer with `id` if one was among them.
  std::optional<nlohmann::json> take_lines(std::uint64_t id);
  bool send_line(const std::string& line);

  UniqueFd fd_;
  std::string buffer_;
  std::deque<QmpEvent> events_;
  std::uint64_t next_id_ = 1;
};

}  // namespace corral::driver::qemu
