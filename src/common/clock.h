// Time, injected. The engine never reads the system clock directly: it asks a Clock, so
// deadline tests run in simulated time (FakeClock) and production uses SystemClock.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace corral {

using Millis = std::int64_t;  // milliseconds since the Unix epoch

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Millis now_ms() const = 0;
  // Called by a fake clock when time jumps, so a sleeping engine re-checks its deadlines.
  // NOLINTNEXTLINE(performance-unnecessary-value-param): a sink; FakeClock's override moves it
  virtual void on_advance(std::function<void()> /*wake*/) {}
};

class SystemClock final : public Clock {
 public:
  Millis now_ms() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

class FakeClock final : public Clock {
 public:
  explicit FakeClock(Millis start = 1'700'000'000'000) : now_(start) {}
  Millis now_ms() const override {
    std::lock_guard lock(mu_);
    return now_;
  }
  void on_advance(std::function<void()> wake) override {
    std::lock_guard lock(mu_);
    wake_ = std::move(wake);
  }
  void advance(Millis ms) {
    std::function<void()> wake;
    {
      std::lock_guard lock(mu_);
      now_ += ms;
      wake = wake_;
    }
    if (wake) wake();
  }

 private:
  mutable std::mutex mu_;
  Millis now_;
  std::function<void()> wake_;
};

// "2026-11-22T03:00:00.123Z"
std::string format_time(Millis ms);
// The inverse, also taking what Nova's usage API takes: "2026-11-22", "2026-11-22T03:00:00",
// with ".f" up to milliseconds and an optional "Z" (always UTC). nullopt for anything else.
std::optional<Millis> parse_time(std::string_view text);

}  // namespace corral
