// /v1/volumes: persistent volumes (Cinder's volumes, OpenNebula's persistent DATABLOCK images,
// Azure's managed data disks) and their snapshots. Attach and detach are the VM's actions
// (disk_attach, disk_detach); here: create, extend, snapshot, delete. Errors go through
// failure() like every handler's.
#include "api/handlers.h"
#include "api/policy.h"
#include "api/requests.h"
#include "lifecycle/views.h"
#include "lifecycle/volume_table.h"

namespace corral::api::internal {
namespace {

using json = nlohmann::json;
namespace lc = corral::lifecycle;

// Corral's (Cinder's) words first; OpenNebula's image state, Azure's disk state and
// StratusLab's listing beside them, derived from the one record as a VM's views are.
// An attachment to a VM the caller may not see says that the volume is in use, not to what.
json volume_json(Context& ctx, const Call& call, const store::VolumeRow& v) {
  const lc::VolumeRecord record{v.status, v.vm != 0};
  lc::AzurePower power = lc::AzurePower::kNone;
  json attachments = json::array();
  if (v.vm != 0) {
    bool visible = false;
    if (std::optional<store::Vm> vm = ctx.engine.get(v.vm)) {
      power = lc::azure_view(vm->record).power;
      visible = can_see(call.who(), vm->project);
    }
    const std::string device = "vol" + std::to_string(v.id);
    attachments.push_back({{"vm", visible ? json(v.vm) : json(nullptr)},
                           {"slot", v.slot},
                           {"serial", device},
                           {"guest_device", "/dev/disk/by-id/virtio-" + device}});
  }
  json snapshots = json::array();
  for (const store::VolumeSnapshot& s : v.snapshots) {
    snapshots.push_back({{"id", s.id},
                         {"status", std::string(lc::snapshot_status_name(s.status))},
                         {"size_mib", s.size_mib},
                         {"created_at", s.created_at}});
  }
  const lc::OpenNebulaImageView one = lc::opennebula_image_view(record);
  const lc::StratusLabVolumeView stratus =
      lc::stratuslab_volume_view(record, static_cast<std::uint64_t>(v.vm));
  json allowed = json::array();
  for (lc::VolumeAction a : lc::allowed_volume_actions(record)) {
    allowed.push_back(std::string(lc::volume_action_name(a)));
  }
  return {{"id", v.id},
          {"name", v.name},
          {"project", v.project},
          {"size_mib", v.size_mib},
          {"status", std::string(lc::volume_status_name(v.status))},
          {"attach_status", std::string(lc::cinder_attach_status(record))},
          {"attachments", std::move(attachments)},
          {"delete_on_termination", v.delete_on_termination},
          {"allowed_actions", std::move(allowed)},
          {"busy", v.job != store::VolumeJob::kNone},
          {"snapshots", std::move(snapshots)},
          {"error", v.error},
          {"opennebula",
           {{"STATE", one.state},
            {"STATE_STR", std::string(one.name)},
            {"shown", std::string(one.shown)},
            {"TYPE", lc::kOpenNebulaDatablock},
            {"PERSISTENT", 1}}},
          {"azure", {{"diskState", std::string(lc::azure_disk_state(record, power))}}},
          {"stratuslab",
           {{"state", std::string(stratus.state)},
            {"vm", stratus.vm == 0 ? json(nullptr) : json(stratus.vm)}}},
          {"created_at", v.created_at},
          {"updated_at", v.updated_at}};
}

constexpr std::string_view kVolumeFields[] = {"name", "size_mib", "delete_on_termination"};
constexpr std::string_view kVolumeActionFields[] = {"action", "size_mib", "snapshot"};

Result<std::uint64_t> size_of(const json& body) {
  const auto size = body.find("size_mib");
  if (size == body.end() || !size->is_number_integer() || size->get<std::int64_t>() < 1 ||
      size->get<std::uint64_t>() > engine::kMaxVolumeMib) {
    return fail(Error::invalid_argument("'size_mib' must be an integer from 1 to " +
                                        std::to_string(engine::kMaxVolumeMib)));
  }
  return size->get<std::uint64_t>();
}

Status only(const json& body, std::span<const std::string_view> fields, std::string_view where) {
  for (const auto& [key, value] : body.items()) {
    if (std::ranges::find(fields, key) == fields.end()) {
      std::string names;
      for (std::string_view f : fields) names += (names.empty() ? "" : ", ") + std::string(f);
      return fail(Error::invalid_argument("unknown field '" + key.substr(0, 64) + "' for " +
                                          std::string(where) + " (" + names + ")"));
    }
  }
  return {};
}

// The volume the path names, if the caller's project owns it (or the caller is the cloud's
// admin): another project's is not found, never forbidden.
std::expected<store::VolumeRow, Failure> visible_volume(const Context& ctx, const Call& call) {
  std::optional<store::VolumeRow> v = ctx.engine.volume(call.args[0]);
  if (!v || !can_see(call.who(), v->project)) {
    return failure(Error::not_found("no volume " + call.args[0].substr(0, 64)));
  }
  return std::move(*v);
}

}  // namespace

HandlerResult list_volumes(Context& ctx, Call& call) {
  Result<std::optional<store::ProjectId>> scope = list_scope(ctx, call);
  if (!scope) return failure(std::move(scope.error()));
  json volumes = json::array();
  for (const store::VolumeRow& v : ctx.engine.volumes()) {
    if (!*scope || v.project == **scope) volumes.push_back(volume_json(ctx, call, v));
  }
  return Reply{200, {{"volumes", std::move(volumes)}}};
}

HandlerResult get_volume(Context& ctx, Call& call) {
  auto v = visible_volume(ctx, call);
  if (!v) return std::unexpected(std::move(v.error()));
  return Reply{200, {{"volume", volume_json(ctx, call, *v)}}};
}

HandlerResult create_volume(Context& ctx, Call& call) {
  Result<json> body = parse_body(call.req.body);
  if (!body) return failure(std::move(body.error()));
  if (Status s = only(*body, kVolumeFields, "POST /v1/volumes"); !s) {
    return failure(std::move(s.error()));
  }
  const auto name = body->find("name");
  if (name == body->end() || !name->is_string()) {
    return failure(Error::invalid_argument("'name' must be a string"));
  }
  Result<std::uint64_t> size = size_of(*body);
  if (!size) return failure(std::move(size.error()));
  bool delete_on_termination = false;
  if (const auto d = body->find("delete_on_termination"); d != body->end()) {
    if (!d->is_boolean()) {
      return failure(Error::invalid_argument("'delete_on_termination' must be true or false"));
    }
    delete_on_termination = d->get<bool>();
  }
  const store::ProjectId project = call.who()->project;
  Result<store::VolumeRow> v = ctx.engine.create_volume(
      {name->get<std::string>(), *size, delete_on_termination, project, limits_for(ctx, project)});
  if (!v) return failure(std::move(v.error()));
  return Reply{201, {{"volume", volume_json(ctx, call, *v)}}};
}

HandlerResult act_on_volume(Context& ctx, Call& call) {
  Result<json> body = parse_body(call.req.body);
  if (!body) return failure(std::move(body.error()));
  if (Status s = only(*body, kVolumeActionFields, "POST /v1/volumes/{name}/action"); !s) {
    return failure(std::move(s.error()));
  }
  const auto action = body->find("action");
  if (action == body->end() || !action->is_string()) {
    return failure(Error::invalid_argument(
        "'action' must be one of extend (or resize), snapshot, delete_snapshot"));
  }
  const std::string& verb = action->get_ref<const std::string&>();
  auto volume = visible_volume(ctx, call);
  if (!volume) return std::unexpected(std::move(volume.error()));
  engine::VolumeRequest request;
  request.name_or_id = std::to_string(volume->id);
  request.quota = limits_for(ctx, volume->project);
  if (verb == "extend" || verb == "resize") {
    Result<std::uint64_t> size = size_of(*body);
    if (!size) return failure(std::move(size.error()));
    request.verb = engine::VolumeVerb::kExtend;
    request.size_mib = *size;
  } else if (verb == "snapshot") {
    request.verb = engine::VolumeVerb::kSnapshot;
  } else if (verb == "delete_snapshot") {
    const auto snapshot = body->find("snapshot");
    if (snapshot == body->end() || !snapshot->is_number_integer() ||
        snapshot->get<std::int64_t>() < 1) {
      return failure(Error::invalid_argument("'snapshot' must be a snapshot's id"));
    }
    request.verb = engine::VolumeVerb::kDeleteSnapshot;
    request.snapshot = snapshot->get<std::int64_t>();
  } else if (verb == "attach" || verb == "detach") {
    return failure(
        Error::invalid_argument("attach and detach are the VM's actions: POST /v1/vms/{id}/actions "
                                "{\"action\": \"disk_attach\", \"volume\": \"NAME\"}"));
  } else {
    return failure(Error::invalid_argument("unknown volume action '" + verb.substr(0, 64) +
                                           "' (extend, resize, snapshot, delete_snapshot)"));
  }
  if (verb != "extend" && verb != "resize" && body->contains("size_mib")) {
    return failure(Error::invalid_argument("'size_mib' is for extend only"));
  }
  if (verb != "delete_snapshot" && body->contains("snapshot")) {
    return failure(Error::invalid_argument("'snapshot' is for delete_snapshot only"));
  }
  Result<store::VolumeRow> v = ctx.engine.volume_action(std::move(request));
  if (!v) return failure(std::move(v.error()));
  return Reply{202, {{"volume", volume_json(ctx, call, *v)}}};
}

HandlerResult delete_volume(Context& ctx, Call& call) {
  auto volume = visible_volume(ctx, call);
  if (!volume) return std::unexpected(std::move(volume.error()));
  Result<store::VolumeRow> v =
      ctx.engine.volume_action({engine::VolumeVerb::kDelete, std::to_string(volume->id), 0, 0});
  if (!v) return failure(std::move(v.error()));
  return Reply{202, {{"volume", volume_json(ctx, call, *v)}}};
}

}  // namespace corral::api::internal
