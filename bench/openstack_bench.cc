// corral-bench-openstack: the real OpenStack client (Debian's python3-openstackclient) against
// Corral's OpenStack API, beside Corral's own CLI doing the same, in one run (issue 15).
//
// Method: one `corral server` (sim driver, zero latency, 40 hosts of 32 vCPUs, fresh data dir) and
// 1,000 VMs made RUNNING through the v1 API in the admin project (which has no quotas). The
// `openstack` command runs as `ops`, admin of that project (OS_* as the README sets them);
// `corral` with CORRAL_URL and the admin token. Every command is a child process (no shell),
// timed from spawn to exit with the steady clock; runs interleave the two clients, who goes
// first alternating. Per run:
//  list    `openstack server list -f value -c ID` beside `corral vm list`: all 1,000 (the
//          count is checked: a short list is a failure, not a figure).
//  create  `openstack server create --image tiny --flavor m1.nano --wait` beside
//          `corral vm create --image tiny --memory 128` then `corral vm wait --for RUNNING`, as a
//          user types them (each client's default poll interval: the openstack command's 5 s,
//          corral's 1 s; the first poll of both is at once).
//  start   each client's fixed cost: `openstack token issue` (Python start and one Keystone
//          round trip) and `corral whoami` (start and one request). A floor, not a peer.
// Figures: medians [min-max] over CORRAL_BENCH_RUNS (default 5) runs, ms, and openstack/corral.
// Printed, never asserted; exits 1 when the client is missing or no run completed.
#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "bench_figures.h"
#include "support/api_call.h"
#include "support/server_process.h"

namespace {

using Clock = std::chrono::steady_clock;
using corral::testing::api_call;
using corral::testing::ApiReply;
using corral::testing::CliEnv;
using corral::testing::ProgramResult;
using corral::testing::run_program;
using corral::testing::ServerProcess;
using nlohmann::json;
using namespace std::chrono_literals;
using corral::bench::figure;
using corral::bench::median;

constexpr int kServers = 1000;

struct Timed {
  ProgramResult result;
  double ms = 0;
};

Timed timed(const std::vector<std::string>& argv, const CliEnv& env) {
  const Clock::time_point t0 = Clock::now();
  Timed out{run_program(argv, env, 300s), 0};
  out.ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  if (out.result.exit_code != 0) {
    fmt::print(stderr, "bench: {} {} exited {}: {}{}\n", argv[0], argv.size() > 1 ? argv[1] : "",
               out.result.exit_code, out.result.out, out.result.err);
  }
  return out;
}

long lines_of(const std::string& text) { return std::count(text.begin(), text.end(), '\n'); }

struct Pair {
  std::vector<double> openstack;
  std::vector<double> corral;
};

void print_pair(const char* what, const Pair& p) {
  const double ratio = median(p.corral) > 0 ? median(p.openstack) / median(p.corral) : 0;
  fmt::print("  {:<8} openstack {:>18}   corral {:>18}   openstack/corral {:.2f}\n", what,
             figure(p.openstack), figure(p.corral), ratio);
}

}  // namespace

