// Runs a plan: binds its inputs, allocates the buffers its kernels write, and
// runs the kernels in order with a given kernel runner.
#pragma once

#include <functional>
#include <vector>

#include "engine/plan.h"
#include "runtime/buffer.h"

namespace fusejit {

// Runs kernel `index` of the plan on `inputs` (matching its inputs) writing
// `outputs` (matching its outputs).
using KernelRunner = std::function<void(size_t index, const std::vector<const Buffer *> &inputs,
                                        const std::vector<Buffer *> &outputs)>;

// `inputs[i]` is the value of plan.input_nodes[i]. Returns the roots' values.
std::vector<Buffer> execute_plan(const Plan &plan, const std::vector<Buffer> &inputs,
                                 const KernelRunner &run_kernel);

// The runner that evaluates the kernel IR with plain loops (runtime/kernel_eval.h).
KernelRunner evaluating_runner(const Plan &plan);

}  // namespace fusejit
