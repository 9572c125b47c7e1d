// corral-bench-migrate-cold: cold migration through two real agents beside copying the files by
// hand (issue 12), in one run.
//
// Method: tests/support/two_hosts.h — a controller and two `corral agent --driver qemu` (h1, h2)
// in network namespaces of their own, each host with its own disks (no shared storage), the
// files crossing the migration veth (src/transfer: mutual TLS, SHA-256 checked, fsync'd). One
// VM (TCG, image `tiny`, 256 MiB, disk grown to 256 MiB with `disk_resize`), 200 MiB of random
// bytes written into its qcow2 disk with `qemu-io` while it is off. It moves back and forth
// between h1 and h2; per run, with Corral and the floor interleaved (who goes first alternates):
//  POWEROFF  Corral: from `POST /v1/vms/{id}/actions {"action":"migrate","host":<other>}` until
//            the VM is idle in POWEROFF on the other host (polled every 5 ms), the operation
//            succeeded. The target's disk must have the SHA-256 the source's had before the move:
//            a mismatch is a failure, not a figure.
//  RUNNING   the same VM booted (its guest says it is ready): until idle in RUNNING on the other
//            host (saved, files moved, restored). Same check on the disk.
//  floor     by hand, child processes (posix_spawn, no shell): `cp` of the files into a directory
//            under the other host's data dir, `sync` of the copies (Corral fsyncs what it
//            receives), `sha256sum` of the copies (Corral verifies what it receives). POWEROFF:
//            the disk; RUNNING: the disk and a memory file — the guest's memory.state taken from
//            one suspend of the same VM before the runs (a restore deletes the one a move
//            carries, so it cannot be copied from the move itself).
// Each move's phases: the controller's transitions (`GET /v1/vms/{id}/history`, ms stamps),
// each from its stamp to the next one's, the last one to the moment the bench saw the VM idle.
// Figures: medians [min-max] over CORRAL_BENCH_RUNS (default 3) runs, ms. Printed, never
// asserted; exits 1 when no run of a kind completed.
#include <fmt/core.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bench_figures.h"
#include "driver/qemu/posix.h"
#include "support/cluster.h"
#include "support/qemu_support.h"
#include "support/two_hosts.h"

