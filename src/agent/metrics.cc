#include "agent/metrics.h"

#include <unistd.h>

#include <fstream>
#include <sstream>

namespace corral::agent {

v1::Capacity read_capacity(const std::string& proc_root) {
  v1::Capacity c;
  const long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  c.set_vcpus(cpus > 0 ? static_cast<int>(cpus) : 1);
  std::ifstream meminfo(proc_root + "/meminfo");
  for (std::string key; meminfo >> key;) {
    long long kib = 0;
    meminfo >> kib;
    if (key == "MemTotal:") {
      c.set_memory_mib(kib / 1024);
      break;
    }
    meminfo.ignore(1 << 10, '\n');
  }
  return c;
}

std::optional<double> read_load1(const std::string& proc_root) {
  std::ifstream in(proc_root + "/loadavg");
  double load = 0;
  if (!(in >> load)) return std::nullopt;
  return load;
}

double CpuIdle::free_percent() {
  std::ifstream in(root_ + "/stat");
  std::string cpu;
  in >> cpu;
  if (cpu != "cpu") return 0;
  unsigned long long v[8] = {};
  for (unsigned long long& x : v) in >> x;
  unsigned long long total = 0;
  for (unsigned long long x : v) total += x;
  const unsigned long long idle = v[3] + v[4];  // idle + iowait
  const unsigned long long d_total = total - last_total_;
  const unsigned long long d_idle = idle - last_idle_;
  last_total_ = total;
  last_idle_ = idle;
  if (d_total == 0) return 100;
  return 100.0 * static_cast<double>(d_idle) / static_cast<double>(d_total);
}

}  // namespace corral::agent
