// Images: GET /v1/images[?host=NAME], and the check that a VM names one (create, rebuild);
// GET /v1/monitoring, what the hosts measure of their VMs.
#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "api/handlers.h"
#include "api/policy.h"

namespace corral::api::internal {

using nlohmann::json;

namespace {

json images_json(const std::vector<driver::ImageInfo>& list) {
  json images = json::array();
  for (const driver::ImageInfo& image : list) {
    json one = {{"name", image.name}, {"kind", image.kind}};
    if (!image.path.empty()) one["path"] = image.path;  // an agent's paths are its own
    images.push_back(std::move(one));
  }
  return images;
}

}  // namespace

HandlerResult vm_usage(Context& ctx, Call& call) {
  json vms = json::array();
  for (const driver::VmUsage& u : ctx.engine.vm_usage()) {
    const std::optional<store::Vm> vm = ctx.engine.get(u.vm);
    if (!vm || !can_see(call.who(), vm->project)) continue;
    vms.push_back({{"vm", u.vm}, {"cpu_percent", std::round(u.cpu_percent * 10) / 10}});
  }
  return Reply{200, {{"vms", std::move(vms)}}};
}

// A driver with real images refuses a name it does not have, before anything is recorded.
// A placed VM (rebuild) asks its host; a VM not placed yet (create) is accepted when any host
// has the image (this process's driver, or an agent host as it last reported) or takes any
// name (an empty list: the sim). Placement does not look at images: a host chosen without
// the image fails the boot phase with its driver's message.
std::optional<Error> unknown_image(Context& ctx, const std::string& name, const std::string& host) {
  std::vector<std::vector<driver::ImageInfo>> lists;
  if (!host.empty()) {
    lists.push_back(ctx.hosts.services_for(host).images());
  } else {
    lists.push_back(ctx.hosts.local().images());
    if (driver::RemoteHostServicesSource* remote = ctx.hosts.remote()) {
      for (driver::RemoteHostServicesSource::HostImages& known : remote->host_images()) {
        lists.push_back(std::move(known.images));
      }
    }
  }
  std::vector<std::string> names;
  for (const std::vector<driver::ImageInfo>& images : lists) {
    if (images.empty()) return std::nullopt;
    for (const driver::ImageInfo& image : images) {
      if (image.name == name) return std::nullopt;
      if (std::find(names.begin(), names.end(), image.name) == names.end()) {
        names.push_back(image.name);
      }
    }
  }
  std::string listed;
  for (const std::string& n : names) listed += (listed.empty() ? "" : ", ") + n;
  return Error::invalid_argument("no image named '" + name + "'" +
                                 (host.empty() ? "" : " on host " + host) + " (images: " + listed +
                                 ")");
}

// Without ?host: this process's driver, as before agents (compatible). ?host=NAME: that
// host's, an agent host's as its agent last reported them (`connected` says whether it is
// connected now); 404 for a host nobody knows images of.
HandlerResult list_images(Context& ctx, Call& call) {
  if (!call.req.has_param("host")) {
    const driver::HostServices& local = ctx.hosts.local();
    return Reply{200, {{"driver", local.driver_name()}, {"images", images_json(local.images())}}};
  }
  const std::string host = call.req.get_param_value("host");
  if (driver::RemoteHostServicesSource* remote = ctx.hosts.remote()) {
    for (const driver::RemoteHostServicesSource::HostImages& known : remote->host_images()) {
      if (known.host != host) continue;
      return Reply{200,
                   {{"host", host},
                    {"driver", known.driver},
                    {"connected", known.connected},
                    {"images", images_json(known.images)}}};
    }
  }
  const driver::HostServices& services = ctx.hosts.services_for(host);
  if (services.agent_host() || !ctx.engine.host(host)) {
    return failure(Error::not_found("no images known of host '" + host +
                                    "' (not a host, or its agent never connected)"));
  }
  return Reply{200,
               {{"host", host},
                {"driver", services.driver_name()},
                {"connected", true},
                {"images", images_json(services.images())}}};
}

}  // namespace corral::api::internal
