#include "engine/execute.h"

#include "ir/error.h"
#include "runtime/kernel_eval.h"

namespace fusejit {

namespace {

// Runs the plan with its buffers on `device`; launch(i, buffers) runs
// kernel i on its inputs' then its outputs' buffers.
template <typename Launch>
std::vector<Buffer> run_plan(const Plan &plan, const std::vector<Buffer> &inputs, Device &device,
                             const Launch &launch) {
  FUSEJIT_INTERNAL_CHECK(inputs.size() == plan.input_buffers.size(), "plan wants ",
                         plan.input_buffers.size(), " inputs, got ", inputs.size());
  std::vector<DeviceBuffer> buffers(plan.buffers.size());
  std::vector<int> input_of(plan.buffers.size(), -1);
  for (size_t i = 0; i < inputs.size(); ++i) {
    const PlanBuffer &want = plan.buffers[plan.input_buffers[i]];
    FUSEJIT_INTERNAL_CHECK(inputs[i].dtype() == want.dtype && inputs[i].shape() == want.shape,
                           "input ", i, " is ", type_str(inputs[i].dtype(), inputs[i].shape()),
                           ", the plan wants ", type_str(want.dtype, want.shape));
    buffers[plan.input_buffers[i]] = device.to_device(inputs[i]);
    input_of[plan.input_buffers[i]] = static_cast<int>(i);
  }
  // Temps share the storage slots plan_memory chose; outputs get their own.
  std::vector<DeviceBuffer> slots;
  for (int64_t bytes : plan.slot_bytes)
    slots.push_back(device.allocate_bytes(static_cast<size_t>(bytes)));
  for (size_t b = 0; b < plan.buffers.size(); ++b) {
    const PlanBuffer &pb = plan.buffers[b];
    if (pb.role == PlanBuffer::Role::Input) continue;
    if (pb.slot < 0) {
      buffers[b] = device.allocate(pb.dtype, pb.shape);
    } else {
      buffers[b] = slots.at(pb.slot);
      FUSEJIT_INTERNAL_CHECK(buffers[b].bytes >= static_cast<size_t>(pb.bytes()), "slot ", pb.slot,
                             " too small for ", type_str(pb.dtype, pb.shape));
      buffers[b].bytes = static_cast<size_t>(pb.bytes());
    }
  }

  std::vector<DeviceBuffer> args;
  for (size_t i = 0; i < plan.kernels.size(); ++i) {
    const Kernel &k = plan.kernels[i];
    args.clear();
    for (const KernelInput &in : k.inputs) args.push_back(buffers[in.buffer]);
    for (const KernelOutput &out : k.outputs) args.push_back(buffers[out.buffer]);
    launch(i, args);
  }

  std::vector<Buffer> results;
  for (int b : plan.root_buffers) {
    const PlanBuffer &pb = plan.buffers[b];
    // A root that is an input is returned as a copy: results are the caller's to change.
    results.push_back(input_of[b] >= 0 ? inputs[input_of[b]].clone()
                                       : device.to_host(buffers[b], pb.dtype, pb.shape));
  }
  return results;
}

}  // namespace

std::vector<Buffer> execute_plan(const Plan &plan, const std::vector<Buffer> &inputs,
                                 Backend &backend,
                                 const std::vector<std::shared_ptr<const Executable>> &kernels,
                                 int threads) {
  FUSEJIT_INTERNAL_CHECK(kernels.size() == plan.kernels.size(), "plan has ", plan.kernels.size(),
                         " kernels, ", kernels.size(), " compiled");
  return run_plan(plan, inputs, backend.device(),
                  [&](size_t i, const std::vector<DeviceBuffer> &args) {
                    backend.launch(*kernels[i], args, threads);
                  });
}

std::vector<Buffer> execute_plan(const Plan &plan, const std::vector<Buffer> &inputs,
                                 const KernelRunner &run_kernel) {
  Device &host = host_device();
  std::vector<Buffer> ins, outs;
  std::vector<const Buffer *> in_ptrs;
  std::vector<Buffer *> out_ptrs;
  return run_plan(plan, inputs, host, [&](size_t i, const std::vector<DeviceBuffer> &args) {
    const Kernel &k = plan.kernels[i];
    ins.clear(), outs.clear(), in_ptrs.clear(), out_ptrs.clear();
    auto as_host = [&](size_t arg, int buffer) {
      const PlanBuffer &pb = plan.buffers[buffer];
      return host.to_host(args[arg], pb.dtype, pb.shape);
    };
    for (size_t j = 0; j < k.inputs.size(); ++j) ins.push_back(as_host(j, k.inputs[j].buffer));
    for (size_t j = 0; j < k.outputs.size(); ++j)
      outs.push_back(as_host(k.inputs.size() + j, k.outputs[j].buffer));
    for (const Buffer &b : ins) in_ptrs.push_back(&b);
    for (Buffer &b : outs) out_ptrs.push_back(&b);
    run_kernel(i, in_ptrs, out_ptrs);
  });
}

KernelRunner evaluating_runner(const Plan &plan) {
  return [&plan](size_t index, const std::vector<const Buffer *> &inputs,
                 const std::vector<Buffer *> &outputs) {
    eval_kernel(plan.kernels[index], inputs, outputs);
  };
}

}  // namespace fusejit
