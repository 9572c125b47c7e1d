// corral-bench-api: the controller under load, through its HTTP API on loopback.
//
// Method: one `corral server` (sim driver, zero latency, fresh data dir) and this client in
// one run on the same machine.
//  1. Lifecycle load: N VMs (default 10,000), C concurrent keep-alive clients (default 64);
//     each VM goes create -> RUNNING -> shutdown -> POWEROFF -> terminate -> DONE. Clients
//     learn of each state from the server's event stream (GET /v1/events, one watcher), as a
//     dashboard would, instead of polling. Durable transitions/s = transitions the server
//     committed (its /healthz counter) / wall time. Meanwhile two probe threads GET random
//     VMs (GET /v1/vms/{id}, ~1 ms apart each): their latency p50/p99 is "GET under load".
//     CPU per transition (the server's and this client's utime + stime from /proc over the
//     load) is steadier than transitions/s where the two share two noisy cores.
//  2. Scale: more VMs created (held, so no host is needed) up to M (default 100,000); time to
//     list them all (pages of 1,000 by marker); server RSS growth per VM (/proc/PID/status).
//  3. Restart: SIGTERM, start again on the same data dir, time until /healthz answers.
//  4. The cost of auth: phase 1's load (CORRAL_BENCH_AUTH_VMS, default 5,000 VMs) on three
//     fresh servers — plain HTTP reading no token (--no-auth), plain HTTP with a token,
//     HTTPS with a token — as ratios against the first.
// Targets (2-core machines): >= 20,000 transitions/s, p99 GET <= 5 ms, list <= 1 s,
// <= 2 KiB RSS per VM, restart <= 2 s. Timings are printed, never asserted.
#include <fmt/core.h>
#include <rapidjson/document.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "support/server_process.h"

namespace {

using Clock = std::chrono::steady_clock;
using corral::testing::ServerProcess;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

long rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return -1;
}

// CPU time (user + system) the process has used, in ms: /proc/PID/stat's utime and stime.
double cpu_ms_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::size_t paren = stat.rfind(')');  // the command name may hold spaces
  if (paren == std::string::npos) return -1;
  std::istringstream fields(stat.substr(paren + 2));
  std::string skip;
  for (int i = 3; i < 14; ++i) fields >> skip;  // state .. cmajflt
  long utime = 0;
  long stime = 0;
  fields >> utime >> stime;
  return 1000.0 * static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

long env_or(const char* name, long fallback) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::strtol(v, nullptr, 10) : fallback;
}

long healthz_counter(httplib::Client& c, const char* key) {
  auto r = c.Get("/healthz");
  if (!r) r = c.Get("/healthz");  // once more: the server may have closed the idle connection
  if (!r) return -1;
  const nlohmann::json j = nlohmann::json::parse(r->body, nullptr, false);
  return j.contains(key) && j[key].is_number() ? j[key].get<long>() : -1;
}

struct Latencies {
  std::mutex mu;
  std::vector<double> ms;
  void add(const std::vector<double>& more) {
    std::lock_guard lock(mu);
    ms.insert(ms.end(), more.begin(), more.end());
  }
  double percentile(double p) {
    std::lock_guard lock(mu);
    if (ms.empty()) return 0;
    std::sort(ms.begin(), ms.end());
    return ms[static_cast<std::size_t>(p * static_cast<double>(ms.size() - 1))];
  }
};

