// A VM's configuration, the model Azure calls the VM's configuration. Its own header so the
// operation parameters (store/op_params.h) can name it without the rows.
#pragma once

#include <string>

namespace corral::store {

struct VmModel {
  int vcpus = 1;
  int memory_mib = 128;
  std::string image;
  friend bool operator==(const VmModel&, const VmModel&) = default;
};

}  // namespace corral::store
