#include "engine/execute.h"

#include "ir/error.h"
#include "runtime/kernel_eval.h"
#include "runtime/storage_pool.h"

namespace fusejit {

std::vector<Buffer> execute_plan(const Plan &plan, const std::vector<Buffer> &inputs,
                                 const KernelRunner &run_kernel) {
  FUSEJIT_INTERNAL_CHECK(inputs.size() == plan.input_buffers.size(), "plan wants ",
                         plan.input_buffers.size(), " inputs, got ", inputs.size());
  std::vector<Buffer> buffers(plan.buffers.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const PlanBuffer &want = plan.buffers[plan.input_buffers[i]];
    FUSEJIT_INTERNAL_CHECK(inputs[i].dtype() == want.dtype && inputs[i].shape() == want.shape,
                           "input ", i, " is ", type_str(inputs[i].dtype(), inputs[i].shape()),
                           ", the plan wants ", type_str(want.dtype, want.shape));
    buffers[plan.input_buffers[i]] = inputs[i];
  }
  // Temps share the storage slots plan_memory chose; outputs get their own.
  std::vector<std::shared_ptr<Storage>> slots;
  for (int64_t bytes : plan.slot_bytes) slots.push_back(acquire_storage(static_cast<size_t>(bytes)));
  for (size_t b = 0; b < plan.buffers.size(); ++b) {
    const PlanBuffer &pb = plan.buffers[b];
    if (pb.role == PlanBuffer::Role::Input) continue;
    buffers[b] = pb.slot >= 0 ? Buffer(pb.dtype, pb.shape, slots.at(pb.slot)) : Buffer(pb.dtype, pb.shape);
  }

  for (size_t i = 0; i < plan.kernels.size(); ++i) {
    const Kernel &k = plan.kernels[i];
    std::vector<const Buffer *> ins;
    std::vector<Buffer *> outs;
    for (const KernelInput &in : k.inputs) ins.push_back(&buffers[in.buffer]);
    for (const KernelOutput &out : k.outputs) outs.push_back(&buffers[out.buffer]);
    run_kernel(i, ins, outs);
  }

  std::vector<Buffer> results;
  for (int b : plan.root_buffers) {
    // A root that is an input is returned as a copy: results are the caller's to change.
    results.push_back(plan.buffers[b].role == PlanBuffer::Role::Input ? buffers[b].clone()
                                                                      : buffers[b]);
  }
  return results;
}

KernelRunner evaluating_runner(const Plan &plan) {
  return [&plan](size_t index, const std::vector<const Buffer *> &inputs,
                 const std::vector<Buffer *> &outputs) {
    eval_kernel(plan.kernels[index], inputs, outputs);
  };
}

}  // namespace fusejit
