// The target side of migrate.h: prepare_incoming, await_incoming, finish_incoming.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "driver/qemu/migrate.h"

namespace corral::driver::qemu {

namespace {

using SteadyClock = std::chrono::steady_clock;
using nlohmann::json;
using std::chrono::milliseconds;

// A TCP port nothing listens on now, on the loopback or any address. QEMU 7.2 does not say
// which port nbd-server-start bound for port 0 (unlike migrate-incoming, whose query-migrate
// lists it), so the port is chosen here and the start retried if someone took it meanwhile.
int free_tcp_port() {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) return 0;
  socklen_t len = sizeof addr;
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 0;
  return ntohs(addr.sin_port);
}

}  // namespace

Result<IncomingEndpoint> prepare_incoming(QmpClient& target, const MigrateOptions& options,
                                          const std::string& listen_host, int nbd_port) {
  Result<json> status = target.execute("query-status");
  if (!status) return fail(std::move(status.error()));
  if (status->value("status", "") != "inmigrate") {
    return fail(Error::internal("the target QEMU is not waiting for a migration (" +
                                status->value("status", "") + ")"));
  }
  if (Result<json> r = target.execute("migrate-set-capabilities",
                                      {{"capabilities", migration_capabilities(options, false)}});
      !r) {
    return fail(std::move(r.error()));
  }
  if (Result<json> r = target.execute("migrate-incoming", {{"uri", "tcp:" + listen_host + ":0"}});
      !r) {
    return fail(std::move(r.error()));
  }
  Result<json> listening = target.execute("query-migrate");
  if (!listening) return fail(std::move(listening.error()));
  IncomingEndpoint out;
  const json addresses = listening->value("socket-address", json::array());
  for (const json& a : addresses) {
    if (a.value("type", "") == "inet" && a.contains("port")) {
      out.migration_uri = "tcp:" + listen_host + ":" + a["port"].get<std::string>();
      break;
    }
  }
  if (out.migration_uri.empty()) {
    return fail(Error::internal("the target QEMU listens on no TCP port: " + listening->dump()));
  }
  if (options.shared_storage) return out;

  std::string last_error;
  for (int attempt = 0; attempt < 5 && out.nbd_port == 0; ++attempt) {
    const int port = nbd_port != 0 ? nbd_port : free_tcp_port();
    Result<json> started = target.execute(
        "nbd-server-start",
        {{"addr",
          {{"type", "inet"}, {"data", {{"host", listen_host}, {"port", std::to_string(port)}}}}}});
    if (started) {
      out.nbd_port = port;
    } else {
      last_error = started.error().message;
      if (nbd_port != 0) break;
    }
  }
  if (out.nbd_port == 0) return fail(Error::internal("cannot export the disk: " + last_error));
  Result<json> exported = target.execute("block-export-add", {{"type", "nbd"},
                                                              {"id", "corral-migrate"},
                                                              {"node-name", kDiskNode},
                                                              {"name", kDiskNode},
                                                              {"writable", true}});
  if (!exported) {
    (void)target.execute("nbd-server-stop");
    return fail(std::move(exported.error()));
  }
  out.nbd_host = listen_host;
  out.nbd_export = std::string(kDiskNode);
  return out;
}

Result<MigrationProgress> await_incoming(QmpClient& target, milliseconds timeout,
                                         bool resume_in_postcopy) {
  const auto until = SteadyClock::now() + timeout;
  bool resumed = false;
  for (;;) {
    Result<json> answer = target.execute("query-migrate");
    if (!answer) return fail(std::move(answer.error()));
    MigrationProgress p = parse_query_migrate(*answer);
    if (p.status == MigrationStatus::kPostcopyActive && resume_in_postcopy && !resumed) {
      // The source stopped for good: without this the guest runs nowhere until completed.
      if (Result<json> r = target.execute("cont"); !r) return fail(std::move(r.error()));
      resumed = true;
    }
    p.postcopy = p.postcopy || resumed;
    if (migration_finished(p.status)) {
      // The stream is in; the runstate leaves inmigrate once the devices are loaded too.
      Result<json> status = target.execute("query-status");
      if (!status) return fail(std::move(status.error()));
      if (status->value("status", "") != "inmigrate") return p;
    }
    if (SteadyClock::now() >= until) {
      return fail(Error::internal("the incoming migration did not end within " +
                                  std::to_string(timeout.count()) + " ms (" + p.qemu_status + ")"));
    }
    std::this_thread::sleep_for(milliseconds(20));
  }
}

Status finish_incoming(QmpClient& target, bool resume) {
  // Without an NBD server this fails; nothing to stop then.
  (void)target.execute("nbd-server-stop");
  if (!resume) return {};
  Result<json> status = target.execute("query-status");
  if (!status) return fail(std::move(status.error()));
  if (status->value("running", false)) return {};  // post-copy: already running
  if (Result<json> r = target.execute("cont"); !r) return fail(std::move(r.error()));
  return {};
}

}  // namespace corral::driver::qemu
