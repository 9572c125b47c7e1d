#include "driver/qemu/launch.h"

namespace corral::driver::qemu {

namespace {

// QEMU option values end at a comma; a literal comma is written twice.
std::string opt(const std::string& value) {
  std::string out;
  for (char c : value) {
    out += c;
    if (c == ',') out += ',';
  }
  return out;
}

}  // namespace

VmPaths VmPaths::of(const std::string& data_dir, store::VmId vm, const std::string& shared_dir) {
  VmPaths p;
  p.dir = vms_dir(data_dir) + "/" + std::to_string(vm);
  p.pidfile = p.dir + "/qemu.pid";
  p.qmp = p.dir + "/qmp.sock";
  p.serial = p.dir + "/serial.sock";
  p.serial_log = p.dir + "/serial.log";
  p.qemu_log = p.dir + "/qemu.log";
  p.disk_dir = shared_dir.empty() ? p.dir : vms_dir(shared_dir) + "/" + std::to_string(vm);
  p.disk = p.disk_dir + "/disk.qcow2";
  p.memory_state = p.dir + "/memory.state";
  return p;
}

std::string vms_dir(const std::string& data_dir) { return data_dir + "/vms"; }

std::vector<std::string> qemu_argv(const LaunchSpec& spec) {
  const VmPaths& p = spec.paths;
  std::vector<std::string> argv = {
      spec.qemu_binary,
      "-name",
      "corral-vm-" + std::to_string(spec.vm) + ",debug-threads=on",
      "-machine",
      "pc,accel=" + spec.accel,
      "-smp",
      std::to_string(spec.vcpus),
      "-m",
      std::to_string(spec.memory_mib),
      "-nodefaults",
      "-no-user-config",
      "-display",
      "none",
      "-chardev",
      "socket,id=serial0,path=" + opt(p.serial) +
          ",server=on,wait=off,logfile=" + opt(p.serial_log) + ",logappend=off",
      "-serial",
      "chardev:serial0",
      "-qmp",
      "unix:" + opt(p.qmp) + ",server=on,wait=off",
      "-pidfile",
      p.pidfile,
      "-daemonize",
      "-no-shutdown",
      "-S",
  };
  if (spec.image.kind == Image::Kind::kKernel) {
    argv.insert(argv.end(), {"-kernel", spec.image.kernel, "-initrd", spec.image.initrd, "-append",
                             spec.image.cmdline});
  }
  if (spec.attach_own_disk) {
    argv.insert(argv.end(),
                {"-blockdev", "driver=file,filename=" + opt(p.disk) + ",node-name=file0",
                 "-blockdev", "driver=qcow2,file=file0,node-name=disk0", "-device",
                 "virtio-blk-pci,drive=disk0,id=vda"});
  }
  if (spec.incoming) argv.insert(argv.end(), {"-incoming", "defer"});
  return argv;
}

std::string shell_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  out += "'";
  return out;
}

}  // namespace corral::driver::qemu
