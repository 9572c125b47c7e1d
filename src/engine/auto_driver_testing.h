// AutoDriver: a driver::Driver for engine tests on which every phase succeeds at once,
// reporting the power the request names, on one host "h1" (8 vCPUs, 8 GiB).
#pragma once

#include <string>
#include <vector>

#include "driver/driver.h"

namespace corral::engine::testing {

class AutoDriver final : public driver::Driver {
 public:
  std::string name() const override { return "auto"; }
  std::vector<driver::HostInfo> hosts() const override { return {{"h1", 8, 8192}}; }
  void start(driver::DriverSink* sink) override { sink_ = sink; }
  void stop() override {}
  void run_phase(const driver::PhaseRequest& r) override {
    const bool known = r.power_after.has_value();
    sink_->phase_done({r.vm, r.op, r.step, r.attempt, true, "",
                       known ? *r.power_after : lifecycle::Power::kNoState, known});
  }

 private:
  driver::DriverSink* sink_ = nullptr;
};

}  // namespace corral::engine::testing
