// The serial console of a VM, asked of its host: GET /v1/vms/{id}/console/log,
// GET /v1/vms/{id}/console (a live stream of what the guest writes), POST
// /v1/vms/{id}/console (type into it).
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "api/handlers.h"
#include "api/queries.h"
#include "api/requests.h"

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
};

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
  Result<int> handle = vm->services->attach_console(vm->id, [queue](std::string_view bytes) {
    std::lock_guard lock(queue->mu);
    if (bytes.empty()) {
      queue->closed = true;
    } else if (queue->pending.size() < (1U << 20)) {  // a reader that stopped reading loses output
      queue->pending.append(bytes);
    }
    queue->cv.notify_all();
  });
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
