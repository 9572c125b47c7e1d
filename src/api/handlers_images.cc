// Images: GET /v1/images, and the check that a VM names one (create, rebuild).
#include <optional>
#include <string>
#include <vector>

#include "api/handlers.h"

namespace corral::api::internal {

using nlohmann::json;

// A driver with real images refuses a name it does not have, before anything is recorded.
// The VM is not placed yet: the local host's images stand for all (one host serves them today).
std::optional<Error> unknown_image(Context& ctx, const std::string& name) {
  const std::vector<driver::ImageInfo> images = ctx.hosts.local().images();
  if (images.empty()) return std::nullopt;
  std::string names;
  for (const driver::ImageInfo& image : images) {
    if (image.name == name) return std::nullopt;
    names += (names.empty() ? "" : ", ") + image.name;
  }
  return Error::invalid_argument("no image named '" + name + "' (images: " + names + ")");
}

HandlerResult list_images(Context& ctx, Call& /*call*/) {
  json images = json::array();
  const driver::HostServices& local = ctx.hosts.local();
  for (const driver::ImageInfo& image : local.images()) {
    images.push_back({{"name", image.name}, {"kind", image.kind}, {"path", image.path}});
  }
  return Reply{200, {{"driver", local.driver_name()}, {"images", std::move(images)}}};
}

}  // namespace corral::api::internal
