#include "store/sqlite_resources.h"

#include <fmt/format.h>

#include <utility>

#include "store/sqlite_rows.h"

namespace corral::store::sqlite {
namespace {

struct Sql {
  std::string upsert_network = insert_sql(network_codec());
  std::string load_networks =
      "SELECT " + column_list(network_codec()) + " FROM networks ORDER BY id";
  std::string upsert_volume = insert_sql(volume_codec());
  std::string load_volumes = "SELECT " + column_list(volume_codec()) + " FROM volumes ORDER BY id";
  std::string upsert_security_group = insert_sql(security_group_codec());
  std::string load_security_groups =
      "SELECT " + column_list(security_group_codec()) + " FROM security_groups ORDER BY id";
  std::string upsert_resource_group = insert_sql(resource_group_codec());
  std::string load_resource_groups =
      "SELECT " + column_list(resource_group_codec()) + " FROM resource_groups ORDER BY id";
};
const Sql& sql() {
  static const Sql built;
  return built;
}

}  // namespace

Status ResourceSql::prepare(sqlite3* writer) {
  const std::pair<Stmt*, const char*> statements[] = {
      {&upsert_network_, sql().upsert_network.c_str()},
      {&delete_network_, "DELETE FROM networks WHERE id = ?1"},
      {&load_networks_, sql().load_networks.c_str()},
      {&upsert_volume_, sql().upsert_volume.c_str()},
      {&delete_volume_, "DELETE FROM volumes WHERE id = ?1"},
      {&load_volumes_, sql().load_volumes.c_str()},
      {&upsert_security_group_, sql().upsert_security_group.c_str()},
      {&delete_security_group_, "DELETE FROM security_groups WHERE id = ?1"},
      {&load_security_groups_, sql().load_security_groups.c_str()},
      {&upsert_resource_group_, sql().upsert_resource_group.c_str()},
      {&delete_resource_group_, "DELETE FROM resource_groups WHERE id = ?1"},
      {&load_resource_groups_, sql().load_resource_groups.c_str()},
  };
  for (const auto& [stmt, text] : statements) {
    if (int rc = sqlite::prepare(writer, text, *stmt); rc != SQLITE_OK) {
      return fail(open_error(writer, path_, fmt::format("cannot prepare \"{}\"", text), rc));
    }
  }
  return {};
}

Status ResourceSql::write(sqlite3* writer, const Batch& batch) {
  for (NetworkId id : batch.deleted_networks) {
    StmtUse use(delete_network_);
    use.bind(id);
    if (int rc = use.step(); rc != SQLITE_DONE) {
      return fail(sqlite_error(writer, path_, fmt::format("commit: delete network {}", id), rc));
    }
  }
  for (const NetworkRow& n : batch.networks) {
    StmtUse use(upsert_network_);
    bind_row(use, network_codec(), n);
    if (int rc = use.step(); rc != SQLITE_DONE) {
      return fail(sqlite_error(writer, path_, fmt::format("commit: network {}", n.id), rc));
    }
  }
  for (VolumeId id : batch.deleted_volumes) {
    StmtUse use(delete_volume_);
    use.bind(id);
    if (int rc = use.step(); rc != SQLITE_DONE) {
      return fail(sqlite_error(writer, path_, fmt::format("commit: delete volume {}", id), rc));
    }
  }
  for (const VolumeRow& v : batch.volumes) {
    StmtUse use(upsert_volume_);
    bind_row(use, volume_codec(), v);
    if (int rc = use.step(); rc != SQLITE_DONE) {
      return fail(sqlite_error(writer, path_, fmt::format("commit: volume {}", v.id), rc));
    }
  }
  for (SecurityGroupId id : batch.deleted_security_groups) {
    StmtUse use(delete_security_group_);
    use.bind(id);
    if (int rc = use.step(); rc != SQLITE_DONE) {
      return fail(
          sqlite_error(writer, path_, fmt::format("commit: delete security group {}", id), rc));
    }
  }
  for (const SecurityGroupRow& g : batch.security_groups) {
    StmtUse use(upsert_security_group_);
    bind_row(use, security_group_codec(), g);
    if (int rc = use.step(); rc != SQLITE_DONE) {
      return fail(sqlite_error(writer, path_, fmt::format("commit: security group {}", g.id), rc));
    }
  }
  for (ResourceGroupId id : batch.deleted_resource_groups) {
    StmtUse use(delete_resource_group_);
    use.bind(id);
    if (int rc = use.step(); rc != SQLITE_DONE) {
      return fail(
          sqlite_error(writer, path_, fmt::format("commit: delete resource group {}", id), rc));
    }
  }
  for (const ResourceGroupRow& g : batch.resource_groups) {
    StmtUse use(upsert_resource_group_);
    bind_row(use, resource_group_codec(), g);
    if (int rc = use.step(); rc != SQLITE_DONE) {
      return fail(sqlite_error(writer, path_, fmt::format("commit: resource group {}", g.id), rc));
    }
  }
  return {};
}

Status ResourceSql::load(sqlite3* writer, Loaded& out) {
  StmtUse use(load_networks_);
  int rc = SQLITE_OK;
  while ((rc = use.step()) == SQLITE_ROW) {
    NetworkRow& row = out.networks.emplace_back();
    RowReader r(use.get());
    read_row(r, network_codec(), row);
    if (r.problem()) {
      return fail(Error::internal(
          fmt::format("sqlite store {}: load: network {}: {}", path_, row.id, *r.problem())));
    }
  }
  if (rc != SQLITE_DONE) return fail(sqlite_error(writer, path_, "load: networks", rc));
  StmtUse volumes(load_volumes_);
  while ((rc = volumes.step()) == SQLITE_ROW) {
    VolumeRow& row = out.volumes.emplace_back();
    RowReader r(volumes.get());
    read_row(r, volume_codec(), row);
    if (r.problem()) {
      return fail(Error::internal(
          fmt::format("sqlite store {}: load: volume {}: {}", path_, row.id, *r.problem())));
    }
  }
  if (rc != SQLITE_DONE) return fail(sqlite_error(writer, path_, "load: volumes", rc));
  StmtUse groups(load_security_groups_);
  while ((rc = groups.step()) == SQLITE_ROW) {
    SecurityGroupRow& row = out.security_groups.emplace_back();
    RowReader r(groups.get());
    read_row(r, security_group_codec(), row);
    if (r.problem()) {
      return fail(Error::internal(fmt::format("sqlite store {}: load: security group {}: {}", path_,
                                              row.id, *r.problem())));
    }
  }
  if (rc != SQLITE_DONE) return fail(sqlite_error(writer, path_, "load: security groups", rc));
  StmtUse resource_groups(load_resource_groups_);
  while ((rc = resource_groups.step()) == SQLITE_ROW) {
    ResourceGroupRow& row = out.resource_groups.emplace_back();
    RowReader r(resource_groups.get());
    read_row(r, resource_group_codec(), row);
    if (r.problem()) {
      return fail(Error::internal(fmt::format("sqlite store {}: load: resource group {}: {}", path_,
                                              row.id, *r.problem())));
    }
  }
  if (rc != SQLITE_DONE) return fail(sqlite_error(writer, path_, "load: resource groups", rc));
  return {};
}

}  // namespace corral::store::sqlite
