// HostServicesRouter: a VM's host gets its own services when it has some, the local ones
// otherwise; LocalHostServices answers with the Driver's methods and the fault injector given.
#include "driver/host_services.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace corral::driver {
namespace {

// A driver with one image and no console (Driver's defaults).
class NamedDriver final : public Driver {
 public:
  explicit NamedDriver(std::string name) : name_(std::move(name)) {}
  std::string name() const override { return name_; }
  std::vector<HostInfo> hosts() const override { return {}; }
  void start(DriverSink* /*sink*/) override {}
  void stop() override {}
  void run_phase(const PhaseRequest& /*request*/) override {}
  std::vector<ImageInfo> images() const override { return {{"tiny", "kernel", "/i/tiny"}}; }

 private:
  std::string name_;
};

TEST(HostServicesRouter, EachHostGetsItsOwnServicesElseTheLocalOnes) {
  NamedDriver local_driver("local");
  NamedDriver remote_driver("remote");
  LocalHostServices local(local_driver);
  LocalHostServices remote(remote_driver);
  HostServicesRouter router(local);
  router.add("host-b", remote);

  struct Case {
    std::string host;
    std::string serves;
  };
  const std::vector<Case> cases = {
      {"host-b", "remote"},  // added: its own
      {"host-a", "local"},   // not added: this process drives it
      {"", "local"},         // a VM not placed yet
      {"host-b2", "local"},  // names match whole, not by prefix
  };
  for (const Case& c : cases) {
    EXPECT_EQ(router.services_for(c.host).driver_name(), c.serves) << "host '" << c.host << "'";
  }
  EXPECT_EQ(&router.local(), &local);
}

// Agent hosts: "agent-*" names are served by the source, the rest are not agent hosts.
class AgentSource final : public RemoteHostServicesSource {
 public:
  explicit AgentSource(HostServices& agent) : agent_(agent) {}
  HostServices* services_of(std::string_view host) override {
    return host.starts_with("agent-") ? &agent_ : nullptr;
  }
  std::vector<HostImages> host_images() const override { return {}; }

 private:
  HostServices& agent_;
};

TEST(HostServicesRouter, AgentHostsGoToTheRemoteSourceOnceSet) {
  NamedDriver local_driver("local");
  NamedDriver agent_driver("agent");
  NamedDriver added_driver("added");
  LocalHostServices local(local_driver);
  LocalHostServices agent(agent_driver);
  LocalHostServices added(added_driver);
  HostServicesRouter router(local);
  router.add("agent-x", added);
  EXPECT_EQ(router.services_for("agent-1").driver_name(), "local");  // no source yet
  AgentSource source(agent);
  router.set_remote(&source);

  struct Case {
    std::string host;
    std::string serves;
  };
  const std::vector<Case> cases = {
      {"agent-1", "agent"},  // the source's
      {"agent-x", "added"},  // an added host wins over the source
      {"host-a", "local"},   // the source says: not an agent host
      {"", "local"},         // not placed: never asked of the source
  };
  for (const Case& c : cases) {
    EXPECT_EQ(router.services_for(c.host).driver_name(), c.serves) << "host '" << c.host << "'";
  }
  router.set_remote(nullptr);
  EXPECT_EQ(router.services_for("agent-1").driver_name(), "local");
}

TEST(LocalHostServices, AnswersWithTheDriversMethods) {
  NamedDriver driver("qemu");
  LocalHostServices services(driver);
  ASSERT_EQ(services.images().size(), 1U);
  EXPECT_EQ(services.images()[0].name, "tiny");
  EXPECT_EQ(services.fault_injector(), nullptr);  // not the sim: no admin

  const Result<std::string> log = services.console_log(1, 100);
  ASSERT_FALSE(log.has_value());
  EXPECT_EQ(log.error().code, ErrorCode::kConflict);
  EXPECT_EQ(log.error().message, "the qemu driver's VMs have no serial console");
  EXPECT_FALSE(services.attach_console(1, [](std::string_view) {}).has_value());
  EXPECT_FALSE(services.write_console(1, "x").has_value());
}

}  // namespace
}  // namespace corral::driver
