// MemoryStore: a store::Store in memory for engine tests. It keeps what was committed,
// checks that transition ids follow on, and can be told to fail the next commit.
#pragma once

#include <algorithm>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "store/store.h"

namespace corral::engine::testing {

class MemoryStore final : public store::Store {
 public:
  Result<store::Loaded> load() override {
    std::lock_guard lock(mu_);
    store::Loaded out;
    for (const auto& [id, vm] : vms_) out.vms.push_back(vm);
    out.max_vm_id = vms_.empty() ? 0 : vms_.rbegin()->first;
    out.max_op_id = ops_.empty() ? 0 : ops_.rbegin()->first;
    out.max_transition_id = static_cast<std::int64_t>(transitions_.size());
    for (const auto& [id, group] : groups_) out.groups.push_back(group);
    for (const auto& [id, network] : networks_) out.networks.push_back(network);
    for (const auto& [id, volume] : volumes_) out.volumes.push_back(volume);
    for (const auto& [id, group] : security_groups_) out.security_groups.push_back(group);
    for (const auto& [id, group] : resource_groups_) out.resource_groups.push_back(group);
    std::map<store::VmId, store::MigrationRow> last_migration;
    for (const auto& [id, m] : migrations_) last_migration[m.vm_id] = m;  // ids ascend
    for (const auto& [vm, m] : last_migration) out.last_migrations.push_back(m);
    out.max_migration_id = migrations_.empty() ? 0 : migrations_.rbegin()->first;
    std::map<store::VmId, store::HostStayRow> last_stay;
    for (const auto& [key, s] : stays_) last_stay[key.first] = s;  // seqs ascend
    for (const auto& [vm, s] : last_stay) out.last_stays.push_back(s);
    out.max_audit_outbox_id = max_audit_outbox_id_;
    return out;
  }
  Status commit(const store::Batch& batch) override {
    std::lock_guard lock(mu_);
    if (fail_next_) {
      fail_next_ = false;
      return fail(Error{ErrorCode::kUnavailable, "disk full (test)", {}, {}});
    }
    ++commits_;
    for (const store::Vm* vm : batch.vms) vms_[vm->id] = *vm;
    for (const store::OperationRow& op : batch.operations) ops_[op.meta.id] = op;
    for (const store::TransitionRow& t : batch.transitions) {
      if (t.id != static_cast<std::int64_t>(transitions_.size()) + 1) {
        return fail(Error::internal("transition ids must follow on: got " + std::to_string(t.id)));
      }
      transitions_.push_back(t);
    }
    for (const std::string& name : batch.deleted_hosts) hosts_.erase(name);
    for (const store::HostRow& host : batch.hosts) hosts_[host.name] = host;
    for (store::GroupId id : batch.deleted_groups) groups_.erase(id);
    for (const store::ServerGroupRow& group : batch.groups) groups_[group.id] = group;
    for (store::NetworkId id : batch.deleted_networks) networks_.erase(id);
    for (const store::NetworkRow& network : batch.networks) networks_[network.id] = network;
    for (store::VolumeId id : batch.deleted_volumes) volumes_.erase(id);
    for (const store::VolumeRow& volume : batch.volumes) volumes_[volume.id] = volume;
    for (store::SecurityGroupId id : batch.deleted_security_groups) security_groups_.erase(id);
    for (store::ResourceGroupId id : batch.deleted_resource_groups) resource_groups_.erase(id);
    for (const store::ResourceGroupRow& group : batch.resource_groups) {
      resource_groups_[group.id] = group;
    }
    for (const store::SecurityGroupRow& group : batch.security_groups) {
      security_groups_[group.id] = group;
    }
    for (const store::MigrationRow& m : batch.migrations) migrations_[m.id] = m;
    for (const store::HostStayRow& s : batch.stays) stays_[{s.vm_id, s.seq}] = s;
    for (const store::AuditOutboxRow& row : batch.audit_outbox) {
      audit_outbox_[row.id] = row;
      max_audit_outbox_id_ = std::max(max_audit_outbox_id_, row.id);
    }
    std::erase_if(audit_outbox_,
                  [&](const auto& entry) { return entry.first <= batch.audit_outbox_done; });
    return {};
  }
  Result<std::vector<store::TransitionRow>> history(store::VmId vm, std::int64_t after,
                                                    int limit) override {
    std::lock_guard lock(mu_);
    std::vector<store::TransitionRow> out;
    for (const auto& t : transitions_) {
      if (t.vm_id == vm && t.id > after && static_cast<int>(out.size()) < limit) out.push_back(t);
    }
    return out;
  }
  Result<std::optional<store::OperationRow>> operation(store::OpId id) override {
    std::lock_guard lock(mu_);
    if (auto it = ops_.find(id); it != ops_.end()) return std::optional(it->second);
    return std::optional<store::OperationRow>();
  }
  Result<std::vector<store::MigrationRow>> migrations(store::VmId vm) override {
    std::lock_guard lock(mu_);
    std::vector<store::MigrationRow> out;
    for (const auto& [id, m] : migrations_) {
      if (m.vm_id == vm) out.push_back(m);
    }
    return out;
  }
  Result<std::vector<store::MigrationRow>> recent_migrations(std::int64_t before_id,
                                                             int limit) override {
    std::lock_guard lock(mu_);
    std::vector<store::MigrationRow> out;
    for (auto it = migrations_.rbegin(); it != migrations_.rend(); ++it) {
      if (static_cast<int>(out.size()) >= limit) break;
      if (it->first < before_id) out.push_back(it->second);
    }
    return out;
  }
  Result<std::vector<store::HostStayRow>> stays(store::VmId vm) override {
    std::lock_guard lock(mu_);
    std::vector<store::HostStayRow> out;
    for (const auto& [key, s] : stays_) {
      if (key.first == vm) out.push_back(s);
    }
    return out;
  }
  Result<std::int64_t> count_transitions() override {
    std::lock_guard lock(mu_);
    return static_cast<std::int64_t>(transitions_.size());
  }
  Result<std::vector<store::HostRow>> load_hosts() override {
    std::lock_guard lock(mu_);
    std::vector<store::HostRow> out;
    for (const auto& [name, host] : hosts_) out.push_back(host);
    std::ranges::sort(out, {}, &store::HostRow::id);
    return out;
  }
  Result<std::vector<store::AuditOutboxRow>> audit_outbox(std::int64_t after) override {
    std::lock_guard lock(mu_);
    std::vector<store::AuditOutboxRow> out;
    for (auto it = audit_outbox_.upper_bound(after); it != audit_outbox_.end(); ++it) {
      out.push_back(it->second);
    }
    return out;
  }
  Result<std::string> integrity_check() override { return std::string("ok"); }

  void fail_next_commit() {
    std::lock_guard lock(mu_);
    fail_next_ = true;
  }
  int commits() {
    std::lock_guard lock(mu_);
    return commits_;
  }

 private:
  std::mutex mu_;
  std::map<store::VmId, store::Vm> vms_;
  std::map<store::OpId, store::OperationRow> ops_;
  std::vector<store::TransitionRow> transitions_;
  std::map<std::string, store::HostRow> hosts_;
  std::map<store::GroupId, store::ServerGroupRow> groups_;
  std::map<store::NetworkId, store::NetworkRow> networks_;
  std::map<store::VolumeId, store::VolumeRow> volumes_;
  std::map<store::SecurityGroupId, store::SecurityGroupRow> security_groups_;
  std::map<store::ResourceGroupId, store::ResourceGroupRow> resource_groups_;
  std::map<std::int64_t, store::MigrationRow> migrations_;
  std::map<std::pair<store::VmId, std::int64_t>, store::HostStayRow> stays_;
  std::map<std::int64_t, store::AuditOutboxRow> audit_outbox_;
  std::int64_t max_audit_outbox_id_ = 0;
  bool fail_next_ = false;
  int commits_ = 0;
};

}  // namespace corral::engine::testing
