// How to bring a fresh VM into a given state through the API, step by step, while the same
// steps run on a lifecycle::VmRecord: the "mirror" predicts what the server must show.
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "lifecycle/model.h"
#include "lifecycle/vocabulary.h"
#include "store/types.h"
#include "support/server_process.h"

namespace corral::testing {

struct ApiResult {
  int status = 0;
  nlohmann::json body;
};

class Api {
 public:
  explicit Api(const ServerProcess& server) : client_(server.client()) {}
  ApiResult get(const std::string& path);
  ApiResult post(const std::string& path, const nlohmann::json& body);
  ApiResult del(const std::string& path);
  ApiResult put(const std::string& path, const nlohmann::json& body);
  // Waits until the VM has no running operation; returns its JSON (null on timeout).
  nlohmann::json wait_idle(std::int64_t id, int timeout_ms = 10'000);

 private:
  std::unique_ptr<httplib::Client> client_;
};

// A test suite sharing one server started with --sim-profile zero --no-schedule (so VMs stay
// PENDING until a test deploys them) and room for many VMs.
class SharedServerSuite : public ::testing::Test {
 protected:
  static void SetUpTestSuite();
  static void TearDownTestSuite();
  static ServerProcess* server_;
};

// Parameters a canonical action needs (resize: a new size, rebuild: an image ...); disk_attach
// and disk_detach name VM `vm`'s free and attached volumes (bring_to makes them).
nlohmann::json default_params(lifecycle::Action action, std::int64_t vm = 0);
std::string attached_volume(std::int64_t vm);  // "a-<vm>"
std::string free_volume(std::int64_t vm);      // "f-<vm>"
// Creates VM `vm`'s volumes attached_volume(vm) and free_volume(vm) (1 MiB each) and attaches
// the first (disk_attach, waited for); false and a test failure if that does not work.
bool give_volumes(Api& api, std::int64_t vm);
// A volume's Cinder status ("available", "in-use" ...); "absent" when there is none.
std::string volume_status(Api& api, const std::string& name);

// A VM on the server and its mirror in the library.
struct Subject {
  std::int64_t id = 0;
  lifecycle::VmRecord mirror;
};

// Creates (once) the network "net", 10.64.0.0/16, and waits until it is READY.
bool ensure_test_network(Api& api);

// Creates a VM (server started with --no-schedule) with a NIC on "net" and drives it to
// `state` (a VM left RUNNING or POWEROFF has the volume attached_volume(id) attached and
// free_volume(id) available, both 1 MiB); nullopt and a test failure if that does not work.
// Supports every state but INIT and DONE.
std::optional<Subject> bring_to(Api& api, lifecycle::State state);

// Runs `action` to the end on the mirror (every phase succeeds).
void mirror_run(lifecycle::VmRecord& record, lifecycle::Action action);

// The lifecycle record the server's VM JSON describes (to re-render its views).
lifecycle::VmRecord record_from_json(const nlohmann::json& vm);

// A VM JSON's views with the volatile "time" fields removed.
nlohmann::json comparable_views(const nlohmann::json& views);

// A VM's whole history, every page of GET /v1/vms/{id}/history.
nlohmann::json full_history(Api& api, std::int64_t vm);

// History entries (the API's JSON) as the store rows they were written from, for the replay.
std::vector<store::TransitionRow> history_rows(const nlohmann::json& transitions);

// Replays the VM's whole history through the model, entry by entry (see
// engine/history_replay_testing.h), and checks the model can end where the VM is now. A test
// failure names the first entry the model cannot produce. Returns the entries replayed.
std::size_t expect_history_replays(Api& api, std::int64_t vm);
// The same with the history already read (full_history).
std::size_t expect_history_replays(Api& api, std::int64_t vm, const nlohmann::json& history);

}  // namespace corral::testing
