// corral-bench-migrate: live migration of one 256 MiB guest (TCG, the image `tiny`) between
// two "hosts" on this machine (two data dirs, loopback), shared storage, idle and busy.
//
// Method (per load, one guest booted, then migrated back and forth, the peers interleaved so
// the machine's drift hits them alike):
//  (a) Corral: migrate.h with migrate_defaults() (post-copy 200 ms after the start, downtime
//      limit 300 ms): prepare_incoming on the target, then migrate() on the source while the
//      target runs await_incoming (cont at post-copy) + finish_incoming, as the agents do.
//  (b) raw QEMU: the same capabilities and parameters by hand over a bare QMP socket
//      (migrate_hosts.h RawQmp): migrate-set-capabilities on both sides, migrate-incoming,
//      migrate-set-parameters + migrate on the source, migrate-start-postcopy at 200 ms,
//      query-migrate polled (20 ms), cont on the target at post-copy or completion.
//  (c) libvirt `virsh migrate --live` between two libvirt daemons (migrate_libvirt.h), when
//      they can be set up here; else the reason is printed.
//  Total: from the first source-side command (capabilities) to the target's guest running
//  with the migration completed (the target side's own view). Downtime: QEMU's `downtime`
//  from the source's query-migrate. Then the target's guest must answer on its console with
//  no kernel trouble (migrate_health.h). The target is prepared before the clock starts.
//  Busy: a dd loop rewriting 32 MiB of the guest's RAM-backed root (tests/qemu_migrate_test).
//  Cold-copy floor: `cp` of the VM's disk and a 256 MiB memory file between two directories.
// Targets: Corral total <= 1.10x raw, Corral's downtime within raw's range. Printed, never
// asserted. Runs: CORRAL_BENCH_RUNS (default 3) per peer and load.
#include <fmt/core.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "driver/qemu/migrate.h"
#include "driver/qemu/migrate_disk.h"
#include "migrate_hosts.h"
#include "migrate_libvirt.h"

namespace {

namespace fs = std::filesystem;
namespace qemu = corral::driver::qemu;
using Clock = std::chrono::steady_clock;
using corral::Result;
using corral::bench::BenchHost;
using corral::bench::kDirtyLoop;
using corral::bench::RawQmp;
using nlohmann::json;
using namespace std::chrono_literals;

constexpr int kMemoryMib = 256;

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

struct Run {
  double total_ms = 0;
  double downtime_ms = 0;
  bool healthy = false;
};

struct Series {
  std::vector<double> total, downtime;
  int healthy = 0, failed = 0;
  std::string note;  // why a run failed (the last reason)
  void add(const Run& r) {
    total.push_back(r.total_ms);
    downtime.push_back(r.downtime_ms);
    healthy += r.healthy ? 1 : 0;
  }
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? -1 : v[v.size() / 2];
}

// The two hosts and the guest between them.
struct Pair {
  std::string dirs[2];
  std::string disk;
  int at = 0;  // the host the guest runs on
  std::unique_ptr<BenchHost> source;
  bool busy = false;

