#include "support/recipes.h"

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <thread>
#include <tuple>

#include "engine/history_replay_testing.h"
#include "lifecycle/export.h"
#include "lifecycle/table.h"

namespace corral::testing {

namespace lc = corral::lifecycle;
using lc::Action;
using lc::State;

namespace {

ApiResult to_result(const httplib::Result& r) {
  ApiResult out;
  if (!r) return out;
  out.status = r->status;
  out.body = nlohmann::json::parse(r->body, nullptr, false);
  return out;
}

}  // namespace

ApiResult Api::get(const std::string& path) { return to_result(client_->Get(path.c_str())); }

ApiResult Api::post(const std::string& path, const nlohmann::json& body) {
  return to_result(client_->Post(path.c_str(), body.dump(), "application/json"));
}

ApiResult Api::del(const std::string& path) { return to_result(client_->Delete(path.c_str())); }

ApiResult Api::put(const std::string& path, const nlohmann::json& body) {
  return to_result(client_->Put(path.c_str(), body.dump(), "application/json"));
}

nlohmann::json Api::wait_idle(std::int64_t id, int timeout_ms) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < until) {
    ApiResult r = get("/v1/vms/" + std::to_string(id));
    if (r.status == 200) {
      const nlohmann::json& op = r.body["operation"];
      if (op.is_null() || op["status"] != "running") return r.body;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ADD_FAILURE() << "VM " << id << " still busy after " << timeout_ms
                << " ms: " << get("/v1/vms/" + std::to_string(id)).body.dump();
  return nullptr;
}

ServerProcess* SharedServerSuite::server_ = nullptr;

void SharedServerSuite::SetUpTestSuite() {
  server_ = new ServerProcess({"--sim-profile", "zero", "--no-schedule", "--sim-hosts", "64"});
  ASSERT_TRUE(server_->start()) << server_->log();
}

void SharedServerSuite::TearDownTestSuite() {
  delete server_;
  server_ = nullptr;
}

std::string attached_volume(std::int64_t vm) { return "a-" + std::to_string(vm); }
std::string free_volume(std::int64_t vm) { return "f-" + std::to_string(vm); }

nlohmann::json default_params(Action action, std::int64_t vm) {
  switch (action) {
    case Action::kResize:
    case Action::kResizeMigrate:
      return {{"vcpus", 2}, {"memory_mib", 256}};
    case Action::kRebuild:
      return {{"image", "tiny"}};
    case Action::kSnapshot:
      return {{"name", "snap-1"}};
    case Action::kBackup:
      return {{"name", "backup-1"}, {"backup_type", "daily"}, {"rotation", 2}};
    case Action::kSetAdminPassword:
      return {{"password", "s3cret"}};
    case Action::kResetState:
      return {{"state", "RUNNING"}};
    // bring_to() gives every VM a NIC (index 0) on the network "net".
    case Action::kNicAttach:
      return {{"network", "net"}};
    case Action::kNicDetach:
      return {{"nic", 0}};
    // bring_to() gives every VM it leaves RUNNING or POWEROFF one volume attached and one free.
    case Action::kDiskAttach:
      return {{"volume", free_volume(vm)}};
    case Action::kDiskDetach:
      return {{"volume", attached_volume(vm)}};
    default:
      return nlohmann::json::object();
  }
}

void mirror_run(lc::VmRecord& record, Action action) {
  Result<lc::Step> step = lc::begin(record, {action, State::kRunning});
  ASSERT_TRUE(step.has_value()) << lc::action_name(action) << ": " << step.error().message;
  record = step->record;
  for (int i = 0; record.busy() && i < 10; ++i) record = lc::phase_succeeded(record).record;
}

namespace {

bool act(Api& api, Subject& s, Action action) {
  nlohmann::json body = default_params(action, s.id);
  body["action"] = lc::action_name(action);
  const ApiResult r = api.post("/v1/vms/" + std::to_string(s.id) + "/actions", body);
  EXPECT_EQ(r.status, 202) << lc::action_name(action) << " on VM " << s.id << ": " << r.body.dump();
  if (r.status != 202) return false;
  mirror_run(s.mirror, action);
  const nlohmann::json vm = api.wait_idle(s.id);
  if (!vm.is_object()) return false;  // wait_idle failed the test
  EXPECT_EQ(vm["state"], lc::state_name(s.mirror.state)) << lc::action_name(action);
  return vm["state"] == lc::state_name(s.mirror.state);
}

// Creates a 1 MiB volume and waits until it is available.
bool make_volume(Api& api, const std::string& name) {
  const ApiResult made = api.post("/v1/volumes", {{"name", name}, {"size_mib", 1}});
  EXPECT_EQ(made.status, 201) << made.body.dump();
  for (int i = 0; made.status == 201 && i < 2000; ++i) {
    if (volume_status(api, name) == "available") return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ADD_FAILURE() << "volume " << name
                << " never available: " << api.get("/v1/volumes/" + name).body.dump();
  return false;
}

// bring_to's volumes, with the attach run on the mirror too.
bool give_subject_volumes(Api& api, Subject& s) {
  if (!give_volumes(api, s.id)) return false;
  mirror_run(s.mirror, Action::kDiskAttach);
  return api.get("/v1/vms/" + std::to_string(s.id)).body["state"] == lc::state_name(s.mirror.state);
}

}  // namespace

bool give_volumes(Api& api, std::int64_t vm) {
  if (!make_volume(api, attached_volume(vm)) || !make_volume(api, free_volume(vm))) return false;
  const ApiResult r = api.post("/v1/vms/" + std::to_string(vm) + "/actions",
                               {{"action", "disk_attach"}, {"volume", attached_volume(vm)}});
  EXPECT_EQ(r.status, 202) << r.body.dump();
  if (r.status != 202) return false;
  const nlohmann::json done = api.wait_idle(vm);
  return done.is_object() && done["operation"]["status"] == "succeeded" &&
         volume_status(api, attached_volume(vm)) == "in-use";
}

std::string volume_status(Api& api, const std::string& name) {
  const ApiResult v = api.get("/v1/volumes/" + name);
  if (v.status != 200) return "absent";
  return v.body["volume"].value("status", "");
}

bool ensure_test_network(Api& api) {
  const ApiResult made = api.post("/v1/networks", {{"name", "net"}, {"cidr", "10.64.0.0/16"}});
  EXPECT_TRUE(made.status == 201 || made.status == 409) << made.body.dump();
  for (int i = 0; i < 2000; ++i) {
    const ApiResult net = api.get("/v1/networks/net");
    if (net.status == 200 && net.body["network"]["state"] == "READY") return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ADD_FAILURE() << "network net never READY: " << api.get("/v1/networks/net").body.dump();
  return false;
}

std::optional<Subject> bring_to(Api& api, State state) {
  if (!ensure_test_network(api)) return std::nullopt;
  const ApiResult created =
      api.post("/v1/vms", {{"name", "t-" + std::string(lc::state_name(state))},
                           {"image", "tiny"},
                           {"vcpus", 1},
                           {"memory_mib", 128},
                           {"hold", state == State::kHold},
                           {"networks", {"net"}}});
  EXPECT_EQ(created.status, 202) << created.body.dump();
  if (created.status != 202) return std::nullopt;
  Subject s{created.body["vm"]["id"].get<std::int64_t>(), lc::new_record()};
  for (int i = 0; s.mirror.busy() && i < 10; ++i) s.mirror = lc::phase_succeeded(s.mirror).record;
  if (state == State::kHold) s.mirror = lc::begin(s.mirror, {Action::kHold})->record;
  const nlohmann::json vm = api.wait_idle(s.id);
  if (!vm.is_object() || vm["state"] != lc::state_name(s.mirror.state)) {
    ADD_FAILURE() << "created VM is " << vm.dump();
    return std::nullopt;
  }
  if (state == State::kPending || state == State::kHold) return s;
  if (state == State::kFailed) {
    const ApiResult fault = api.post(
        "/v1/admin/faults",
        {{"kind", "fail"}, {"action", "deploy"}, {"phase", "boot"}, {"vm", s.id}, {"times", 1}});
    EXPECT_EQ(fault.status, 201) << fault.body.dump();
    const ApiResult r =
        api.post("/v1/vms/" + std::to_string(s.id) + "/actions", {{"action", "deploy"}});
    EXPECT_EQ(r.status, 202) << r.body.dump();
    s.mirror = lc::begin(s.mirror, {Action::kDeploy})->record;
    s.mirror = lc::phase_succeeded(s.mirror).record;
    s.mirror = lc::phase_failed(s.mirror).record;
    const nlohmann::json failed = api.wait_idle(s.id);
    if (!failed.is_object()) return std::nullopt;
    EXPECT_EQ(failed["state"], "FAILED") << failed.dump();
    return failed["state"] == "FAILED" ? std::optional(s) : std::nullopt;
  }
  if (!act(api, s, Action::kDeploy)) return std::nullopt;
  if ((state == State::kRunning || state == State::kPoweroff) && !give_subject_volumes(api, s)) {
    ADD_FAILURE() << "cannot give VM " << s.id << " its volumes";
    return std::nullopt;
  }
  Action last = Action::kDeploy;
  switch (state) {
    case State::kRunning:
      return s;
    case State::kPaused:
      last = Action::kPause;
      break;
    case State::kSuspended:
      last = Action::kSuspend;
      break;
    case State::kPoweroff:
      last = Action::kShutdown;
      break;
    case State::kHibernated:
      last = Action::kHibernate;
      break;
    case State::kDeallocated:
      last = Action::kDeallocate;
      break;
    case State::kShelved:
      last = Action::kShelve;
      break;
    case State::kRescued:
      last = Action::kRescue;
      break;
    case State::kResized:
      last = Action::kResizeMigrate;
      break;
    case State::kSoftDeleted:
      last = Action::kSoftDelete;
      break;
    case State::kUnknown: {
      const ApiResult r =
          api.post("/v1/admin/vms/" + std::to_string(s.id) + "/external", {{"event", "lost"}});
      EXPECT_EQ(r.status, 202) << r.body.dump();
      s.mirror = lc::begin(s.mirror, {Action::kObservedLost})->record;
      for (int i = 0; i < 200; ++i) {
        if (api.get("/v1/vms/" + std::to_string(s.id)).body["state"] == "UNKNOWN") return s;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      ADD_FAILURE() << "VM never became UNKNOWN";
      return std::nullopt;
    }
    case State::kInit:
    case State::kPending:
    case State::kHold:
    case State::kFailed:
    case State::kDone:
      ADD_FAILURE() << "no recipe for " << lc::state_name(state);
      return std::nullopt;
  }
  if (!act(api, s, last)) return std::nullopt;
  return s;
}

lc::VmRecord record_from_json(const nlohmann::json& vm) {
  lc::VmRecord r;
  r.state = lc::parse_state(vm["state"].get<std::string>()).value_or(State::kInit);
  for (lc::Power p : {lc::Power::kNoState, lc::Power::kRunning, lc::Power::kPaused,
                      lc::Power::kShutdown, lc::Power::kCrashed, lc::Power::kSuspended}) {
    if (vm["power"] == lc::power_name(p)) r.power = p;
  }
  r.resched = vm.value("resched", false);
  const nlohmann::json& op = vm["operation"];
  if (op.is_null()) return r;
  lc::Operation o;
  o.action = lc::parse_action(op["action"].get<std::string>()).value_or(Action::kCreate);
  o.origin = lc::parse_state(op["origin"].get<std::string>()).value_or(State::kInit);
  for (lc::OpStatus st : {lc::OpStatus::kRunning, lc::OpStatus::kSucceeded, lc::OpStatus::kFailed,
                          lc::OpStatus::kCanceled}) {
    if (op["status"] == lc::op_status_name(st)) o.status = st;
  }
  for (lc::OpStatus st : {lc::OpStatus::kFailed, lc::OpStatus::kCanceled}) {
    if (op.value("undoing", nlohmann::json()) == lc::op_status_name(st)) o.undoing = st;
  }
  // The step is the index of the named phase in the operation's row (idle or pre-empting), or
  // in its undo phases while undoing.
  for (bool during : {false, true}) {
    const lc::Transition* t =
        during ? lc::find_replacing(o.action, o.origin) : lc::find_idle(o.action, o.origin);
    if (t == nullptr) continue;
    const std::span<const lc::PhaseStep> steps = o.undoing ? t->undo() : t->phases();
    for (std::uint8_t i = 0; i < steps.size(); ++i) {
      if (op["phase"] == lc::phase_name(steps[i].phase)) {
        o.step = i;
        o.during = during;
        r.op = o;
        return r;
      }
    }
  }
  r.op = o;
  return r;
}

nlohmann::json comparable_views(const nlohmann::json& views) {
  nlohmann::json out = views;
  for (nlohmann::json& status : out["azure"]["statuses"]) status.erase("time");
  // What each view says of the VM's NICs and volumes comes from them, not from the record
  // (api/vm_links.h; VmWriterTest checks it): the record's part is compared.
  const std::pair<const char*, std::vector<const char*>> kLinkMembers[] = {
      {"opennebula", {"NIC", "DISK"}},
      {"nova", {"addresses", "os-extended-volumes:volumes_attached"}},
      {"azure", {"networkProfile", "storageProfile", "privateIps", "macAddresses"}},
      {"stratuslab", {"ip"}}};
  for (const auto& [view, members] : kLinkMembers) {
    if (!out.contains(view)) continue;
    for (const char* m : members) out[view].erase(m);
  }
  return out;
}

nlohmann::json full_history(Api& api, std::int64_t vm) {
  nlohmann::json out = nlohmann::json::array();
  std::int64_t after = 0;
  for (;;) {
    const ApiResult r = api.get("/v1/vms/" + std::to_string(vm) +
                                "/history?limit=1000&after=" + std::to_string(after));
    if (r.status != 200) {
      ADD_FAILURE() << "history of VM " << vm << ": " << r.status << " " << r.body.dump();
      return out;
    }
    const nlohmann::json& page = r.body["transitions"];
    for (const nlohmann::json& t : page) out.push_back(t);
    if (page.size() < 1000) return out;
    after = page.back()["id"].get<std::int64_t>();
  }
}

namespace {

template <typename T, std::size_t N>
T parse_named(const nlohmann::json& value, const std::array<T, N>& all, std::string_view (*name)(T),
              T fallback) {
  for (T v : all) {
    if (value.is_string() && value.get<std::string>() == name(v)) return v;
  }
  ADD_FAILURE() << "unknown name in history: " << value.dump();
  return fallback;
}

}  // namespace

std::vector<store::TransitionRow> history_rows(const nlohmann::json& transitions) {
  static constexpr std::array kStatuses = {lc::OpStatus::kRunning, lc::OpStatus::kSucceeded,
                                           lc::OpStatus::kFailed, lc::OpStatus::kCanceled};
  std::vector<store::TransitionRow> rows;
  for (const nlohmann::json& t : transitions) {
    store::TransitionRow row;
    row.id = t.value("id", std::int64_t{0});
    row.from = parse_named(t["from"], lc::kAllStates, lc::state_name, State::kInit);
    row.to = parse_named(t["to"], lc::kAllStates, lc::state_name, State::kInit);
    row.action = parse_named(t["action"], lc::kAllActions, lc::action_name, Action::kCreate);
    row.phase = t["phase"].is_null()
                    ? lc::Phase::kNone
                    : parse_named(t["phase"], lc::kAllPhases, lc::phase_name, lc::Phase::kNone);
    row.status = parse_named(t["status"], kStatuses, lc::op_status_name, lc::OpStatus::kRunning);
    row.actor = t["actor"].is_string() ? t["actor"].get<std::string>() : std::string();
    row.request_id = t["request_id"].is_string() ? t["request_id"].get<std::string>() : "";
    row.reason = t["reason"].is_string() ? t["reason"].get<std::string>() : "";
    rows.push_back(std::move(row));
  }
  return rows;
}

std::size_t expect_history_replays(Api& api, std::int64_t vm) {
  return expect_history_replays(api, vm, full_history(api, vm));
}

std::size_t expect_history_replays(Api& api, std::int64_t vm, const nlohmann::json& history) {
  const std::vector<store::TransitionRow> rows = history_rows(history);
  const engine::testing::Replay replay = engine::testing::replay_history(rows);
  if (!replay.ok()) {
    ADD_FAILURE() << "VM " << vm << ": " << replay.error;
    return 0;
  }
  const ApiResult now = api.get("/v1/vms/" + std::to_string(vm));
  if (now.status != 200) {
    ADD_FAILURE() << "VM " << vm << ": " << now.status << " " << now.body.dump();
    return 0;
  }
  // What the VM's JSON shows of its record (its operation's `during` is not shown).
  const lc::VmRecord actual = record_from_json(now.body);
  const auto shown = [](const lc::VmRecord& r) {
    return r.op ? std::tuple(r.state, r.resched, true, r.op->action, r.op->origin, r.op->status,
                             lc::current_phase(*r.op))
                : std::tuple(r.state, r.resched, false, Action::kCreate, State::kInit,
                             lc::OpStatus::kRunning, lc::Phase::kNone);
  };
  bool reachable = false;
  for (const lc::VmRecord& end : replay.ends) reachable = reachable || shown(end) == shown(actual);
  if (!reachable) {
    ADD_FAILURE() << "VM " << vm << " is " << engine::testing::describe_record(actual)
                  << ", which its history does not lead to: " << now.body.dump();
    return 0;
  }
  return replay.steps;
}

}  // namespace corral::testing
