// QemuDriver: real virtual machines, one QEMU process per VM on this host, driven over QMP.
//
// Contract:
// - Implements driver::Driver for one host (this machine). run_phase() hands the request to
//   the VM's worker (vm_worker.h) and returns at once.
// - VMs outlive the server, as under libvirt: stop() ends the workers, not the QEMU
//   processes. After a restart, adopt() names the VMs the store places here; start()
//   re-attaches to their processes and reports what it finds, then stops every QEMU
//   process under this data dir that the store does not know (reported through `warn`).
// - Thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "driver/driver.h"
#include "driver/qemu/cpu_usage.h"
#include "driver/qemu/images.h"
#include "driver/qemu/vm_worker.h"

namespace corral::driver::qemu {

// Which accelerator to use: "kvm" when /dev/kvm is usable and a probe guest actually reaches
// its readiness line under it within `timeout`; otherwise "tcg". The answer is cached in
// `cache_file` (keyed by the QEMU binary, the image and the kernel release). The probe guest
// powers itself off once ready (`corral.probe=1` on its command line).
std::string probe_accelerator(const QemuConfig& config, const Image& probe_image,
                              const std::string& cache_file, std::chrono::milliseconds timeout,
                              const std::string& kvm_device = "/dev/kvm");

class QemuDriver final : public Driver {
 public:
  explicit QemuDriver(QemuConfig config);
  ~QemuDriver() override;
  QemuDriver(const QemuDriver&) = delete;
  QemuDriver& operator=(const QemuDriver&) = delete;

  std::string name() const override { return "qemu"; }
  std::vector<HostInfo> hosts() const override { return {host_}; }
  void start(DriverSink* sink) override;
  void stop() override;
  void run_phase(const PhaseRequest& request) override;
  void adopt(store::VmId vm, const std::string& host, lifecycle::Power power) override;
  // For `corral agent`: found() = the VMs with a live QEMU process under this data dir
  // (power kRunning as far as the agent can tell before it re-attaches), and those with only
  // a directory under <data-dir>/vms (kShutdown, with or without a memory file). fence():
  // SIGKILL the VM's QEMU (waits up to 3 s for it to go), disks kept; the worker then reports the
  // process gone. discard(): end the VM's worker, kill its QEMU, delete <data-dir>/vms/<id> (a
  // disk in the shared dir stays: with shared storage it may be another host's VM's now).
  std::vector<FoundVm> found() const override;
  void fence(store::VmId vm) override;
  void discard(store::VmId vm) override;

  const QemuConfig& config() const { return config_; }
  const ImageStore& image_store() const { return images_; }

  std::vector<ImageInfo> images() const override;
  std::vector<VmUsage> usage() override;
  [[nodiscard]] Result<std::string> console_log(store::VmId vm,
                                                std::size_t max_bytes) const override;
  [[nodiscard]] Result<int> attach_console(store::VmId vm, ConsoleOutput output) override;
  void detach_console(store::VmId vm, int handle) override;
  [[nodiscard]] Status write_console(store::VmId vm, std::string bytes) override;

  // QEMU processes under this data dir, by VM id (what `ps` would show).
  std::map<store::VmId, pid_t> processes() const;

 private:
  VmWorker& worker(store::VmId vm);  // requires mu_
  void stop_orphans();
  void kill_process(store::VmId vm, int term_wait_ms);  // SIGTERM (if >0 ms), then SIGKILL

  const QemuConfig config_;
  const ImageStore images_;
  const HostInfo host_;
  CpuMeter cpu_;

  mutable std::mutex mu_;
  DriverSink* sink_ = nullptr;
  std::map<store::VmId, std::unique_ptr<VmWorker>> workers_;
  std::map<store::VmId, lifecycle::Power> adopted_;
};

}  // namespace corral::driver::qemu
