#include "compat/openstack/flavors.h"

#include <cstdint>
#include <cstdio>

namespace corral::compat::openstack {

namespace {
// DevStack's flavors (devstack lib/nova), small ones first: TCG guests here are 128-256 MiB.
constexpr Flavor kFlavors[] = {
    {"42", "m1.nano", 1, 128, 1},      {"84", "m1.micro", 1, 192, 1},
    {"1", "m1.tiny", 1, 512, 1},       {"2", "m1.small", 1, 2048, 20},
    {"3", "m1.medium", 2, 4096, 40},   {"4", "m1.large", 4, 8192, 80},
    {"5", "m1.xlarge", 8, 16384, 160}, {"c1", "cirros256", 1, 256, 1},
};
}  // namespace

std::span<const Flavor> flavors() { return kFlavors; }

std::optional<Flavor> find_flavor(std::string_view id_or_name) {
  for (const Flavor& f : kFlavors) {
    if (f.id == id_or_name) return f;
  }
  for (const Flavor& f : kFlavors) {
    if (f.name == id_or_name) return f;
  }
  return std::nullopt;
}

std::optional<std::pair<int, int>> custom_size(std::string_view id) {
  int vcpus = 0;
  int memory_mib = 0;
  char tail = 0;
  const std::string text(id);
  if (std::sscanf(text.c_str(), "custom-%d-%d%c", &vcpus, &memory_mib, &tail) != 2 || vcpus <= 0 ||
      memory_mib <= 0) {
    return std::nullopt;
  }
  return std::pair{vcpus, memory_mib};
}

Flavor flavor_of(int vcpus, int memory_mib, std::string& custom_storage) {
  for (const Flavor& f : kFlavors) {
    if (f.vcpus == vcpus && f.memory_mib == memory_mib) return f;
  }
  custom_storage = "custom-" + std::to_string(vcpus) + "-" + std::to_string(memory_mib);
  return {custom_storage, custom_storage, vcpus, memory_mib, 0};
}

FlavorRef flavor_ref_of(const nlohmann::json* ref) {
  FlavorRef out;
  if (ref != nullptr && ref->is_string()) out.text = ref->get<std::string>();
  if (ref != nullptr && ref->is_number_integer())
    out.text = std::to_string(ref->get<std::int64_t>());
  if (const std::optional<Flavor> flavor = find_flavor(out.text)) {
    out.size = std::pair{flavor->vcpus, flavor->memory_mib};
  } else {
    out.size = custom_size(out.text);
  }
  return out;
}

}  // namespace corral::compat::openstack
