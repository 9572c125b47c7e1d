// The Azure Resource Manager API over Corral (issue 17): an ADFS-style token endpoint on
// Corral's users, subscriptions (Corral projects), resource groups and
// Microsoft.Compute/virtualMachines on the 2020-09-01-hybrid profile's API versions, enough
// for Debian's `az` 2.45 (docs/azure.md lists what is covered). A front end beside the v1 API
// (api/front_end.h): every request becomes v1 calls made in-process with the caller's token,
// so the engine's state machine, the policy table, quotas and the audit log are the ones v1
// requests meet; this layer translates words and shapes only.
//
// Contract:
// - A service principal is a Corral user: POST /adfs/oauth2/token with client_id "USER" (its
//   default project) or "USER@PROJECT" and client_secret its password gives a Corral token
//   scoped to that project, which is the one subscription it sees.
// - A subscription id is the project's id as a GUID (subscription_id()); any other, or
//   another project's, is 404 SubscriptionNotFound.
// - VM bodies and instance views come from the v1 VM's Azure view (seed 000's statuses,
//   ProvisioningState first, PowerState second), never computed here.
// - Long-running operations are Corral's operations: 202 with Azure-AsyncOperation and
//   Location pointing at .../locations/{loc}/operations/{op id}, polled as on Azure.
// - Errors are ARM's: {"error": {"code", "message"}} with ARM's codes (ResourceNotFound,
//   ResourceGroupNotFound, OperationNotAllowed, Conflict, ...); another project's VM is 404.
#pragma once

#include <cstdint>
#include <expected>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "api/front_end.h"

namespace corral::compat::azure {

namespace internal {
// The deployments made since the server started (name -> the VM each made), which ARM's
// GET on a deployment reads; not durable: the VMs are, and a deployment is only their recipe.
class Deployments {
 public:
  void put(const std::string& key, std::int64_t vm) {
    std::lock_guard lock(mu_);
    made_[key] = vm;
  }
  std::optional<std::int64_t> get(const std::string& key) const {
    std::lock_guard lock(mu_);
    const auto it = made_.find(key);
    if (it == made_.end()) return std::nullopt;
    return it->second;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::int64_t> made_;
};
}  // namespace internal

class AzureFrontEnd final : public api::FrontEnd {
 public:
  std::vector<std::string> prefixes() const override;
  api::FrontReply handle(const api::FrontRequest& request, api::ApiCaller& api) override;

