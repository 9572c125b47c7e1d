#include "daemon/signals.h"

#include <pthread.h>

#include <cstdlib>
#include <string>
#include <utility>

#include "common/log.h"

namespace corral::daemon {

StopSignals::StopSignals(int exit_code) : exit_code_(exit_code) {
  sigemptyset(&signals_);
  sigaddset(&signals_, SIGINT);
  sigaddset(&signals_, SIGTERM);
  sigaddset(&signals_, SIGUSR1);  // our own wake-up call when the main loop ends by itself
  pthread_sigmask(SIG_BLOCK, &signals_, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
}

StopSignals::~StopSignals() { finish(); }

void StopSignals::watch(std::function<void()> stop) {
  waiter_ = std::thread([this, stop = std::move(stop)] {
    int sig = 0;
    bool stopping = false;
    while (sigwait(&signals_, &sig) == 0) {
      if (finished_) return;
      if (sig == SIGUSR1) continue;
      const std::string name(signal_name(sig));
      if (stopping) {
        log(LogLevel::kWarn, "signal", {{"signal", name}, {"action", "exit now"}});
        std::_Exit(exit_code_);
      }
      stopping = true;
      log(LogLevel::kInfo, "signal", {{"signal", name}, {"action", "shutting down"}});
      stop();
    }
  });
}

void StopSignals::finish() {
  if (!waiter_.joinable()) return;
  finished_ = true;
  pthread_kill(waiter_.native_handle(), SIGUSR1);  // wakes sigwait if no signal came
  waiter_.join();
}

std::string_view signal_name(int sig) {
  switch (sig) {
    case SIGTERM:
      return "SIGTERM";
    case SIGINT:
      return "SIGINT";
    default:
      return "signal";
  }
}

}  // namespace corral::daemon
