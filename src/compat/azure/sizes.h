// Azure's words for a VM's model: sizes (hardwareProfile.vmSize) and image references
// (storageProfile.imageReference). Pure functions; the size table is data.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace corral::compat::azure {

struct Model {
  int vcpus = 0;
  int memory_mib = 0;
};

// The Azure size with exactly this model, else Corral's own name for it,
// "Corral_<vcpus>vCPU_<memory>MiB" (Corral's guests are often smaller than any Azure size).
std::string size_name(int vcpus, int memory_mib);
// A size name (either kind, any case) as a model; nullopt if it is neither.
std::optional<Model> parse_size(const std::string& name);

// An image name as imageReference: "Publisher:Offer:Sku:Version" split (a URN kept as the
// image name), otherwise the cloud's own image, {"publisher": "Corral", "offer": "Images",
// "sku": <image>, "version": "latest"}.
nlohmann::json image_reference(const std::string& image);
// The inverse: Corral's image for an imageReference (the sku of a Corral one, the URN of any
// other, the last segment of an image id); nullopt if it names none.
std::optional<std::string> image_of(const nlohmann::json& reference);

}  // namespace corral::compat::azure