int main() {
  const char* runs_env = std::getenv("CORRAL_BENCH_RUNS");
  const int runs = runs_env != nullptr ? std::max(1, std::atoi(runs_env)) : 5;
  if (run_program({"openstack", "--version"}, {}, 60s).exit_code != 0) {
    fmt::print(stderr, "bench: the openstack command is missing (scripts/install-deps)\n");
    return 1;
  }
  ServerProcess server({"--sim-profile", "zero", "--sim-hosts", "40", "--sim-images", "tiny",
                        "--log-level", "warn", "--rate-limit", "0"});
  if (!server.start()) {
    fmt::print(stderr, "bench: the server did not start:\n{}\n", server.log());
    return 1;
  }
  const std::string admin = server.admin_token();
  const ApiReply ops = api_call(
      server.url(), admin, "POST", "/v1/users",
      {{"name", "ops"}, {"password", "password-ops"}, {"project", "admin"}, {"role", "admin"}});
  if (ops.status != 201) {
    fmt::print(stderr, "bench: cannot make the user ops: {}\n", ops.text);
    return 1;
  }
  for (int i = 0; i < kServers; ++i) {
    const ApiReply made = api_call(
        server.url(), admin, "POST", "/v1/vms",
        {{"name", fmt::format("s{:04}", i)}, {"image", "tiny"}, {"vcpus", 1}, {"memory_mib", 128}});
    if (made.status != 202) {
      fmt::print(stderr, "bench: create {} answered {}: {}\n", i, made.status, made.text);
      return 1;
    }
  }
  // Every one RUNNING before the first list.
  for (int tries = 0;; ++tries) {
    const ApiReply r = api_call(server.url(), admin, "GET", "/v1/vms?state=RUNNING&limit=1000");
    if (r.status == 200 && r.body["vms"].size() == kServers) break;
    if (tries > 600) {
      fmt::print(stderr, "bench: the {} VMs did not all reach RUNNING\n", kServers);
      return 1;
    }
    std::this_thread::sleep_for(100ms);
  }
  const CliEnv os_env = {{"OS_AUTH_URL", server.url() + "/identity/v3"},
                         {"OS_IDENTITY_API_VERSION", "3"},
                         {"OS_USERNAME", "ops"},
                         {"OS_PASSWORD", "password-ops"},
                         {"OS_PROJECT_NAME", "admin"},
                         {"OS_USER_DOMAIN_NAME", "Default"},
                         {"OS_PROJECT_DOMAIN_NAME", "Default"},
                         {"OS_REGION_NAME", "RegionOne"}};
  const CliEnv corral_env = {{"CORRAL_URL", server.url()}, {"CORRAL_TOKEN", admin}};
  const std::string corral = corral::testing::corral_binary();

  fmt::print(
      "corral-bench-openstack: `openstack` (python3-openstackclient) beside `corral`, one server "
      "(sim, zero latency), {} servers, {} runs; ms, median [min-max]\n",
      kServers, runs);
  Pair list;
  Pair create;
  Pair start;
  for (int run = 0; run < runs; ++run) {
    const bool openstack_first = run % 2 == 0;
    for (int turn = 0; turn < 2; ++turn) {
      if ((turn == 0) == openstack_first) {
        const Timed l = timed({"openstack", "server", "list", "-f", "value", "-c", "ID"}, os_env);
        if (l.result.exit_code == 0 && lines_of(l.result.out) >= kServers) {
          list.openstack.push_back(l.ms);
        } else if (l.result.exit_code == 0) {
          fmt::print(stderr, "bench: openstack server list showed {} servers\n",
                     lines_of(l.result.out));
        }
        const Timed c =
            timed({"openstack", "server", "create", "--image", "tiny", "--flavor", "m1.nano",
                   "--wait", "-f", "value", "-c", "status", fmt::format("os{}", run)},
                  os_env);
        // --wait writes its progress line first; the status is the last line.
        if (c.result.exit_code == 0 && c.result.out.ends_with("ACTIVE\n")) {
          create.openstack.push_back(c.ms);
        } else if (c.result.exit_code == 0) {
          fmt::print(stderr, "bench: openstack server create printed {}\n", c.result.out);
        }
        const Timed t = timed({"openstack", "token", "issue", "-f", "value", "-c", "id"}, os_env);
        if (t.result.exit_code == 0) start.openstack.push_back(t.ms);
      } else {
        const Timed l = timed({corral, "vm", "list"}, corral_env);
        // A header line, then one line per VM (the servers the openstack command made too).
        if (l.result.exit_code == 0 && lines_of(l.result.out) > kServers) {
          list.corral.push_back(l.ms);
        } else if (l.result.exit_code == 0) {
          fmt::print(stderr, "bench: corral vm list showed {} lines\n", lines_of(l.result.out));
        }
        const Timed c = timed({corral, "vm", "create", fmt::format("cc{}", run), "--image", "tiny",
                               "--vcpus", "1", "--memory", "128"},
                              corral_env);
        std::string id = c.result.out;
        while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) id.pop_back();
        if (c.result.exit_code == 0) {
          const Timed w = timed({corral, "vm", "wait", id, "--for", "RUNNING"}, corral_env);
          if (w.result.exit_code == 0) create.corral.push_back(c.ms + w.ms);
        }
        const Timed t = timed({corral, "whoami"}, corral_env);
        if (t.result.exit_code == 0) start.corral.push_back(t.ms);
      }
    }
  }
  print_pair("list", list);
  print_pair("create", create);
  print_pair("start", start);
  fmt::print(
      "  list: {} servers listed (openstack: pages of up to 1,000 through /compute, each a v1 "
      "page of the Nova view; corral: GET /v1/vms pages). start: the client's fixed cost, in "
      "both rows above.\n",
      kServers);
  return list.openstack.empty() || list.corral.empty() || create.openstack.empty() ||
                 create.corral.empty()
             ? 1
             : 0;
}
