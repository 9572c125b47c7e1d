#include "lifecycle/quota_table.h"

namespace corral::lifecycle {

bool quota_resource_known(QuotaResource resource) {
  switch (resource) {
    case QuotaResource::kVms:
    case QuotaResource::kVcpus:
    case QuotaResource::kMemoryMib:
    case QuotaResource::kRunningVms:
    case QuotaResource::kRunningVcpus:
    case QuotaResource::kRunningMemoryMib:
    case QuotaResource::kAddresses:
    case QuotaResource::kVolumes:
    case QuotaResource::kVolumeMib:
    case QuotaResource::kServerGroups:
    case QuotaResource::kServerGroupMembers:
      return true;
  }
  return false;
}

const QuotaResourceRow& quota_resource(QuotaResource resource) {
  return kQuotaResources[quota_index(resource)];
}

std::optional<QuotaResource> parse_quota_resource(std::string_view name) {
  for (const QuotaResourceRow& row : kQuotaResources) {
    if (row.name == name) return row.resource;
  }
  return std::nullopt;
}

QuotaLimits default_quota_limits() {
  QuotaLimits limits{};
  for (const QuotaResourceRow& row : kQuotaResources) {
    limits[quota_index(row.resource)] = row.default_limit;
  }
  return limits;
}

}  // namespace corral::lifecycle
