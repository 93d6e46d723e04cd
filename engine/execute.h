// Runs a plan: binds its inputs, allocates the buffers its kernels write, and
// runs the kernels in order, on a backend (codegen/backend.h) or, for the
// evaluator and tests, with a kernel runner on host buffers.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "codegen/backend.h"
#include "engine/plan.h"
#include "runtime/buffer.h"

namespace fusejit {

// `inputs[i]` is the value of plan.input_nodes[i]. Moves the inputs to the
// backend's device, allocates the plan's buffers there, launches kernels[i]
// (the backend's compile of plan.kernels[i]) in order, and returns the
// roots' values on the host. `threads` goes to each launch (0: num_threads()).
std::vector<Buffer> execute_plan(const Plan &plan, const std::vector<Buffer> &inputs,
                                 Backend &backend,
                                 const std::vector<std::shared_ptr<const Executable>> &kernels,
                                 int threads = 0);

// Runs kernel `index` of the plan on `inputs` (matching its inputs) writing
// `outputs` (matching its outputs).
using KernelRunner = std::function<void(size_t index, const std::vector<const Buffer *> &inputs,
                                        const std::vector<Buffer *> &outputs)>;

// The same on host memory, each kernel run by `run_kernel`.
std::vector<Buffer> execute_plan(const Plan &plan, const std::vector<Buffer> &inputs,
                                 const KernelRunner &run_kernel);

// The runner that evaluates the kernel IR with plain loops (runtime/kernel_eval.h).
KernelRunner evaluating_runner(const Plan &plan);

}  // namespace fusejit