namespace {

namespace fs = std::filesystem;
namespace qemu = corral::driver::qemu;
using Clock = std::chrono::steady_clock;
using corral::testing::Api;
using corral::testing::TwoHosts;
using nlohmann::json;
using namespace std::chrono_literals;
using corral::bench::figure;
using corral::bench::median;
using corral::bench::ms_since;

constexpr int kMemoryMib = 256;
constexpr int kDiskMib = 256;
constexpr int kWrittenMib = 200;

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// "2026-12-04T22:10:05.123Z" (common/clock.h format_time) as ms since the epoch; 0 if not that.
std::int64_t parse_time(const std::string& s) {
  std::tm tm{};
  int ms = 0;
  if (std::sscanf(s.c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) != 7) {
    return 0;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<std::int64_t>(::timegm(&tm)) * 1000 + ms;
}

// A child process, argv as given; its output when it exited 0.
std::optional<std::string> spawn(const std::vector<std::string>& argv) {
  corral::Result<qemu::CommandResult> r = qemu::run_command(argv, 300s);
  if (!r) {
    fmt::print(stderr, "bench: {}: {}\n", argv[0], r.error().message);
    return std::nullopt;
  }
  if (r->exit_code != 0) {
    fmt::print(stderr, "bench: {} exited {}: {}\n", argv[0], r->exit_code, r->output);
    return std::nullopt;
  }
  return r->output;
}

struct Kind {
  std::vector<double> corral, floor;
  std::map<std::string, std::vector<double>> phases;  // label -> ms per run
  std::vector<std::string> order;                     // labels as first seen
  std::vector<double> cp, sync, sha;                  // the floor's parts
  std::vector<double> saved_mib;                      // memory.state each move carried
  int failed = 0;
  std::string why;
};

class Bench {
 public:
  explicit Bench(TwoHosts& hosts) : hosts_(hosts), api_(hosts.api()) {}

  bool prepare();
  void run(int runs);
  int report(int runs) const;

 private:
  json vm() { return api_.get("/v1/vms/" + std::to_string(id_) + "?views=none").body; }
  bool wait_idle(const std::string& state, std::chrono::milliseconds timeout);
  bool act(const std::string& action, const json& extra, const std::string& state);
  bool boot();
  int console_count(const std::string& text);
  std::int64_t last_transition();
  void phases(std::int64_t after, std::int64_t requested_at, std::int64_t idle_at, Kind& kind);
  void corral_move(const std::string& state, Kind& kind);
  void floor_copy(bool with_memory, Kind& kind);

  TwoHosts& hosts_;
  Api& api_;
  std::int64_t id_ = 0;
  std::string at_;
  fs::path memory_;  // the saved memory of one suspend, for the floor
  Kind off_, running_;
};

bool Bench::wait_idle(const std::string& state, std::chrono::milliseconds timeout) {
  return corral::testing::eventually([&] { return hosts_.idle_in(id_, state); }, timeout);
}

bool Bench::act(const std::string& action, const json& extra, const std::string& state) {
  if (corral::testing::act(api_, id_, action, extra) != 202) return false;
  if (wait_idle(state, 120s)) return true;
  fmt::print(stderr, "bench: {} did not end in {}: {}\n", action, state, vm().dump());
  return false;
}

int Bench::console_count(const std::string& text) {
  const corral::testing::ApiResult r = api_.get("/v1/vms/" + std::to_string(id_) + "/console/log");
  if (r.status != 200 || !r.body.contains("log")) return 0;
  const std::string log = r.body["log"].get<std::string>();
  int n = 0;
  for (std::size_t at = log.find(text); at != std::string::npos; at = log.find(text, at + 1)) ++n;
  return n;
}

// Started from POWEROFF until its guest says it is ready (the log keeps earlier boots' lines).
bool Bench::boot() {
  const int before = console_count("corral-guest: ready");
  if (!act("start", json::object(), "RUNNING")) return false;
  if (corral::testing::eventually([&] { return console_count("corral-guest: ready") > before; },
                                  120s)) {
    return true;
  }
  fmt::print(stderr, "bench: the guest did not say it was ready\n");
  return false;
}

bool Bench::prepare() {
  id_ = hosts_.cluster().create("cold", {{"memory_mib", kMemoryMib}});
  if (id_ == 0 || !wait_idle("RUNNING", 120s) ||
      !corral::testing::wait_console(api_, id_, "corral-guest: ready", 120s)) {
    fmt::print(stderr, "bench: the VM did not boot: {}\n", vm().dump());
    return false;
  }
  at_ = hosts_.cluster().host_of(id_);
  // The floor's memory file: this guest's own saved memory.
  if (!act("suspend", json::object(), "SUSPENDED")) return false;
  memory_ = fs::path(hosts_.agent(at_).data_dir()) / "bench-memory" / "memory.state";
  std::error_code ec;
  fs::create_directories(memory_.parent_path(), ec);
  fs::copy_file(hosts_.vm_dir(at_, id_) / "memory.state", memory_,
                fs::copy_options::overwrite_existing, ec);
  if (ec) {
    fmt::print(stderr, "bench: cannot keep the saved memory: {}\n", ec.message());
    return false;
  }
  if (!act("resume", json::object(), "RUNNING") ||
      !act("shutdown_hard", json::object(), "POWEROFF") ||
      !act("disk_resize", {{"size_mib", kDiskMib}}, "POWEROFF")) {
    return false;
  }
  // 200 MiB of random bytes at rest on the disk: nothing for a transport to compress or skip.
  const fs::path noise = fs::path(hosts_.agent(at_).data_dir()) / "bench-noise.bin";
  {
    std::ofstream out(noise, std::ios::binary);
    std::mt19937_64 gen(12);
    std::vector<std::uint64_t> block(1 << 17);  // 1 MiB
    for (int i = 0; i < kWrittenMib; ++i) {
      for (auto& w : block) w = gen();
      out.write(reinterpret_cast<const char*>(block.data()),  // NOLINT: bytes out
                static_cast<std::streamsize>(block.size() * sizeof(std::uint64_t)));
    }
  }
  const bool written = spawn({"qemu-io", "-f", "qcow2", "-c",
                              fmt::format("write -q -s {} 0 {}M", noise.string(), kWrittenMib),
                              hosts_.disk_of(at_, id_).string()})
                           .has_value();
  fs::remove(noise, ec);
  return written;
}

std::int64_t Bench::last_transition() {
  std::int64_t last = 0;
  for (;;) {
    const json page =
        api_.get(fmt::format("/v1/vms/{}/history?after={}&limit=100", id_, last)).body;
    const json rows = page.value("transitions", json::array());
    if (rows.empty()) return last;
    last = rows.back().value("id", last);
  }
}

// The move's transitions after `after`: the request to the first one's stamp, each from its
// stamp to the next one's, the last to `idle_at` (when the bench saw the VM idle; the
// controller's and the bench's clock are the same machine's).
void Bench::phases(std::int64_t after, std::int64_t requested_at, std::int64_t idle_at,
                   Kind& kind) {
  const json rows = api_.get(fmt::format("/v1/vms/{}/history?after={}&limit=100", id_, after))
                        .body.value("transitions", json::array());
  if (std::getenv("CORRAL_BENCH_VERBOSE") != nullptr) {
    fmt::print(stderr, "bench: transitions {}\n", rows.dump());
  }
  const auto add = [&kind](const std::string& label, std::int64_t ms) {
    if (kind.phases.find(label) == kind.phases.end()) kind.order.push_back(label);
    kind.phases[label].push_back(static_cast<double>(ms));
  };
  if (!rows.empty()) {
    add("(request -> first transition)",
        parse_time(rows[0].value("at", std::string())) - requested_at);
  }
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const json& row = rows[i];
    // A row that ends the operation: from it to the bench seeing the VM idle is the poll's.
    const std::string status = row.value("status", std::string());
    const json phase = row.value("phase", json());
    const std::string label = status != "running" ? "(" + status + " -> seen idle by the bench)"
                              : phase.is_string() ? phase.get<std::string>()
                                                  : "(no phase)";
    const std::int64_t from = parse_time(row.value("at", std::string()));
    const std::int64_t to =
        i + 1 < rows.size() ? parse_time(rows[i + 1].value("at", std::string())) : idle_at;
    add(label, to - from);
  }
}

void Bench::corral_move(const std::string& state, Kind& kind) {
  const std::string to = TwoHosts::other(at_);
  const std::string before = corral::testing::sha256_of(hosts_.disk_of(at_, id_));
  const std::int64_t mark = last_transition();
  const std::int64_t requested_at = wall_ms();
  const auto t0 = Clock::now();
  if (corral::testing::act(api_, id_, "migrate", {{"host", to}}) != 202) {
    kind.failed++;
    kind.why = "migrate refused";
    return;
  }
  bool moved = false;
  json v;
  // The saved memory the move carries: it stays on the source until the cleanup (a stat per
  // poll; the restore on the target deletes its copy).
  const fs::path saved = hosts_.vm_dir(TwoHosts::other(to), id_) / "memory.state";
  std::uintmax_t saved_bytes = 0;
  while (!moved && Clock::now() - t0 < 300s) {
    std::error_code ec;
    if (const std::uintmax_t n = fs::file_size(saved, ec); !ec)
      saved_bytes = std::max(saved_bytes, n);
    v = vm();
    const json op = v.value("operation", json());
    moved = v.value("host", json()).is_string() && v["host"] == to &&
            v.value("state", std::string()) == state && op.is_object() &&
            op.value("status", std::string()) == "succeeded";
    if (!moved) std::this_thread::sleep_for(5ms);
  }
  const double took = ms_since(t0);
  const std::int64_t idle_at = wall_ms();
  if (!moved) {
    kind.failed++;
    kind.why = "not idle in " + state + " on " + to + ": " + v.dump();
    fmt::print(stderr, "bench: {}\n", kind.why);
    at_ = hosts_.cluster().host_of(id_);
    return;
  }
  const std::string after = corral::testing::sha256_of(hosts_.disk_of(to, id_));
  at_ = to;
  if (before.empty() || after != before) {
    kind.failed++;
    kind.why = fmt::format("the disk changed on the way (sha256 {} -> {})", before, after);
    fmt::print(stderr, "bench: {}\n", kind.why);
    return;
  }
  kind.corral.push_back(took);
  if (saved_bytes > 0) kind.saved_mib.push_back(static_cast<double>(saved_bytes) / (1 << 20));
  phases(mark, requested_at, idle_at, kind);
  fmt::print(stderr, "bench: {} {} -> {}: {:.0f} ms\n", state, TwoHosts::other(to), to, took);
}

void Bench::floor_copy(bool with_memory, Kind& kind) {
  const fs::path dir = fs::path(hosts_.agent(TwoHosts::other(at_)).data_dir()) / "bench-floor";
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir);
  const fs::path disk = hosts_.disk_of(at_, id_);
  const std::string expected = corral::testing::sha256_of(disk);
  std::vector<std::string> cp = {"cp", disk.string()};
  std::vector<std::string> copies = {(dir / "disk.qcow2").string()};
  if (with_memory) {
    cp.push_back(memory_.string());
    copies.push_back((dir / "memory.state").string());
  }
  cp.push_back(dir.string() + "/");
  std::vector<std::string> sync = {"sync"};
  std::vector<std::string> sum = {"sha256sum"};
  sync.insert(sync.end(), copies.begin(), copies.end());
  sum.insert(sum.end(), copies.begin(), copies.end());

