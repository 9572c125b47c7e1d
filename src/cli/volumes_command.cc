#include "cli/volumes_command.h"

#include <fmt/core.h>

#include <cstdint>
#include <memory>
#include <string>

#include "cli/render.h"
#include "cli/request.h"

namespace corral::cli {
namespace {

using nlohmann::json;

std::string volume_path(const std::string& name) { return "/v1/volumes/" + url_encode(name); }

// One line per volume, as `openstack volume list` shows them: id, name, status, size, where.
constexpr std::string_view kRow = "{:<4} {:<16} {:<16} {:>9} {:<8} {}\n";

std::string volume_line(const json& v) {
  std::string attached = "-";
  const json& attachments = field(v, "attachments");
  if (attachments.is_array() && !attachments.empty()) {
    attached = "vm " + text_of(field(attachments[0], "vm"));
  }
  return fmt::format(fmt::runtime(kRow), text_of(field(v, "id")), text_of(field(v, "name")),
                     text_of(field(v, "status")), text_of(field(v, "size_mib")),
                     field(v, "delete_on_termination").is_boolean() &&
                             field(v, "delete_on_termination").get<bool>()
                         ? "delete"
                         : "keep",
                     attached);
}

CliResult<void> print_reply(const GlobalOptions& globals, const json& reply, const char* key) {
  if (globals.format() == OutputFormat::kJson) {
    print_json(reply);
    return {};
  }
  fmt::print(fmt::runtime(kRow), "ID", "NAME", "STATUS", "SIZE_MIB", "ON_TERM", "ATTACHED");
  if (reply.contains(key) && reply[key].is_array()) {
    for (const json& v : reply[key]) fmt::print("{}", volume_line(v));
    return {};
  }
  const json& v = field(reply, key);
  fmt::print("{}", volume_line(v));
  const std::string error = text_of(field(v, "error"), "");
  if (!error.empty()) fmt::print("error: {}\n", error);
  const json& attachments = field(v, "attachments");
  if (attachments.is_array() && !attachments.empty()) {
    fmt::print("guest device: {}\n", text_of(field(attachments[0], "guest_device")));
  }
  fmt::print("opennebula: {}  azure: {}  stratuslab: {}\n",
             text_of(field(field(v, "opennebula"), "shown")),
             text_of(field(field(v, "azure"), "diskState")),
             text_of(field(field(v, "stratuslab"), "state")));
  const json& snapshots = field(v, "snapshots");
  if (snapshots.is_array() && !snapshots.empty()) {
    fmt::print("\n{:<6} {:<14} {}\n", "SNAP", "STATUS", "SIZE_MIB");
    for (const json& s : snapshots) {
      fmt::print("{:<6} {:<14} {}\n", text_of(field(s, "id")), text_of(field(s, "status")),
                 text_of(field(s, "size_mib")));
    }
  }
  return {};
}

CliResult<void> call(const GlobalOptions& globals, const std::string& method,
                     const std::string& path, const json& body, const char* key) {
  CliResult<Client> client = client_for(globals);
  if (!client) return fail(std::move(client.error()));
  CliResult<json> reply = method == "GET"    ? client->get(path)
                          : method == "POST" ? client->post(path, body)
                                             : client->del(path);
  if (!reply) return fail(std::move(reply.error()));
  return print_reply(globals, *reply, key);
}

// attach / detach: the VM's action, answered with the VM's operation.
CliResult<void> vm_action(const GlobalOptions& globals, const std::string& vm, json body) {
  CliResult<Client> client = client_for(globals);
  if (!client) return fail(std::move(client.error()));
  const std::string verb = body["action"].get<std::string>();
  const std::string volume = body["volume"].get<std::string>();
  CliResult<json> reply = client->post("/v1/vms/" + url_encode(vm) + "/actions", body);
  if (!reply) return fail(std::move(reply.error()));
  if (globals.format() == OutputFormat::kJson) {
    print_json(*reply);
  } else {
    fmt::print("VM {}: {} of volume {} accepted (operation {}).\n", vm, verb, volume,
               text_of(field(field(*reply, "operation"), "id")));
  }
  return {};
}

}  // namespace

void add_volumes_command(CLI::App& app, const Globals& globals) {
  CLI::App* volume = app.add_subcommand(
      "volume", "Persistent volumes: create, list, show, attach, detach, resize, snapshot, delete");
  volume->require_subcommand(1);
  CLI::App* list = volume->add_subcommand("list", "List volumes (openstack volume list)");
  set_command(list, "corral volume list",
              [globals] { return call(*globals, "GET", "/v1/volumes", {}, "volumes"); });

  auto name = std::make_shared<std::string>();
  CLI::App* show = volume->add_subcommand("show", "Show a volume and its snapshots (name or id)");
  show->add_option("name", *name, "The volume")->required();
  set_command(show, "corral volume show",
              [globals, name] { return call(*globals, "GET", volume_path(*name), {}, "volume"); });

  struct Create {
    std::string name;
    std::uint64_t size_mib = 0;
    bool delete_on_termination = false;
  };
  auto create_args = std::make_shared<Create>();
  CLI::App* create = volume->add_subcommand("create", "Create an empty volume");
  create->add_option("name", create_args->name, "The volume's name")->required();
  create->add_option("--size", create_args->size_mib, "Its size in MiB")->required();
  create->add_flag("--delete-on-termination", create_args->delete_on_termination,
                   "Delete it with the VM it is attached to (default: it outlives the VM)");
  set_command(create, "corral volume create", [globals, create_args] {
    return call(*globals, "POST", "/v1/volumes",
                json{{"name", create_args->name},
                     {"size_mib", create_args->size_mib},
                     {"delete_on_termination", create_args->delete_on_termination}},
                "volume");
  });

  struct Attach {
    std::string volume;
    std::string vm;
    bool delete_on_termination = false;
  };
  auto attach_args = std::make_shared<Attach>();
  CLI::App* attach = volume->add_subcommand(
      "attach", "Attach a volume to a RUNNING (hotplug) or POWEROFF VM (the VM's disk_attach)");
  attach->add_option("volume", attach_args->volume, "The volume")->required();
  attach->add_option("vm", attach_args->vm, "The VM's id")->required();
  attach->add_flag("--delete-on-termination", attach_args->delete_on_termination,
                   "Delete the volume when this VM is terminated");
  set_command(attach, "corral volume attach", [globals, attach_args] {
    json body{{"action", "disk_attach"}, {"volume", attach_args->volume}};
    if (attach_args->delete_on_termination) body["delete_on_termination"] = true;
    return vm_action(*globals, attach_args->vm, std::move(body));
  });

  auto detach_name = std::make_shared<std::string>();
  CLI::App* detach = volume->add_subcommand(
      "detach", "Detach a volume from its VM (the VM's disk_detach); the data stays");
  detach->add_option("volume", *detach_name, "The volume")->required();
  set_command(detach, "corral volume detach", [globals, detach_name]() -> CliResult<void> {
    CliResult<Client> client = client_for(*globals);
    if (!client) return fail(std::move(client.error()));
    CliResult<json> v = client->get(volume_path(*detach_name));
    if (!v) return fail(std::move(v.error()));
    const json& attachments = field(field(*v, "volume"), "attachments");
    if (!attachments.is_array() || attachments.empty()) {
      return fail(
          Failure{FailureKind::kNotReached,
                  Error::invalid_argument("volume " + *detach_name + " is not attached to a VM"),
                  0,
                  {},
                  {}});
    }
    return vm_action(*globals, text_of(field(attachments[0], "vm")),
                     json{{"action", "disk_detach"}, {"volume", *detach_name}});
  });

  struct Resize {
    std::string volume;
    std::uint64_t size_mib = 0;
  };
  auto resize_args = std::make_shared<Resize>();
  CLI::App* resize = volume->add_subcommand("resize", "Grow a detached volume (never shrinks)");
  resize->add_option("volume", resize_args->volume, "The volume")->required();
  resize->add_option("--size", resize_args->size_mib, "The new size in MiB")->required();
  set_command(resize, "corral volume resize", [globals, resize_args] {
    return call(*globals, "POST", volume_path(resize_args->volume) + "/action",
                json{{"action", "extend"}, {"size_mib", resize_args->size_mib}}, "volume");
  });

  auto snap_name = std::make_shared<std::string>();
  CLI::App* snapshot = volume->add_subcommand("snapshot", "Take a full copy of a volume");
  snapshot->add_option("volume", *snap_name, "The volume")->required();
  set_command(snapshot, "corral volume snapshot", [globals, snap_name] {
    return call(*globals, "POST", volume_path(*snap_name) + "/action", json{{"action", "snapshot"}},
                "volume");
  });

  struct SnapDelete {
    std::string volume;
    std::int64_t snapshot = 0;
  };
  auto snap_delete = std::make_shared<SnapDelete>();
  CLI::App* delete_snapshot =
      volume->add_subcommand("delete-snapshot", "Delete one of a volume's snapshots");
  delete_snapshot->add_option("volume", snap_delete->volume, "The volume")->required();
  delete_snapshot->add_option("snapshot", snap_delete->snapshot, "The snapshot's id")->required();
  set_command(delete_snapshot, "corral volume delete-snapshot", [globals, snap_delete] {
    return call(*globals, "POST", volume_path(snap_delete->volume) + "/action",
                json{{"action", "delete_snapshot"}, {"snapshot", snap_delete->snapshot}}, "volume");
  });

  auto doomed = std::make_shared<std::string>();
  CLI::App* del =
      volume->add_subcommand("delete", "Delete a volume that is not attached (and its file)");
  del->add_option("name", *doomed, "The volume")->required();
  set_command(del, "corral volume delete", [globals, doomed] {
    return call(*globals, "DELETE", volume_path(*doomed), {}, "volume");
  });
}

}  // namespace corral::cli
