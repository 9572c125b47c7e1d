// AgentConsole over a scripted driver with a console: each request gets one ConsoleReply with
// its request_id, errors name the host, one attachment per VM, output and its end reach the
// outbox, detach_all() ends every attachment.
#include "agent/console.h"

#include <gtest/gtest.h>

#include <vector>

#include "agent/state.h"
#include "common/clock.h"

namespace corral::agent {
namespace {

// A driver whose VM 5 has a console (log "boot ok\n"); others have none.
class ConsoleDriver final : public driver::Driver {
 public:
  std::string name() const override { return "scripted"; }
  std::vector<driver::HostInfo> hosts() const override { return {}; }
  void start(driver::DriverSink* /*sink*/) override {}
  void stop() override {}
  void run_phase(const driver::PhaseRequest& /*request*/) override {}
  Result<std::string> console_log(store::VmId vm, std::size_t max_bytes) const override {
    if (vm != 5) return fail(Error::not_found("no VM " + std::to_string(vm)));
    return std::string("boot ok\n").substr(0, max_bytes);
  }
  Result<int> attach_console(store::VmId vm, driver::ConsoleOutput output) override {
    if (vm != 5) return fail(Error::not_found("no VM " + std::to_string(vm)));
    outputs.push_back(std::move(output));
    return static_cast<int>(outputs.size());
  }
  void detach_console(store::VmId /*vm*/, int handle) override { detached.push_back(handle); }
  Status write_console(store::VmId vm, std::string bytes) override {
    if (vm != 5) return fail(Error::not_found("no VM " + std::to_string(vm)));
    typed += bytes;
    return {};
  }
  std::vector<driver::ImageInfo> images() const override { return image_list; }
  std::vector<driver::ImageInfo> image_list;
  std::vector<driver::ConsoleOutput> outputs;
  std::vector<int> detached;
  std::string typed;
};

v1::ControllerMessage log_request(std::uint64_t id, std::int64_t vm, std::uint64_t max) {
  v1::ControllerMessage m;
  m.mutable_console_log_request()->set_request_id(id);
  m.mutable_console_log_request()->set_vm(vm);
  m.mutable_console_log_request()->set_max_bytes(max);
  return m;
}

v1::ControllerMessage attach(std::uint64_t id, std::int64_t vm) {
  v1::ControllerMessage m;
  m.mutable_console_attach()->set_request_id(id);
  m.mutable_console_attach()->set_vm(vm);
  return m;
}

TEST(AgentConsole, AnswersEachRequestWithItsIdAndNamesTheHostInErrors) {
  ConsoleDriver driver;
  Outbox outbox;
  AgentConsole console(driver, outbox, "h2");
  v1::ControllerMessage input;
  input.mutable_console_input()->set_request_id(14);
  input.mutable_console_input()->set_vm(5);
  input.mutable_console_input()->set_bytes("root\n");
  v1::ControllerMessage ping;
  ping.mutable_ping()->set_seq(1);

  EXPECT_TRUE(console.handle(log_request(11, 5, 4)));
  EXPECT_TRUE(console.handle(log_request(12, 9, 100)));
  EXPECT_TRUE(console.handle(attach(13, 9)));
  EXPECT_TRUE(console.handle(input));
  v1::ControllerMessage event;
  event.mutable_sim_external_event()->set_request_id(15);
  event.mutable_sim_external_event()->set_vm(5);
  event.mutable_sim_external_event()->set_event("paused");
  EXPECT_TRUE(console.handle(event));
  EXPECT_FALSE(console.handle(ping));  // not a console request: left to the session

  const std::vector<v1::AgentMessage> out = outbox.take_all();
  ASSERT_EQ(out.size(), 5U);
  EXPECT_EQ(out[0].console_reply().request_id(), 11U);
  EXPECT_TRUE(out[0].console_reply().ok());
  EXPECT_EQ(out[0].console_reply().log(), "boot");
  EXPECT_EQ(out[1].console_reply().request_id(), 12U);
  EXPECT_FALSE(out[1].console_reply().ok());
  EXPECT_EQ(out[1].console_reply().code(), v1::ConsoleReply::ERROR_CODE_NOT_FOUND);
  EXPECT_EQ(out[1].console_reply().error(), "on host h2: no VM 9");
  EXPECT_EQ(out[2].console_reply().request_id(), 13U);
  EXPECT_FALSE(out[2].console_reply().ok());
  EXPECT_EQ(out[3].console_reply().request_id(), 14U);
  EXPECT_TRUE(out[3].console_reply().ok());
  EXPECT_EQ(driver.typed, "root\n");
  // Not the sim: nothing to inject, said so.
  EXPECT_EQ(out[4].console_reply().request_id(), 15U);
  EXPECT_EQ(out[4].console_reply().code(), v1::ConsoleReply::ERROR_CODE_CONFLICT);
  EXPECT_NE(out[4].console_reply().error().find("on host h2: this agent runs the scripted"),
            std::string::npos)
      << out[4].console_reply().error();
}

TEST(AgentConsole, OneAttachmentPerVmUntilDetachedOrEnded) {
  ConsoleDriver driver;
  Outbox outbox;
  AgentConsole console(driver, outbox, "h2");
  ASSERT_TRUE(console.handle(attach(1, 5)));
  ASSERT_TRUE(console.handle(attach(2, 5)));
  EXPECT_EQ(driver.outputs.size(), 1U);  // the second attach shares the first
  driver.outputs[0]("login: ");
  driver.outputs[0]("");  // the console ended: the attachment is over

  std::vector<v1::AgentMessage> out = outbox.take_all();
  ASSERT_EQ(out.size(), 4U);
  EXPECT_TRUE(out[0].console_reply().ok() && out[1].console_reply().ok());
  EXPECT_EQ(out[2].console_output().vm(), 5);
  EXPECT_EQ(out[2].console_output().bytes(), "login: ");
  EXPECT_FALSE(out[2].console_output().closed());
  EXPECT_TRUE(out[3].console_output().closed());

  ASSERT_TRUE(console.handle(attach(3, 5)));  // ended before: attached anew
  EXPECT_EQ(driver.outputs.size(), 2U);
  v1::ControllerMessage detach;
  detach.mutable_console_detach()->set_vm(5);
  ASSERT_TRUE(console.handle(detach));
  EXPECT_EQ(driver.detached, std::vector<int>{2});
  ASSERT_TRUE(console.handle(attach(4, 5)));
  console.detach_all();  // the stream ended
  EXPECT_EQ(driver.detached, (std::vector<int>{2, 3}));
}

// The Hello carries the driver's images; a change after it is one ImageList, sent once.
TEST(AgentImages, TheHelloListsThemAndAChangeIsSentOnce) {
  ConsoleDriver driver;
  driver.image_list = {{"tiny", "kernel", "/var/images/tiny"}};
  SystemClock clock;
  AgentState state(driver, clock, HelloSettings{.host = "h2", .driver = "scripted"});
  const v1::AgentMessage hello = state.make_hello();
  ASSERT_EQ(hello.hello().images_size(), 1);
  EXPECT_EQ(hello.hello().images(0).name(), "tiny");
  EXPECT_EQ(hello.hello().images(0).kind(), "kernel");
  EXPECT_FALSE(state.image_change());  // as the Hello said

  driver.image_list.push_back({"snap-1", "disk", "/var/images/snap-1"});
  const std::optional<v1::AgentMessage> change = state.image_change();
  ASSERT_TRUE(change);
  ASSERT_EQ(change->image_list().images_size(), 2);
  EXPECT_EQ(change->image_list().images(1).name(), "snap-1");
  EXPECT_FALSE(state.image_change());  // sent once
  driver.image_list.clear();
  ASSERT_TRUE(state.image_change());  // all removed: an empty list, still a change
}

}  // namespace
}  // namespace corral::agent
