// Nova's flavors over Corral's sizes: Corral VMs take vCPUs and memory directly, so the
// flavors are a fixed table (DevStack's names and sizes), and a VM shows the flavor of its
// size, or a "custom" one named by its size when none matches.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace corral::compat::openstack {

struct Flavor {
  std::string_view id;  // Nova's flavor ids are strings
  std::string_view name;
  int vcpus;
  int memory_mib;
  int disk_gib;
};

std::span<const Flavor> flavors();
// By id or name (novaclient asks GET /flavors/{name} first, then lists).
std::optional<Flavor> find_flavor(std::string_view id_or_name);
// The size a "custom-<vcpus>-<mib>" id names (a VM's whose size is no flavor's).
std::optional<std::pair<int, int>> custom_size(std::string_view id);
// The flavor of a VM of this size; its id and name are "custom-<vcpus>-<mib>" when none fits.
Flavor flavor_of(int vcpus, int memory_mib, std::string& custom_storage);

// A flavorRef (a string, or the integer older clients send) and the size it names: a flavor
// of the table or a "custom-<vcpus>-<mib>" one; no size when it names neither.
struct FlavorRef {
  std::string text;
  std::optional<std::pair<int, int>> size;
};
FlavorRef flavor_ref_of(const nlohmann::json* ref);

}  // namespace corral::compat::openstack