  const auto t0 = Clock::now();
  const bool copied = spawn(cp).has_value();
  const double cp_ms = ms_since(t0);
  const bool synced = copied && spawn(sync);
  const double sync_ms = ms_since(t0) - cp_ms;
  const std::optional<std::string> sums = synced ? spawn(sum) : std::nullopt;
  const double took = ms_since(t0);
  fs::remove_all(dir, ec);
  if (!sums || sums->substr(0, 64) != expected) {
    kind.why = "the hand copy failed or differs";
    fmt::print(stderr, "bench: {}\n", kind.why);
    return;
  }
  kind.floor.push_back(took);
  kind.cp.push_back(cp_ms);
  kind.sync.push_back(sync_ms);
  kind.sha.push_back(took - cp_ms - sync_ms);
}

void Bench::run(int runs) {
  for (int r = 0; r < runs; ++r) {
    const bool corral_first = r % 2 == 0;
    // POWEROFF: the disk crosses.
    for (const bool corral : {corral_first, !corral_first}) {
      if (corral) {
        corral_move("POWEROFF", off_);
      } else {
        floor_copy(false, off_);
      }
    }
    if (!hosts_.idle_in(id_, "POWEROFF") || !boot()) {
      running_.failed++;
      running_.why = "the VM did not start";
      return;
    }
    // RUNNING: saved, disk and memory cross, restored.
    for (const bool corral : {corral_first, !corral_first}) {
      if (corral) {
        corral_move("RUNNING", running_);
      } else {
        floor_copy(true, running_);
      }
    }
    if (!hosts_.idle_in(id_, "RUNNING") || !act("shutdown_hard", json::object(), "POWEROFF")) {
      off_.why = "the VM did not stop";
      return;
    }
  }
}