 private:
  internal::Deployments deployments_;
};

// The tenant every subscription reports (the Corral cloud).
inline constexpr const char* kTenantId = "00000000-0000-0000-0000-000000000000";

// A project's subscription id: "00000000-0000-0000-0000-" and its id in 12 decimal digits.
std::string subscription_id(std::int64_t project);
// The project a subscription id names (any case), or nullopt.
std::optional<std::int64_t> project_of_subscription(const std::string& id);

namespace internal {

using nlohmann::json;

api::FrontReply arm_reply(int status, const json& body);
// ARM's error body, {"error": {"code", "message"}}.
api::FrontReply arm_error(int status, const std::string& code, const std::string& message);
// A v1 failure in ARM's words. `verb` (ARM's action name) and `vm` make a refused action
// ARM's OperationNotAllowed (Conflict when `running`, the VM's running operation, is given)
// and a missing VM ResourceNotFound.
api::FrontReply from_v1_error(const api::InnerReply& reply, const std::string& verb = "",
                              const std::string& vm = "", const std::string& group = "",
                              const std::string& running = "");
// Case-insensitive ASCII equality (ARM's path words and names are case-insensitive).
bool iequals(const std::string& a, const std::string& b);
// The path's segments after `prefix`, empty ones dropped.
std::vector<std::string> segments_after(const std::string& path, const std::string& prefix);
// One query parameter's value (the first), if given.
std::optional<std::string> query_value(const api::FrontRequest& request, const std::string& key);
// The bearer token of the request's Authorization header ("" if none).
std::string bearer_token(const api::FrontRequest& request);

// identity.cc: /adfs (OpenID configuration, the client-credentials token), /metadata/endpoints,
// /tenants, and GET /subscriptions[/{id}].
api::FrontReply identity(const api::FrontRequest& request, api::ApiCaller& api);

// The caller's subscription (project id, name), checked against the path's; an ARM error when
// it is not theirs.
struct Caller {
  std::string token;
  std::int64_t project = 0;
  std::string project_name;
  std::string subscription;  // the path's subscription id, as the caller's
};
std::optional<api::FrontReply> check_caller(const api::FrontRequest& request, api::ApiCaller& api,
                                            const std::string& subscription, Caller& caller);
json subscription_json(std::int64_t project, const std::string& name);

// resource_groups.cc: {s}/resourcegroups[/{rg}]. `rest` is the path after the subscription.
api::FrontReply resource_groups(const api::FrontRequest& request, api::ApiCaller& api,
                                const Caller& caller, const std::vector<std::string>& rest);
// GET {s}/operationresults/{token}: a group delete's progress (202 while the group is there,
// 200 once it is gone).
api::FrontReply operation_result(api::ApiCaller& api, const Caller& caller,
                                 const std::string& token);
// A resource group (name as stored, location), by name in the caller's project; "default"
// is the group of the project's VMs made without one (it always exists).
struct Group {
  std::int64_t id = 0;  // 0: the default group
  std::string name;
  std::string location;
};
std::optional<Group> find_group(api::ApiCaller& api, const Caller& caller, const std::string& name);
// Every group of the caller's project by id (0: the default group).
std::vector<Group> all_groups(api::ApiCaller& api, const Caller& caller);
// GET {s}/locations: the cloud's own ("local") and every location a group of the caller's
// was made in (a location is a label here: Corral runs in one place).
api::FrontReply locations(api::ApiCaller& api, const Caller& caller);
inline constexpr const char* kDefaultGroup = "default";
inline constexpr const char* kDefaultLocation = "local";

// virtual_machines.cc: Microsoft.Compute under the subscription or a group (`group`: empty
// for the subscription's list), and the operations' status.
api::FrontReply compute(const api::FrontRequest& request, api::ApiCaller& api, const Caller& caller,
                        const std::optional<Group>& group, const std::vector<std::string>& rest);

// network.cc: Microsoft.Network under a group (read-only): network interfaces, virtual
// networks, public IP addresses (a VM's first NIC's address, "vm<id>-ip": Corral has no NAT,
// and that address is what StratusLab calls the VM's public IP) and security groups. nic_id is
// a NIC's ARM id ("vm<id>-nic<index>" as Corral's Azure view names it).
api::FrontReply network(const api::FrontRequest& request, api::ApiCaller& api, const Caller& caller,
                        const Group& group, const std::vector<std::string>& rest);
std::string nic_id(const Caller& caller, const Group& group, const std::string& name);
// A VM's NIC's ARM name: "vm<vm>-nic<index>", as Corral's Azure view names it.
std::string nic_name(std::int64_t vm, int index);

// security_groups.cc: networkSecurityGroups[/{name}] (read) as the project's security groups.
api::FrontReply security_groups(api::ApiCaller& api, const Caller& caller, const Group& group,
                                const std::vector<std::string>& rest);
std::string nsg_id(const Caller& caller, const Group& group, const std::string& name);
// An NSG resource's rules as Corral's rules (v1's own vocabulary): Azure's default rules (all
// outbound, inbound from the virtual network) and each Allow rule; why not, for a Deny rule, a
// protocol or an address prefix Corral cannot express.
std::expected<json, std::string> nsg_rules(const json& nsg);
// Makes (or, if the project has it, replaces the rules of) the security group an NSG resource
// describes; its Corral name (the NSG's, lower-cased), or the ARM error.
std::expected<std::string, api::FrontReply> put_nsg(api::ApiCaller& api, const Caller& caller,
                                                    const json& nsg);

// virtual_machines.cc: makes the VM an ARM body's `properties` describe, on `networks`
// (Corral network names) with the NICs in `security_groups` (none: the project's default);
// the v1 create's reply (202), or the ARM error.
std::expected<api::InnerReply, api::FrontReply> make_vm(
    api::ApiCaller& api, const Caller& caller, const Group& group, const std::string& name,
    const json& properties, const std::vector<std::string>& networks,
    const std::vector<std::string>& security_groups = {});

// deployments.cc: Microsoft.Resources/deployments, the template `az vm create` PUTs.
class Deployments;
api::FrontReply deployments(const api::FrontRequest& request, api::ApiCaller& api,
                            const Caller& caller, const Group& group,
                            const std::vector<std::string>& rest, Deployments& registry);

// "https://host:port" + "/subscriptions/{s}" ...
std::string resource_id_prefix(const Caller& caller);

}  // namespace internal
}  // namespace corral::compat::azure
