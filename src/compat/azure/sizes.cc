#include "compat/azure/sizes.h"

#include <charconv>
#include <string_view>

#include "compat/azure/front.h"

namespace corral::compat::azure {

namespace {

struct Size {
  std::string_view name;
  int vcpus;
  int memory_mib;
};

// Azure's general-purpose sizes of up to 4 vCPUs (learn.microsoft.com, "Sizes for virtual
// machines in Azure"), the ones az's defaults and examples name.
constexpr Size kSizes[] = {
    {"Standard_B1ls", 1, 512},    {"Standard_B1s", 1, 1024},    {"Standard_B1ms", 1, 2048},
    {"Standard_B2s", 2, 4096},    {"Standard_B2ms", 2, 8192},   {"Standard_B4ms", 4, 16384},
    {"Standard_A1_v2", 1, 2048},  {"Standard_A2_v2", 2, 4096},  {"Standard_DS1_v2", 1, 3584},
    {"Standard_DS2_v2", 2, 7168}, {"Standard_D2s_v3", 2, 8192}, {"Standard_D4s_v3", 4, 16384},
};

constexpr std::string_view kCorralPrefix = "Corral_";

std::optional<int> number(std::string_view text) {
  int value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value <= 0) return std::nullopt;
  return value;
}

}  // namespace

std::string size_name(int vcpus, int memory_mib) {
  for (const Size& s : kSizes) {
    if (s.vcpus == vcpus && s.memory_mib == memory_mib) return std::string(s.name);
  }
  return std::string(kCorralPrefix) + std::to_string(vcpus) + "vCPU_" + std::to_string(memory_mib) +
         "MiB";
}

std::optional<Model> parse_size(const std::string& name) {
  for (const Size& s : kSizes) {
    if (internal::iequals(std::string(s.name), name)) return Model{s.vcpus, s.memory_mib};
  }
  if (name.size() <= kCorralPrefix.size() ||
      !internal::iequals(name.substr(0, kCorralPrefix.size()), std::string(kCorralPrefix))) {
    return std::nullopt;
  }
  const std::string rest = name.substr(kCorralPrefix.size());  // "2vCPU_512MiB"
  const std::size_t cpu = rest.find("vCPU_");
  if (cpu == std::string::npos || !rest.ends_with("MiB")) return std::nullopt;
  const std::optional<int> vcpus = number(std::string_view(rest).substr(0, cpu));
  const std::optional<int> memory =
      number(std::string_view(rest).substr(cpu + 5, rest.size() - cpu - 5 - 3));
  if (!vcpus || !memory) return std::nullopt;
  return Model{*vcpus, *memory};
}

nlohmann::json image_reference(const std::string& image) {
  std::vector<std::string> parts;
  std::size_t at = 0;
  for (;;) {
    const std::size_t colon = image.find(':', at);
    parts.push_back(image.substr(at, colon == std::string::npos ? colon : colon - at));
    if (colon == std::string::npos) break;
    at = colon + 1;
  }
  if (parts.size() == 4) {
    return {{"publisher", parts[0]}, {"offer", parts[1]}, {"sku", parts[2]}, {"version", parts[3]}};
  }
  return {{"publisher", "Corral"}, {"offer", "Images"}, {"sku", image}, {"version", "latest"}};
}

std::optional<std::string> image_of(const nlohmann::json& reference) {
  if (!reference.is_object()) return std::nullopt;
  if (reference.contains("id") && reference["id"].is_string()) {
    const std::string id = reference["id"].get<std::string>();
    const std::size_t slash = id.rfind('/');
    const std::string last = slash == std::string::npos ? id : id.substr(slash + 1);
    if (last.empty()) return std::nullopt;
    return last;
  }
  const auto text = [&](const char* key) {
    return reference.contains(key) && reference[key].is_string() ? reference[key].get<std::string>()
                                                                 : std::string();
  };
  const std::string publisher = text("publisher");
  const std::string offer = text("offer");
  const std::string sku = text("sku");
  const std::string version = text("version").empty() ? std::string("latest") : text("version");
  if (sku.empty()) return std::nullopt;
  if (internal::iequals(publisher, "Corral")) return sku;
  if (publisher.empty() || offer.empty()) return std::nullopt;
  return publisher + ":" + offer + ":" + sku + ":" + version;
}

}  // namespace corral::compat::azure