// Follows GET /v1/events and remembers each VM's last (state, operation status).
class Watcher {
 public:
  explicit Watcher(const ServerProcess& server) : client_(server.client()) {
    thread_ = std::thread([this] { run(); });
  }
  ~Watcher() {
    stop_ = true;
    client_->stop();
    thread_.join();
  }
  // Waits until the VM is in `state` with no running operation.
  bool wait(httplib::Client& c, long id, const std::string& state) {
    std::condition_variable cv;  // woken only by events of this VM
    std::unique_lock lock(mu_);
    waiters_[id] = &cv;
    struct Unregister {
      Watcher* w;
      long id;
      ~Unregister() { w->waiters_.erase(id); }
    } unregister{this, id};
    for (int round = 0; round < 600; ++round) {
      auto it = seen_.find(id);
      if (it != seen_.end() && it->second.first == state && it->second.second != "running") {
        return true;
      }
      if (cv.wait_for(lock, std::chrono::milliseconds(100)) == std::cv_status::timeout) {
        // An event missed (a dropped stream): ask once.
        lock.unlock();
        auto r = c.Get(("/v1/vms/" + std::to_string(id)).c_str());
        lock.lock();
        if (r && r->status == 200) {
          const nlohmann::json vm = nlohmann::json::parse(r->body, nullptr, false);
          if (vm["state"] == state &&
              (vm["operation"].is_null() || vm["operation"]["status"] != "running")) {
            return true;
          }
        }
      }
    }
    return false;
  }

 private:
  void run() {
    std::string buffer;
    client_->set_read_timeout(3600, 0);
    client_->Get("/v1/events", [&](const char* data, std::size_t n) {
      buffer.append(data, n);
      std::size_t end;
      while ((end = buffer.find("\n\n")) != std::string::npos) {
        const std::string event = buffer.substr(0, end);
        buffer.erase(0, end + 2);
        const std::size_t d = event.find("data: ");
        if (d == std::string::npos) continue;
        rapidjson::Document j;
        j.Parse(event.c_str() + d + 6, event.size() - d - 6);
        if (j.HasParseError() || !j.IsObject() || !j.HasMember("vm_id")) continue;
        std::lock_guard lock(mu_);
        const long id = j["vm_id"].GetInt64();
        seen_[id] = {j["state"].GetString(), j["status"].GetString()};
        if (auto w = waiters_.find(id); w != waiters_.end()) w->second->notify_one();
      }
      return !stop_;
    });
  }

