// The serial console of a VM, asked of its host: GET /v1/vms/{id}/console/log,
// GET /v1/vms/{id}/console (a live stream of what the guest writes), POST
// /v1/vms/{id}/console (type into it), and GET /v1/vms/{id}/console/ws (both ways over a
// WebSocket: the dashboard's terminal and `corral console`).
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "api/handlers.h"
#include "api/queries.h"
#include "api/raw_connection.h"
#include "api/requests.h"
#include "common/websocket/codec.h"

namespace corral::api::internal {
namespace {

using nlohmann::json;

constexpr std::size_t kDefaultLogBytes = std::size_t{64} * 1024;
constexpr std::size_t kMaxLogBytes = std::size_t{4} * 1024 * 1024;

// The VM a path names and the services of its host. Malformed ids name nothing: 404.
struct VmOnHost {
  store::VmId id = 0;
  driver::HostServices* services = nullptr;
};

std::expected<VmOnHost, Failure> vm_on_host(Context& ctx, const Call& call) {
  auto vm = visible_vm(ctx, call, call.args[0]);
  if (!vm) return std::unexpected(std::move(vm.error()));
  return VmOnHost{vm->id, &ctx.hosts.services_for(vm->host)};
}

// What the driver's console callback hands the HTTP stream.
struct ConsoleQueue {
  std::mutex mu;
  std::condition_variable cv;
  std::string pending;
  bool closed = false;
  // Written on every push, so that a WebSocket's loop waiting on its socket wakes up too.
  int wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  ConsoleQueue() = default;
  ConsoleQueue(const ConsoleQueue&) = delete;
  ConsoleQueue& operator=(const ConsoleQueue&) = delete;
  ~ConsoleQueue() {
    if (wake_fd >= 0) ::close(wake_fd);
  }
  void push(std::string_view bytes) {
    {
      std::lock_guard lock(mu);
      if (bytes.empty()) {
        closed = true;
      } else if (pending.size() < (1U << 20)) {  // a reader that stopped reading loses output
        pending.append(bytes);
      }
    }
    cv.notify_all();
    if (wake_fd >= 0) {
      const std::uint64_t one = 1;
      [[maybe_unused]] const ssize_t n = ::write(wake_fd, &one, sizeof(one));
    }
  }
};

constexpr const char* kConsoleSubprotocol = "corral.console.v1";

bool header_has(const httplib::Request& req, const char* name, std::string_view word) {
  std::string value = req.get_header_value(name);
  std::ranges::transform(value, value.begin(), [](unsigned char c) { return std::tolower(c); });
  return value.find(word) != std::string::npos;
}

bool is_websocket_upgrade(const httplib::Request& req) {
  return header_has(req, "Upgrade", "websocket") && header_has(req, "Connection", "upgrade");
}

// The handshake request as it came (the codec reads its headers and answers it).
std::string request_head(const httplib::Request& req) {
  std::string head = req.method + " " + req.target + " HTTP/1.1\r\n";
  for (const auto& [name, value] : req.headers) {
    head.append(name).append(": ").append(value).append("\r\n");
  }
  head.append("\r\n");
  return head;
}

// One WebSocket session on the taken-over connection: what the guest writes goes out as binary
// messages; every message that comes in is typed into the console. Ends when either side
// closes, the VM's console ends (close 1000), or the server stops (close 1001).
void run_console_session(RawConnection& conn, const httplib::Request& req, ConsoleQueue& queue,
                         driver::HostServices& services, store::VmId id,
                         const std::atomic<bool>& stopping) {
  bool ended = false;
  std::string input_error;
  websocket::ServerCodec codec(
      kConsoleSubprotocol,
      {[&conn](const char* data, std::size_t size) { return conn.write(data, size); },
       [&](const std::string& payload, bool /*binary*/) {
         if (Status typed = services.write_console(id, payload); !typed) {
           input_error = typed.error().message;
         }
       },
       nullptr, [&ended](const std::string& /*reason*/) { ended = true; }});
  const std::string head = request_head(req);
  codec.feed(head.data(), head.size());
  using Clock = std::chrono::steady_clock;
  std::optional<Clock::time_point> closing_since;
  std::string buffer(std::size_t{64} * 1024, '\0');
  while (!ended && !codec.is_closed()) {
    std::string chunk;
    bool console_closed = false;
    {
      std::lock_guard lock(queue.mu);
      chunk.swap(queue.pending);
      console_closed = queue.closed;
    }
    if (!chunk.empty()) codec.send(chunk, true);
    if (!closing_since) {
      if (console_closed) {
        codec.close(1000, "the VM's console ended");
      } else if (stopping) {
        codec.close(1001, "the server is stopping");
      } else if (!input_error.empty()) {
        codec.close(1011, input_error.substr(0, 120));
      }
      if (console_closed || stopping || !input_error.empty()) closing_since = Clock::now();
    } else if (Clock::now() - *closing_since > std::chrono::seconds(5)) {
      break;  // the client never answered the close
    }
    pollfd fds[2] = {{conn.fd(), POLLIN, 0}, {queue.wake_fd, POLLIN, 0}};
    if (!conn.has_buffered() && ::poll(fds, 2, 500) < 0 && errno != EINTR) break;
    if ((fds[1].revents & POLLIN) != 0) {
      std::uint64_t count = 0;
      [[maybe_unused]] const ssize_t n = ::read(queue.wake_fd, &count, sizeof(count));
    }
    if (conn.has_buffered() || (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      const long n = conn.read(buffer.data(), buffer.size());
      if (n < 0) {
        codec.eof();
        break;
      }
      if (n > 0) codec.feed(buffer.data(), static_cast<std::size_t>(n));
    }
  }
}

}  // namespace

HandlerResult console_log(Context& ctx, Call& call) {
  auto vm = vm_on_host(ctx, call);
  if (!vm) return std::unexpected(std::move(vm.error()));
  std::size_t max_bytes = kDefaultLogBytes;
  if (call.req.has_param("bytes")) {
    const std::optional<std::int64_t> n = parse_id(call.req.get_param_value("bytes"));
    if (!n || static_cast<std::size_t>(*n) > kMaxLogBytes) {
      return failure(
          Error::invalid_argument("'bytes' must be 1 to " + std::to_string(kMaxLogBytes)));
    }
    max_bytes = static_cast<std::size_t>(*n);
  }
  Result<std::string> text = vm->services->console_log(vm->id, max_bytes);
  if (!text) return failure(std::move(text.error()));
  return Reply{200, {{"vm_id", vm->id}, {"log", std::move(*text)}}};
}

HandlerResult console_stream(Context& ctx, Call& call) {
  auto vm = vm_on_host(ctx, call);
  if (!vm) return std::unexpected(std::move(vm.error()));
  auto queue = std::make_shared<ConsoleQueue>();
  Result<int> handle =
      vm->services->attach_console(vm->id, [queue](std::string_view bytes) { queue->push(bytes); });
  if (!handle) return failure(std::move(handle.error()));
  driver::HostServices* services = vm->services;
  const store::VmId id = vm->id;
  call.res.status = 200;
  call.res.set_header("Cache-Control", "no-cache");
  call.res.set_chunked_content_provider(
      "application/octet-stream",
      [queue](std::size_t /*offset*/, httplib::DataSink& sink) {
        std::string chunk;
        bool closed = false;
        {
          std::unique_lock lock(queue->mu);
          queue->cv.wait_for(lock, std::chrono::milliseconds(500),
                             [&] { return !queue->pending.empty() || queue->closed; });
          chunk.swap(queue->pending);
          closed = queue->closed;
        }
        if (!chunk.empty() && !sink.write(chunk.data(), chunk.size())) return false;
        if (closed) sink.done();
        return sink.is_writable();
      },
      [services, id, handle = *handle](bool /*success*/) { services->detach_console(id, handle); });
  return Reply{200, nullptr, /*is_streaming=*/true};
}

HandlerResult console_websocket(Context& ctx, Call& call) {
  auto vm = vm_on_host(ctx, call);  // first: another project's VM is 404 however it is asked
  if (!vm) return std::unexpected(std::move(vm.error()));
  if (!is_websocket_upgrade(call.req)) {
    return failure(Error::invalid_argument(
        "GET /v1/vms/{id}/console/ws is a WebSocket (subprotocol corral.console.v1): ask with "
        "'Upgrade: websocket' (corral console, or the dashboard); GET /v1/vms/{id}/console "
        "streams over plain HTTP"));
  }
  auto queue = std::make_shared<ConsoleQueue>();
  // Refusals (no such VM, no running process, the sim) are answered in HTTP, before the upgrade.
  Result<int> handle =
      vm->services->attach_console(vm->id, [queue](std::string_view bytes) { queue->push(bytes); });
  if (!handle) return failure(std::move(handle.error()));
  Result<RawConnection> conn = RawConnection::of(call.req);
  if (!conn) {
    vm->services->detach_console(vm->id, *handle);
    return failure(std::move(conn.error()));
  }
  run_console_session(*conn, call.req, *queue, *vm->services, vm->id, ctx.stopping);
  vm->services->detach_console(vm->id, *handle);
  conn->shutdown();  // the library's own reply after this handler goes nowhere
  call.res.status = 101;
  return Reply{101, nullptr, /*is_streaming=*/true};
}

HandlerResult console_input(Context& ctx, Call& call) {
  auto vm = vm_on_host(ctx, call);
  if (!vm) return std::unexpected(std::move(vm.error()));
  Result<json> body = parse_body(call.req.body);
  if (!body) return failure(std::move(body.error()));
  for (const auto& [key, value] : body->items()) {
    if (key != "input") {
      return failure(Error::invalid_argument("unknown field '" + key + "' (allowed: input)"));
    }
  }
  const auto input = body->find("input");
  if (input == body->end() || !input->is_string()) {
    return failure(Error::invalid_argument("'input' must be a string: what to type"));
  }
  std::string bytes = input->get<std::string>();
  const std::size_t size = bytes.size();
  if (Status written = vm->services->write_console(vm->id, std::move(bytes)); !written) {
    return failure(std::move(written.error()));
  }
  return Reply{202, {{"vm_id", vm->id}, {"bytes", size}}};
}

}  // namespace corral::api::internal
