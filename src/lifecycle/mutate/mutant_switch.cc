#include "lifecycle/mutate/mutant_switch.h"

#include <cstdlib>

namespace corral::mutate {

int active_mutant() {
  static const int kId = [] {
    const char* env = std::getenv("CORRAL_MUTANT");
    return env == nullptr ? 0 : std::atoi(env);
  }();
  return kId;
}

}  // namespace corral::mutate