  std::unique_ptr<httplib::Client> client_;
  std::mutex mu_;
  std::unordered_map<long, std::condition_variable*> waiters_;
  std::unordered_map<long, std::pair<std::string, std::string>> seen_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// What one lifecycle load measured (phase 1).
struct LoadFigures {
  double tps = 0;
  long transitions = 0;
  double seconds = 0;
  long batches = 0;
  double get_p50_ms = 0;
  double get_p99_ms = 0;
  std::size_t gets = 0;
  long failures = 0;
  long highest_id = 0;
  double server_cpu_us = 0;  // server CPU time per durable transition
  double client_cpu_us = 0;  // this process's CPU time (clients, probes, watcher) per transition
};

// `vms` VMs named PREFIX-i go create -> RUNNING -> shutdown -> POWEROFF -> terminate -> DONE
// through `clients` keep-alive clients while two probes GET random VMs ~1 ms apart each.
LoadFigures run_load(const ServerProcess& server, long vms, long clients,
                     const std::string& prefix) {
  auto probe = server.client();
  const long transitions_before = healthz_counter(*probe, "transitions");
  const long batches_before = healthz_counter(*probe, "batches");
  Latencies get_latency;
  std::atomic<long> next{0};
  std::atomic<long> failures{0};
  std::atomic<long> highest_id{0};
  std::atomic<bool> loading{true};
  auto watcher = std::make_unique<Watcher>(server);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the stream is open
  const double server_cpu_before = cpu_ms_of(server.pid());
  const double client_cpu_before = cpu_ms_of(::getpid());
  const auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int p = 0; p < 2; ++p) {
    threads.emplace_back([&, p] {
      auto c = server.client();
      std::vector<double> lat;
      std::uint64_t x = 88172645463325252ULL + static_cast<std::uint64_t>(p);
      while (loading) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        const long top = highest_id.load();
        if (top > 0) {
          const long id = 1 + static_cast<long>(x % static_cast<std::uint64_t>(top));
          const auto g0 = Clock::now();
          auto r = c->Get(("/v1/vms/" + std::to_string(id)).c_str());
          lat.push_back(ms_since(g0));
          if (!r || r->status != 200) ++failures;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      get_latency.add(lat);
    });
  }
  const std::size_t probes = threads.size();
  for (long t = 0; t < clients; ++t) {
    threads.emplace_back([&] {
      auto c = server.client();
      for (long i = next++; i < vms; i = next++) {
        auto created = c->Post("/v1/vms",
                               nlohmann::json{{"name", prefix + "-" + std::to_string(i)},
                                              {"image", "tiny"},
                                              {"vcpus", 1},
                                              {"memory_mib", 64}}
                                   .dump(),
                               "application/json");
        if (!created || created->status != 202) {
          ++failures;
          continue;
        }
        const long id = nlohmann::json::parse(created->body)["vm"]["id"].get<long>();
        long seen = highest_id.load();
        while (id > seen && !highest_id.compare_exchange_weak(seen, id)) {
        }
        const std::string actions = "/v1/vms/" + std::to_string(id) + "/actions";
        bool ok = watcher->wait(*c, id, "RUNNING");
        auto stop = c->Post(actions.c_str(), R"({"action":"shutdown"})", "application/json");
        ok = ok && stop && stop->status == 202 && watcher->wait(*c, id, "POWEROFF");
        auto del = c->Delete(("/v1/vms/" + std::to_string(id)).c_str());
        ok = ok && del && del->status == 202 && watcher->wait(*c, id, "DONE");
        if (!ok) ++failures;
      }
    });
  }
  for (std::size_t t = probes; t < threads.size(); ++t) threads[t].join();
  const double load_ms = ms_since(t0);
  const double server_cpu_ms = cpu_ms_of(server.pid()) - server_cpu_before;
  const double client_cpu_ms = cpu_ms_of(::getpid()) - client_cpu_before;
  loading = false;
  for (std::size_t t = 0; t < probes; ++t) threads[t].join();
  watcher.reset();
  LoadFigures f;
  f.transitions = healthz_counter(*probe, "transitions") - transitions_before;
  f.batches = healthz_counter(*probe, "batches") - batches_before;
  f.seconds = load_ms / 1000.0;
  f.tps = static_cast<double>(f.transitions) / f.seconds;
  f.get_p50_ms = get_latency.percentile(0.50);
  f.get_p99_ms = get_latency.percentile(0.99);
  f.gets = get_latency.ms.size();
  f.failures = failures.load();
  f.highest_id = highest_id.load();
  const double per = 1000.0 / static_cast<double>(std::max(1L, f.transitions));
  f.server_cpu_us = server_cpu_ms * per;
  f.client_cpu_us = client_cpu_ms * per;
  return f;
}

// The cost of authentication: the same load on three fresh servers in this run — plain HTTP
// reading no token (--no-auth), plain HTTP with a bearer token, HTTPS (TLS 1.2+, the default)
// with a bearer token. Audit, policy and rate-limit checks run in all three. Returns the
// failures.
long auth_cost(long vms, long clients) {
  struct Config {
    const char* name;
    bool tls;
    bool token;
  };
  const Config configs[] = {{"plain HTTP, no token (--no-auth)", false, false},
                            {"plain HTTP, bearer token", false, true},
                            {"HTTPS, bearer token (the default)", true, true}};
  long failures = 0;
  std::vector<LoadFigures> figures;
  for (const Config& config : configs) {
    std::vector<std::string> args = {"--sim-profile", "zero", "--sim-hosts",  "16",
                                     "--log-level",   "warn", "--rate-limit", "0"};
    if (!config.token) args.emplace_back("--no-auth");
    ServerProcess server(args);
    if (config.tls) server.use_tls();
    if (!config.token) server.send_no_token();
    if (!server.start()) {
      std::fprintf(stderr, "corral-bench-api: the server (%s) did not start:\n%s\n", config.name,
                   server.log().c_str());
      return 1;
    }
    figures.push_back(run_load(server, vms, clients, "auth"));
    failures += figures.back().failures;
    server.stop();
  }
  fmt::print(
      "\nThe cost of auth: {} VMs create->running->shutdown->terminate, {} clients, each on a "
      "fresh server in this run; ratios against the first row.\n\n"
      "| API | durable transitions/s | ratio | GET p50 / p99 | p99 ratio | server CPU per "
      "transition | ratio | failures |\n"
      "|---|---|---|---|---|---|---|---|\n",
      vms, clients);
  const LoadFigures& base = figures.front();
  for (std::size_t i = 0; i < figures.size(); ++i) {
    const LoadFigures& f = figures[i];
    fmt::print("| {} | {:.0f} | {:.2f} | {:.2f} / {:.2f} ms | {:.2f} | {:.1f} us | {:.2f} | {} |\n",
               configs[i].name, f.tps, f.tps / std::max(1.0, base.tps), f.get_p50_ms, f.get_p99_ms,
               f.get_p99_ms / std::max(1e-6, base.get_p99_ms), f.server_cpu_us,
               f.server_cpu_us / std::max(1e-6, base.server_cpu_us), f.failures);
  }
  return failures;
}

}  // namespace