int Bench::report(int runs) const {
  std::error_code ec;
  const auto disk_mib =
      static_cast<double>(fs::file_size(hosts_.disk_of(at_, id_), ec)) / (1 << 20);
  const auto memory_mib = static_cast<double>(fs::file_size(memory_, ec)) / (1 << 20);
  fmt::print("files: disk.qcow2 {:.1f} MiB ({} MiB random written); memory.state {:.1f} MiB\n",
             disk_mib, kWrittenMib, memory_mib);
  fmt::print("{:<9} {:>22} {:>22} {:>8} {:>4} {:>6}\n", "origin", "corral (ms)",
             "floor: cp+sync+sha256", "ratio", "N", "failed");
  int status = 0;
  for (const auto* k : {&off_, &running_}) {
    const std::string origin = k == &off_ ? "POWEROFF" : "RUNNING";
    const double ratio = k->floor.empty() ? 0 : median(k->corral) / median(k->floor);
    fmt::print("{:<9} {:>22} {:>22} {:>7.2f}x {:>4} {:>3}/{}{}\n", origin, figure(k->corral),
               figure(k->floor), ratio, k->corral.size(), k->failed, runs,
               k->why.empty() ? "" : "  (" + k->why + ")");
    if (k->corral.empty()) status = 1;
    if (!k->saved_mib.empty()) {
      fmt::print("  memory.state the moves carried: {} MiB\n", figure(k->saved_mib));
    }
    fmt::print("  floor: cp {}, sync {}, sha256sum {}\n", figure(k->cp), figure(k->sync),
               figure(k->sha));
    fmt::print("  corral's phases:\n");
    for (const std::string& label : k->order) {
      const auto& v = k->phases.at(label);
      fmt::print("    {:<38} {:>20}  (N={})\n", label, figure(v), v.size());
    }
    // The part of the move the hand copy does: the files crossing, verified.
    if (const auto prolog = k->phases.find("prolog");
        prolog != k->phases.end() && !k->floor.empty()) {
      fmt::print("  prolog/floor {:.2f}x\n", median(prolog->second) / median(k->floor));
    }
  }
  return status;
}

