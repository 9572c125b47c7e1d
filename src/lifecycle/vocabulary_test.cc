// Each vocabulary's verbs mean what they mean in their own system.
#include "lifecycle/vocabulary.h"

#include <gtest/gtest.h>

#include "lifecycle/views.h"

namespace corral::lifecycle {
namespace {

using S = State;
using A = Action;
using V = Vocabulary;

VmRecord running() {
  VmRecord r = record_at_rest(S::kRunning);
  return r;
}

struct VerbCase {
  Vocabulary vocabulary;
  const char* verb;
  const char* variant;
  State from;
  Action expected;
};

class VerbMeaningTest : public ::testing::TestWithParam<VerbCase> {};

TEST_P(VerbMeaningTest, MapsToTheCanonicalAction) {
  const VerbCase& c = GetParam();
  const Result<Action> a = resolve(record_at_rest(c.from), c.vocabulary, c.verb, c.variant);
  ASSERT_TRUE(a.has_value()) << vocabulary_name(c.vocabulary) << " " << c.verb << ": "
                             << a.error().message;
  EXPECT_EQ(*a, c.expected) << vocabulary_name(c.vocabulary) << " " << c.verb << " from "
                            << state_name(c.from) << " gave " << action_name(*a);
}

INSTANTIATE_TEST_SUITE_P(
    Table, VerbMeaningTest,
    ::testing::Values(
        // "stop" is the word the canonical model avoids: it means two different things.
        VerbCase{V::kNova, "stop", "", S::kRunning, A::kShutdown},
        VerbCase{V::kOpenNebula, "stop", "", S::kRunning, A::kHibernate},
        VerbCase{V::kNova, "stop", "", S::kFailed, A::kShutdownHard},
        VerbCase{V::kOpenNebula, "poweroff", "", S::kRunning, A::kShutdown},
        VerbCase{V::kOpenNebula, "poweroff-hard", "", S::kRunning, A::kShutdownHard},
        VerbCase{V::kOpenNebula, "undeploy", "", S::kRunning, A::kDeallocate},
        VerbCase{V::kOpenNebula, "undeploy-hard", "", S::kRunning, A::kDeallocateHard},
        VerbCase{V::kOpenNebula, "terminate", "", S::kRunning, A::kTerminate},
        VerbCase{V::kOpenNebula, "terminate-hard", "", S::kRunning, A::kTerminateHard},
        VerbCase{V::kOpenNebula, "resume", "", S::kSuspended, A::kResume},
        VerbCase{V::kOpenNebula, "resume", "", S::kPoweroff, A::kStart},
        VerbCase{V::kOpenNebula, "resume", "", S::kHibernated, A::kResume},
        VerbCase{V::kOpenNebula, "resume", "", S::kDeallocated, A::kStart},
        VerbCase{V::kOpenNebula, "resume", "", S::kUnknown, A::kStart},
        VerbCase{V::kOpenNebula, "deploy", "", S::kPending, A::kDeploy},
        VerbCase{V::kOpenNebula, "hold", "", S::kPending, A::kHold},
        VerbCase{V::kOpenNebula, "release", "", S::kHold, A::kRelease},
        VerbCase{V::kOpenNebula, "suspend", "", S::kRunning, A::kSuspend},
        VerbCase{V::kOpenNebula, "reboot", "", S::kRunning, A::kReboot},
        VerbCase{V::kOpenNebula, "reboot-hard", "", S::kRunning, A::kRebootHard},
        VerbCase{V::kOpenNebula, "migrate", "", S::kRunning, A::kMigrate},
        VerbCase{V::kOpenNebula, "migrate-live", "", S::kRunning, A::kLiveMigrate},
        VerbCase{V::kOpenNebula, "resched", "", S::kRunning, A::kResched},
        VerbCase{V::kOpenNebula, "unresched", "", S::kRunning, A::kUnresched},
        VerbCase{V::kOpenNebula, "recover", "retry", S::kFailed, A::kRecoverRetry},
        VerbCase{V::kOpenNebula, "recover", "success", S::kFailed, A::kRecoverSuccess},
        VerbCase{V::kOpenNebula, "recover", "failure", S::kFailed, A::kRecoverFailure},
        VerbCase{V::kOpenNebula, "recover", "delete", S::kFailed, A::kRecoverDelete},
        VerbCase{V::kOpenNebula, "recover", "recreate", S::kFailed, A::kRecoverRecreate},
        VerbCase{V::kNova, "reboot", "", S::kRunning, A::kReboot},
        VerbCase{V::kNova, "reboot", "HARD", S::kRunning, A::kRebootHard},
        VerbCase{V::kNova, "reboot", "hard", S::kPoweroff, A::kRebootHard},
        VerbCase{V::kNova, "shelve", "", S::kRunning, A::kShelveOffload},
        VerbCase{V::kNova, "shelve", "false", S::kRunning, A::kShelve},
        VerbCase{V::kNova, "unshelve", "", S::kDeallocated, A::kStart},
        VerbCase{V::kNova, "unshelve", "", S::kHibernated, A::kResume},
        VerbCase{V::kNova, "resize", "", S::kRunning, A::kResizeMigrate},
        VerbCase{V::kNova, "delete", "", S::kRunning, A::kTerminateHard},
        VerbCase{V::kNova, "create", "", S::kPending, A::kDeploy},
        VerbCase{V::kAzure, "start", "", S::kPoweroff, A::kStart},
        VerbCase{V::kAzure, "start", "", S::kDeallocated, A::kStart},
        VerbCase{V::kAzure, "powerOff", "", S::kRunning, A::kShutdown},
        VerbCase{V::kAzure, "powerOff", "true", S::kRunning, A::kShutdownHard},
        VerbCase{V::kAzure, "restart", "", S::kRunning, A::kReboot},
        VerbCase{V::kAzure, "deallocate", "", S::kRunning, A::kDeallocate},
        VerbCase{V::kAzure, "deallocate", "", S::kPoweroff, A::kDeallocate},
        VerbCase{V::kAzure, "delete", "", S::kPoweroff, A::kTerminateHard},
        VerbCase{V::kStratusLab, "kill", "", S::kRunning, A::kTerminateHard},
        VerbCase{V::kStratusLab, "kill", "", S::kPoweroff, A::kTerminateHard},
        VerbCase{V::kCorral, "shutdown_hard", "", S::kRunning, A::kShutdownHard}));

TEST(VocabularyTest, TheIssuesVerbListsExist) {
  const std::vector<std::pair<Vocabulary, std::vector<std::string_view>>> expected = {
      {V::kNova,
       {"create",
        "delete",
        "soft_delete",
        "restore",
        "pause",
        "unpause",
        "suspend",
        "resume",
        "start",
        "stop",
        "rescue",
        "unrescue",
        "resize",
        "confirm_resize",
        "revert_resize",
        "snapshot",
        "backup",
        "rebuild",
        "set_admin_password",
        "reboot",
        "live_migrate",
        "shelve",
        "shelve_offload",
        "unshelve"}},
      {V::kOpenNebula,
       {"deploy", "hold", "release", "stop", "suspend", "resume", "poweroff", "poweroff-hard",
        "undeploy", "undeploy-hard", "terminate", "terminate-hard", "reboot", "reboot-hard",
        "migrate", "migrate-live", "resched", "unresched", "recover"}},
      {V::kAzure, {"start", "powerOff", "restart", "deallocate", "delete"}},
      {V::kStratusLab, {"run", "kill"}},
  };
  for (const auto& [vocabulary, list] : expected) {
    const std::vector<std::string_view> have = verbs(vocabulary);
    for (std::string_view verb : list) {
      EXPECT_NE(std::find(have.begin(), have.end(), verb), have.end())
          << vocabulary_name(vocabulary) << " lacks " << verb;
    }
  }
}

TEST(VocabularyTest, WrongStateErrorSpeaksTheVocabulary) {
  const VmRecord off = record_at_rest(S::kPoweroff);
  const Result<Action> nova = resolve(off, V::kNova, "pause");
  ASSERT_FALSE(nova.has_value());
  EXPECT_EQ(nova.error().code, ErrorCode::kInvalidState);
  EXPECT_EQ(nova.error().state, "stopped");
  const auto& allowed = nova.error().allowed_actions;
  EXPECT_NE(std::find(allowed.begin(), allowed.end(), "start"), allowed.end());
  EXPECT_EQ(std::find(allowed.begin(), allowed.end(), "pause"), allowed.end());

  const Result<Action> one = resolve(off, V::kOpenNebula, "suspend");
  ASSERT_FALSE(one.has_value());
  EXPECT_EQ(one.error().state, "POWEROFF (poff)");
  EXPECT_NE(
      std::find(one.error().allowed_actions.begin(), one.error().allowed_actions.end(), "resume"),
      one.error().allowed_actions.end());

  const Result<Action> azure = resolve(off, V::kAzure, "restart");
  ASSERT_FALSE(azure.has_value());
  EXPECT_EQ(azure.error().state, "Succeeded, stopped");

  const Result<Action> sl = resolve(record_at_rest(S::kDone), V::kStratusLab, "kill");
  ASSERT_FALSE(sl.has_value());
  EXPECT_EQ(sl.error().state, "Done");
  EXPECT_TRUE(sl.error().allowed_actions.empty());
}

TEST(VocabularyTest, UnknownVerbAndVariantAreRefusedClearly) {
  const Result<Action> verb = resolve(running(), V::kNova, "explode");
  ASSERT_FALSE(verb.has_value());
  EXPECT_EQ(verb.error().code, ErrorCode::kUnknownAction);
  EXPECT_NE(verb.error().message.find("explode"), std::string::npos);
  const Result<Action> variant = resolve(running(), V::kNova, "reboot", "GENTLE");
  ASSERT_FALSE(variant.has_value());
  EXPECT_EQ(variant.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(variant.error().message.find("type"), std::string::npos);
  EXPECT_FALSE(resolve(running(), V::kCorral, "observed_lost").has_value())
      << "system actions are not user verbs";
}

// opennebula.md:24: terminate takes a VM in INIT or CLONING (create running) to DONE directly.
TEST(VocabularyTest, OpenNebulaTerminatesAVmBeingCreated) {
  const VmRecord creating = new_record();
  ASSERT_TRUE(creating.busy());
  EXPECT_EQ(resolve(creating, V::kOpenNebula, "terminate"), A::kTerminateHard);
  EXPECT_EQ(resolve(creating, V::kOpenNebula, "terminate-hard"), A::kTerminateHard);
  const std::vector<std::string> allowed = allowed_verbs(creating, V::kOpenNebula);
  EXPECT_NE(std::find(allowed.begin(), allowed.end(), "terminate"), allowed.end());
  // Elsewhere in flight (a deploy's prolog) it is still refused.
  const VmRecord deploying = begin(record_at_rest(S::kPending), {A::kDeploy})->record;
  EXPECT_FALSE(resolve(deploying, V::kOpenNebula, "terminate").has_value());
}

// opennebula.md:33: disk-snapshot-revert is for a POWEROFF VM only.
TEST(VocabularyTest, OpenNebulaRevertsDiskSnapshotsOnlyPoweredOff) {
  EXPECT_EQ(resolve(record_at_rest(S::kPoweroff), V::kOpenNebula, "disk-snapshot-revert"),
            A::kDiskSnapshotRevert);
  EXPECT_FALSE(
      resolve(record_at_rest(S::kSuspended), V::kOpenNebula, "disk-snapshot-revert").has_value());
  // The canonical action itself is still allowed there.
  EXPECT_TRUE(allowed(record_at_rest(S::kSuspended), A::kDiskSnapshotRevert));
}

TEST(VocabularyTest, PreemptionFollowsEachSystemsRules) {
  VmRecord shutting = begin(running(), {A::kShutdown})->record;
  // OpenNebula: poweroff --hard overrides a hung ACPI shutdown (issue #2586).
  EXPECT_EQ(resolve(shutting, V::kOpenNebula, "poweroff-hard"), A::kShutdownHard);
  // Nova: only delete may pre-empt a task.
  EXPECT_EQ(resolve(shutting, V::kNova, "delete"), A::kTerminateHard);
  EXPECT_FALSE(resolve(shutting, V::kNova, "reboot", "HARD").has_value());
  VmRecord deploying = begin(record_at_rest(S::kPending), {A::kDeploy})->record;
  // OpenNebula rejects terminate in a transient state other than SHUTDOWN...
  EXPECT_FALSE(resolve(deploying, V::kOpenNebula, "terminate-hard").has_value());
  // ... but recover --delete works anywhere, and StratusLab kill forcibly removes.
  EXPECT_EQ(resolve(deploying, V::kOpenNebula, "recover", "delete"), A::kRecoverDelete);
  EXPECT_EQ(resolve(deploying, V::kStratusLab, "kill"), A::kTerminateHard);
  VmRecord terminating = begin(running(), {A::kTerminate})->record;
  EXPECT_EQ(resolve(terminating, V::kOpenNebula, "terminate-hard"), A::kTerminateHard);
}

// Live at rest in a state of its `from`, or during a running operation of its `during`.
TEST(VocabularyTest, EveryRuleIsLiveSomewhere) {
  for (Vocabulary v : kAllVocabularies) {
    for (const VerbRule& r : verb_rules(v)) {
      bool live = false;
      for (State s : kAllStates) {
        if (r.from.contains(s) && (s == S::kInit || allowed(record_at_rest(s), r.action))) {
          live = true;
        }
        for (Action running : kAllActions) {
          if (live || !r.during.contains(running) || is_system_action(running)) continue;
          VmRecord busy;  // idle: not busy
          if (running == A::kCreate && s == S::kInit) {
            busy = new_record();
          } else if (const Result<Step> started = begin(record_at_rest(s), {running}); started) {
            busy = started->record;
          }
          if (busy.busy() && allowed(busy, r.action)) live = true;
        }
      }
      EXPECT_TRUE(live) << vocabulary_name(v) << " " << r.verb << " (" << r.variant << ") maps to "
                        << action_name(r.action) << " where the table allows it nowhere";
    }
  }
}

}  // namespace
}  // namespace corral::lifecycle