  bool boot() {
    source.reset();
    at = 0;
    source = BenchHost::launch(dirs[0], false, disk, kMemoryMib);
    if (!source || !source->boot()) return false;
    if (busy) {
      source->type(kDirtyLoop);
      std::this_thread::sleep_for(2s);
    }
    return true;
  }
  std::unique_ptr<BenchHost> launch_target() {
    return BenchHost::launch(dirs[1 - at], true, disk, kMemoryMib);
  }
  // The migration ended well: the target is now the guest's host.
  void moved(std::unique_ptr<BenchHost> target) {
    source->wait_gone(10s);
    source = std::move(target);
    at = 1 - at;
  }
};

// (a) Corral's migrate.h.
std::optional<Run> corral_once(Pair& pair, std::string& why) {
  std::unique_ptr<BenchHost> target = pair.launch_target();
  qemu::QmpClient* src = pair.source->use_corral();
  qemu::QmpClient* dst = target ? target->use_corral() : nullptr;
  if (src == nullptr || dst == nullptr) return why = "launch/QMP", std::nullopt;
  const qemu::MigrateOptions options = qemu::migrate_defaults();
  Result<qemu::IncomingEndpoint> ep = qemu::prepare_incoming(*dst, options, "127.0.0.1");
  if (!ep) return why = ep.error().message, std::nullopt;
  auto incoming = std::async(std::launch::async, [dst]() -> std::optional<Clock::time_point> {
    Result<qemu::MigrationProgress> p = qemu::await_incoming(*dst, 120s, true);
    if (!p || p->status != qemu::MigrationStatus::kCompleted) return std::nullopt;
    if (!qemu::finish_incoming(*dst, true)) return std::nullopt;
    return Clock::now();
  });
  const auto t0 = Clock::now();
  Result<qemu::MigrationProgress> done = qemu::migrate(*src, *ep, options);
  const std::optional<Clock::time_point> running = incoming.get();
  if (!done || done->status != qemu::MigrationStatus::kCompleted || !running) {
    why = done ? std::string(qemu::migration_status_name(done->status)) + " " + done->error
               : done.error().message;
    return std::nullopt;
  }
  Run run{ms_between(t0, *running), static_cast<double>(done->downtime_ms), false};
  const qemu::HealthReport health = target->health("corral");
  run.healthy = health.healthy;
  if (!health.healthy) fmt::print(stderr, "bench: corral: guest unhealthy: {}\n", health.reason);
  (void)qemu::confirm_source(*src);
  pair.moved(std::move(target));
  return run;
}

// (b) raw QEMU by hand, the same capabilities and parameters as migrate_defaults().
std::optional<Run> raw_once(Pair& pair, std::string& why) {
  std::unique_ptr<BenchHost> target = pair.launch_target();
  RawQmp* src = pair.source->use_raw();
  RawQmp* dst = target ? target->use_raw() : nullptr;
  if (src == nullptr || dst == nullptr) return why = "launch/QMP", std::nullopt;
  const auto caps = [](bool source) {
    json c = json::array({{{"capability", "events"}, {"state", true}},
                          {{"capability", "postcopy-ram"}, {"state", true}}});
    if (source) {
      c.push_back({{"capability", "auto-converge"}, {"state", false}});
      c.push_back({{"capability", "pause-before-switchover"}, {"state", false}});
    }
    return json{{"capabilities", c}};
  };
  if (!dst->execute("migrate-set-capabilities", caps(false)) ||
      !dst->execute("migrate-incoming", {{"uri", "tcp:127.0.0.1:0"}})) {
    return why = dst->error(), std::nullopt;
  }
  std::optional<json> listening = dst->execute("query-migrate");
  if (!listening || !listening->contains("socket-address")) return why = "no port", std::nullopt;
  const std::string uri =
      "tcp:127.0.0.1:" + (*listening)["socket-address"][0]["port"].get<std::string>();

  // The target: cont once post-copy started (or at completion), done when running.
  auto incoming = std::async(std::launch::async, [dst]() -> std::optional<Clock::time_point> {
    bool resumed = false;
    const auto until = Clock::now() + 120s;
    while (Clock::now() < until) {
      std::optional<json> m = dst->execute("query-migrate");
      if (!m) return std::nullopt;
      const std::string status = m->value("status", "");
      if (status == "postcopy-active" && !resumed) resumed = dst->execute("cont").has_value();
      if (status == "failed" || status == "cancelled") return std::nullopt;
      if (status == "completed") {
        std::optional<json> run = dst->execute("query-status");
        if (!run) return std::nullopt;
        if (run->value("status", "") != "inmigrate") {
          if (!run->value("running", false) && !dst->execute("cont")) return std::nullopt;
          return Clock::now();
        }
      }
      std::this_thread::sleep_for(20ms);
    }
    return std::nullopt;
  });

  const auto t0 = Clock::now();
  if (!src->execute("migrate-set-capabilities", caps(true)) ||
      !src->execute("migrate-set-parameters", {{"downtime-limit", 300},
                                               {"max-bandwidth", 128LL << 20},
                                               {"max-postcopy-bandwidth", 0}}) ||
      !src->execute("migrate", {{"uri", uri}})) {
    why = src->error();
    target->kill();
    (void)incoming.get();
    return std::nullopt;
  }
  const auto started = Clock::now();
  bool postcopy = false;
  json last;
  for (;;) {
    std::optional<json> m = src->execute("query-migrate");
    if (!m) break;
    last = *m;
    const std::string status = last.value("status", "");
    if (status == "completed" || status == "failed" || status == "cancelled") break;
    if (!postcopy && status == "active" && Clock::now() - started >= 200ms) {
      postcopy = src->execute("migrate-start-postcopy").has_value();
    }
    // Every 20 ms, and at 200 ms sharp for the switch.
    const Clock::duration to_switch = started + 200ms - Clock::now();
    std::this_thread::sleep_for(postcopy || to_switch < 1ms
                                    ? Clock::duration(20ms)
                                    : std::min<Clock::duration>(20ms, to_switch));
  }
  const std::optional<Clock::time_point> running = incoming.get();
  if (last.value("status", "") != "completed" || !running) {
    why = "raw: " + last.value("status", "?") + " " + last.value("error-desc", "");
    return std::nullopt;
  }
  Run run{ms_between(t0, *running), last.value("downtime", 0.0), false};
  const qemu::HealthReport health = target->health("raw");
  run.healthy = health.healthy;
  if (!health.healthy) fmt::print(stderr, "bench: raw: guest unhealthy: {}\n", health.reason);
  (void)src->execute("quit");
  pair.moved(std::move(target));
  return run;
}

// `cp` of the disk and a 256 MiB memory file into another directory; `sync_after`: and
// their data flushed (sync FILE..., those files only).
std::vector<double> cold_copy(const std::string& root, const std::string& disk, int runs,
                              bool sync_after) {
  const std::string from = root + "/cold-a", to = root + "/cold-b";
  fs::create_directories(from);
  fs::copy_file(disk, from + "/disk.qcow2", fs::copy_options::overwrite_existing);
  {
    // Not zeros: a memory image of a used guest does not compress to holes.
    std::ofstream mem(from + "/memory.state", std::ios::binary);
    std::mt19937_64 gen(12);
    std::vector<std::uint64_t> block(1 << 17);  // 1 MiB
    for (int i = 0; i < kMemoryMib; ++i) {
      for (auto& w : block) w = gen();
      mem.write(reinterpret_cast<const char*>(block.data()),  // NOLINT: bytes out
                static_cast<std::streamsize>(block.size() * sizeof(std::uint64_t)));
    }
  }
  std::vector<double> out;
  for (int r = 0; r < runs; ++r) {
    fs::remove_all(to);
    fs::create_directories(to);
    const auto t0 = Clock::now();
    Result<qemu::CommandResult> cp =
        qemu::run_command({"cp", from + "/disk.qcow2", from + "/memory.state", to + "/"}, 120s);
    if (sync_after) {
      (void)qemu::run_command({"sync", to + "/disk.qcow2", to + "/memory.state"}, 120s);
    }
    if (cp && cp->exit_code == 0) out.push_back(ms_between(t0, Clock::now()));
  }
  fs::remove_all(from);
  fs::remove_all(to);
  return out;
}

std::string range(const std::vector<double>& v) {
  if (v.empty()) return "-";
  return fmt::format("{:.0f}-{:.0f}", *std::min_element(v.begin(), v.end()),
                     *std::max_element(v.begin(), v.end()));
}

void print_series(const std::string& load, const std::string& who, const Series& s, int runs) {
  if (s.total.empty()) {
    fmt::print("{:<5} {:<9} no run completed ({}/{} failed){}\n", load, who, s.failed, runs,
               s.note.empty() ? "" : ": " + s.note);
    return;
  }
  fmt::print("{:<5} {:<9} {:>9.0f} {:>11} {:>10.0f} {:>11} {:>4} {:>4}/{}{}\n", load, who,
             median(s.total), range(s.total), median(s.downtime), range(s.downtime), s.total.size(),
             s.healthy, s.total.size(),
             s.failed > 0 ? fmt::format("  ({} failed: {})", s.failed, s.note) : "");
}

}  // namespace