int main() {
  // A server that closed an idle keep-alive connection is an error on the next request, not a
  // reason to die: OpenSSL's writes raise SIGPIPE (httplib's plain ones do not).
  std::signal(SIGPIPE, SIG_IGN);
  const long vms = env_or("CORRAL_BENCH_VMS", 10'000);
  const long clients = env_or("CORRAL_BENCH_CLIENTS", 64);
  const long scale = env_or("CORRAL_BENCH_SCALE", 100'000);

  // No rate limit: the bench measures the server, not its limiter.
  ServerProcess server(
      {"--sim-profile", "zero", "--sim-hosts", "16", "--log-level", "warn", "--rate-limit", "0"});
  if (!server.start()) {
    std::fprintf(stderr, "corral-bench-api: the server did not start:\n%s\n", server.log().c_str());
    return 1;
  }
  const long rss_empty = rss_kib(server.pid());
  std::fprintf(stdout, "corral-bench-api: server %s, pid %d, %ld VMs x %ld clients, scale %ld\n",
               server.url().c_str(), server.pid(), vms, clients, scale);

  // 1. Lifecycle load.
  auto probe = server.client();
  const LoadFigures load = run_load(server, vms, clients, "load");
  std::atomic<long> failures{load.failures};
  const double tps = load.tps;
  const long transitions = load.transitions;
  const long batches = load.batches;
  const double load_ms = load.seconds * 1000.0;
  std::vector<std::thread> threads;

  // 2. Scale: fill up to `scale` VMs, held so they need no host.
  std::atomic<long> next{vms};
  for (long t = 0; t < clients; ++t) {
    threads.emplace_back([&] {
      auto c = server.client();
      for (long i = next++; i < scale; i = next++) {
        auto r = c->Post("/v1/vms",
                         nlohmann::json{{"name", "idle-" + std::to_string(i)},
                                        {"image", "tiny"},
                                        {"vcpus", 1},
                                        {"memory_mib", 64},
                                        {"hold", true}}
                             .dump(),
                         "application/json");
        if (!r || r->status != 202) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // creations finish
  const long rss_full = rss_kib(server.pid());
  // Lists every VM in pages of 1,000 with `views` (a query suffix): the wall time, and of it
  // the server's CPU (/proc/PID/stat), the bytes received and this client's parse time, so
  // a slower list tells a costlier server from a longer answer.
  struct ListFigures {
    double ms = 0;
    double server_cpu_ms = 0;
    double parse_ms = 0;
    std::size_t bytes = 0;
  };
  long listed = 0;
  const auto list_all = [&](const std::string& views) {
    ListFigures f;
    const double cpu0 = cpu_ms_of(server.pid());
    const auto l0 = Clock::now();
    listed = 0;
    long marker = 0;
    for (;;) {
      auto r = probe->Get(("/v1/vms?limit=1000&marker=" + std::to_string(marker) + views).c_str());
      if (!r || r->status != 200) {
        ++failures;
        break;
      }
      f.bytes += r->body.size();
      // A full parse of every page (RapidJSON DOM), as a client reading the list would.
      const auto p0 = Clock::now();
      rapidjson::Document page;
      page.Parse(r->body.c_str(), r->body.size());
      f.parse_ms += ms_since(p0);
      if (page.HasParseError() || !page.IsObject() || !page["vms"].IsArray()) {
        ++failures;
        break;
      }
      listed += static_cast<long>(page["vms"].Size());
      if (page["next_marker"].IsNull()) break;
      marker = page["next_marker"].GetInt64();
    }
    f.ms = ms_since(l0);
    f.server_cpu_ms = cpu_ms_of(server.pid()) - cpu0;
    return f;
  };
  const ListFigures list_full = list_all("");
  const ListFigures list_nova = list_all("&views=nova");
  const ListFigures list_none = list_all("&views=none");
  const double list_ms = list_full.ms;
  const double list_nova_ms = list_nova.ms;
  const double list_none_ms = list_none.ms;

  // 3. Restart.
  const int exit_code = server.stop();
  const bool restarted = server.start();
  const double restart_ms = server.last_start_ms();
  auto after = server.client();
  const long vms_after = healthz_counter(*after, "vms");

  const double per_vm = static_cast<double>(rss_full - rss_empty) * 1024.0 /
                        static_cast<double>(std::max<long>(1, scale));
  fmt::print("\n| figure | target | measured |\n|---|---|---|\n");
  fmt::print(
      "| durable transitions/s ({} VMs create->running->shutdown->terminate, {} clients) "
      "| >= 20,000 | {:.0f} ({} transitions in {:.2f} s) |\n",
      vms, clients, tps, transitions, load_ms / 1000.0);
  fmt::print(
      "| CPU per durable transition: server / this client (/proc/PID/stat) | - | {:.1f} / "
      "{:.1f} us |\n",
      load.server_cpu_us, load.client_cpu_us);
  fmt::print("| group commit: transitions per commit | - | {:.1f} ({} commits) |\n",
             static_cast<double>(transitions) / static_cast<double>(std::max(1L, batches)),
             batches);
  fmt::print(
      "| GET /v1/vms/{{id}} under that load, p50 / p99 | p99 <= 5 ms | {:.2f} / {:.2f} ms "
      "({} requests) |\n",
      load.get_p50_ms, load.get_p99_ms, load.gets);
  fmt::print("| list {} VMs (pages of 1,000) | <= 1 s | {:.3f} s ({} listed) |\n", scale,
             list_ms / 1000.0, listed);
  fmt::print("| list {} VMs, views=nova / views=none | <= 1 s | {:.3f} / {:.3f} s |\n", scale,
             list_nova_ms / 1000.0, list_none_ms / 1000.0);
  fmt::print(
      "| of the full list: server CPU / client parse / bytes per VM | - | {:.3f} s / {:.3f} s / "
      "{} B |\n",
      list_full.server_cpu_ms / 1000.0, list_full.parse_ms / 1000.0,
      list_full.bytes / static_cast<std::size_t>(std::max(1L, listed)));
  fmt::print("| server RSS per VM at {} VMs | <= 2 KiB | {:.2f} KiB ({} -> {} KiB) |\n", scale,
             per_vm / 1024.0, rss_empty, rss_full);
  fmt::print(
      "| restart with {} VMs (SIGTERM exit {}, start until /healthz) | <= 2 s | {:.3f} s "
      "({}, {} VMs loaded) |\n",
      scale, exit_code, restart_ms / 1000.0, restarted ? "ok" : "FAILED", vms_after);
  fmt::print("| request failures | 0 | {} |\n", failures.load());
  fmt::print(
      "\nFor scale: OpenNebula advises < 30 API requests/s and lists 20,000 VMs in "
      "0.8-1.3 s; a Nova boot averages 8 s (Rally).\n");
  server.stop();
  const long auth_failures = auth_cost(env_or("CORRAL_BENCH_AUTH_VMS", 5'000), clients);
  return failures.load() == 0 && auth_failures == 0 && restarted ? 0 : 1;
}