int run() {
  const char* runs_env = std::getenv("CORRAL_BENCH_RUNS");
  const int runs = runs_env != nullptr ? std::max(1, std::atoi(runs_env)) : 3;
  fmt::print(
      "corral-bench-migrate-cold: two real agents (qemu driver, own netns each, no shared "
      "storage); VM TCG, image tiny, {} MiB, disk {} MiB with {} MiB random written by qemu-io; "
      "{} runs, h1 <-> h2\n",
      kMemoryMib, kDiskMib, kWrittenMib, runs);
  fmt::print(
      "corral: POST migrate -> idle in the origin state on the other host, op succeeded (5 ms "
      "poll); target disk sha256 == source's or the run fails\n");
  fmt::print(
      "floor:  cp FILES <other host's data dir>/bench-floor/ ; sync FILES ; sha256sum FILES "
      "(POWEROFF: disk; RUNNING: disk + this guest's memory.state from one suspend); "
      "interleaved, who goes first alternates\n");
  fmt::print("phases: the controller's transitions, each stamp to the next (last: to idle)\n");
  TwoHosts hosts;  // its destructor removes the namespaces, agents and QEMUs: return, not exit
  if (!hosts.start(/*shared_storage=*/false)) {
    fmt::print(stderr, "bench: the two hosts did not start\n");
    return 1;
  }
  Bench bench(hosts);
  if (!bench.prepare()) return 1;
  // The setup wrote ~500 MiB (the random bytes, the disk, the memory file): flushed before the
  // clock starts, so the first runs' fsyncs do not wait behind its writeback.
  ::sync();
  bench.run(runs);
  return bench.report(runs);
}

}  // namespace

int main() { return run(); }
