// A plan: the kernels that compute a graph's roots, in execution order, and
// the buffers they read and write. Made by `fuse`, run by `execute_plan`.
#pragma once

#include <string>
#include <vector>

#include "ir/kernel.h"

namespace fusejit {

struct PlanBuffer {
  enum class Role { Input, Output, Temp };
  static const char *role_name(Role r) {
    return r == Role::Input ? "input" : r == Role::Output ? "output" : "temp";
  }
  Role role = Role::Temp;
  DType dtype = DType::F32;
  Shape shape;
  // Temp buffers: the storage slot it lives in (Plan::slot_bytes), shared
  // with temps whose lifetimes do not overlap. Set by plan_memory.
  int slot = -1;
  int64_t bytes() const { return numel(shape) * static_cast<int64_t>(dtype_size(dtype)); }
};

struct Plan {
  std::vector<PlanBuffer> buffers;
  std::vector<Kernel> kernels;
  // The graph's leaves (inputs and realized values) in the order their
  // buffers were numbered; input_buffers[i] holds input_nodes[i].
  std::vector<const Node *> input_nodes;
  std::vector<int> input_buffers;
  // The buffer holding each root (a root may be a leaf: then an input buffer).
  std::vector<int> root_buffers;
  // Bytes of intermediates this plan allocates, and what executing the graph
  // op by op (as the reference interpreter does) would allocate.
  int64_t intermediate_bytes = 0;
  // Bytes of each storage slot temps live in (see PlanBuffer::slot).
  std::vector<int64_t> slot_bytes;
  int64_t unfused_intermediate_bytes = 0;
};

}  // namespace fusejit
