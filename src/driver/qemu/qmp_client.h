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

  // The same with `fd` passed along (SCM_RIGHTS on the command's bytes), as QEMU's `getfd`
  // and `add-fd` expect: QEMU keeps its own copy under the name the command gives; the
  // caller still owns `fd`. How a tap opened inside Corral's network namespace reaches a
  // QEMU that runs outside it (libvirt hands over its taps the same way).
  [[nodiscard]] Result<nlohmann::json> execute_with_fd(
      std::string_view command, const nlohmann::json& arguments, int fd,
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
  // Sends the line; with fd >= 0, attached to its first bytes.
  bool send_line(const std::string& line, int fd = -1);
  Result<nlohmann::json> request(std::string_view command, const nlohmann::json& arguments, int fd,
                                 std::chrono::milliseconds timeout);

  UniqueFd fd_;
  std::string buffer_;
  std::deque<QmpEvent> events_;
  std::uint64_t next_id_ = 1;
};

}  // namespace corral::driver::qemu
