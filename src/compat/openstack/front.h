// The OpenStack API over Corral (issue 15): Keystone v3 (/identity), Nova's compute API v2.1
// (/compute) and Glance v2's image list (/image), enough for the real `openstack` client and
// openstacksdk (docs/openstack.md lists what is covered). A front end beside the v1 API
// (api/front_end.h): every request becomes v1 calls made in-process with the caller's token,
// so the engine's state machine, the policy table, quotas and the audit log are the ones v1
// requests meet; this layer only translates words and shapes.
//
// Contract:
// - Keystone's tokens are Corral's tokens (POST /identity/v3/auth/tokens logs in through
//   POST /v1/auth/tokens); a compute request carries one in X-Auth-Token.
// - Server bodies come from the v1 VM's Nova view (status, OS-EXT-STS:*), never computed here.
// - Errors are Nova's shapes: {"itemNotFound"|"conflictingRequest"|"badRequest"|"forbidden":
//   {"code", "message"}}; a wrong-state action is 409 "Cannot '<action>' instance <id> while
//   it is in vm_state <state>"; another project's server is 404.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "api/front_end.h"

namespace corral::compat::openstack {

class OpenStackFrontEnd final : public api::FrontEnd {
 public:
  std::vector<std::string> prefixes() const override;
  api::FrontReply handle(const api::FrontRequest& request, api::ApiCaller& api) override;
};

namespace internal {
api::FrontReply identity(const api::FrontRequest& request, api::ApiCaller& api);
api::FrontReply compute(const api::FrontRequest& request, api::ApiCaller& api);
api::FrontReply image(const api::FrontRequest& request, api::ApiCaller& api);

// Shared by the three.
api::FrontReply json_reply(int status, const nlohmann::json& body);
// The path's segments after `prefix`, empty ones dropped ("/compute/v2.1/servers/" ->
// {"v2.1", "servers"}).
std::vector<std::string> segments_after(const std::string& path, const std::string& prefix);
// Nova's error body: {"itemNotFound"|"badRequest"|...: {"code", "message"}}.
api::FrontReply nova_error(int status, const std::string& message);
// The message of a v1 failure ("error" without one).
std::string v1_message(const api::InnerReply& reply);
// A v1 failure as Nova says it; `action` (Nova's key) and `server` make a wrong state Nova's
// sentence and a missing server Nova's "Instance N could not be found.".
api::FrontReply from_v1_error(const api::InnerReply& reply, const std::string& action = "",
                              const std::string& server = "");
// One query parameter's value (the first), if given.
std::optional<std::string> query_value(const api::FrontRequest& request, const std::string& key);
// Nova's `limit`: `fallback` when absent, nullopt when it is not a non-negative integer.
std::optional<long> query_limit(const api::FrontRequest& request, long fallback);

// compute_reports.cc: what Nova reports beside servers.
api::FrontReply instance_actions(const api::FrontRequest& request, api::ApiCaller& api,
                                 const std::string& token, const std::string& server,
                                 const std::string& request_id);
api::FrontReply tenant_usage(const api::FrontRequest& request, api::ApiCaller& api,
                             const std::string& token, const std::vector<std::string>& rest);
api::FrontReply quota_sets(const api::FrontRequest& request, api::ApiCaller& api,
                           const std::string& token, const std::vector<std::string>& rest);
api::FrontReply limits(const api::FrontRequest& request, api::ApiCaller& api,
                       const std::string& token);

// compute_actions.cc: POST /servers/{id}/action.
api::FrontReply server_action(const api::FrontRequest& request, api::ApiCaller& api,
                              const std::string& token, const std::string& server);

// compute_hosts.cc: os-services and os-hypervisors (`what`) from the hosts, and the moves.
api::FrontReply hosts_route(const api::FrontRequest& request, api::ApiCaller& api,
                            const std::string& token, const std::string& what,
                            const std::vector<std::string>& rest);
api::FrontReply migrations_route(const api::FrontRequest& request, api::ApiCaller& api,
                                 const std::string& token);
api::FrontReply server_migrations(const api::FrontRequest& request, api::ApiCaller& api,
                                  const std::string& token, const std::string& server,
                                  const std::string& migration);

// compute_attachments.cc: a server's os-volume_attachments and os-interface (`item`: the
// volume or port the path names, or empty).
api::FrontReply volume_attachments(const api::FrontRequest& request, api::ApiCaller& api,
                                   const std::string& token, const std::string& server,
                                   const std::string& item);
api::FrontReply interfaces(const api::FrontRequest& request, api::ApiCaller& api,
                           const std::string& token, const std::string& server,
                           const std::string& item);
// Nova's os-networks proxy (what the openstack client reads without a network endpoint to
// resolve `--nic net-id=NAME`): the caller's networks by id and label.
api::FrontReply networks_route(const api::FrontRequest& request, api::ApiCaller& api,
                               const std::string& token, const std::string& network);

// A Corral time ("2026-12-06T20:51:02.123Z") as OpenStack writes it ("2026-12-06T20:51:02Z").
std::string openstack_time(const nlohmann::json& corral_time);
}  // namespace internal

}  // namespace corral::compat::openstack
