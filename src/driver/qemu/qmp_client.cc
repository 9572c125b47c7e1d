#include "driver/qemu/qmp_client.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

namespace corral::driver::qemu {

namespace {

using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;

Error unavailable(std::string message) {
  return Error{ErrorCode::kUnavailable, std::move(message), {}, {}};
}

milliseconds left_until(SteadyClock::time_point until) {
  return std::max(milliseconds(0),
                  std::chrono::duration_cast<milliseconds>(until - SteadyClock::now()));
}

}  // namespace

Result<QmpClient> QmpClient::connect(const std::string& socket_path, milliseconds timeout) {
  if (socket_path.size() > kMaxSocketPath) {
    return fail(
        Error::invalid_argument("QMP socket path too long for a unix socket: " + socket_path));
  }
  const auto until = SteadyClock::now() + timeout;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
  std::string last_error;
  for (;;) {
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd.valid()) return fail(Error::internal("socket: " + errno_text(errno)));
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) {
      QmpClient client(std::move(fd));
      // The greeting: {"QMP": {...}}
      for (;;) {
        if (!client.read_some(left_until(until))) {
          return fail(unavailable("QMP greeting did not arrive on " + socket_path));
        }
        if (client.buffer_.find('\n') != std::string::npos) break;
      }
      client.buffer_.clear();
      Result<nlohmann::json> caps = client.execute("qmp_capabilities", nlohmann::json::object(),
                                                   std::max(left_until(until), milliseconds(1000)));
      if (!caps) return fail(std::move(caps.error()));
      return client;
    }
    last_error = errno_text(errno);
    if (SteadyClock::now() >= until) {
      std::string message = "cannot connect to QMP at " + socket_path;
      message += ": ";
      message += last_error;
      return fail(unavailable(std::move(message)));
    }
    std::this_thread::sleep_for(milliseconds(5));
  }
}

bool QmpClient::send_line(const std::string& line, int fd) {
  std::size_t sent = 0;
  if (fd >= 0) {
    // The descriptor rides on the first chunk; the rest goes as usual.
    iovec iov{const_cast<char*>(line.data()), line.size()};  // NOLINT: sendmsg's iovec
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
    ssize_t n = -1;
    do {
      n = ::sendmsg(fd_.get(), &msg, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) {
      fd_.reset();
      return false;
    }
    sent = static_cast<std::size_t>(n);
  }
  while (sent < line.size()) {
    const ssize_t n = ::send(fd_.get(), line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      fd_.reset();
      return false;
    }
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

bool QmpClient::read_some(milliseconds timeout) {
  if (!fd_.valid()) return false;
  if (!wait_readable(fd_.get(), timeout)) return true;  // nothing yet, still open
  char chunk[8192];
  for (;;) {
    const ssize_t n = ::recv(fd_.get(), chunk, sizeof chunk, MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    if (n <= 0) {
      fd_.reset();
      return false;
    }
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }
}

std::optional<nlohmann::json> QmpClient::take_lines(std::uint64_t id) {
  std::optional<nlohmann::json> answer;
  std::size_t start = 0;
  for (std::size_t nl = buffer_.find('\n'); nl != std::string::npos;
       nl = buffer_.find('\n', start)) {
    const std::string_view line(buffer_.data() + start, nl - start);
    start = nl + 1;
    nlohmann::json message = nlohmann::json::parse(line, nullptr, false);
    if (!message.is_object()) continue;
    if (message.contains("event") && message["event"].is_string()) {
      events_.push_back(
          {message["event"].get<std::string>(), message.value("data", nlohmann::json::object())});
    } else if (message.contains("id") && message["id"].is_number_unsigned() &&
               message["id"].get<std::uint64_t>() == id) {
      answer = std::move(message);
    }
  }
  buffer_.erase(0, start);
  return answer;
}

Result<nlohmann::json> QmpClient::execute(std::string_view command, const nlohmann::json& arguments,
                                          milliseconds timeout) {
  return request(command, arguments, -1, timeout);
}

Result<nlohmann::json> QmpClient::execute_with_fd(std::string_view command,
                                                  const nlohmann::json& arguments, int fd,
                                                  milliseconds timeout) {
  if (fd < 0)
    return fail(Error::invalid_argument("no descriptor to pass with " + std::string(command)));
  return request(command, arguments, fd, timeout);
}

Result<nlohmann::json> QmpClient::request(std::string_view command, const nlohmann::json& arguments,
                                          int fd, milliseconds timeout) {
  if (!fd_.valid()) return fail(unavailable("QMP is not connected"));
  const std::uint64_t id = next_id_++;
  nlohmann::json request = {{"execute", command}, {"id", id}};
  if (!arguments.empty()) request["arguments"] = arguments;
  if (!send_line(request.dump() + "\n", fd)) {
    return fail(unavailable("QMP connection closed while sending " + std::string(command)));
  }
  const auto until = SteadyClock::now() + timeout;
  for (;;) {
    if (std::optional<nlohmann::json> answer = take_lines(id)) {
      if (answer->contains("error")) {
        const nlohmann::json& error = (*answer)["error"];
        return fail(Error{ErrorCode::kUnavailable,
                          std::string(command) + ": " + error.value("desc", error.dump()),
                          {},
                          {}});
      }
      return answer->value("return", nlohmann::json::object());
    }
    const milliseconds left = left_until(until);
    if (left.count() == 0) {
      return fail(unavailable("QMP " + std::string(command) + " did not answer within " +
                              std::to_string(timeout.count()) + " ms"));
    }
    if (!read_some(left)) {
      take_lines(id);  // keep the events that came before the end
      return fail(unavailable("QMP connection closed during " + std::string(command)));
    }
  }
}

bool QmpClient::poll_events() {
  while (fd_.valid()) {
    const std::size_t before = buffer_.size();
    if (!read_some(milliseconds(0))) break;
    if (buffer_.size() == before) break;
  }
  take_lines(0);
  return fd_.valid();
}

std::deque<QmpEvent> QmpClient::take_events() {
  std::deque<QmpEvent> out;
  out.swap(events_);
  return out;
}

}  // namespace corral::driver::qemu
