// SIGINT and SIGTERM as an orderly stop, handled in a thread of ours (nothing runs in a
// signal handler).
//
// Contract:
// - Construct StopSignals in main's thread before any other thread starts: it blocks SIGINT,
//   SIGTERM and SIGUSR1 (its own wake-up call) in the calling thread, and threads started
//   later inherit the mask. It also ignores SIGPIPE (a peer gone mid-write is an error
//   return, not a death).
// - watch(stop) starts the waiting thread. The first SIGINT/SIGTERM logs event=signal
//   action="shutting down" and calls stop() once, in that thread; a second one while the
//   stop goes on logs action="exit now" and ends the process at once with `exit_code`.
// - finish() (also run by the destructor) ends the waiting thread, whether or not a signal
//   came; call it once the process's main loop has returned.
#pragma once

#include <signal.h>

#include <atomic>
#include <functional>
#include <string_view>
#include <thread>

namespace corral::daemon {

class StopSignals {
 public:
  explicit StopSignals(int exit_code);
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  void watch(std::function<void()> stop);
  void finish();

 private:
  sigset_t signals_{};
  int exit_code_;
  std::atomic<bool> finished_{false};
  std::thread waiter_;
};

std::string_view signal_name(int sig);  // "SIGTERM", "SIGINT", else "signal"

}  // namespace corral::daemon
