// Real virtual machines: `corral server --driver qemu` with the test guest (TCG, 128 MiB),
// checked against what the QEMU processes really do.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <thread>

#include "driver/qemu/posix.h"
#include "lifecycle/model.h"
#include "lifecycle/views.h"
#include "support/guest_net.h"
#include "support/qemu_support.h"

namespace corral::testing {
namespace {

namespace fs = std::filesystem;
namespace lc = corral::lifecycle;
using namespace std::chrono_literals;
using nlohmann::json;

constexpr const char* kReady = "corral-guest: ready";

std::vector<pid_t> pids_of(const QemuServer& server, std::int64_t id) {
  std::vector<pid_t> out;
  const auto all = qemu_processes(server.data_dir());
  for (auto [it, end] = all.equal_range(id); it != end; ++it) out.push_back(it->second);
  return out;
}

// The one QEMU process of a VM (a test failure if there is none or more than one).
pid_t pid_of(const QemuServer& server, std::int64_t id) {
  const std::vector<pid_t> pids = pids_of(server, id);
  EXPECT_EQ(pids.size(), 1U) << "VM " << id << " must have exactly one QEMU process";
  return pids.empty() ? 0 : pids.front();
}

std::string vm_dir(const QemuServer& server, std::int64_t id) {
  return server.vms_dir() + "/" + std::to_string(id);
}

// Types into the console and waits for the guest's answer.
bool guest_answers(Api& api, std::int64_t id, const std::string& marker,
                   std::chrono::milliseconds timeout = 10s) {
  const ApiResult typed = api.post("/v1/vms/" + std::to_string(id) + "/console",
                                   {{"input", "echo " + marker + "-$((6*7))\n"}});
  EXPECT_EQ(typed.status, 202) << typed.body.dump();
  return wait_console(api, id, marker + "-42", timeout);
}

// The VM disk's internal snapshots by name -> their saved memory size, as qemu-img sees them
// (-U: the disk may be open by the running QEMU).
std::map<std::string, long> disk_snapshots(const QemuServer& server, std::int64_t id) {
  Result<driver::qemu::CommandResult> info = driver::qemu::run_command(
      {"qemu-img", "info", "-U", "--output=json", vm_dir(server, id) + "/disk.qcow2"}, 10s);
  std::map<std::string, long> out;
  if (!info || info->exit_code != 0) {
    ADD_FAILURE() << "qemu-img info failed";
    return out;
  }
  const json j = json::parse(info->output, nullptr, false);
  for (const json& s : j.value("snapshots", json::array())) {
    out[s["name"].get<std::string>()] = s.value("vm-state-size", 0L);
  }
  return out;
}

long disk_size(const QemuServer& server, std::int64_t id) {
  Result<driver::qemu::CommandResult> info = driver::qemu::run_command(
      {"qemu-img", "info", "-U", "--output=json", vm_dir(server, id) + "/disk.qcow2"}, 10s);
  if (!info || info->exit_code != 0) return -1;
  return json::parse(info->output, nullptr, false).value("virtual-size", -1L);
}

std::string last_reason(Api& api, std::int64_t id) {
  const json h = history(api, id);
  return h.empty() || h.back()["reason"].is_null() ? std::string()
                                                   : h.back()["reason"].get<std::string>();
}

// A temporary $HOME for the CLI: `corral run` makes its ssh key pair there, never in the
// machine user's own home.
class TempHome {
 public:
  TempHome() {
    std::string tmpl = (fs::temp_directory_path() / "corral-home-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) != nullptr) dir_ = tmpl;
    const char* old = std::getenv("HOME");
    old_ = old != nullptr ? old : "";
    ::setenv("HOME", dir_.c_str(), 1);
    ::unsetenv("XDG_CONFIG_HOME");
  }
  ~TempHome() {
    ::setenv("HOME", old_.c_str(), 1);
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  std::string old_;
};

// Runs on_volume(serial, action) until the guest has the device: QEMU's device_add returns
// (and the attach succeeds) before the guest kernel has probed the new PCI device.
driver::qemu::CommandResult on_guest_volume(const std::string& netns, const std::string& key,
                                            const std::string& ip, const std::string& serial,
                                            const std::string& action) {
  driver::qemu::CommandResult r;
  for (auto until = std::chrono::steady_clock::now() + 15s;
       std::chrono::steady_clock::now() < until;) {
    r = guest_ssh(netns, key, ip, on_volume(serial, action));
    if (r.output.find("no-device") == std::string::npos) return r;
    std::this_thread::sleep_for(200ms);
  }
  return r;
}

json wait_volume(Api& api, const std::string& name, const std::string& status) {
  json v;
  for (auto until = std::chrono::steady_clock::now() + 60s;
       std::chrono::steady_clock::now() < until;) {
    v = api.get("/v1/volumes/" + name).body["volume"];
    if (v.is_object() && v["status"] == status) return v;
    std::this_thread::sleep_for(50ms);
  }
  ADD_FAILURE() << "volume " << name << " not " << status << ": " << v.dump();
  return json();
}

std::string after(const std::string& text, const std::string& marker) {
  const std::size_t at = text.find(marker);
  if (at == std::string::npos) return {};
  const std::size_t from = at + marker.size();
  return text.substr(from, text.find_first_of("\r\n ", from) - from);
}

// Seed 002 end to end, as a new user types it: `corral run tiny` prints a real address; ping
// and ssh (inside Corral's namespace) reach the guest; `corral connect` logs in; a volume
// attached while it runs is written; `shutdown -h` in the guest → Unknown, the volume still
// allocated; `corral kill` → Done, the volume available with its data, which a second VM
// reads back. Along the way: describe's phases (Pending, Prolog, Boot, Running), a volume
// and a NIC attached to the powered-off VM (HOTPLUG_PROLOG_POWEROFF 33, HOTPLUG_NIC_POWEROFF
// 65), and a NIC hotplugged to the running one (HOTPLUG_NIC 25) that gets its address.
TEST(QemuTest, StratusLabWalkthroughOfSeed002) {
  TempHome home;
  QemuServer server({"--default-network", "10.97.0.0/24"}, /*prebuilt_guest=*/false);
  ASSERT_TRUE(server.process().start()) << server.process().log();
  const std::string url = server.process().url();
  Api api(server.process());
  // The server answers only once its default network is READY (bridge, namespace, dnsmasq):
  // a `corral run` typed at once is not refused as LOCK_CREATE, as one was under -j2 in CI.
  const json network = api.get("/v1/networks/default").body;
  ASSERT_EQ(network["network"]["state"], "READY") << network.dump();

  const CliResult run = run_cli({"run", "tiny"}, url);
  ASSERT_EQ(run.exit_code, 0) << run.out;
  const std::string id_text = after(run.out, "vm ID: ");
  ASSERT_FALSE(id_text.empty()) << run.out;
  const std::int64_t id = std::stoll(id_text);
  const std::string sid = std::to_string(id);
  const std::string ip = after(run.out, "Public ip: ");
  EXPECT_EQ(ip, "10.97.0.2") << run.out;
  const std::string key = home.dir() + "/.config/corral/id_ed25519";
  ASSERT_TRUE(fs::exists(key)) << "corral run makes the user's key";

  // Watch `corral describe` as the user would, until Running.
  std::vector<std::string> seen;
  std::string last_describe;
  for (auto until = std::chrono::steady_clock::now() + 60s;
       std::chrono::steady_clock::now() < until;) {
    const CliResult d = run_cli({"describe", sid}, url);
    ASSERT_EQ(d.exit_code, 0) << d.out;
    last_describe = d.out;
    for (const char* s : {"Pending", "Prolog", "Boot", "Running", "Failed"}) {
      if (d.out.find(std::string(" ") + s + " ") != std::string::npos &&
          (seen.empty() || seen.back() != s)) {
        seen.push_back(s);
      }
    }
    if (!seen.empty() && seen.back() == "Running") break;
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back(), "Running");
  EXPECT_NE(last_describe.find(" " + ip + " "), std::string::npos)
      << "describe's host/ip column shows the address:\n"
      << last_describe;
  ASSERT_TRUE(wait_state(api, id, "RUNNING").is_object());

  // The phases the server went through, replayed on the model: the StratusLab names of the
  // records the server had, in order, are the seed's Pending, Prolog, Boot, Running.
  const json h = history(api, id);
  lc::VmRecord mirror = lc::new_record();
  const auto sl_name = [](const lc::VmRecord& r) {
    return std::string(lc::sl_state_name(lc::stratuslab_view(r).state));
  };
  std::vector<std::string> names = {sl_name(mirror)};
  for (std::size_t i = 1; i < h.size(); ++i) {
    if (mirror.busy()) {
      mirror = lc::phase_succeeded(mirror).record;
    } else {
      Result<lc::Step> next =
          lc::begin(mirror, {*lc::parse_action(h[i]["action"].get<std::string>())});
      ASSERT_TRUE(next.has_value()) << h[i].dump();
      mirror = next->record;
    }
    ASSERT_TRUE(mirror.op.has_value());
    EXPECT_EQ(h[i]["phase"], std::string(lc::phase_name(lc::current_phase(*mirror.op))))
        << "history row " << i << ": " << h[i].dump();
    EXPECT_EQ(h[i]["to"], std::string(lc::state_name(mirror.state))) << h[i].dump();
    if (names.back() != sl_name(mirror)) names.push_back(sl_name(mirror));
  }
  EXPECT_EQ(names, (std::vector<std::string>{"Pending", "Prolog", "Boot", "Running"})) << h.dump();
  std::size_t j = 0;
  for (const std::string& s : seen) {
    while (j < names.size() && names[j] != s) ++j;
    EXPECT_LT(j, names.size()) << "describe showed " << s << " out of order";
  }
  ASSERT_TRUE(wait_console(api, id, kReady));

  // Ping, then ssh root@IP from Corral's namespace, then `corral connect`.
  const json networks = api.get("/v1/networks").body["networks"];
  ASSERT_EQ(networks.size(), 1u) << networks.dump();
  const std::string netns = networks[0]["namespace"].get<std::string>();
  ASSERT_TRUE(wait_ping(netns, ip)) << ip << " does not answer ping in " << netns;
  ASSERT_TRUE(wait_ssh(netns, key, ip)) << "ssh root@" << ip << " does not answer";
  const CliResult connect = run_cli({"connect", sid, "--", "uname", "-s"}, url);
  EXPECT_EQ(connect.exit_code, 0) << connect.out;
  EXPECT_NE(connect.out.find("Linux"), std::string::npos) << connect.out;

  // cpu% is the guest's real use: a guest spinning for a few seconds shows it busy.
  (void)guest_ssh(netns, key, ip,
                  "sh -c 'e=$(($(date +%s)+6)); while [ $(date +%s) -lt $e ]; do :; done' "
                  ">/dev/null 2>&1 </dev/null & echo spinning");
  double busiest = 0;
  json measured;
  for (int i = 0; i < 4; ++i) {
    std::this_thread::sleep_for(1100ms);
    measured = api.get("/v1/monitoring").body;
    for (const json& u : measured["vms"]) {
      if (u["vm"] == id) busiest = std::max(busiest, u["cpu_percent"].get<double>());
    }
  }
  EXPECT_GT(busiest, 30.0) << "a spinning guest's cpu%: " << measured.dump();

  // A volume hotplugged to the running VM (HOTPLUG), written by the guest.
  ASSERT_EQ(run_cli({"volume", "create", "data", "--size", "16"}, url).exit_code, 0);
  wait_volume(api, "data", "available");
  const CliResult attach = run_cli({"volume", "attach", "data", sid}, url);
  ASSERT_EQ(attach.exit_code, 0) << attach.out;
  const json in_use = wait_volume(api, "data", "in-use");
  ASSERT_TRUE(wait_state(api, id, "RUNNING").is_object());
  EXPECT_EQ(history(api, id).back()["action"], "disk_attach");
  const std::string serial = "vol" + std::to_string(in_use["id"].get<std::int64_t>());
  const driver::qemu::CommandResult wrote = on_guest_volume(
      netns, key, ip, serial,
      "echo seed002-data | dd of=$d bs=512 count=1 conv=sync 2>/dev/null && sync && echo written");
  EXPECT_NE(wrote.output.find("written"), std::string::npos) << wrote.output;

  // Shut down from inside, as the seed does: Unknown, resources (and the volume) kept.
  (void)guest_ssh(netns, key, ip, "shutdown -h");
  const json off = wait_state(api, id, "POWEROFF", 30s);
  ASSERT_TRUE(off.is_object());
  EXPECT_EQ(off["views"]["stratuslab"]["state"], "Unknown");
  EXPECT_EQ(off["views"]["nova"]["vm_state"], "stopped");
  EXPECT_EQ(off["views"]["azure"]["power_state"], "stopped");
  EXPECT_FALSE(off["host"].is_null()) << "resources are still allocated";
  EXPECT_EQ(history(api, id).back()["action"], "observed_poweroff");
  EXPECT_TRUE(pids_of(server, id).empty()) << "no QEMU process once the guest powered off";
  const CliResult unknown = run_cli({"describe", sid}, url);
  EXPECT_NE(unknown.out.find(" Unknown "), std::string::npos) << unknown.out;
  const json kept = api.get("/v1/volumes/data").body["volume"];
  EXPECT_EQ(kept["status"], "in-use") << "the data volume stays allocated: " << kept.dump();
  EXPECT_EQ(kept["azure"]["diskState"], "Attached") << kept.dump();

  // Attached to the powered-off VM: a volume (HOTPLUG_PROLOG_POWEROFF) and a NIC
  // (HOTPLUG_NIC_POWEROFF); nothing is plugged, the records change.
  ASSERT_EQ(run_cli({"volume", "create", "cold", "--size", "8"}, url).exit_code, 0);
  wait_volume(api, "cold", "available");
  ASSERT_EQ(act(api, id, "disk_attach", {{"volume", "cold"}}), 202);
  wait_volume(api, "cold", "in-use");
  ASSERT_TRUE(wait_state(api, id, "POWEROFF").is_object());
  ASSERT_EQ(act(api, id, "nic_attach", {{"network", "default"}}), 202);
  const json two_nics = wait_state(api, id, "POWEROFF");
  ASSERT_TRUE(two_nics.is_object());
  EXPECT_EQ(two_nics["nics"].size(), 2u) << two_nics.dump();

  // Kill: Done, the files gone, the volumes available with their data, the leases back.
  const CliResult kill = run_cli({"kill", sid}, url);
  EXPECT_EQ(kill.exit_code, 0) << kill.out;
  ASSERT_TRUE(wait_state(api, id, "DONE").is_object());
  const CliResult done = run_cli({"describe", sid}, url);
  EXPECT_NE(done.out.find(" Done "), std::string::npos) << done.out;
  EXPECT_FALSE(fs::exists(vm_dir(server, id))) << "kill releases the VM's files";
  const json available = wait_volume(api, "data", "available");
  EXPECT_TRUE(available["attachments"].empty()) << available.dump();
  wait_volume(api, "cold", "available");
  EXPECT_TRUE(api.get("/v1/networks/default").body["network"]["leases"].empty());

  // A second VM takes the freed address, gets the volume hotplugged and reads the data back;
  // a NIC hotplugged on a second network gets its address; the volume detaches from the
  // running guest (device_del honoured) and is available again.
  const CliResult run2 = run_cli({"run", "tiny"}, url);
  ASSERT_EQ(run2.exit_code, 0) << run2.out;
  const std::int64_t id2 = std::stoll(after(run2.out, "vm ID: "));
  const std::string ip2 = after(run2.out, "Public ip: ");
  EXPECT_EQ(ip2, ip) << "the lowest free address again";
  ASSERT_TRUE(wait_state(api, id2, "RUNNING").is_object());
  ASSERT_TRUE(wait_ssh(netns, key, ip2));
  const CliResult connect2 = run_cli({"connect", std::to_string(id2), "--", "true"}, url);
  EXPECT_EQ(connect2.exit_code, 0)
      << "a new VM on an old address is not an impostor: " << connect2.out;
  ASSERT_EQ(run_cli({"volume", "attach", "data", std::to_string(id2)}, url).exit_code, 0);
  wait_volume(api, "data", "in-use");
  ASSERT_TRUE(wait_state(api, id2, "RUNNING").is_object());
  const driver::qemu::CommandResult read =
      on_guest_volume(netns, key, ip2, serial, "dd if=$d bs=512 count=1 2>/dev/null");
  EXPECT_NE(read.output.find("seed002-data"), std::string::npos) << read.output;

  const ApiResult second = api.post("/v1/networks", {{"name", "second"}, {"cidr", "10.98.0.0/24"}});
  ASSERT_EQ(second.status, 201) << second.body.dump();
  for (auto until = std::chrono::steady_clock::now() + 30s;
       std::chrono::steady_clock::now() < until &&
       api.get("/v1/networks/second").body["network"]["state"] != "READY";) {
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_EQ(act(api, id2, "nic_attach", {{"network", "second"}}), 202);
  const json hot = wait_state(api, id2, "RUNNING");
  ASSERT_TRUE(hot.is_object());
  ASSERT_EQ(hot["nics"].size(), 2u) << hot.dump();
  EXPECT_EQ(hot["nics"][1]["ip"], "10.98.0.2");
  EXPECT_TRUE(wait_ping(netns, "10.98.0.2")) << "the hotplugged NIC got its address by DHCP";

  ASSERT_EQ(run_cli({"volume", "detach", "data"}, url).exit_code, 0);
  wait_volume(api, "data", "available");
  ASSERT_TRUE(wait_state(api, id2, "RUNNING").is_object());
  const driver::qemu::CommandResult gone =
      guest_ssh(netns, key, ip2, on_volume(serial, "echo still-there"));
  EXPECT_NE(gone.output.find("no-device"), std::string::npos) << gone.output;

  ASSERT_EQ(run_cli({"kill", std::to_string(id2)}, url).exit_code, 0);
  ASSERT_TRUE(wait_state(api, id2, "DONE").is_object());
  for (const char* v : {"data", "cold"}) {
    ASSERT_EQ(run_cli({"volume", "delete", v}, url).exit_code, 0);
  }
  for (auto until = std::chrono::steady_clock::now() + 30s;
       std::chrono::steady_clock::now() < until &&
       !api.get("/v1/volumes").body["volumes"].empty();) {
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(api.get("/v1/volumes").body["volumes"].empty());
  EXPECT_FALSE(fs::exists(server.data_dir() + "/var/volumes/vol-1.raw"));
  EXPECT_EQ(server.process().stop(), 0);
}

// Every power action against a running guest, and the QEMU process really in that state.
TEST(QemuTest, PowerActionsDriveTheRealProcess) {
  QemuServer server({"--shutdown-timeout", "20"});
  ASSERT_TRUE(server.process().start()) << server.process().log();
  Api api(server.process());
  const std::int64_t id = create_vm(api, "power");
  ASSERT_TRUE(wait_state(api, id, "RUNNING").is_object());
  ASSERT_TRUE(wait_console(api, id, kReady));
  const pid_t first = pid_of(server, id);
  EXPECT_TRUE(guest_answers(api, id, "alive"));

  // pause: the process stays, the guest does not answer until unpaused.
  act(api, id, "pause");
  json vm = wait_state(api, id, "PAUSED");
  ASSERT_TRUE(vm.is_object());
  EXPECT_EQ(vm["power"], "paused");
  EXPECT_EQ(pid_of(server, id), first);
  EXPECT_FALSE(guest_answers(api, id, "paused", 1500ms)) << "a paused guest runs nothing";
  act(api, id, "unpause");
  ASSERT_TRUE(wait_state(api, id, "RUNNING").is_object());
  EXPECT_TRUE(wait_console(api, id, "paused-42")) << "the typed line runs once unpaused";

  // suspend: memory in a file, no process; resume: a new process, the same guest.
  act(api, id, "suspend");
  vm = wait_state(api, id, "SUSPENDED");
  ASSERT_TRUE(vm.is_object());
  // Memory in a file and no process is shut off (libvirt managedSave: Nova power_state 4),
  // the nominal power the model gives SUSPENDED and the sim reports.
  EXPECT_EQ(vm["power"], "shutdown");
  EXPECT_TRUE(pids_of(server, id).empty());
  const std::string state_file = vm_dir(server, id) + "/memory.state";
  ASSERT_TRUE(fs::exists(state_file));
  EXPECT_GT(fs::file_size(state_file), 1U << 20);
  act(api, id, "resume");
  ASSERT_TRUE(wait_state(api, id, "RUNNING").is_object());
  EXPECT_NE(pid_of(server, id), first);
  EXPECT_FALSE(fs::exists(state_file));
  EXPECT_TRUE(guest_answers(api, id, "restored")) << "the restored guest runs on";

  // reboot (ACPI, as libvirt does it: the same process resets) and hard reboot.
  const pid_t restored = pid_of(server, id);
  act(api, id, "reboot");
  ASSERT_TRUE(wait_state(api, id, "RUNNING").is_object());
  EXPECT_EQ(pid_of(server, id), restored);
  ASSERT_TRUE(wait_console(api, id, kReady)) << "the guest booted again";
  act(api, id, "reboot_hard");
  ASSERT_TRUE(wait_state(api, id, "RUNNING").is_object());
  EXPECT_EQ(pid_of(server, id), restored);
  ASSERT_TRUE(wait_console(api, id, kReady));

  // graceful shutdown: the guest powers off through ACPI; no process.
  act(api, id, "shutdown");
  vm = wait_state(api, id, "POWEROFF");
  ASSERT_TRUE(vm.is_object());
  EXPECT_EQ(vm["power"], "shutdown");
  EXPECT_TRUE(pids_of(server, id).empty());
  act(api, id, "start");
  ASSERT_TRUE(wait_state(api, id, "RUNNING").is_object());
  EXPECT_EQ(pids_of(server, id).size(), 1U);

  // hard power-off.
  act(api, id, "shutdown_hard");
  ASSERT_TRUE(wait_state(api, id, "POWEROFF").is_object());
  EXPECT_TRUE(pids_of(server, id).empty());

  // hibernate and deallocate release the host; start / resume bring the VM back.
  act(api, id, "start");
  ASSERT_TRUE(wait_state(api, id, "RUNNING").is_object());
  ASSERT_TRUE(wait_console(api, id, kReady));
  act(api, id, "hibernate");
  vm = wait_state(api, id, "HIBERNATED");
  ASSERT_TRUE(vm.is_object());
  EXPECT_TRUE(vm["host"].is_null());
  EXPECT_TRUE(pids_of(server, id).empty());
  EXPECT_TRUE(fs::exists(state_file));
  act(api, id, "resume");
  ASSERT_TRUE(wait_state(api, id, "RUNNING").is_object());
  EXPECT_TRUE(guest_answers(api, id, "unhibernated"));
  act(api, id, "deallocate");
  vm = wait_state(api, id, "DEALLOCATED");
  ASSERT_TRUE(vm.is_object());
  EXPECT_TRUE(vm["host"].is_null());
  EXPECT_TRUE(pids_of(server, id).empty());
  act(api, id, "start");
  ASSERT_TRUE(wait_state(api, id, "RUNNING").is_object());

  // rescue boots the rescue image with the VM's disk; unrescue its own.
  act(api, id, "rescue");
  ASSERT_TRUE(wait_state(api, id, "RESCUED").is_object());
  EXPECT_EQ(pids_of(server, id).size(), 1U);
  act(api, id, "unrescue");
  ASSERT_TRUE(wait_state(api, id, "RUNNING").is_object());

  // snapshot: a new image made from the disk, bootable.
  act(api, id, "snapshot", {{"name", "power-snap"}});
  ASSERT_TRUE(wait_state(api, id, "RUNNING").is_object());
  const ApiResult images = api.get("/v1/images");
  EXPECT_NE(images.body.dump().find("power-snap"), std::string::npos) << images.body.dump();

  // checkpoints (memory + disk, snapshot-save/load) and disk snapshots while running ...
  act(api, id, "checkpoint", {{"name", "cp1"}});
  ASSERT_TRUE(wait_state(api, id, "RUNNING").is_object());
  act(api, id, "disk_snapshot", {{"name", "ds1"}});
  ASSERT_TRUE(wait_state(api, id, "RUNNING").is_object());
  auto snaps = disk_snapshots(server, id);
  ASSERT_TRUE(snaps.contains("cp1") && snaps.contains("ds1")) << history(api, id).dump();
  EXPECT_GT(snaps["cp1"], 0) << "a checkpoint keeps the memory";
  EXPECT_EQ(snaps["ds1"], 0) << "a disk snapshot does not";
  act(api, id, "checkpoint_revert", {{"name", "cp1"}});
  ASSERT_TRUE(wait_state(api, id, "RUNNING").is_object());
  EXPECT_EQ(history(api, id).back()["status"], "succeeded");
  // The guest's shell may be mid-way through a terminal query at the checkpoint: a first
  // line typed after the revert can be eaten by it, so the question is asked up to 3 times.
  bool answered = false;
  for (int attempt = 0; attempt < 3 && !answered; ++attempt) {
    answered = guest_answers(api, id, "reverted", 10s);
  }
  EXPECT_TRUE(answered) << "the reverted guest runs on";
  act(api, id, "checkpoint_delete", {{"name", "cp1"}});
  ASSERT_TRUE(wait_state(api, id, "RUNNING").is_object());
  act(api, id, "disk_resize", {{"size_mib", 96}});
  ASSERT_TRUE(wait_state(api, id, "RUNNING").is_object());
  EXPECT_EQ(disk_size(server, id), 96L << 20);
  // ... and with qemu-img while off.
  act(api, id, "shutdown_hard");
  ASSERT_TRUE(wait_state(api, id, "POWEROFF").is_object());
  for (const char* action : {"disk_snapshot_delete", "disk_snapshot"}) {
    act(api, id, action, {{"name", "ds1"}});
    ASSERT_TRUE(wait_state(api, id, "POWEROFF").is_object());
  }
  act(api, id, "disk_snapshot_revert", {{"name", "ds1"}});
  ASSERT_TRUE(wait_state(api, id, "POWEROFF").is_object());
  EXPECT_EQ(history(api, id).back()["status"], "succeeded");
  snaps = disk_snapshots(server, id);
  EXPECT_EQ(snaps.size(), 1U);
  EXPECT_TRUE(snaps.contains("ds1"));
  act(api, id, "disk_resize", {{"size_mib", 128}});
  ASSERT_TRUE(wait_state(api, id, "POWEROFF").is_object());
  EXPECT_EQ(disk_size(server, id), 128L << 20);
  // resize while off: the next boot has the new size.
  act(api, id, "resize", {{"vcpus", 2}, {"memory_mib", 192}});
  ASSERT_TRUE(wait_state(api, id, "POWEROFF").is_object());
  act(api, id, "start");
  ASSERT_TRUE(wait_state(api, id, "RUNNING").is_object());
  const std::string cmdline = [&] {
    std::ifstream in("/proc/" + std::to_string(pid_of(server, id)) + "/cmdline");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (char& c : text) c = c == '\0' ? ' ' : c;
    return text;
  }();
  EXPECT_NE(cmdline.find(" -smp 2 "), std::string::npos) << cmdline;
  EXPECT_NE(cmdline.find(" -m 192 "), std::string::npos) << cmdline;

  // a QEMU process stopped from outside (SIGSTOP) stops answering: UNKNOWN, as OpenNebula's
  // monitor has it; once it runs again (SIGCONT), RUNNING.
  const pid_t frozen = pid_of(server, id);
  ::kill(frozen, SIGSTOP);
  vm = wait_state(api, id, "UNKNOWN", 15s);
  ::kill(frozen, SIGCONT);
  ASSERT_TRUE(vm.is_object());
  EXPECT_NE(last_reason(api, id).find("does not answer QMP"), std::string::npos)
      << history(api, id).dump();
  ASSERT_TRUE(wait_state(api, id, "RUNNING", 15s).is_object());
  EXPECT_EQ(history(api, id).back()["action"], "observed_running");
  EXPECT_EQ(pid_of(server, id), frozen);

  // a QEMU process that dies without a word: UNKNOWN, with the cause.
  const pid_t victim = pid_of(server, id);
  ::kill(victim, SIGKILL);
  vm = wait_state(api, id, "UNKNOWN", 10s);
  ASSERT_TRUE(vm.is_object());
  EXPECT_NE(last_reason(api, id).find("without a shutdown event"), std::string::npos)
      << history(api, id).dump();

  // terminate: process and files gone, the record kept as DONE.
  act(api, id, "start");
  ASSERT_TRUE(wait_state(api, id, "RUNNING").is_object());
  act(api, id, "terminate_hard");
  ASSERT_TRUE(wait_state(api, id, "DONE").is_object());
  EXPECT_TRUE(pids_of(server, id).empty());
  EXPECT_FALSE(fs::exists(vm_dir(server, id)));
}

// A guest that ignores the ACPI power button (acpi=off): the configured fallback applies.
void register_deaf_image(const QemuServer& server) {
  const std::string images = server.data_dir() + "/var/images";
  fs::create_directories(images + "/deaf");
  fs::copy_file(images + "/tiny/vmlinuz", images + "/deaf/vmlinuz");
  fs::copy_file(images + "/tiny/initrd.img", images + "/deaf/initrd.img");
  std::ofstream(images + "/deaf/cmdline") << "console=ttyS0 quiet panic=-1 acpi=off\n";
}

TEST(QemuTest, GracefulShutdownFallsBackAsConfigured) {
  const struct {
    const char* fallback;
    const char* ends_in;
    std::size_t processes;
    const char* reason;  // in the history, or nullptr
  } cases[] = {
      // OpenNebula's way: back to RUNNING with the reason, the guest keeps running.
      {"fail", "RUNNING", 1, "did not power off within 2 s"},
      // The default: pull the plug when the guest does not listen.
      {"poweroff", "POWEROFF", 0, nullptr},
  };
  for (const auto& c : cases) {
    QemuServer server({"--shutdown-timeout", "2", "--shutdown-fallback", c.fallback});
    ASSERT_TRUE(server.process().start()) << server.process().log();
    register_deaf_image(server);
    Api api(server.process());
    const std::int64_t deaf = create_vm(api, "deaf", "deaf");
    ASSERT_TRUE(wait_state(api, deaf, "RUNNING").is_object());
    act(api, deaf, "shutdown");
    ASSERT_TRUE(wait_state(api, deaf, c.ends_in, 20s).is_object()) << c.fallback;
    if (c.reason != nullptr) {
      EXPECT_NE(last_reason(api, deaf).find(c.reason), std::string::npos)
          << history(api, deaf).dump();
    }
    EXPECT_EQ(pids_of(server, deaf).size(), c.processes) << c.fallback;
  }
}

// device_del only asks the guest. A guest that never lets go (acpi=off: it never hears the
// eject) ends the detach in a clear failed operation with the VM running and the volume still
// attached and in-use, never in detaching; once the VM is off, the cold detach frees it.
TEST(QemuTest, AGuestThatNeverLetsGoOfAVolumeEndsTheDetachInAClearFailure) {
  QemuServer server({"--unplug-timeout", "2"});
  ASSERT_TRUE(server.process().start()) << server.process().log();
  register_deaf_image(server);
  Api api(server.process());
  const std::int64_t id = create_vm(api, "deaf", "deaf");
  ASSERT_TRUE(wait_state(api, id, "RUNNING").is_object());
  ASSERT_EQ(api.post("/v1/volumes", {{"name", "held"}, {"size_mib", 4}}).status, 201);
  wait_volume(api, "held", "available");
  ASSERT_EQ(act(api, id, "disk_attach", {{"volume", "held"}}), 202);
  ASSERT_TRUE(wait_volume(api, "held", "in-use").is_object());

  ASSERT_EQ(act(api, id, "disk_detach", {{"volume", "held"}}), 202);
  const json refused = api.wait_idle(id, 30'000);
  ASSERT_TRUE(refused.is_object());
  EXPECT_EQ(refused["state"], "RUNNING");
  EXPECT_EQ(refused["operation"]["action"], "disk_detach");
  EXPECT_EQ(refused["operation"]["status"], "failed");
  EXPECT_NE(refused["operation"]["error"].dump().find("did not release"), std::string::npos)
      << refused.dump();
  const json held = api.get("/v1/volumes/held").body["volume"];
  EXPECT_EQ(held["status"], "in-use") << held.dump();
  EXPECT_EQ(held["attachments"].size(), 1u) << held.dump();
  EXPECT_EQ(pids_of(server, id).size(), 1u) << "the guest keeps running";

  act(api, id, "shutdown_hard");
  ASSERT_TRUE(wait_state(api, id, "POWEROFF").is_object());
  ASSERT_EQ(act(api, id, "disk_detach", {{"volume", "held"}}), 202);
  ASSERT_TRUE(wait_volume(api, "held", "available").is_object());
  act(api, id, "terminate_hard");
  ASSERT_TRUE(wait_state(api, id, "DONE").is_object());
}

// Seed 000: OS provisioning that misses its deadline fails, and the guest's readiness line
// arriving later turns the failure to success by itself.
TEST(QemuTest, LateReadinessTurnsFailedProvisioningToSucceeded) {
  QemuServer server({"--phase-deadline", "deploy.os_provisioning=0.3"});
  ASSERT_TRUE(server.process().start()) << server.process().log();
  Api api(server.process());
  const std::int64_t id = create_vm(api, "slow");
  json vm;
  bool saw_failed = false;
  for (auto until = std::chrono::steady_clock::now() + 60s;
       std::chrono::steady_clock::now() < until;) {
    vm = api.get("/v1/vms/" + std::to_string(id)).body;
    if (vm["views"]["azure"]["provisioning_state"] == "Failed") saw_failed = true;
    if (saw_failed && vm["views"]["azure"]["provisioning_state"] == "Succeeded") break;
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(saw_failed) << history(api, id).dump();
  EXPECT_EQ(vm["views"]["azure"]["provisioning_state"], "Succeeded") << vm.dump();
  EXPECT_EQ(vm["state"], "RUNNING");
  EXPECT_EQ(vm["operation"]["status"], "succeeded");
}

// SIGKILL of the server while VMs run and while operations are in flight, then restart:
// the same processes, states right, nothing orphaned, no VM running twice.
TEST(QemuTest, SigkillAndRestartKeepsEveryVmOnce) {
  QemuServer server({"--shutdown-timeout", "3"});
  ASSERT_TRUE(server.process().start()) << server.process().log();
  register_deaf_image(server);
  std::int64_t steady = 0;
  std::int64_t vanishing = 0;
  std::int64_t stopping = 0;
  std::int64_t booting = 0;
  {
    Api api(server.process());
    steady = create_vm(api, "steady");
    vanishing = create_vm(api, "vanishing");
    stopping = create_vm(api, "stopping", "deaf");
    for (std::int64_t id : {steady, vanishing, stopping}) {
      ASSERT_TRUE(wait_state(api, id, "RUNNING").is_object());
    }
    act(api, stopping, "shutdown");  // the deaf guest keeps it in flight for 3 s
    booting = create_vm(api, "booting");
    std::this_thread::sleep_for(300ms);
    for (std::int64_t id : {stopping, booting}) {
      const json now = api.get("/v1/vms/" + std::to_string(id)).body;
      ASSERT_EQ(now["operation"]["status"], "running")
          << "in flight at the SIGKILL: " << now.dump();
    }
  }
  const pid_t steady_pid = pid_of(server, steady);
  server.process().kill();
  // While the server is down: one VM dies, and a QEMU process nobody knows appears.
  ::kill(pid_of(server, vanishing), SIGKILL);
  const std::string stray_dir = server.vms_dir() + "/999";
  fs::create_directories(stray_dir);
  Result<driver::qemu::CommandResult> stray = driver::qemu::run_command(
      {"qemu-system-x86_64", "-S", "-nodefaults", "-display", "none", "-machine", "none",
       "-daemonize", "-pidfile", stray_dir + "/qemu.pid"},
      10s);
  ASSERT_TRUE(stray.has_value() && stray->exit_code == 0);
  ASSERT_EQ(pids_of(server, 999).size(), 1U);
  std::this_thread::sleep_for(500ms);

  ASSERT_TRUE(server.process().start()) << server.process().log();
  Api api(server.process());
  json vm = wait_state(api, steady, "RUNNING", 10s);
  ASSERT_TRUE(vm.is_object());
  EXPECT_EQ(pid_of(server, steady), steady_pid) << "the same process, re-attached";
  EXPECT_TRUE(guest_answers(api, steady, "reattached"));
  vm = wait_state(api, vanishing, "UNKNOWN", 10s);
  ASSERT_TRUE(vm.is_object());
  EXPECT_NE(last_reason(api, vanishing).find("no QEMU process"), std::string::npos);
  ASSERT_TRUE(wait_state(api, stopping, "POWEROFF", 30s).is_object())
      << "the shutdown in flight completes";
  EXPECT_NE(history(api, stopping).dump().find("re-dispatched after a restart"), std::string::npos);
  EXPECT_TRUE(pids_of(server, stopping).empty());
  ASSERT_TRUE(wait_state(api, booting, "RUNNING", 60s).is_object())
      << "the deploy in flight completes";
  EXPECT_EQ(pids_of(server, booting).size(), 1U);
  EXPECT_TRUE(pids_of(server, 999).empty()) << "the unknown process was stopped";
  EXPECT_NE(server.process().log().find("the store does not place that VM"), std::string::npos);

  // Nothing runs that the store does not say runs, and nothing twice.
  std::set<std::int64_t> running;
  for (std::int64_t id : {steady, vanishing, stopping, booting}) {
    const json now = api.get("/v1/vms/" + std::to_string(id)).body;
    if (now["state"] == "RUNNING" || now["state"] == "PAUSED") running.insert(id);
  }
  EXPECT_EQ(vms_with_process(server.data_dir()), running);
}

}  // namespace
}  // namespace corral::testing