int main() {
  const char* runs_env = std::getenv("CORRAL_BENCH_RUNS");
  const int runs = runs_env != nullptr ? std::max(1, std::atoi(runs_env)) : 3;
  std::string templ = (fs::temp_directory_path() / "corral-bench-mig-XXXXXX").string();
  const std::string root = ::mkdtemp(templ.data());
  Pair pair;
  pair.dirs[0] = root + "/a";
  pair.dirs[1] = root + "/b";
  pair.disk = root + "/shared/disk.qcow2";
  fs::create_directories(root + "/shared");
  if (!qemu::create_target_disk("qemu-img", pair.disk, 64ULL << 20, "", "")) {
    fmt::print(stderr, "bench: cannot create the disk\n");
    return 1;
  }

  // CORRAL_BENCH_LIBVIRT: 0 leaves libvirt out, "only" measures libvirt alone.
  const char* libvirt_env = std::getenv("CORRAL_BENCH_LIBVIRT");
  const std::string libvirt_mode = libvirt_env != nullptr ? libvirt_env : "1";
  corral::bench::LibvirtPeer libvirt;
  std::string libvirt_why = libvirt_mode == "0" ? "left out (CORRAL_BENCH_LIBVIRT=0)"
                                                : libvirt.up(CORRAL_GUEST_DIR, kMemoryMib);

  fmt::print(
      "corral-bench-migrate: TCG, image tiny, {} MiB, shared storage, loopback; {} runs per "
      "peer and load (ms)\n",
      kMemoryMib, runs);
  fmt::print("{:<5} {:<9} {:>9} {:>11} {:>10} {:>11} {:>4} {:>6}\n", "load", "peer", "total",
             "range", "downtime", "range", "N", "healthy");
  for (const bool busy : {false, true}) {
    const std::string load = busy ? "busy" : "idle";
    Series corral, raw, virt;
    pair.busy = busy;
    bool up = libvirt_mode != "only" && pair.boot();
    if (!up && libvirt_mode != "only") corral.note = raw.note = "the guest did not boot";
    for (int r = 0; r < runs && up; ++r) {
      // Each run swaps who goes first: a guest just booted or just busy may differ.
      for (const bool is_corral : {r % 2 == 0, r % 2 != 0}) {
        std::string why;
        std::optional<Run> run = is_corral ? corral_once(pair, why) : raw_once(pair, why);
        Series& s = is_corral ? corral : raw;
        if (run) {
          s.add(*run);
        } else {
          s.failed++;
          s.note = why;
        }
        if (!run || !run->healthy) up = pair.boot();  // a fresh guest for the next run
      }
    }
    pair.source.reset();
    if (libvirt_why.empty()) {
      std::string why;
      bool guest = libvirt.start_guest(busy, why);
      for (int r = 0; r < runs && guest; ++r) {
        if (std::optional<corral::bench::LibvirtRun> run = libvirt.migrate_once(why)) {
          virt.add({run->total_ms, run->downtime_ms, run->healthy});
          if (!run->healthy) guest = libvirt.start_guest(busy, why);
        } else {
          virt.failed++;
          virt.note = why;
          guest = libvirt.start_guest(busy, why);
        }
      }
      if (!guest) virt.note = why;
      libvirt.stop_guest();
    }
    print_series(load, "raw qemu", raw, runs);
    print_series(load, "corral", corral, runs);
    if (libvirt_why.empty()) {
      print_series(load, "libvirt", virt, runs);
    } else {
      fmt::print("{:<5} {:<9} not measured: {}\n", load, "libvirt", libvirt_why);
    }
    if (!corral.total.empty() && !raw.total.empty()) {
      const double lo = *std::min_element(raw.downtime.begin(), raw.downtime.end());
      const double hi = *std::max_element(raw.downtime.begin(), raw.downtime.end());
      const double d = median(corral.downtime);
      fmt::print(
          "{:<5} corral/raw total {:.2f}x (target <= 1.10x); corral downtime {:.0f} {} "
          "raw's range {:.0f}-{:.0f}\n",
          load, median(corral.total) / median(raw.total), d,
          d >= lo && d <= hi ? "within" : (d < lo ? "below" : "ABOVE"), lo, hi);
    }
    if (!virt.total.empty() && !corral.total.empty()) {
      fmt::print("{:<5} corral/libvirt total {:.2f}x\n", load,
                 median(corral.total) / median(virt.total));
    }
  }
  libvirt.down();

  const auto disk_mib = static_cast<double>(fs::file_size(pair.disk)) / (1 << 20);
  const std::vector<double> cp = cold_copy(root, pair.disk, runs, false);
  const std::vector<double> cp_sync = cold_copy(root, pair.disk, runs, true);
  fmt::print(
      "cold-copy floor: cp disk.qcow2 ({:.1f} MiB) + {} MiB memory file: {:.0f} ms "
      "({}); with sync of the copies: {:.0f} ms ({})\n",
      disk_mib, kMemoryMib, median(cp), range(cp), median(cp_sync), range(cp_sync));
  std::error_code ec;
  fs::remove_all(root, ec);
  return 0;
}
