// Runs one kernel of the kernel IR with plain scalar loops. It checks the
// fusion pass (graph -> kernels) on its own, apart from LLVM: a plan run
// through it must agree with the reference interpreter.
#pragma once

#include <vector>

#include "ir/kernel.h"
#include "runtime/buffer.h"

namespace fusejit {

// `inputs` match k.inputs and `outputs` match k.outputs, in order.
void eval_kernel(const Kernel &k, const std::vector<const Buffer *> &inputs,
                 const std::vector<Buffer *> &outputs);

}  // namespace fusejit
