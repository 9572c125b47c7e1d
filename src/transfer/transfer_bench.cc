// corral-bench-transfer [MiB [chunk KiB]]: one file (default 256 MiB, random bytes) pulled from one
// agent's TransferService to another's data dir on 127.0.0.1 (mutual TLS, SHA-256 on both sides,
// fsync), beside `cp` of the same file, `cp` + fsync of the copy, and `sha256sum` (the hash alone).
// The CPU time of the pull (both agents, one process) is the figure a loaded machine does not
// distort: wall time on a shared 2-core box mostly measures the other processes.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "cluster/test_dir.h"
#include "transfer/test_support.h"

namespace {

using namespace corral;
using namespace corral::transfer;
namespace fs = std::filesystem;

double seconds_of(const std::string& command) {
  const auto start = std::chrono::steady_clock::now();
  if (std::system(command.c_str()) != 0) std::fprintf(stderr, "failed: %s\n", command.c_str());
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// CPU seconds (user + system) this process used so far: both agents run in it.
double seconds(const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; }
double cpu_seconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}
double sys_seconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return seconds(usage.ru_stime);
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t mib = argc > 1 ? std::stoul(argv[1]) : 256;
  const std::size_t chunk_kib = argc > 2 ? std::stoul(argv[2]) : 1024;
  cluster::testing::TempDir tmp;
  SystemClock clock;
  Result<cluster::CertificateAuthority> ca =
      cluster::CertificateAuthority::load_or_create(tmp.path() / "ca", clock);
  if (!ca) return 1;
  ServerOptions source;
  source.data_dir = tmp.path() / "a";
  source.identity = transfer::testing::identity_of(*ca, "node-a");
  source.chunk_bytes = chunk_kib << 10;
  Result<std::unique_ptr<TransferServer>> server = TransferServer::start(source, clock);
  if (!server) return 1;
  const fs::path file = source.data_dir / "vms" / "1" / "disk.qcow2";
  transfer::testing::write_file(file, transfer::testing::test_bytes(mib << 20, 1));
  ::sync();

  const Ticket ticket{1, 1, "node-a", "node-b", *new_secret()};
  if (!(*server)->allow(ticket, 600'000)) return 1;
  PullOptions options;
  options.data_dir = tmp.path() / "b";
  options.identity = transfer::testing::identity_of(*ca, "node-b");
  options.source_address = "127.0.0.1:" + std::to_string((*server)->port());
  options.ticket = ticket;
  options.files = {"disk.qcow2"};
  const double cpu_before = cpu_seconds();
  const double sys_before = sys_seconds();
  Result<TransferReport> report = pull(options);
  const double cpu = cpu_seconds() - cpu_before;
  const double sys = sys_seconds() - sys_before;
  if (!report) {
    std::fprintf(stderr, "%s\n", report.error().message.c_str());
    return 1;
  }
  const std::string src = file.string();
  const std::string copy = (tmp.path() / "copy").string();
  const double cp = seconds_of("cp " + src + " " + copy);
  fs::remove(copy);
  const double cp_sync = seconds_of("cp " + src + " " + copy + " && sync " + copy);
  const double sha = seconds_of("sha256sum " + src + " >/dev/null");
  const auto rate = [&](double s) { return static_cast<double>(mib) / s; };
  std::printf("file                 %zu MiB, chunks of %zu KiB\n", mib, chunk_kib);
  std::printf("transfer (pull)      %.2f s  %.0f MiB/s\n", report->seconds, rate(report->seconds));
  std::printf("  CPU, both agents    %.2f s  (%.2f CPU-s per GiB, %.2f s of it system)\n", cpu,
              cpu * 1024.0 / static_cast<double>(mib), sys);
  std::printf("cp                   %.2f s  %.0f MiB/s\n", cp, rate(cp));
  std::printf("cp + fsync           %.2f s  %.0f MiB/s\n", cp_sync, rate(cp_sync));
  std::printf("sha256sum            %.2f s  %.0f MiB/s\n", sha, rate(sha));
  return 0;
}
